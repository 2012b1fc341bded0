"""Abstention metrics: coverage, accuracy on the cases kept, risk-coverage.

"Refer to a pathologist": :func:`coverage_score`,
:func:`covered_accuracy_score`, :func:`get_abstention_scorers`,
:func:`risk_coverage_curve`, :func:`accuracy_at_coverage`.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.metrics import make_scorer
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils.multiclass import unique_labels

from ._calibration import _check_probabilities, _top_label_hit

__all__ = [
    "accuracy_at_coverage",
    "coverage_score",
    "covered_accuracy_score",
    "get_abstention_scorers",
    "risk_coverage_curve",
]


def _covered(y_pred, reject_label):
    return ~(np.asarray(y_pred, dtype=object) == reject_label)


def coverage_score(y_true, y_pred, *, reject_label=-1):
    """Fraction of samples that were decided (not referred).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels (only their number matters).
    y_pred : array-like of shape (n_samples,)
        Predicted labels, ``reject_label`` where the classifier abstained
        (:class:`skleuk.model_selection.AbstainingClassifier`).
    reject_label : int, float or str, default=-1
        The label that means "not decided".

    Returns
    -------
    coverage : float
        In ``[0, 1]``.

    Examples
    --------
    >>> from skleuk.metrics import coverage_score
    >>> coverage_score([0, 1, 1, 0], [0, -1, 1, -1])
    0.5
    """
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    return float(_covered(y_pred, reject_label).mean())


def covered_accuracy_score(y_true, y_pred, *, reject_label=-1, zero_coverage=np.nan):
    """Accuracy on the samples that were decided (abstentions left out).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels, ``reject_label`` where the classifier abstained.
    reject_label : int, float or str, default=-1
        The label that means "not decided".
    zero_coverage : float, default=np.nan
        Returned when every sample was referred.

    Returns
    -------
    accuracy : float
        Accuracy of the decided samples. Read it together with
        :func:`coverage_score`: abstaining on every hard case raises it
        trivially.

    Examples
    --------
    >>> from skleuk.metrics import covered_accuracy_score
    >>> covered_accuracy_score([0, 1, 1, 0], [0, -1, 1, 1])
    0.6666666666666666
    """
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    covered = _covered(y_pred, reject_label)
    if not covered.any():
        return float(zero_coverage)
    same = np.asarray(y_true, dtype=object)[covered] == np.asarray(
        y_pred, dtype=object
    )[covered]
    return float(np.mean(same))


def _covered_rate(y_true, y_pred, *, reject_label, pos_label, positive):
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    covered = _covered(y_pred, reject_label)
    truth = np.asarray(y_true, dtype=object) == pos_label
    pred = np.asarray(y_pred, dtype=object) == pos_label
    sel = covered & (truth if positive else ~truth)
    if not sel.any():
        return float("nan")
    return float(np.mean(pred[sel] if positive else ~pred[sel]))


def get_abstention_scorers(reject_label=-1, *, pos_label=None):
    """Scorers that count abstentions separately, for cross-validation.

    Use as ``scoring=`` of :func:`sklearn.model_selection.cross_validate`
    with an :class:`~skleuk.model_selection.AbstainingClassifier`. (The
    plain ``"accuracy"`` scorer counts every abstention as an error.)

    Parameters
    ----------
    reject_label : int, float or str, default=-1
        The label that means "not decided".
    pos_label : int, float, bool or str, default=None
        With a positive class, also ``covered_sensitivity`` and
        ``covered_specificity`` (of the decided samples).

    Returns
    -------
    scorers : dict of str to callable
        ``coverage``, ``covered_accuracy`` (and the two above).

    Examples
    --------
    >>> from skleuk.metrics import get_abstention_scorers
    >>> sorted(get_abstention_scorers(pos_label=1))
    ['coverage', 'covered_accuracy', 'covered_sensitivity', 'covered_specificity']
    """
    scorers = {
        "coverage": make_scorer(coverage_score, reject_label=reject_label),
        "covered_accuracy": make_scorer(
            covered_accuracy_score, reject_label=reject_label
        ),
    }
    if pos_label is not None:
        for name, positive in (("sensitivity", True), ("specificity", False)):
            scorers[f"covered_{name}"] = make_scorer(
                _covered_rate, reject_label=reject_label, pos_label=pos_label,
                positive=positive,
            )
    return scorers


def _confidence_and_hit(y_true, y_proba, classes):
    y_true = column_or_1d(y_true)
    y_proba = _check_probabilities(y_proba, "y_proba")
    check_consistent_length(y_true, y_proba)
    if y_true.size == 0:
        raise ValueError("y_true and y_proba must contain at least one sample.")
    classes = unique_labels(y_true) if classes is None else np.asarray(classes)
    if y_proba.ndim == 1:
        if len(classes) != 2:
            raise ValueError(
                "A 1-D y_proba is the probability of classes[1] of a binary "
                f"problem; got {len(classes)} classes."
            )
        y_proba = np.column_stack([1.0 - y_proba, y_proba])
    if y_proba.ndim != 2 or y_proba.shape[1] != len(classes):
        raise ValueError(
            f"y_proba must have one column per class ({len(classes)}); got shape "
            f"{y_proba.shape}. Pass classes= (the estimator's classes_)."
        )
    return _top_label_hit(y_true, y_proba, classes)


def risk_coverage_curve(y_true, y_proba, *, classes=None):
    """Error rate of the decided samples against the share decided.

    A classifier that refers its least confident cases to a pathologist
    decides only the samples whose top probability reaches a threshold.
    Lowering the threshold from 1 decides more samples (coverage) and
    usually makes more mistakes among them (risk = error rate of the
    decided samples) -- the risk-coverage curve of selective
    classification (El-Yaniv & Wiener 2010; Geifman & El-Yaniv 2017). One
    point per distinct confidence value. A sample whose top probability is
    shared by several classes counts as right for the share of them that is
    true (random tie-breaking), so the curve does not depend on the order of
    the columns.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        ``predict_proba`` output, or for a binary problem the probability of
        ``classes[1]``.
    classes : array-like of shape (n_classes,), default=None
        Labels of the columns (the estimator's ``classes_``); default: the
        sorted labels of ``y_true``.

    Returns
    -------
    coverage : ndarray of shape (n_thresholds,)
        Share of samples decided, increasing, ending at 1.
    risk : ndarray of shape (n_thresholds,)
        Error rate among them.
    thresholds : ndarray of shape (n_thresholds,)
        The confidence (top probability) a sample needs to be decided,
        decreasing.

    References
    ----------
    .. [1] Y. Geifman, R. El-Yaniv, "Selective classification for deep
       neural networks", NeurIPS 2017.

    Examples
    --------
    >>> from skleuk.metrics import risk_coverage_curve
    >>> cov, risk, thr = risk_coverage_curve(
    ...     [0, 1, 1, 0], [0.05, 0.9, 0.6, 0.7])
    >>> cov.tolist(), risk.tolist()
    ([0.25, 0.5, 0.75, 1.0], [0.0, 0.0, 0.3333333333333333, 0.25])
    """
    conf, hit = _confidence_and_hit(y_true, y_proba, classes)
    order = np.argsort(-conf, kind="stable")
    conf, hit = conf[order], hit[order]
    # A tie between top classes is a fractional hit (see _top_label_hit).
    errors = np.cumsum(1.0 - hit)
    # The last index of each run of equal confidence.
    last = np.r_[np.flatnonzero(np.diff(conf) != 0), conf.size - 1]
    n_decided = last + 1
    return n_decided / conf.size, errors[last] / n_decided, conf[last]


def accuracy_at_coverage(y_true, y_proba, coverage=0.9, *, classes=None):
    """Accuracy of the most confident ``coverage`` share of the samples.

    The point of :func:`risk_coverage_curve` at the largest coverage not
    above ``coverage`` (``1 - risk``): "refer the least confident
    ``1 - coverage`` of the cases, how accurate is the rest?". The
    threshold is chosen on the scored samples themselves.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_proba : array-like of shape (n_samples, n_classes) or (n_samples,)
        As in :func:`risk_coverage_curve`.
    coverage : float, default=0.9
        Share of samples to decide, in ``(0, 1]``.
    classes : array-like of shape (n_classes,), default=None
        Labels of the columns of ``y_proba``.

    Returns
    -------
    accuracy : float
        NaN when no threshold decides at most ``coverage`` of the samples.

    Examples
    --------
    >>> from skleuk.metrics import accuracy_at_coverage
    >>> accuracy_at_coverage([0, 1, 1, 0], [0.05, 0.9, 0.6, 0.7], 0.5)
    1.0
    """
    if isinstance(coverage, bool) or not isinstance(coverage, Real) or not (
        0 < coverage <= 1
    ):
        raise ValueError(f"coverage must be in (0, 1]; got {coverage!r}.")
    cov, risk, _ = risk_coverage_curve(y_true, y_proba, classes=classes)
    ok = cov <= coverage + 1e-12
    if not ok.any():
        return float("nan")
    return float(1.0 - risk[np.flatnonzero(ok)[-1]])
