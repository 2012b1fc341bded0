"""An operating point for a classifier: :func:`tune_threshold`.

It wraps a classifier (e.g. :func:`skleuk.make_pipeline`) in scikit-learn's
:class:`~sklearn.model_selection.TunedThresholdClassifierCV` so that its
decision threshold reaches a target sensitivity, chosen by internal
cross-validation.
"""

from __future__ import annotations

from numbers import Real

from sklearn.metrics import make_scorer
from sklearn.model_selection import TunedThresholdClassifierCV
from sklearn.utils._param_validation import Interval, validate_params

from ..metrics import constrained_specificity_score

__all__ = ["tune_threshold"]


@validate_params(
    {"min_sensitivity": [Interval(Real, 0, 1, closed="both")]},
    prefer_skip_nested_validation=True,
)
def tune_threshold(
    estimator,
    *,
    min_sensitivity=0.98,
    pos_label=1,
    cv=5,
    thresholds=100,
    refit=True,
    n_jobs=None,
    random_state=None,
):
    """Wrap a classifier so that its threshold reaches a target sensitivity.

    Returns scikit-learn's
    :class:`~sklearn.model_selection.TunedThresholdClassifierCV` around
    ``estimator``, maximising :func:`~skleuk.metrics.constrained_specificity_score`:
    on internal cross-validation folds of the data given to ``fit``, the
    threshold on ``predict_proba`` with the highest specificity among those
    whose sensitivity is at least ``min_sensitivity`` (or, if none reaches
    it, the most sensitive). The threshold is therefore chosen on training
    data only; cross-validating the returned estimator (e.g. with
    :func:`skleuk.model_selection.evaluate`) is a *nested* cross-validation
    and its sensitivity is an honest estimate -- which may fall below the
    target, since a threshold tuned on a few hundred images does not
    transfer exactly. With ``refit=True`` the threshold is chosen on the
    fold models' probabilities and applied to the model refitted on all
    the data; a network's probability scale varies between training runs,
    so for a fitted network it can be better to tune on held-out images
    with ``tune_threshold(FrozenEstimator(fitted_pipe), cv=...)``.

    Parameters
    ----------
    estimator : classifier with predict_proba
        The binary classifier, e.g. :func:`skleuk.make_pipeline`; cloned.
    min_sensitivity : float, default=0.98
        Target sensitivity (recall of ``pos_label``), in ``[0, 1]``.
    pos_label : int, float, bool or str, default=1
        The positive (disease) class.
    cv : int, cross-validation generator or iterable, default=5
        Internal folds for choosing the threshold (int: stratified K-fold).
        ``"prefit"`` is not accepted: use a
        :class:`~sklearn.frozen.FrozenEstimator` with ``cv`` an int.
    thresholds : int or array-like, default=100
        Number of candidate thresholds, or the candidates.
    refit : bool, default=True
        Refit ``estimator`` on all the data given to ``fit`` after choosing
        the threshold (False: use the fold models, not recommended for a
        network trained from scratch).
    n_jobs : int, default=None
        Parallel fits (processes).
    random_state : int, RandomState instance or None, default=None
        Seeds the internal fold shuffling when ``cv`` is a float
        (see :class:`~sklearn.model_selection.TunedThresholdClassifierCV`).

    Returns
    -------
    tuned : sklearn.model_selection.TunedThresholdClassifierCV
        Unfitted. After ``fit``: ``best_threshold_`` (the chosen
        probability threshold of ``pos_label``) and ``best_score_``.

    See Also
    --------
    sklearn.model_selection.TunedThresholdClassifierCV : Does the work.
    sklearn.model_selection.FixedThresholdClassifier : A threshold set by hand.
    skleuk.metrics.specificity_at_sensitivity : The oracle figure.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import tune_threshold
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> tuned = tune_threshold(LogisticRegression(), min_sensitivity=0.95,
    ...                        cv=3).fit(X, y)
    >>> bool(0 < tuned.best_threshold_ < 0.5)
    True
    """
    if isinstance(cv, str):
        raise ValueError(
            f"cv={cv!r} is not supported: to tune the threshold of an already "
            "fitted pipeline wrap it in sklearn.frozen.FrozenEstimator and pass "
            "an int cv (the data given to fit then only chooses the threshold)."
        )
    scorer = make_scorer(
        constrained_specificity_score,
        min_sensitivity=min_sensitivity,
        pos_label=pos_label,
    )
    return TunedThresholdClassifierCV(
        estimator,
        scoring=scorer,
        response_method="predict_proba",
        thresholds=thresholds,
        cv=cv,
        refit=refit,
        n_jobs=n_jobs,
        random_state=random_state,
    )
