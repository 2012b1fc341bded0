"""Diagnostic metrics: sensitivity, specificity, error rate, per-class report.

The paper reports, per class, accuracy, precision, recall (sensitivity),
specificity, F1-score and error rate (its Table 4.3). scikit-learn has no
specificity or error rate, and its ``classification_report`` has no
per-class accuracy or specificity: this module adds them with the same
``labels``/``pos_label``/``average``/``zero_division`` semantics as
:func:`sklearn.metrics.precision_recall_fscore_support`, so they plug into
:func:`sklearn.metrics.make_scorer`, :func:`sklearn.model_selection.cross_validate`
and :class:`sklearn.model_selection.GridSearchCV` (their scorers are built in
``_scorers.py``).

Multi-class problems are handled one-vs-rest: for class ``k`` the positives
are the samples of class ``k`` and the negatives all others.
"""

from __future__ import annotations

import warnings
from numbers import Real

import numpy as np
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import (
    accuracy_score,
    multilabel_confusion_matrix,
    recall_score,
    roc_auc_score,
)
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.multiclass import type_of_target, unique_labels

__all__ = [
    "diagnostic_report",
    "error_rate",
    "sensitivity_score",
    "specificity_score",
]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)

# Column keys of the per-class report (Table 4.3 of the paper), in order.
REPORT_COLUMNS = (
    "accuracy",
    "precision",
    "sensitivity",
    "specificity",
    "f1-score",
    "error-rate",
    "support",
)


# ---------------------------------------------------------------------------
# helpers
# ---------------------------------------------------------------------------
def _check_zero_division(zero_division):
    if isinstance(zero_division, str) and zero_division == "warn":
        return
    if isinstance(zero_division, Real) and not isinstance(zero_division, bool):
        if np.isnan(zero_division) or zero_division in (0, 1):
            return
    raise ValueError(
        "zero_division must be 'warn', 0.0, 1.0 or np.nan; "
        f"got {zero_division!r}."
    )


def _check_targets(y_true, y_pred):
    """Validate a pair of 1-D label vectors; return them as arrays."""
    check_consistent_length(y_true, y_pred)
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    if y_true.size == 0:
        raise ValueError("y_true and y_pred must contain at least one sample.")
    for name, y in (("y_true", y_true), ("y_pred", y_pred)):
        kind = type_of_target(y, input_name=name)
        if kind not in ("binary", "multiclass"):
            raise ValueError(
                f"{name} must hold class labels (binary or multi-class); "
                f"got target type {kind!r}."
            )
    return y_true, y_pred


def _resolve_labels(y_true, y_pred, labels, pos_label, average):
    """Return the labels to score, following sklearn's ``average`` rules."""
    if average not in _AVERAGES:
        raise ValueError(
            f"average must be one of {_AVERAGES}; got {average!r}."
        )
    present = unique_labels(y_true, y_pred)
    if average == "binary":
        if len(present) > 2:
            raise ValueError(
                f"Target is multiclass ({len(present)} classes) but "
                "average='binary'. Choose another average setting, one of "
                "['micro', 'macro', 'weighted', None]."
            )
        if pos_label not in present:
            if len(present) >= 2:
                shown = pos_label.item() if hasattr(pos_label, "item") else pos_label
                raise ValueError(
                    f"pos_label={shown!r} is not a valid label. It should "
                    f"be one of {np.asarray(present).tolist()}."
                )
        return np.asarray([pos_label])
    if labels is None:
        return present
    labels = np.asarray(labels)
    if labels.ndim != 1 or labels.size == 0:
        raise ValueError("labels must be a non-empty 1-D sequence of class labels.")
    return labels


def _divide(numerator, denominator, metric, zero_division, labels=None,
            stacklevel=3):
    """Elementwise ratio; undefined entries follow ``zero_division``.

    ``zero_division="warn"`` gives 0.0 and emits one
    :class:`~sklearn.exceptions.UndefinedMetricWarning` naming the labels.
    """
    numerator = np.asarray(numerator, dtype=float)
    denominator = np.asarray(denominator, dtype=float)
    undefined = denominator == 0
    safe = np.where(undefined, 1.0, denominator)
    result = numerator / safe
    if not undefined.any():
        return result
    fill = 0.0 if zero_division == "warn" else float(zero_division)
    result[undefined] = fill
    if zero_division == "warn":
        which = ""
        if labels is not None:
            which = f" for label(s) {np.asarray(labels)[undefined].tolist()}"
        reason = {
            "specificity": "no true negative samples (every sample is of that "
            "class)",
            "precision": "no predicted samples",
            "sensitivity": "no true samples",
            "f1-score": "no true nor predicted samples",
        }.get(metric, "a zero denominator")
        warnings.warn(
            f"{metric.capitalize()} is ill-defined and being set to 0.0{which}: "
            f"{reason}. Use `zero_division` to control this behavior.",
            UndefinedMetricWarning,
            stacklevel=stacklevel,
        )
    return result


