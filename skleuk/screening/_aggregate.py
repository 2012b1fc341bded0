"""Aggregation rules: cell probabilities to a smear's class scores."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import balanced_accuracy_score

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
