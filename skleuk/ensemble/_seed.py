"""Average the probabilities of one estimator fitted with several seeds."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils._tags import get_tags
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_is_fitted

__all__ = ["SeedEnsembleClassifier"]


def _seed_params(estimator):
    """Names of every ``random_state`` parameter of ``estimator`` (deep)."""
    return sorted(
        name
        for name in estimator.get_params(deep=True)
        if name == "random_state" or name.endswith("__random_state")
    )


def _fit_member(estimator, seed_params, seed, X, y, fit_params):
    estimator.set_params(**{name: seed for name in seed_params})
    return estimator.fit(X, y, **fit_params)


class SeedEnsembleClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Fit one classifier with several seeds and average its probabilities.

    Each member is a clone of ``estimator`` whose every ``random_state``
    parameter (the CNN's, and any other step's, found through
    ``get_params(deep=True)``) is set to its own seed drawn from
    ``random_state``. ``predict_proba`` is the mean of the members'
    probabilities and ``predict`` its most probable class. The members see
    the same training data, so this averages out the variance that comes
    from the seed (weight initialisation, augmentation, batch order), not
    the variance from the data (that is bagging's job).

    The cost is ``n_estimators`` fits and predictions; ``n_jobs`` fits the
    members in parallel processes (each member is still seeded, so the
    result does not depend on ``n_jobs``).

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``fit`` and ``predict_proba`` and at least one
        ``random_state`` parameter. ``None`` means
        :func:`skleuk.make_pipeline` with its defaults.
    n_estimators : int, default=3
        Number of seeds (members).
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds. An int makes the whole ensemble
        reproducible.
    n_jobs : int, default=None
        Members fitted in parallel (:class:`joblib.Parallel`); ``None``
        means one at a time unless in a :func:`joblib.parallel_backend`
        context.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    seeds_ : ndarray of shape (n_estimators,)
        The seed given to each member.
    seed_params_ : list of str
        The ``random_state`` parameters that were set on every member.
    classes_ : ndarray of shape (n_classes,)
        The class labels.

    See Also
    --------
    sklearn.ensemble.VotingClassifier : Soft voting over different
        estimators.
    sklearn.ensemble.BaggingClassifier : Members fitted on resampled data.

    Examples
    --------
    >>> from sklearn.linear_model import SGDClassifier
    >>> from skleuk.ensemble import SeedEnsembleClassifier
    >>> X = [[0.0], [0.2], [0.9], [1.0]] * 5
    >>> y = [0, 0, 1, 1] * 5
    >>> sgd = SGDClassifier(loss="log_loss", max_iter=50, tol=None)
    >>> ens = SeedEnsembleClassifier(sgd, n_estimators=3, random_state=0)
    >>> ens.fit(X, y).predict([[0.1], [0.95]])
    array([0, 1])
    >>> len(ens.estimators_), ens.seed_params_
    (3, ['random_state'])
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "n_estimators": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "n_jobs": [Integral, None],
    }

    def __init__(
        self, estimator=None, *, n_estimators=3, random_state=None, n_jobs=None
    ):
        self.estimator = estimator
        self.n_estimators = n_estimators
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _base_estimator(self):
        if self.estimator is not None:
            return self.estimator
        from .. import make_pipeline

        return make_pipeline()

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit ``n_estimators`` clones of the estimator, each with its own seed.

        Parameters
        ----------
        X : array-like or sequence of paths
            Training input, as the estimator takes it (images of shape
            ``(n, height, width, 3)`` for skleuk pipelines).
        y : array-like of shape (n_samples,)
            Labels.
        **fit_params : dict
            Passed to every member's ``fit``.

        Returns
        -------
        self : SeedEnsembleClassifier
            The fitted ensemble.
        """
        base = self._base_estimator()
        seed_params = _seed_params(base)
        if not seed_params:
            raise ValueError(
                f"{type(base).__name__} has no random_state parameter, so every "
                "member of a SeedEnsembleClassifier would be the same fit. Use an "
                "estimator with a random_state (e.g. skleuk.make_pipeline())."
            )
        rng = check_random_state(self.random_state)
        seeds = rng.randint(np.iinfo(np.int32).max, size=self.n_estimators)
        members = Parallel(n_jobs=self.n_jobs)(
            delayed(_fit_member)(clone(base), seed_params, int(seed), X, y, fit_params)
            for seed in seeds
        )
        classes = [np.asarray(m.classes_) for m in members]
        if any(not np.array_equal(classes[0], c) for c in classes[1:]):
            raise ValueError(
                "The members of the ensemble learnt different classes "
                f"({[c.tolist() for c in classes]}); they cannot be averaged."
            )
        self.estimators_ = members
        self.seeds_ = seeds
        self.seed_params_ = seed_params
        self.classes_ = classes[0]
        return self

    def predict_proba(self, X):
        """Mean of the members' class probabilities.

        Parameters
        ----------
        X : array-like or sequence of paths
            Input, as the estimator takes it.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Averaged probabilities, columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        proba = None
        for member in self.estimators_:
            p = np.asarray(member.predict_proba(X), dtype=np.float64)
            proba = p if proba is None else proba + p
        return proba / len(self.estimators_)

    def predict(self, X):
        """The most probable class of the averaged probabilities.

        Parameters
        ----------
        X : array-like or sequence of paths
            Input, as the estimator takes it.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Predicted labels.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy of :meth:`predict`.

        Parameters
        ----------
        X : array-like or sequence of paths
            Input, as the estimator takes it.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Share of samples whose predicted class equals ``y``
            (:func:`sklearn.metrics.accuracy_score`).
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        base = self._base_estimator()
        base_tags = get_tags(base)
        tags.input_tags = base_tags.input_tags
        tags.non_deterministic = base_tags.non_deterministic
        return tags
