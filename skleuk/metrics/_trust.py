"""Metrics for trusting a screening classifier: calibration, operating point.

Calibration (:func:`expected_calibration_error`; the Brier score is
:func:`sklearn.metrics.brier_score_loss`) and an operating point
("specificity at sensitivity >= X": :func:`specificity_at_sensitivity`,
:func:`constrained_specificity_score`,
:func:`make_specificity_at_sensitivity_scorer`). Abstention lives in
``_abstention.py``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.metrics import make_scorer, roc_curve
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.multiclass import unique_labels

__all__ = [
    "constrained_specificity_score",
    "expected_calibration_error",
    "make_specificity_at_sensitivity_scorer",
    "specificity_at_sensitivity",
]


# ---------------------------------------------------------------------------
# calibration
# ---------------------------------------------------------------------------
def _binary_truth(y_true, pos_label):
    y_true = column_or_1d(y_true)
    labels = np.unique(y_true)
    if pos_label is None:
        if len(labels) > 2:
            raise ValueError(
                f"y_true has {len(labels)} classes; a 1-D y_prob needs a binary "
                "y_true (pass the 2-D predict_proba output for more classes)."
            )
        if not (set(labels.tolist()) <= {0, 1} or set(labels.tolist()) <= {-1, 1}
                or labels.dtype == bool):
            raise ValueError(
                f"y_true takes values {labels.tolist()}: pass pos_label to say "
                "which one is the positive class."
            )
        pos_label = 1
    return y_true == pos_label


def _top_label_hit(y_true, y_prob, classes):
    """Top probability of each sample, and whether its top label is right.

    A tie between top classes counts as right for the share of the tied
    classes that is true (uniformly random tie-breaking), so the result does
    not depend on the order of the columns: ``hit`` is a float in [0, 1].
    """
    conf = y_prob.max(axis=1)
    top = y_prob == conf[:, None]
    truth = np.asarray(classes)[None, :] == np.asarray(y_true)[:, None]
    return conf, (top & truth).sum(axis=1) / top.sum(axis=1)


def _check_probabilities(y_prob, name="y_prob"):
    y_prob = np.asarray(y_prob, dtype=float)
    if y_prob.size and (
        not np.all(np.isfinite(y_prob)) or y_prob.min() < 0 or y_prob.max() > 1
    ):
        raise ValueError(f"{name} must hold probabilities in [0, 1].")
    return y_prob


@validate_params(
    {
        "y_true": ["array-like"],
        "y_prob": ["array-like"],
        "n_bins": [Interval(Integral, 1, None, closed="left")],
        "strategy": [StrOptions({"uniform", "quantile"})],
        "pos_label": [Real, str, "boolean", None],
        "classes": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def expected_calibration_error(
    y_true, y_prob, *, n_bins=10, strategy="uniform", pos_label=None, classes=None
):
    """Compute the expected calibration error (ECE).

    The probabilities are put into ``n_bins`` bins; in each bin the mean
    predicted probability is compared with the observed frequency, and the
    absolute gaps are averaged, weighted by the share of samples in the bin
    (Naeini et al. 2015; Guo et al. 2017)::

        ECE = sum_b (n_b / n) * |mean(y in b) - mean(p in b)|

    A 1-D ``y_prob`` is the probability of the positive class of a binary
    problem (as :func:`sklearn.calibration.calibration_curve` takes it). A
    2-D ``y_prob`` (the ``predict_proba`` output, any number of classes)
    gives the *top-label* (confidence) ECE: the probability of the
    predicted class against whether the prediction is right (when several
    classes share the top probability, the prediction counts as right for
    the share of them that is the true class).

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_prob : array-like of shape (n_samples,) or (n_samples, n_classes)
        Predicted probabilities (see above).
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        ``"uniform"``: equal-width bins on ``[0, 1]``; ``"quantile"``: bins
        holding the same number of samples.
    pos_label : int, float, bool or str, default=None
        Positive class for a 1-D ``y_prob``. None: 1 when ``y_true`` is in
        ``{0, 1}`` or ``{-1, 1}``.
    classes : array-like of shape (n_classes,), default=None
        Labels of the columns of a 2-D ``y_prob`` (the estimator's
        ``classes_``); default: the sorted labels of ``y_true``.

    Returns
    -------
    ece : float
        In ``[0, 1]``; 0 for perfectly calibrated probabilities (up to the
        binning and the sampling noise of small bins).

    See Also
    --------
    sklearn.metrics.brier_score_loss : The Brier score.
    sklearn.calibration.calibration_curve : The points of a reliability
        diagram.

    References
    ----------
    .. [1] M. P. Naeini, G. Cooper, M. Hauskrecht, "Obtaining well calibrated
       probabilities using Bayesian binning", AAAI 2015.
    .. [2] C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On calibration of
       modern neural networks", ICML 2017.

    Examples
    --------
    >>> from skleuk.metrics import expected_calibration_error
    >>> round(expected_calibration_error([0, 0, 1, 1], [0.1, 0.1, 0.9, 0.9]), 6)
    0.1
    >>> expected_calibration_error([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5])
    0.0
    """
    y_prob = _check_probabilities(y_prob)
    y_true_arr = column_or_1d(y_true)
    check_consistent_length(y_true_arr, y_prob)
    if y_true_arr.size == 0:
        raise ValueError("y_true and y_prob must contain at least one sample.")
    if y_prob.ndim == 2:
        classes = unique_labels(y_true_arr) if classes is None else np.asarray(classes)
        if len(classes) != y_prob.shape[1]:
            raise ValueError(
                f"y_prob has {y_prob.shape[1]} columns for {len(classes)} classes; "
                "pass classes= (the estimator's classes_)."
            )
        conf, hit = _top_label_hit(y_true_arr, y_prob, classes)
    elif y_prob.ndim == 1:
        conf = y_prob
        hit = _binary_truth(y_true_arr, pos_label).astype(float)
    else:
        raise ValueError(f"y_prob must be 1-D or 2-D; got {y_prob.ndim}-D.")
    if strategy == "quantile":
        edges = np.quantile(conf, np.linspace(0, 1, n_bins + 1))
    else:
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    # Bin b holds edges[b] <= p < edges[b+1] (the last bin includes 1).
    idx = np.clip(np.searchsorted(edges[1:-1], conf, side="right"), 0, n_bins - 1)
    count = np.bincount(idx, minlength=n_bins).astype(float)
    gap = np.abs(
        np.bincount(idx, weights=hit, minlength=n_bins)
        - np.bincount(idx, weights=conf, minlength=n_bins)
    )
    return float(min(1.0, gap.sum() / count.sum()))


# ---------------------------------------------------------------------------
# operating point
# ---------------------------------------------------------------------------
def _check_min_sensitivity(min_sensitivity):
    if isinstance(min_sensitivity, bool) or not isinstance(min_sensitivity, Real) or (
        not 0 <= min_sensitivity <= 1
    ):
        raise ValueError(
            f"min_sensitivity must be a number in [0, 1]; got {min_sensitivity!r}."
        )


def specificity_at_sensitivity(y_true, y_score, *, min_sensitivity=0.98, pos_label=1):
    """Best specificity of any threshold whose sensitivity is at least X.

    Reads the ROC curve of ``y_score``: among the thresholds with
    sensitivity (true positive rate) ``>= min_sensitivity``, the highest
    specificity (``1 - false positive rate``). The threshold is chosen on
    the very samples being scored, so this is an *optimistic* figure of the
    ranking, not of a deployed classifier: for that, choose the threshold
    on training data (:func:`skleuk.model_selection.tune_threshold`) and
    score the thresholded predictions.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_score : array-like of shape (n_samples,)
        Scores of the positive class (probability or decision value).
    min_sensitivity : float, default=0.98
        The sensitivity to reach, in ``[0, 1]``.
    pos_label : int, float, bool or str, default=1
        The positive class.

    Returns
    -------
    specificity : float
        In ``[0, 1]`` (0 when only the "everything positive" threshold
        reaches the sensitivity).

    See Also
    --------
    make_specificity_at_sensitivity_scorer : As a scorer.
    constrained_specificity_score : The same goal for hard predictions.

    Examples
    --------
    >>> from skleuk.metrics import specificity_at_sensitivity
    >>> y = [0, 0, 0, 0, 1, 1]
    >>> s = [0.1, 0.2, 0.3, 0.7, 0.6, 0.9]
    >>> specificity_at_sensitivity(y, s, min_sensitivity=1.0)
    0.75
    >>> specificity_at_sensitivity(y, s, min_sensitivity=0.5)
    1.0
    """
    _check_min_sensitivity(min_sensitivity)
    y_true = column_or_1d(y_true)
    y_score = column_or_1d(y_score)
    check_consistent_length(y_true, y_score)
    positive = y_true == pos_label
    if positive.all() or not positive.any():
        raise ValueError(
            "specificity_at_sensitivity needs both positive and negative samples "
            f"(pos_label={pos_label!r})."
        )
    fpr, tpr, _ = roc_curve(positive, y_score)
    ok = tpr >= min_sensitivity - 1e-12
    return float(1.0 - fpr[ok].min())


def constrained_specificity_score(
    y_true, y_pred, *, min_sensitivity=0.98, pos_label=1
):
    """Specificity if the sensitivity reaches X, else a penalty below 0.

    The objective that :class:`~sklearn.model_selection.TunedThresholdClassifierCV`
    maximises to find "the most specific threshold with sensitivity
    ``>= min_sensitivity``" (see
    :func:`skleuk.model_selection.tune_threshold`): the specificity when the
    constraint holds, otherwise ``sensitivity - 1`` (in ``[-1, 0)``), so any
    threshold meeting the constraint beats any that does not, and among the
    others the more sensitive wins.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        True labels.
    y_pred : array-like of shape (n_samples,)
        Predicted labels.
    min_sensitivity : float, default=0.98
        The sensitivity to reach, in ``[0, 1]``.
    pos_label : int, float, bool or str, default=1
        The positive class.

    Returns
    -------
    score : float
        In ``[0, 1]`` when the constraint holds, in ``[-1, 0)`` otherwise.

    See Also
    --------
    specificity_at_sensitivity : The same goal read off a ROC curve.

    Examples
    --------
    >>> from skleuk.metrics import constrained_specificity_score
    >>> constrained_specificity_score([0, 0, 1, 1], [0, 1, 1, 1],
    ...                               min_sensitivity=0.9)
    0.5
    >>> constrained_specificity_score([0, 0, 1, 1], [0, 0, 0, 1],
    ...                               min_sensitivity=0.9)
    -0.5
    """
    _check_min_sensitivity(min_sensitivity)
    y_true = column_or_1d(y_true)
    y_pred = column_or_1d(y_pred)
    check_consistent_length(y_true, y_pred)
    positive = y_true == pos_label
    predicted = y_pred == pos_label
    n_pos, n_neg = positive.sum(), (~positive).sum()
    sensitivity = (positive & predicted).sum() / n_pos if n_pos else 1.0
    specificity = (~positive & ~predicted).sum() / n_neg if n_neg else 1.0
    if sensitivity >= min_sensitivity - 1e-12:
        return float(specificity)
    return float(sensitivity - 1.0)


def make_specificity_at_sensitivity_scorer(min_sensitivity=0.98, *, pos_label=1):
    """Scorer "specificity at sensitivity >= X" for cross-validation.

    Use as ``scoring=`` in :func:`sklearn.model_selection.cross_validate` or
    :class:`~sklearn.model_selection.GridSearchCV`. It scores the ranking
    given by ``predict_proba`` (or ``decision_function``) with
    :func:`specificity_at_sensitivity`, i.e. with the threshold picked on
    the test fold: an upper bound on what a threshold chosen beforehand
    achieves. Score the predictions of
    :func:`skleuk.model_selection.tune_threshold` with
    ``get_scorers()["sensitivity"]``/``["specificity"]`` for the honest
    figure.

    Parameters
    ----------
    min_sensitivity : float, default=0.98
        The sensitivity to reach, in ``[0, 1]``.
    pos_label : int, float, bool or str, default=1
        The positive class.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``; greater is better.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_val_score
    >>> from skleuk.metrics import make_specificity_at_sensitivity_scorer
    >>> X, y = make_classification(n_samples=100, random_state=0)
    >>> scorer = make_specificity_at_sensitivity_scorer(0.95)
    >>> scores = cross_val_score(LogisticRegression(), X, y, cv=3,
    ...                          scoring=scorer)
    >>> bool(((0 <= scores) & (scores <= 1)).all())
    True
    """
    _check_min_sensitivity(min_sensitivity)
    return make_scorer(
        specificity_at_sensitivity,
        response_method=("predict_proba", "decision_function"),
        min_sensitivity=min_sensitivity,
        pos_label=pos_label,
    )
