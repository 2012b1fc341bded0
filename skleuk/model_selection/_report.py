"""The result of :func:`~skleuk.model_selection.evaluate`: numbers and renderings.

A :class:`CrossValidationReport` keeps the raw outcome of every fold -- the
fold's sample indices, its out-of-fold predictions and probabilities, the
train accuracy and loss, the per-epoch training history and the timings --
and derives everything else from them: per-fold metrics, mean and standard
deviation, the pooled confusion matrix, ROC curves and the per-class report.
It renders itself as text, Markdown and HTML (one list of sections for all
three), writes and reloads JSON, and saves a folder of files and figures.
The module-level helpers only format tables and convert values; everything
that reads a report is a method of the class.
"""

from __future__ import annotations

import datetime as _dt
import html as _html
import json
import math
import os
import warnings
from dataclasses import dataclass

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
    class_roles,
    error_rate,
    expected_calibration_error,
    sensitivity_score,
    specificity_score,
)
from ..metrics import diagnostic_report as _diagnostic_report
from ..utils.validation import is_path_sequence

__all__ = ["CrossValidationReport"]

#: Coverage at which the report quotes the accuracy of the decided cases.
_REPORT_COVERAGE = 0.9

#: Validation metrics summarised by the report, in display order.
_METRICS = (
    "accuracy",
    "sensitivity",
    "specificity",
    "precision",
    "f1",
    "roc_auc",
    "error_rate",
    "log_loss",
    "brier",
    "ece",
)

#: Display name of each metric.
_METRIC_LABELS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity (recall)",
    "specificity": "Specificity",
    "precision": "Precision",
    "f1": "F1-score",
    "roc_auc": "ROC AUC",
    "error_rate": "Error rate",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "ece": "ECE (10 bins)",
}

#: Columns of the per-fold table: fold-table key and header.
_FOLD_COLUMNS = (
    ("repeat", "Repeat"),
    ("fold", "Fold"),
    ("n_train", "Train n"),
    ("n_val", "Val n"),
    ("train_accuracy", "Train acc"),
    ("train_loss", "Train loss"),
    ("val_accuracy", "Val acc"),
    ("val_loss", "Val loss"),
    ("fit_time", "Fit time (s)"),
)

#: Fold-record values copied into the per-fold metrics as they are.
_FOLD_VALUES = ("train_accuracy", "train_loss", "fit_time", "predict_time")

#: Version of the JSON form written by :meth:`CrossValidationReport.to_dict`.
_FORMAT_VERSION = 1

# Keys of one fold record, in the order written to JSON.
_FOLD_KEYS = (
    "repeat",
    "fold",
    "train_index",
    "test_index",
    "y_pred",
    "proba",
    "decision",
    "estimator_classes",
    "train_accuracy",
    "train_loss",
    "fit_time",
    "predict_time",
    "history",
    "fit_error",
)

#: Style sheet of the HTML page.
_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
    "table{border-collapse:collapse;margin:1em 0;}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;}"
    "thead th{background:#eee;}tbody th{text-align:left;}"
    "img{max-width:100%;}"
)


# ---------------------------------------------------------------------------
# fold records and JSON values
# ---------------------------------------------------------------------------

def _normalise_fold(f, y_dtype):
    """A fold record (from :func:`evaluate` or JSON) with its values typed.

    Indices as ``intp``, predictions as ``y_dtype``, probabilities and
    decision values as float arrays, numbers as floats (None -> NaN).
    """
    rec = {k: f.get(k) for k in _FOLD_KEYS}
    rec["train_index"] = np.asarray(rec["train_index"], dtype=np.intp)
    rec["test_index"] = np.asarray(rec["test_index"], dtype=np.intp)
    if rec["y_pred"] is not None:
        rec["y_pred"] = np.asarray(rec["y_pred"]).astype(y_dtype, copy=False)
    for key in ("proba", "decision"):
        if rec[key] is not None:
            rec[key] = np.asarray(rec[key], dtype=float)
    for key in ("train_accuracy", "train_loss", "fit_time", "predict_time"):
        rec[key] = float("nan") if rec[key] is None else float(rec[key])
    rec["repeat"] = int(rec["repeat"] or 0)
    rec["fold"] = int(rec["fold"] or 0)
    if rec["history"] is not None:
        rec["history"] = {
            str(k): [float("nan") if v is None else float(v) for v in vals]
            for k, vals in rec["history"].items()
        }
    return rec