def _average(values, weights, average):
    """Average per-class ``values`` (NaN entries are left out, like sklearn)."""
    values = np.asarray(values, dtype=float)
    if average is None:
        return values
    mask = ~np.isnan(values)
    if not mask.any():
        return float("nan")
    if average == "weighted":
        w = np.asarray(weights, dtype=float)[mask]
        if w.sum() == 0:
            return 0.0
        return float(np.average(values[mask], weights=w))
    return float(np.mean(values[mask]))


def _mcm(y_true, y_pred, labels, sample_weight):
    mcm = multilabel_confusion_matrix(
        y_true, y_pred, sample_weight=sample_weight, labels=labels
    )
    tn, fp, fn, tp = mcm[:, 0, 0], mcm[:, 0, 1], mcm[:, 1, 0], mcm[:, 1, 1]
    return tn, fp, fn, tp


# ---------------------------------------------------------------------------
# metrics
# ---------------------------------------------------------------------------
def specificity_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """Compute the specificity (true negative rate).

    The specificity is ``tn / (tn + fp)``: the fraction of the negative
    samples that are predicted negative -- for leukemia screening, the
    fraction of healthy cells the classifier leaves alone. For multi-class
    targets it is computed one-vs-rest per class (the negatives of class
    ``k`` are the samples of every other class).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The labels to include when ``average != 'binary'``, and their order
        when ``average is None``. By default all labels in ``y_true`` and
        ``y_pred``, sorted.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average='binary'``; ignored otherwise.
    average : {'binary', 'micro', 'macro', 'weighted'} or None, \
            default='binary'
        ``'binary'``: the specificity of ``pos_label`` (binary targets only).
        ``'micro'``: from the total true negatives and false positives over
        all classes. ``'macro'``: unweighted mean of the per-class values.
        ``'weighted'``: mean weighted by support (number of true samples per
        class), as in scikit-learn. ``None``: the per-class values.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value returned when there are no negative samples (``tn + fp == 0``),
        so specificity is undefined. ``'warn'`` returns 0.0 and raises an
        :class:`~sklearn.exceptions.UndefinedMetricWarning`. With ``np.nan``
        undefined classes are left out of the averages.

    Returns
    -------
    specificity : float or ndarray of shape (n_labels,)
        The specificity, or one value per label when ``average=None``.

    See Also
    --------
    sensitivity_score : True positive rate (recall).
    diagnostic_report : All per-class metrics of the paper's Table 4.3.

    Examples
    --------
    >>> from skleuk.metrics import specificity_score
    >>> y_true = [0, 0, 0, 0, 1, 1]
    >>> y_pred = [0, 0, 0, 1, 1, 1]
    >>> float(specificity_score(y_true, y_pred))
    0.75
    >>> specificity_score([0, 1, 2, 2], [0, 2, 2, 2], average=None)
    array([1. , 1. , 0.5])
    """
    _check_zero_division(zero_division)
    y_true, y_pred = _check_targets(y_true, y_pred)
    labels = _resolve_labels(y_true, y_pred, labels, pos_label, average)
    tn, fp, fn, tp = _mcm(y_true, y_pred, labels, sample_weight)
    if average == "micro":
        return float(
            _divide(tn.sum(), tn.sum() + fp.sum(), "specificity", zero_division)
        )
    spec = _divide(tn, tn + fp, "specificity", zero_division, labels)
    if average == "binary":
        return float(spec[0])
    return _average(spec, tp + fn, average)


def sensitivity_score(
    y_true,
    y_pred,
    *,
    labels=None,
    pos_label=1,
    average="binary",
    sample_weight=None,
    zero_division="warn",
):
    """Compute the sensitivity (true positive rate, recall).

    The sensitivity is ``tp / (tp + fn)``: the fraction of the positive
    samples that are found -- for leukemia screening, the fraction of blasts
    the classifier detects. It is :func:`sklearn.metrics.recall_score` under
    its clinical name, with the same parameters.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like, default=None
        The labels to include when ``average != 'binary'``.
    pos_label : int, float, bool or str, default=1
        The positive class when ``average='binary'``.
    average : {'binary', 'micro', 'macro', 'weighted'} or None, \
            default='binary'
        How to average over classes (see :func:`specificity_score`).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value returned when there are no positive samples.

    Returns
    -------
    sensitivity : float or ndarray of shape (n_labels,)
        The sensitivity, or one value per label when ``average=None``.

    See Also
    --------
    specificity_score : True negative rate.
    sklearn.metrics.recall_score : The same metric.

    Examples
    --------
    >>> from skleuk.metrics import sensitivity_score
    >>> float(sensitivity_score([0, 0, 1, 1], [0, 1, 1, 0]))
    0.5
    """
    _check_zero_division(zero_division)
    return recall_score(
        y_true,
        y_pred,
        labels=labels,
        pos_label=pos_label,
        average=average,
        sample_weight=sample_weight,
        zero_division=zero_division,
    )


