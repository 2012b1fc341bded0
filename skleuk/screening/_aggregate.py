"""Aggregation rules: cell probabilities to a smear's class scores."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import StratifiedKFold

_RULES = ("mean", "top_k", "max", "fraction")


def _aggregate(P, rule, top_k, n_classes):
    """Image-level class scores (n_classes,) from cell probabilities."""
    if rule == "mean":
        s = P.mean(axis=0)
    elif rule == "max":
        s = P.max(axis=0)
    elif rule == "top_k":
        k = min(top_k, len(P))
        s = np.sort(P, axis=0)[-k:].mean(axis=0)
    else:  # fraction of cells voting for each class
        s = np.bincount(P.argmax(axis=1), minlength=n_classes) / len(P)
    total = s.sum()
    return s / total if total > 0 else np.full(n_classes, 1.0 / n_classes)


def _rule_score(S, y, classes, healthy_label):
    """Balanced accuracy and threshold of one rule's smear scores ``S``.

    For two classes the threshold on the non-healthy class's score is the
    best of the observed scores (and 0.5), moved midway to the next lower
    candidate; for more classes the most probable class is taken (0.5).
    """
    if len(classes) == 2:
        pos = int(np.flatnonzero(classes != healthy_label)[0])
        cand = np.unique(np.r_[S[:, pos], 0.5])
        scores = [
            balanced_accuracy_score(
                y, np.where(S[:, pos] >= t, classes[pos], healthy_label)
            )
            for t in cand
        ]
        best = int(np.argmax(scores))
        # Midway to the next candidate: a margin on both sides.
        t = cand[best]
        lower = cand[best - 1] if best > 0 else t
        return {
            "balanced_accuracy": float(scores[best]),
            "threshold": float((t + lower) / 2.0),
        }
    pred = classes[S.argmax(axis=1)]
    return {
        "balanced_accuracy": float(balanced_accuracy_score(y, pred)),
        "threshold": 0.5,
    }


def _plain(label):
    """A numpy scalar label as the Python value it prints as (0, not
    np.int64(0))."""
    return label.item() if isinstance(label, np.generic) else label


def _inner_cv_rules(screener, crops, fields, y, has, fit_cells, fit_field):
    """Each rule's inner cross-validated balanced accuracy and threshold.

    Out-of-fold cell probabilities (and, with a field model, field
    probabilities) over the training smears that have cells, from models
    fitted by ``fit_cells`` / ``fit_field`` on the other inner folds.
    """
    idx = np.flatnonzero(has)
    yh = y[idx]
    counts = np.unique(yh, return_counts=True)[1]
    n_splits = min(screener.cv, int(counts.min())) if len(counts) > 1 else 0
    if n_splits < 2:
        found = {c: int(np.sum(yh == c)) for c in screener.classes_}
        short = {c: n for c, n in found.items() if n < 2}
        err = ValueError(
            "aggregation='auto' needs at least 2 training smears with white "
            "cells in every class for its inner cross-validation; "
            + ", ".join(f"class {_plain(c)!r} has {n}" for c, n in short.items())
            + "; pass a fixed aggregation (e.g. aggregation='mean') instead."
        )
        err.smears_with_cells = short  # {class: count}, for the caller's words
        raise err
    oof = [None] * len(y)
    oof_field = None if fields is None else np.zeros((len(y), len(screener.classes_)))
    skf = StratifiedKFold(n_splits, shuffle=True, random_state=screener.random_state)
    for tr, te in skf.split(idx, yh):
        model = fit_cells(idx[tr])
        for i in idx[te]:
            oof[i] = screener._class_proba(model, crops[i])
        if oof_field is not None:
            field = fit_field(idx[tr])
            oof_field[idx[te]] = screener._class_proba(field, fields[idx[te]])
    n_classes = len(screener.classes_)
    results = {}
    for rule in _RULES:
        S = np.array([_aggregate(oof[i], rule, screener.top_k, n_classes) for i in idx])
        S = screener._with_field(S, None if oof_field is None else oof_field[idx])
        results[rule] = _rule_score(S, yh, screener.classes_, screener.healthy_label_)
        results[rule].update(n_splits=int(n_splits), n_smears=int(len(idx)))
    return results
