"""Calibration: how far predicted probabilities are from observed frequencies.

:func:`expected_calibration_error` (the Brier score is
:func:`sklearn.metrics.brier_score_loss`), and the probability checks and
top-label hits that the abstention metrics (``_abstention.py``) share.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_consistent_length, column_or_1d
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.multiclass import unique_labels

__all__ = ["expected_calibration_error"]


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