def error_rate(y_true, y_pred, *, sample_weight=None):
    """Compute the error rate, the fraction of misclassified samples.

    ``error_rate = 1 - accuracy``.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.

    Returns
    -------
    error : float
        The (weighted) fraction of samples whose prediction is wrong.

    See Also
    --------
    sklearn.metrics.accuracy_score : ``1 - error_rate``.

    Examples
    --------
    >>> from skleuk.metrics import error_rate
    >>> error_rate([0, 1, 1, 0], [0, 1, 0, 0])
    0.25
    """
    y_true, y_pred = _check_targets(y_true, y_pred)
    return float(1.0 - accuracy_score(y_true, y_pred, sample_weight=sample_weight))


# ---------------------------------------------------------------------------
# per-class report (Table 4.3)
# ---------------------------------------------------------------------------
def _per_class(y_true, y_pred, labels, sample_weight, zero_division):
    tn, fp, fn, tp = _mcm(y_true, y_pred, labels, sample_weight)
    total = tn + fp + fn + tp
    kw = {"zero_division": zero_division, "labels": labels, "stacklevel": 4}
    accuracy = _divide(tp + tn, total, "accuracy", **kw)
    precision = _divide(tp, tp + fp, "precision", **kw)
    sensitivity = _divide(tp, tp + fn, "sensitivity", **kw)
    specificity = _divide(tn, tn + fp, "specificity", **kw)
    # F1 as in scikit-learn: 2tp / (2tp + fp + fn), zero_division when 0/0.
    f1 = _divide(2 * tp, 2 * tp + fp + fn, "f1-score", **kw)
    return {
        "accuracy": accuracy,
        "precision": precision,
        "sensitivity": sensitivity,
        "specificity": specificity,
        "f1-score": f1,
        "error-rate": 1.0 - accuracy,
        "support": tp + fn,
    }


