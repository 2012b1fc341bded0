"""An operating point: the best specificity at a required sensitivity.

"Specificity at sensitivity >= X" as a figure
(:func:`specificity_at_sensitivity`), as a score that a threshold search can
maximise (:func:`constrained_specificity_score`) and as a scorer
(:func:`make_specificity_at_sensitivity_scorer`).
:func:`skleuk.model_selection.tune_threshold` chooses such a threshold.
"""

from __future__ import annotations

from numbers import Real

from sklearn.metrics import make_scorer, roc_curve
from sklearn.utils import check_consistent_length, column_or_1d

__all__ = [
    "constrained_specificity_score",
    "make_specificity_at_sensitivity_scorer",
    "specificity_at_sensitivity",
]


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