def _to_builtin(x):
    """numpy scalars/arrays -> Python builtins, recursively."""
    if isinstance(x, np.ndarray):
        return _to_builtin(x.tolist())
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, dict):
        return {str(k): _to_builtin(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_to_builtin(v) for v in x]
    return x


def _nan_to_none(x):
    """Recursively turn NaN/inf floats into None (JSON has no NaN)."""
    if isinstance(x, float):
        return x if math.isfinite(x) else None
    if isinstance(x, dict):
        return {k: _nan_to_none(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_nan_to_none(v) for v in x]
    return x


def _float_array(x):
    if x is None:
        return None
    return np.array(
        [[np.nan if v is None else v for v in row] for row in x]
        if len(x) and isinstance(x[0], list)
        else [np.nan if v is None else v for v in x],
        dtype=float,
    )


def _check_writable(path, overwrite):
    if not overwrite and os.path.exists(path):
        raise FileExistsError(
            f"{os.fspath(path)!r} already exists; pass overwrite=True to "
            "replace it."
        )


def _now():
    """The current UTC time, ISO 8601 to the second (``info["created"]``)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# ---------------------------------------------------------------------------
# numbers
# ---------------------------------------------------------------------------

def _mean_std(values):
    """Mean and population standard deviation of the non-NaN values."""
    values = np.asarray(values, dtype=float)
    finite = values[~np.isnan(values)]
    if finite.size == 0:
        return float("nan"), float("nan")
    return float(finite.mean()), float(finite.std())


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


# ---------------------------------------------------------------------------
# tables: text, Markdown, HTML
# ---------------------------------------------------------------------------

def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}f}"


def _fmt_pm(mean, std, digits=3):
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _rel(path):
    return os.fspath(path).replace(os.sep, "/")


def _text_table(header, rows, align_first_left=True):
    widths = [
        max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)
    ]

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            left = i == 0 and align_first_left
            out.append(f"{c:<{w}}" if left else f"{c:>{w}}")
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def _md_table(header, rows):
    def esc(c):
        return str(c).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def _html_table(header, rows):
    esc = _html.escape
    out = ["<table>", "<thead><tr>"]
    out += [f"<th>{esc(str(h))}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f"<td>{esc(str(c))}</td>" if i else f"<th>{esc(str(c))}</th>"
                for i, c in enumerate(r)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


@dataclass(frozen=True)
class _Section:
    """One section of a rendered report.

    ``title`` heads it in Markdown and HTML, ``text_title`` in plain text.
    A section has a ``table`` (``(header, rows)`` of strings) or ``lines``
    of prose (``title`` None; left out of the plain text when empty);
    ``text``, when given, replaces the table in plain text.
    """

    title: str | None = None
    text_title: str | None = None
    table: tuple | None = None
    text: str | None = None
    lines: tuple = ()



class CrossValidationReport:
    """Outcome of a cross-validated evaluation, with its renderings.

    Made by :func:`~skleuk.model_selection.evaluate` (or reloaded with
    :meth:`from_json`); not usually built by hand. Everything shown --
    per-fold metrics, mean ± standard deviation, the pooled confusion
    matrix, ROC curves, the per-class report -- is computed from the fold
    records, so a reloaded report shows exactly what the original did.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The true labels of all samples.
    folds : list of dict
        One record per fit, with keys ``repeat``, ``fold``, ``train_index``,
        ``test_index``, ``y_pred`` (predictions on the test indices),
        ``proba`` (``predict_proba`` on the test indices, columns in the
        order of ``classes``, or None), ``decision`` (``decision_function``
        when there is no ``predict_proba``, or None), ``train_accuracy``,
        ``train_loss``, ``fit_time``, ``predict_time``, ``history``
        (per-epoch values or None) and ``fit_error`` (None, or the traceback
        of a fit that failed; such a fold has no predictions, see
        ``evaluate``'s ``error_score``).
    classes : array-like of shape (n_classes,)
        The class labels, sorted as the estimator's ``classes_``.
    target_names : list of str, default=None
        Display names of the classes; defaults to ``str(label)``.
    pos_label : label, default=None
        The positive class of a binary problem. ``None`` infers it from
        ``target_names`` by the rule of :func:`skleuk.metrics.class_roles`
        (a class named like leukaemia; else the other class of one named
        healthy; else ``1`` for 0/1 labels); when nothing says it, the last
        class is *assumed* and the title says so
        (:attr:`pos_label_assumed`). Ignored for more than two classes,
        whose metrics are macro averages and whose AUC is one-vs-rest.
    groups : array-like of shape (n_samples,), default=None
        The group labels used for splitting, if any.
    info : dict, default=None
        Free-form description of the protocol (cv, repeats, estimator...).
    X : array-like, default=None
        The evaluated images (kept by reference, for
        :func:`~skleuk.plotting.plot_misclassified`). File paths are also
        saved in the JSON form; image arrays are not.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        Class labels.
    target_names : list of str
        Display names of the classes.
    pos_label : label or None
        Positive class (binary problems).
    y : ndarray of shape (n_samples,)
        True labels.
    folds : list of dict
        The fold records (see Parameters).
    info : dict
        Description of the protocol.
    X : array-like or None
        The evaluated images or file paths, if known.
    estimators_ : list of estimators or None
        The fitted estimator of every fold, when
        :func:`~skleuk.model_selection.evaluate` was called with
        ``return_estimators=True`` (never saved to JSON).

    See Also
    --------
    skleuk.model_selection.evaluate : Makes the report.
    skleuk.plotting : Figures from a report.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> X, y = make_classification(n_samples=40, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    >>> report.n_folds
    2
    >>> sorted(report.summary())[:3]
    ['accuracy', 'brier', 'ece']
    >>> report.confusion_matrix.sum()
    np.int64(40)
    >>> same = type(report).from_json(report.to_json())
    >>> bool((same.confusion_matrix == report.confusion_matrix).all())
    True
    """

    def __init__(
        self,
        y,
        folds,
        classes,
        *,
        target_names=None,
        pos_label=None,
        groups=None,
        info=None,
        X=None,
    ):
        self.y = np.asarray(y)
        self.classes = np.asarray(classes)
        if target_names is None:
            target_names = [str(c) for c in self.classes]
        self.target_names = [str(t) for t in target_names]
        if len(self.target_names) != len(self.classes):
            raise ValueError(
                f"target_names has {len(self.target_names)} names for "
                f"{len(self.classes)} classes."
            )
        self.info = dict(info or {})
        if self.is_binary:
            roles = class_roles(self.classes, self.target_names, pos_label=pos_label)
            pos_label = roles.pos_label
            if roles.assumed:
                self.info["pos_label_assumed"] = True
        self.pos_label = pos_label
        self.groups = None if groups is None else np.asarray(groups)
        self.X = X
        self.estimators_ = None
        self.folds = [_normalise_fold(f, self.y.dtype) for f in folds]
        if not self.folds:
            raise ValueError("A report needs at least one fold.")
        self._cache = {}

    @property
    def pos_label_assumed(self):
        """True when the positive class was guessed (no name to infer it from)."""
        return bool(self.info.get("pos_label_assumed")) and self.is_binary

    # ------------------------------------------------------------------
    # basic properties
    # ------------------------------------------------------------------
    @property
    def n_classes(self):
        """Number of classes."""
        return len(self.classes)

    @property
    def is_binary(self):
        """True for a two-class problem."""
        return len(self.classes) == 2

    @property
    def n_samples(self):
        """Number of evaluated samples."""
        return len(self.y)

    @property
    def n_folds(self):
        """Total number of fits (folds x repeats)."""
        return len(self.folds)

    @property
    def n_failed_folds(self):
        """Number of fits that failed (``error_score`` a number), 0 usually."""
        return len(self.folds) - len(self._fitted_folds)

    @property
    def _fitted_folds(self):
        """The folds whose fit succeeded: those with predictions."""
        return [f for f in self.folds if f["fit_error"] is None]

    @property
    def n_repeats(self):
        """Number of repetitions of the cross-validation."""
        return len({f["repeat"] for f in self.folds})

    @property
    def pos_index(self):
        """Column of the positive class in ``proba`` (binary), else None."""
        if not self.is_binary:
            return None
        return list(self.classes).index(self.pos_label)

    @property
    def pos_name(self):
        """Display name of the positive class (binary), else None."""
        if not self.is_binary:
            return None
        return self.target_names[self.pos_index]

    def fold_scores(self, fold):
        """Continuous scores of one fold's test samples, for ROC curves.

        Parameters
        ----------
        fold : dict or int
            A fold record or its position in :attr:`folds`.

        Returns
        -------
        scores : ndarray of shape (n_test,) or (n_test, n_classes) or None
            Binary: the probability (or decision value) of the positive
            class. Multi-class: the probability of every class. None when the
            estimator gives neither probabilities nor decision values.
        """
        f = self.folds[fold] if isinstance(fold, int) else fold
        if f["proba"] is not None:
            return f["proba"][:, self.pos_index] if self.is_binary else f["proba"]
        if f["decision"] is None:
            return None
        d = f["decision"]
        if not self.is_binary:
            return d
        d = d.ravel()
        # decision_function is oriented towards classes[1].
        return d if self.pos_index == 1 else -d

    # ------------------------------------------------------------------
    # metrics
    # ------------------------------------------------------------------
    def pooled_proba(self):
        """Pooled out-of-fold labels and probabilities of every fold.

        Returns
        -------
        pooled : tuple of two ndarrays or None
            ``(y_true, proba)``: the true labels of the held-out samples of
            every fold, shape ``(n_test_total,)``, and their probabilities,
            shape ``(n_test_total, n_classes)`` with columns in the order of
            :attr:`classes`, fold after fold; None when the estimator gives
            no probabilities. ``n_test_total`` is ``n_samples`` times the
            number of repeats.
        """
        folds = self._fitted_folds
        if any(f["proba"] is None for f in folds):
            return None
        y_true = np.concatenate([self.y[f["test_index"]] for f in folds])
        proba = np.concatenate([f["proba"] for f in folds])
        return y_true, proba

    def calibration(self, coverage=_REPORT_COVERAGE):
        """Calibration and abstention figures of the pooled out-of-fold probabilities.

        Parameters
        ----------
        coverage : float, default=0.9
            Share of the cases decided for ``accuracy_at_coverage``.

        Returns
        -------
        dict or None
            None without probabilities. Otherwise ``brier`` and ``ece``
            (10 equal-width bins; binary: of the positive class, multi-class:
            top-label) of all out-of-fold probabilities together (per-fold
            values are in :attr:`fold_metrics`), ``coverage`` and
            ``accuracy_at_coverage`` (accuracy of the ``coverage`` most
            confident cases; see :func:`skleuk.metrics.accuracy_at_coverage`).
        """
        both = self.pooled_proba()
        if both is None:
            return None
        y_true, proba = both
        out = self._calibration_of(y_true, proba)
        out["coverage"] = float(coverage)
        out["accuracy_at_coverage"] = accuracy_at_coverage(
            y_true, proba, coverage, classes=self.classes
        )
        return out

    @property
    def fold_metrics(self):
        """Validation metrics of every fold.

        Returns
        -------
        dict of str to ndarray of shape (n_folds,)
            Keys: ``accuracy``, ``sensitivity``, ``specificity``,
            ``precision``, ``f1``, ``roc_auc``, ``error_rate``, ``log_loss``,
            ``brier``, ``ece`` (validation; Brier score and expected
            calibration error of the positive class, top-label for more
            than two classes), ``train_accuracy``, ``train_loss``, ``fit_time``,
            ``predict_time``. Binary problems use ``pos_label``; multi-class
            ones macro averages (AUC one-vs-rest). Undefined values are NaN.
        """
        if "fold_metrics" not in self._cache:
            self._cache["fold_metrics"] = self._compute_fold_metrics()
        return self._cache["fold_metrics"]

    def summary(self):
        """Mean and standard deviation of every metric over the folds.

        The standard deviation is the population one (``ddof=0``, as in
        scikit-learn's ``cv_results_``); NaN folds (undefined metric) are
        left out.

        Returns
        -------
        dict of str to dict
            ``{"accuracy": {"mean": ..., "std": ...}, ...}`` for the keys of
            :attr:`fold_metrics`.
        """
        out = {}
        for k, v in self.fold_metrics.items():
            mean, std = _mean_std(v)
            out[k] = {"mean": mean, "std": std}
        return out

    @property
    def confusion_matrix(self):
        """Pooled out-of-fold confusion matrix, summed over all folds.

        Rows are true classes, columns predicted classes, in the order of
        :attr:`classes`. With ``n_repeats`` repetitions every sample is
        counted ``n_repeats`` times.

        Returns
        -------
        ndarray of shape (n_classes, n_classes)
        """
        y_true, y_pred = self._pooled()
        return confusion_matrix(y_true, y_pred, labels=self.classes)

    def diagnostic_report(self, output_dict=False, digits=3):
        """Per-class report (the paper's Table 4.3) on pooled predictions.

        Parameters
        ----------
        output_dict : bool, default=False
            Return a dict instead of text.
        digits : int, default=3
            Digits of the text version.

        Returns
        -------
        str or dict
            See :func:`skleuk.metrics.diagnostic_report`.
        """
        y_true, y_pred = self._pooled()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UndefinedMetricWarning)
            return _diagnostic_report(
                y_true,
                y_pred,
                labels=self.classes,
                target_names=self.target_names,
                digits=digits,
                output_dict=output_dict,
                zero_division=0.0,
            )

    def roc_curves(self, n_points=101):
        """ROC curves of every fold, their interpolated mean, and pooled ones.

        Parameters
        ----------
        n_points : int, default=101
            Number of false positive rates of the grid the fold curves are
            interpolated on for the mean curve.

        Returns
        -------
        dict or None
            None when the estimator gives no continuous scores. Binary::

                {"folds": [{"fpr", "tpr", "auc", "repeat", "fold"}, ...],
                 "mean": {"fpr", "tpr", "tpr_std", "auc", "auc_std"},
                 "pooled": {"fpr", "tpr", "auc"}}

            ``mean`` is the vertical average of the fold curves on a common
            grid (with ``auc`` the area under the mean curve and ``auc_std``
            the standard deviation of the fold AUCs); ``pooled`` the single
            curve of all out-of-fold scores together. Multi-class: one
            one-vs-rest entry per class, ``{"per_class": [{"label", "name",
            "fold_aucs", "mean", "pooled"}, ...]}`` with the same inner keys.
        """
        if any(self.fold_scores(f) is None for f in self._fitted_folds):
            return None
        grid = np.linspace(0.0, 1.0, n_points)
        if self.is_binary:
            return self._roc_one_vs_rest(lambda s: s, self.pos_label, grid)
        per_class = []
        for k, (label, name) in enumerate(
            zip(self.classes, self.target_names, strict=True)
        ):
            entry = self._roc_one_vs_rest(lambda s, k=k: s[:, k], label, grid)
            entry.update(label=_to_builtin(label), name=name)
            per_class.append(entry)
        return {"per_class": per_class}

    def misclassified(self, repeat=0):
        """Out-of-fold mistakes of one repetition, most confident first.

        Parameters
        ----------
        repeat : int, default=0
            Which repetition of the cross-validation.

        Returns
        -------
        list of dict
            One dict per misclassified sample: ``index`` (into ``X``/``y``),
            ``true``, ``pred`` (labels), ``true_name``, ``pred_name``,
            ``proba`` (probability given to the predicted class, NaN if
            unknown), ``repeat``, ``fold``. Sorted by decreasing ``proba``:
            the confident mistakes a pathologist should look at first.
        """
        out = []
        names = dict(zip(self.classes.tolist(), self.target_names, strict=True))
        col = {c: i for i, c in enumerate(self.classes.tolist())}
        for f in self._fitted_folds:
            if f["repeat"] != repeat:
                continue
            y_true = self.y[f["test_index"]]
            for j in np.flatnonzero(y_true != f["y_pred"]):
                t, p = y_true[j].item(), f["y_pred"][j].item()
                prob = (np.nan if f["proba"] is None
                        else float(f["proba"][j, col[p]]))
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

    @property
    def histories(self):
        """Per-epoch training history of every fold (None where unknown).

        Returns
        -------
        list of dict or None
            ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``
            from the fitted final step's ``history_`` (Keras classifiers).
        """
        return [f["history"] for f in self.folds]

    def _class_counts(self):
        return [(name, int(np.sum(self.y == c)))
                for c, name in zip(self.classes, self.target_names, strict=True)]

    def fold_table(self):
        """Per-fold train/validation accuracy and loss (the paper's Table 4.2).

        Returns
        -------
        list of dict
            One row per fold: ``repeat``, ``fold``, ``n_train``, ``n_val``,
            ``train_accuracy``, ``train_loss``, ``val_accuracy``,
            ``val_loss``, ``fit_time``.
        """
        fm = self.fold_metrics
        rows = []
        for i, f in enumerate(self.folds):
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

    def _averaging(self):
        if self.is_binary:
            return {"pos_label": self.pos_label, "average": "binary"}
        return {"average": "macro", "labels": self.classes}

    def _label_metrics(self, y_true, y_pred):
        kw = self._averaging()
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

    def _metrics_of(self, y_true, y_pred, scores, proba):
        """Validation metrics of one set of predictions (see ``fold_metrics``)."""
        out = self._label_metrics(y_true, y_pred)
        out["roc_auc"] = self._auc(y_true, scores)
        if proba is not None:
            out["log_loss"] = float(log_loss(y_true, proba, labels=self.classes))
        else:
            out["log_loss"] = float("nan")
        out.update(self._calibration_of(y_true, proba))
        return out

    def _calibration_of(self, y_true, proba):
        """Brier score and ECE (binary: positive class; else top-label)."""
        if proba is None:
            return {"brier": float("nan"), "ece": float("nan")}
        if self.is_binary:
            p = proba[:, self.pos_index]
            pos = self.pos_label
            return {
                "brier": float(brier_score_loss(y_true, p, pos_label=pos)),
                "ece": expected_calibration_error(y_true, p, pos_label=pos),
            }
        return {
            "brier": float(brier_score_loss(y_true, proba, labels=self.classes)),
            "ece": expected_calibration_error(y_true, proba, classes=self.classes),
        }

    def _auc(self, y_true, scores):
        """ROC AUC (binary: of ``pos_label``; else macro one-vs-rest), or NaN."""
        if scores is None:
            return float("nan")
        y_true = np.asarray(y_true)
        present = np.unique(y_true)
        try:
            if self.is_binary:
                if len(present) < 2:
                    return float("nan")
                return float(roc_auc_score(y_true == self.pos_label, scores))
            if len(present) < self.n_classes:
                return float("nan")
            s = np.clip(np.asarray(scores, dtype=float), 0, None)
            total = s.sum(1, keepdims=True)
            s = s / np.where(total == 0, 1, total)
            return float(
                roc_auc_score(y_true, s, multi_class="ovr", labels=self.classes)
            )
        except ValueError:
            return float("nan")

    def _pooled(self):
        """Pooled out-of-fold ``(y_true, y_pred)``."""
        folds = self._fitted_folds
        y_true = np.concatenate([self.y[f["test_index"]] for f in folds])
        y_pred = np.concatenate([f["y_pred"] for f in folds])
        return y_true, y_pred

    def _compute_fold_metrics(self):
        """:attr:`fold_metrics`, computed (the property caches it)."""
        rows = []
        error_score = self.info.get("error_score")
        failed = dict.fromkeys(
            _METRICS,
            float("nan") if error_score in (None, "raise") else float(error_score),
        )
        for f in self.folds:
            y_true = self.y[f["test_index"]]
            if f["fit_error"] is None:
                m = self._metrics_of(y_true, f["y_pred"], self.fold_scores(f),
                                     f["proba"])
            else:  # a fit that failed: error_score for its metrics
                m = dict(failed)
            for key in _FOLD_VALUES:
                m[key] = f[key]
            rows.append(m)
        return {k: np.array([r[k] for r in rows], dtype=float)
                for k in (*_METRICS, *_FOLD_VALUES)}

    def _roc_one_vs_rest(self, column, label, grid):
        folds, tprs, aucs = [], [], []
        all_true, all_scores = [], []
        for f in self._fitted_folds:
            y_true = self.y[f["test_index"]] == label
            scores = column(self.fold_scores(f))
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

    # ------------------------------------------------------------------
    # renderings: one list of sections, laid out as text, Markdown, HTML
    # ------------------------------------------------------------------
    def _title(self):
        n = self.n_folds // max(self.n_repeats, 1)
        rep = f" x {self.n_repeats} repeats" if self.n_repeats > 1 else ""
        title = f"Cross-validation report ({n} folds{rep})"
        if self.pos_label_assumed:
            title += f" -- positive class {self.pos_name!r} ASSUMED, not given"
        return title

    def _header_lines(self):
        counts = ", ".join(f"{n}: {c}" for n, c in self._class_counts())
        lines = [
            f"Data: {self.n_samples} samples, {self.n_classes} classes ({counts})",
        ]
        if self.pos_label_assumed:
            lines.append(
                f"Positive class: {self.pos_name} -- ASSUMED (the last class; no "
                "class is named like leukaemia or healthy). Sensitivity, "
                "specificity, precision, F1 and ROC AUC refer to it; choose it "
                "with pos_label=."
            )
        elif self.is_binary:
            lines.append(f"Positive class: {self.pos_name}")
        else:
            lines.append("Multi-class: macro averages, one-vs-rest ROC AUC")
        if self.info.get("protocol"):
            lines.append(f"Protocol: {self.info['protocol']}")
        if self.info.get("estimator"):
            lines.append(f"Estimator: {self.info['estimator']}")
        if self.n_failed_folds:
            error_score = self.info.get("error_score")
            shown = "nan" if error_score is None else f"{float(error_score):g}"
            lines.append(
                f"FAILED FITS: {self.n_failed_folds} of {self.n_folds} (their "
                f"metrics are error_score={shown}; the pooled figures use the "
                "other folds)"
            )
        return lines

    def _calibration_lines(self):
        cal = self.calibration()
        if cal is None:
            return []
        return [
            f"Pooled out-of-fold: ECE {_fmt(cal['ece'])}, Brier score "
            f"{_fmt(cal['brier'])}; accuracy of the {cal['coverage']:.0%} most "
            f"confident cases {_fmt(cal['accuracy_at_coverage'])}"
        ]

    def _fold_rows(self):
        """Header + rows of the fold table as strings (mean ± std last)."""
        cols = _FOLD_COLUMNS
        if self.n_repeats == 1:
            cols = cols[1:]
        rows = []
        for r in self.fold_table():
            cells = []
            for key, _ in cols:
                v = r[key]
                if key == "fit_time":
                    cells.append(_fmt(v, 1))
                elif isinstance(v, float):
                    cells.append(_fmt(v, 4))
                else:
                    cells.append(str(v))
            rows.append(cells)
        summ = self.summary()
        mean_row = []
        for key, _ in cols:
            src = {"val_accuracy": "accuracy", "val_loss": "log_loss"}.get(key, key)
            if src in summ:
                d = 1 if key == "fit_time" else 4
                mean_row.append(_fmt_pm(summ[src]["mean"], summ[src]["std"], d))
            else:
                mean_row.append("")
        mean_row[0] = "mean ± std"
        rows.append(mean_row)
        return [c[1] for c in cols], rows

    def _metric_rows(self):
        summ = self.summary()
        rows = []
        for k in _METRICS:
            v = self.fold_metrics[k]
            rows.append(
                [_METRIC_LABELS[k], _fmt_pm(summ[k]["mean"], summ[k]["std"]),
                 _fmt(np.nanmin(v) if np.isfinite(v).any() else np.nan),
                 _fmt(np.nanmax(v) if np.isfinite(v).any() else np.nan)]
            )
        return ["Metric", "Mean ± std", "Min", "Max"], rows

    def _confusion_rows(self):
        cm = self.confusion_matrix
        header = ["true \\ predicted"] + list(self.target_names)
        rows = [
            [name] + [str(int(v)) for v in cm[i]]
            for i, name in enumerate(self.target_names)
        ]
        return header, rows

    def _class_report_rows(self):
        rep = self.diagnostic_report(output_dict=True)
        header = ["Class", "Accuracy", "Precision", "Sensitivity", "Specificity",
                  "F1-score", "Error rate", "Support"]
        keys = ["accuracy", "precision", "sensitivity", "specificity", "f1-score",
                "error-rate"]
        rows = []
        for name in [*self.target_names, "macro avg", "weighted avg"]:
            r = rep[name]
            rows.append([name] + [_fmt(r[k]) for k in keys] + [str(r["support"])])
        return header, rows

    def _sections(self):
        """The sections of the report, in the order every renderer shows them."""
        n = self.n_folds
        return [
            _Section(
                "Per-fold accuracy and loss (Table 4.2)",
                "Per-fold accuracy and loss (Table 4.2)",
                table=self._fold_rows(),
            ),
            _Section(
                f"Validation metrics over {n} folds",
                f"Validation metrics over {n} folds (mean ± std)",
                table=self._metric_rows(),
            ),
            _Section(lines=tuple(self._calibration_lines())),
            _Section(
                "Pooled out-of-fold confusion matrix",
                "Pooled out-of-fold confusion matrix (rows: true class)",
                table=self._confusion_rows(),
            ),
            _Section(
                "Per-class report (Table 4.3)",
                "Per-class report, pooled out-of-fold (Table 4.3)",
                table=self._class_report_rows(),
                text=self.diagnostic_report(),
            ),
        ]

    def _html_body(self, figures=None):
        """The HTML of ``report`` without the page around it (for notebooks)."""
        esc = _html.escape
        parts = [f"<h1>{esc(self._title())}</h1>", "<ul>"]
        parts += [f"<li>{esc(line)}</li>" for line in self._header_lines()]
        parts.append("</ul>")
        for section in self._sections():
            if section.title is None:
                parts += [f"<p>{esc(line)}</p>" for line in section.lines]
                continue
            parts.append(f"<h2>{esc(section.title)}</h2>")
            parts.append(_html_table(*section.table))
        if figures:
            parts.append("<h2>Figures</h2>")
            for name, path in figures.items():
                parts.append(
                    f'<figure><img src="{esc(_rel(path))}" alt="{esc(name)}">'
                    f"<figcaption>{esc(name)}</figcaption></figure>"
                )
        return "\n".join(parts)

    def to_text(self):
        """Render the report as a plain-text table (what ``str(report)`` gives).

        Returns
        -------
        str
        """
        title = self._title()
        parts = [title, "=" * len(title), *self._header_lines()]
        for section in self._sections():
            if section.title is None:
                parts += ["", *section.lines] if section.lines else []
                continue
            parts += ["", section.text_title, ""]
            parts.append(section.text if section.text is not None
                         else _text_table(*section.table))
        return "\n".join(parts) + "\n"

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        s = self.summary()
        accuracy = _fmt_pm(s["accuracy"]["mean"], s["accuracy"]["std"])
        return (
            f"<CrossValidationReport: {self.n_folds} folds, {self.n_samples} "
            f"samples, accuracy {accuracy}>"
        )

    def to_markdown(self, figures=None):
        """Render the report as Markdown (GitHub-flavoured tables).

        Parameters
        ----------
        figures : dict of str to str, default=None
            Figure name to image path (relative to the Markdown file), as
            returned by :meth:`save_figures`; embedded after the tables.

        Returns
        -------
        str
        """
        parts = [f"# {self._title()}", ""]
        parts += [f"- {line}" for line in self._header_lines()]
        for section in self._sections():
            if section.title is None:
                parts += ["", *section.lines]
                continue
            parts += ["", f"## {section.title}", ""]
            parts.append(_md_table(*section.table))
        if figures:
            parts += ["", "## Figures", ""]
            for name, path in figures.items():
                parts += [f"![{name}]({_rel(path)})", ""]
        return "\n".join(parts).rstrip() + "\n"

    def to_html(self, figures=None):
        """Render the report as a standalone HTML page.

        Parameters
        ----------
        figures : dict of str to str, default=None
            Figure name to image path (relative to the HTML file), as
            returned by :meth:`save_figures`; shown after the tables.

        Returns
        -------
        str
        """
        return (
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
            f"<title>{_html.escape(self._title())}</title>"
            f"<style>{_STYLE}</style></head><body>\n"
            + self._html_body(figures)
            + "\n</body></html>\n"
        )

    def _repr_html_(self):
        return self._html_body()

    # ------------------------------------------------------------------
    # serialisation
    # ------------------------------------------------------------------
    def to_dict(self):
        """Return the report as a JSON-compatible dict.

        It holds the raw fold records (so :meth:`from_dict` restores the
        report exactly) and, for readers of the file, the derived numbers:
        ``summary``, ``fold_table``, ``confusion_matrix``,
        ``diagnostic_report``. NaN is written as ``null``.

        Returns
        -------
        dict
        """
        folds = []
        for f in self.folds:
            folds.append({k: _to_builtin(f[k]) for k in _FOLD_KEYS})
        X_paths = None
        if self.X is not None and not isinstance(self.X, (str, os.PathLike)):
            if is_path_sequence(self.X):
                X_paths = [os.fspath(p) for p in self.X]
        d = {
            "format": "skleuk.CrossValidationReport",
            "format_version": _FORMAT_VERSION,
            "classes": _to_builtin(self.classes),
            "target_names": self.target_names,
            "pos_label": _to_builtin(self.pos_label),
            "info": _to_builtin(self.info),
            "y": _to_builtin(self.y),
            "groups": None if self.groups is None else _to_builtin(self.groups),
            "X_paths": X_paths,
            "summary": self.summary(),
            "fold_table": _to_builtin(self.fold_table()),
            "confusion_matrix": _to_builtin(self.confusion_matrix),
            "diagnostic_report": self.diagnostic_report(output_dict=True),
            "calibration": self.calibration(),
            "folds": folds,
        }
        return _nan_to_none(_to_builtin(d))

    def to_json(self, path=None, *, indent=1, overwrite=False):
        """Serialise the report to JSON.

        Parameters
        ----------
        path : str or path-like, default=None
            File to write. None returns the JSON text instead.
        indent : int, default=1
            JSON indentation.
        overwrite : bool, default=False
            Replace an existing file.

        Returns
        -------
        str or None
            The JSON text when ``path`` is None.
        """
        text = json.dumps(self.to_dict(), indent=indent, allow_nan=False)
        if path is None:
            return text
        _check_writable(path, overwrite)
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text + "\n")
        return None

    @classmethod
    def from_dict(cls, d):
        """Rebuild a report from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            As returned by :meth:`to_dict`.

        Returns
        -------
        CrossValidationReport
        """
        if not isinstance(d, dict) or d.get("format") != "skleuk.CrossValidationReport":
            raise ValueError("Not a skleuk cross-validation report (wrong 'format').")
        if d.get("format_version", 0) > _FORMAT_VERSION:
            raise ValueError(
                f"Report format version {d['format_version']} is newer than this "
                f"skleuk understands ({_FORMAT_VERSION}); upgrade skleuk."
            )
        folds = []
        for f in d["folds"]:
            f = dict(f)
            for key in ("proba", "decision"):
                if f.get(key) is not None:
                    f[key] = _float_array(f[key])
            folds.append(f)
        return cls(
            d["y"],
            folds,
            d["classes"],
            target_names=d.get("target_names"),
            pos_label=d.get("pos_label"),
            groups=d.get("groups"),
            info=d.get("info"),
            X=d.get("X_paths"),
        )

    @classmethod
    def from_json(cls, source):
        """Load a report saved with :meth:`to_json`.

        Parameters
        ----------
        source : str or path-like
            A JSON file path, or the JSON text itself.

        Returns
        -------
        CrossValidationReport
        """
        if isinstance(source, os.PathLike) or (
            isinstance(source, str) and not source.lstrip().startswith("{")
        ):
            with open(source, encoding="utf-8") as fh:
                source = fh.read()
        return cls.from_dict(json.loads(source))

    # ------------------------------------------------------------------
    # files
    # ------------------------------------------------------------------
    def save_figures(self, dirpath, *, X=None, overwrite=False, dpi=120):
        """Draw the report's figures and save them as PNG files.

        Parameters
        ----------
        dirpath : str or path-like
            Folder to write into (created if missing).
        X : array-like, default=None
            Images (or file paths) for the misclassified-images grid; by
            default the report's own :attr:`X`. Without images that figure
            is skipped.
        overwrite : bool, default=False
            Replace existing files.
        dpi : int, default=120
            Resolution of the PNG files.

        Returns
        -------
        dict of str to str
            Figure name (``confusion_matrix``, ``roc_curve``,
            ``learning_curves``, ``misclassified``, ``reliability_diagram``,
            ``risk_coverage``) to file path, for the figures that could be
            drawn.
        """
        import matplotlib.pyplot as plt

        from .. import plotting

        os.makedirs(dirpath, exist_ok=True)
        makers = {
            "confusion_matrix": lambda: plotting.plot_confusion_matrix(self),
            "roc_curve": lambda: plotting.plot_roc_curve(self),
            "learning_curves": lambda: plotting.plot_learning_curves(self),
            "misclassified": lambda: plotting.plot_misclassified(self, X=X),
            "reliability_diagram": lambda: plotting.plot_reliability_diagram(self),
            "risk_coverage": lambda: plotting.plot_risk_coverage(self),
        }
        written = {}
        for name, make in makers.items():
            path = os.path.join(dirpath, f"{name}.png")
            _check_writable(path, overwrite)
            try:
                fig = make()
            except plotting.NothingToPlotError:
                continue
            fig = getattr(fig, "figure_", fig)
            fig.savefig(path, dpi=dpi, bbox_inches="tight")
            plt.close(fig)
            written[name] = path
        return written

    def save(self, dirpath, *, X=None, figures=True, overwrite=False):
        """Write the report (text, Markdown, HTML, JSON) and figures to a folder.

        Files: ``report.txt``, ``report.md``, ``report.html``,
        ``report.json`` and, with ``figures=True``, the PNG files of
        :meth:`save_figures` (referenced from the Markdown and HTML).

        Parameters
        ----------
        dirpath : str or path-like
            Output folder (created if missing).
        X : array-like, default=None
            Images for the misclassified-images figure (default: :attr:`X`).
        figures : bool, default=True
            Also draw and save the figures.
        overwrite : bool, default=False
            Replace existing files; otherwise an existing file is an error
            (:class:`FileExistsError`) and nothing is written.

        Returns
        -------
        dict of str to str
            What was written: ``text``, ``markdown``, ``html``, ``json`` and
            the figure names, to their paths.
        """
        os.makedirs(dirpath, exist_ok=True)
        names = {
            "text": "report.txt",
            "markdown": "report.md",
            "html": "report.html",
            "json": "report.json",
        }
        paths = {k: os.path.join(dirpath, v) for k, v in names.items()}
        if not overwrite:
            fig_names = ["confusion_matrix", "roc_curve", "learning_curves",
                         "misclassified", "reliability_diagram",
                         "risk_coverage"] if figures else []
            for p in [*paths.values(),
                      *(os.path.join(dirpath, f"{n}.png") for n in fig_names)]:
                _check_writable(p, overwrite)
        figs = (
            self.save_figures(dirpath, X=X, overwrite=overwrite) if figures else {}
        )
        rel_figs = {k: os.path.basename(v) for k, v in figs.items()}
        contents = {
            "text": self.to_text(),
            "markdown": self.to_markdown(rel_figs),
            "html": self.to_html(rel_figs),
            "json": self.to_json() + "\n",
        }
        for key, text in contents.items():
            with open(paths[key], "w", encoding="utf-8") as fh:
                fh.write(text)
        return {**paths, **figs}