def diagnostic_report(
    y_true,
    y_pred,
    *,
    labels=None,
    target_names=None,
    sample_weight=None,
    digits=2,
    output_dict=False,
    zero_division="warn",
):
    """Build the per-class diagnostic report (the paper's Table 4.3).

    For every class (one-vs-rest): accuracy, precision, sensitivity
    (recall), specificity, F1-score, error rate and support; then their
    macro average (unweighted mean over classes) and weighted average
    (weighted by support), and the overall accuracy and error rate.

    It extends :func:`sklearn.metrics.classification_report` with the
    per-class accuracy, specificity and error rate (and is named apart from
    it, so that both can be imported side by side). For a binary problem
    both rows have the same accuracy (the overall accuracy), and the
    specificity of one class is the sensitivity of the other. For more than
    two classes the per-class ("one-vs-rest") accuracy of class ``k`` is the
    accuracy of the binary problem "``k`` or not", which is higher than the
    overall accuracy.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Ground-truth labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    labels : array-like of shape (n_labels,), default=None
        Labels to include, in order. By default all labels in ``y_true`` and
        ``y_pred``, sorted.
    target_names : list of str of shape (n_labels,), default=None
        Display names of the labels (e.g. ``["healthy", "ALL"]``).
    sample_weight : array-like of shape (n_samples,), default=None
        Sample weights.
    digits : int, default=2
        Number of digits of the floating-point values in the text report.
    output_dict : bool, default=False
        Return a nested dict instead of text.
    zero_division : {'warn', 0.0, 1.0, np.nan}, default='warn'
        Value of a metric whose denominator is zero (e.g. the specificity of
        a class when every sample belongs to it); ``'warn'`` gives 0.0 with
        an :class:`~sklearn.exceptions.UndefinedMetricWarning`.

    Returns
    -------
    report : str or dict
        Text table, or with ``output_dict=True`` a dict::

            {"<class name>": {"accuracy": 0.9, "precision": 0.8,
                              "sensitivity": 0.9, "specificity": 0.8,
                              "f1-score": 0.85, "error-rate": 0.1,
                              "support": 50},
             ...,
             "macro avg": {...}, "weighted avg": {...},
             "accuracy": 0.9, "error-rate": 0.1}

    See Also
    --------
    specificity_score, sensitivity_score, error_rate
    sklearn.metrics.classification_report : Precision, recall and F1 only.

    Examples
    --------
    >>> from skleuk.metrics import diagnostic_report
    >>> y_true = [0, 0, 0, 0, 1, 1]
    >>> y_pred = [0, 0, 0, 1, 1, 1]
    >>> print(diagnostic_report(y_true, y_pred,
    ...     target_names=["healthy", "ALL"]))  # doctest: +NORMALIZE_WHITESPACE
         accuracy precision sensitivity specificity f1-score error-rate support
    <BLANKLINE>
      healthy  0.83  1.00  0.75  1.00  0.86  0.17  4
          ALL  0.83  0.67  1.00  0.75  0.80  0.17  2
    <BLANKLINE>
    macro avg  0.83  0.83  0.88  0.88  0.83  0.17  6
    weighted avg  0.83  0.89  0.83  0.92  0.84  0.17  6
    <BLANKLINE>
     accuracy                          0.83  0.17  6
    >>> report = diagnostic_report(y_true, y_pred, output_dict=True)
    >>> round(report["0"]["sensitivity"], 2)
    0.75
    """
    _check_zero_division(zero_division)
    y_true, y_pred = _check_targets(y_true, y_pred)
    labels = _resolve_labels(y_true, y_pred, labels, None, None)
    if target_names is None:
        names = [str(lab) for lab in labels]
    else:
        names = [str(n) for n in target_names]
        if len(names) != len(labels):
            raise ValueError(
                f"Number of classes, {len(labels)}, does not match size of "
                f"target_names, {len(names)}. Try specifying the labels "
                "parameter."
            )
    per_class = _per_class(y_true, y_pred, labels, sample_weight, zero_division)
    support = per_class["support"]
    n_total = int(np.sum(support)) if sample_weight is None else float(
        np.sum(support)
    )

    report = {}
    for i, name in enumerate(names):
        row = {k: float(per_class[k][i]) for k in REPORT_COLUMNS if k != "support"}
        row["support"] = _as_number(support[i])
        report[name] = row
    for avg_name, avg in (("macro avg", "macro"), ("weighted avg", "weighted")):
        row = {
            k: _average(per_class[k], support, avg)
            for k in REPORT_COLUMNS
            if k != "support"
        }
        row["support"] = _as_number(np.sum(support))
        report[avg_name] = row
    overall = float(accuracy_score(y_true, y_pred, sample_weight=sample_weight))
    report["accuracy"] = overall
    report["error-rate"] = 1.0 - overall
    if output_dict:
        return report
    return _format_report(report, names, digits, n_total)


def _as_number(x):
    x = float(x)
    return int(x) if x.is_integer() else x


def _format_report(report, names, digits, n_total):
    headers = list(REPORT_COLUMNS)
    width = max([len(n) for n in names] + [len("weighted avg")])
    col = [max(len(h), digits + 3) for h in headers]
    pairs = list(zip(headers, col, strict=True))
    head = " " * width + "".join(f"  {h:>{w}}" for h, w in pairs)
    lines = [head, ""]

    def fmt_row(name, row):
        cells = []
        for h, w in pairs:
            v = row[h]
            if h == "support":
                cells.append(f"  {v:>{w}}")
            else:
                cells.append(f"  {v:>{w}.{digits}f}")
        return f"{name:>{width}}" + "".join(cells)

    for n in names:
        lines.append(fmt_row(n, report[n]))
    lines.append("")
    for avg in ("macro avg", "weighted avg"):
        lines.append(fmt_row(avg, report[avg]))
    lines.append("")
    # Overall accuracy under the F1 column, error rate under its own column
    # (sklearn puts the overall accuracy under f1-score too).
    pad = sum(w + 2 for w in col[:4])
    lines.append(
        f"{'accuracy':>{width}}"
        + " " * pad
        + f"  {report['accuracy']:>{col[4]}.{digits}f}"
        + f"  {report['error-rate']:>{col[5]}.{digits}f}"
        + f"  {n_total:>{col[6]}}"
    )
    return "\n".join(lines)


# The scorer's ROC AUC lives here, not in _scorers.py, so that scorers pickled
# by earlier versions (inside a fitted GridSearchCV) still load.
def _binary_roc_auc(y_true, y_score, *, pos_label):
    """ROC AUC with an explicit positive class (sklearn's has no pos_label)."""
    return roc_auc_score(np.asarray(y_true) == pos_label, y_score)
