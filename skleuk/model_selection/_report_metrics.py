"""The numbers of a :class:`CrossValidationReport`, derived from its fold records.

Pure functions of a report (its ``y``, ``classes``, ``pos_label`` and
``folds``): per-fold metrics, pooled predictions, calibration, ROC curves,
the per-class report, the fold table and the misclassified samples. The
report class (``_report.py``) documents them and caches what is costly;
the renderings (``_report_render.py``) only format them.
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    brier_score_loss,
    confusion_matrix,
    f1_score,
    log_loss,
    precision_score,
    roc_auc_score,
    roc_curve,
)

from ..metrics import (
    accuracy_at_coverage,
    error_rate,
    expected_calibration_error,
    sensitivity_score,
    specificity_score,
)
from ..metrics import classification_report as _classification_report
from ._report_io import _to_builtin

#: Fold-record values copied into the per-fold metrics as they are.
_FOLD_VALUES = ("train_accuracy", "train_loss", "fit_time", "predict_time")


def mean_std(values):
    """Mean and population standard deviation of the non-NaN values."""
    values = np.asarray(values, dtype=float)
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    return float(finite.mean()), float(finite.std())


def fold_scores(report, f):
    """``CrossValidationReport.fold_scores`` of the fold record ``f``."""
    if f["proba"] is not None:
        return f["proba"][:, report.pos_index] if report.is_binary else f["proba"]
    if f["decision"] is None:
        return None
    d = f["decision"]
    if not report.is_binary:
        return d
    d = d.ravel()
    # decision_function is oriented towards classes[1].
    return d if report.pos_index == 1 else -d


def _averaging(report):
    if report.is_binary:
        return {"pos_label": report.pos_label, "average": "binary"}
    return {"average": "macro", "labels": report.classes}


def _label_metrics(report, y_true, y_pred):
    kw = _averaging(report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return {
            "accuracy": float(accuracy_score(y_true, y_pred)),
            "sensitivity": float(
                sensitivity_score(y_true, y_pred, zero_division=0.0, **kw)
            ),
            "specificity": float(
                specificity_score(y_true, y_pred, zero_division=0.0, **kw)
            ),
            "precision": float(
                precision_score(y_true, y_pred, zero_division=0.0, **kw)
            ),
            "f1": float(f1_score(y_true, y_pred, zero_division=0.0, **kw)),
            "error_rate": float(error_rate(y_true, y_pred)),
        }


def metrics_of(report, y_true, y_pred, scores, proba):
    """Validation metrics of one set of predictions (see ``fold_metrics``)."""
    out = _label_metrics(report, y_true, y_pred)
    out["roc_auc"] = auc(report, y_true, scores)
    if proba is not None:
        out["log_loss"] = float(log_loss(y_true, proba, labels=report.classes))
    else:
        out["log_loss"] = float("nan")
    out.update(calibration_of(report, y_true, proba))
    return out


def fold_metrics(report):
    """``CrossValidationReport.fold_metrics`` (documented there)."""
    rows = []
    for f in report.folds:
        y_true = report.y[f["test_index"]]
        m = metrics_of(report, y_true, f["y_pred"], report.fold_scores(f),
                       f["proba"])
        for key in _FOLD_VALUES:
            m[key] = f[key]
        rows.append(m)
    return {k: np.array([r[k] for r in rows], dtype=float) for k in rows[0]}


def calibration_of(report, y_true, proba):
    """Brier score and ECE (binary: positive class; else top-label)."""
    if proba is None:
        return {"brier": float("nan"), "ece": float("nan")}
    if report.is_binary:
        p = proba[:, report.pos_index]
        pos = report.pos_label
        return {
            "brier": float(brier_score_loss(y_true, p, pos_label=pos)),
            "ece": expected_calibration_error(y_true, p, pos_label=pos),
        }
    return {
        "brier": float(brier_score_loss(y_true, proba, labels=report.classes)),
        "ece": expected_calibration_error(y_true, proba, classes=report.classes),
    }


def pooled(report):
    """Pooled out-of-fold ``(y_true, y_pred)``."""
    y_true = np.concatenate([report.y[f["test_index"]] for f in report.folds])
    y_pred = np.concatenate([f["y_pred"] for f in report.folds])
    return y_true, y_pred


def pooled_proba(report):
    """Pooled out-of-fold ``(y_true, proba)``, or None without probabilities."""
    if any(f["proba"] is None for f in report.folds):
        return None
    y_true = np.concatenate([report.y[f["test_index"]] for f in report.folds])
    proba = np.concatenate([f["proba"] for f in report.folds])
    return y_true, proba


def calibration(report, coverage):
    """``CrossValidationReport.calibration`` (documented there)."""
    both = pooled_proba(report)
    if both is None:
        return None
    y_true, proba = both
    out = calibration_of(report, y_true, proba)
    out["coverage"] = float(coverage)
    out["accuracy_at_coverage"] = accuracy_at_coverage(
        y_true, proba, coverage, classes=report.classes
    )
    return out


def auc(report, y_true, scores):
    """ROC AUC (binary: of ``pos_label``; else macro one-vs-rest), NaN if undefined."""
    if scores is None:
        return float("nan")
    y_true = np.asarray(y_true)
    present = np.unique(y_true)
    try:
        if report.is_binary:
            if len(present) < 2:
                return float("nan")
            return float(roc_auc_score(y_true == report.pos_label, scores))
        if len(present) < report.n_classes:
            return float("nan")
        s = np.clip(np.asarray(scores, dtype=float), 0, None)
        s = s / np.where(s.sum(1, keepdims=True) == 0, 1, s.sum(1, keepdims=True))
        return float(
            roc_auc_score(y_true, s, multi_class="ovr", labels=report.classes)
        )
    except ValueError:
        return float("nan")


def summary(report):
    """``CrossValidationReport.summary`` (documented there)."""
    out = {}
    for k, v in report.fold_metrics.items():
        mean, std = mean_std(v)
        out[k] = {"mean": mean, "std": std}
    return out


def pooled_confusion_matrix(report):
    """``CrossValidationReport.confusion_matrix`` (documented there)."""
    y_true, y_pred = pooled(report)
    return confusion_matrix(y_true, y_pred, labels=report.classes)


def classification_report(report, output_dict, digits):
    """``CrossValidationReport.classification_report`` (documented there)."""
    y_true, y_pred = pooled(report)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return _classification_report(
            y_true,
            y_pred,
            labels=report.classes,
            target_names=report.target_names,
            digits=digits,
            output_dict=output_dict,
            zero_division=0.0,
        )


def roc_curves(report, n_points):
    """``CrossValidationReport.roc_curves`` (documented there)."""
    if any(report.fold_scores(f) is None for f in report.folds):
        return None
    grid = np.linspace(0.0, 1.0, n_points)
    if report.is_binary:
        return _roc_one_vs_rest(report, lambda s: s, report.pos_label, grid)
    per_class = []
    for k, (label, name) in enumerate(
        zip(report.classes, report.target_names, strict=True)
    ):
        entry = _roc_one_vs_rest(report, lambda s, k=k: s[:, k], label, grid)
        entry.update(label=_to_builtin(label), name=name)
        per_class.append(entry)
    return {"per_class": per_class}


def _mean_curve(grid, tprs, aucs):
    mean_tpr = np.mean(tprs, axis=0)
    mean_tpr[-1] = 1.0
    return {
        "fpr": grid,
        "tpr": mean_tpr,
        "tpr_std": np.std(tprs, axis=0),
        "auc": float(np.trapezoid(mean_tpr, grid)),
        "auc_std": float(np.std(aucs)),
    }


def _roc_one_vs_rest(report, column, label, grid):
    folds, tprs, aucs = [], [], []
    all_true, all_scores = [], []
    for f in report.folds:
        y_true = report.y[f["test_index"]] == label
        scores = column(report.fold_scores(f))
        all_true.append(y_true)
        all_scores.append(scores)
        if y_true.all() or not y_true.any():
            continue
        fpr, tpr, _ = roc_curve(y_true, scores)
        area = float(roc_auc_score(y_true, scores))
        folds.append({"fpr": fpr, "tpr": tpr, "auc": area,
                      "repeat": f["repeat"], "fold": f["fold"]})
        interp = np.interp(grid, fpr, tpr)
        interp[0] = 0.0
        tprs.append(interp)
        aucs.append(area)
    result = {"folds": folds, "mean": None, "pooled": None}
    if tprs:
        result["mean"] = _mean_curve(grid, tprs, aucs)
    y_true = np.concatenate(all_true)
    scores = np.concatenate(all_scores)
    if y_true.any() and not y_true.all():
        fpr, tpr, _ = roc_curve(y_true, scores)
        result["pooled"] = {
            "fpr": fpr,
            "tpr": tpr,
            "auc": float(roc_auc_score(y_true, scores)),
        }
    return result


def misclassified(report, repeat):
    """``CrossValidationReport.misclassified`` (documented there)."""
    out = []
    names = dict(zip(report.classes.tolist(), report.target_names, strict=True))
    col = {c: i for i, c in enumerate(report.classes.tolist())}
    for f in report.folds:
        if f["repeat"] != repeat:
            continue
        y_true = report.y[f["test_index"]]
        for j in np.flatnonzero(y_true != f["y_pred"]):
            t, p = y_true[j].item(), f["y_pred"][j].item()
            prob = float(f["proba"][j, col[p]]) if f["proba"] is not None else np.nan
            out.append(
                {
                    "index": int(f["test_index"][j]),
                    "true": t,
                    "pred": p,
                    "true_name": names[t],
                    "pred_name": names[p],
                    "proba": prob,
                    "repeat": f["repeat"],
                    "fold": f["fold"],
                }
            )
    out.sort(key=lambda r: (-np.nan_to_num(r["proba"], nan=-1.0), r["index"]))
    return out


def fold_table(report):
    """``CrossValidationReport.fold_table`` (documented there)."""
    fm = report.fold_metrics
    rows = []
    for i, f in enumerate(report.folds):
        rows.append(
            {
                "repeat": f["repeat"] + 1,
                "fold": f["fold"] + 1,
                "n_train": len(f["train_index"]),
                "n_val": len(f["test_index"]),
                "train_accuracy": fm["train_accuracy"][i],
                "train_loss": fm["train_loss"][i],
                "val_accuracy": fm["accuracy"][i],
                "val_loss": fm["log_loss"][i],
                "fit_time": fm["fit_time"][i],
            }
        )
    return rows
