"""Abstention: :class:`AbstainingClassifier` refers the cases it is unsure of.

A case whose probability lies in an uncertainty band ("not sure") is given
a reject label instead of a class, for a pathologist to look at.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.utils._param_validation import HasMethods
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

__all__ = ["AbstainingClassifier"]


def _name(estimator):
    inner = getattr(estimator, "estimator", None)
    if inner is not None:
        return f"{type(estimator).__name__}({type(inner).__name__})"
    return type(estimator).__name__


def _estimator_has(attr):
    def check(self):
        est = getattr(self, "estimator_", self.estimator)
        return hasattr(est, attr)

    return check


def _check_band(band):
    ok = (
        isinstance(band, (tuple, list))
        and len(band) == 2
        and all(isinstance(b, Real) and not isinstance(b, bool) for b in band)
        and 0 <= band[0] <= band[1] <= 1
    )
    if not ok:
        raise ValueError(
            "band must be a pair (low, high) of probabilities with "
            f"0 <= low <= high <= 1; got {band!r}."
        )
    return float(band[0]), float(band[1])


class AbstainingClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Refer uncertain cases instead of deciding them.

    A binary classifier's probability of the positive class ``p`` decides
    the case when it lies outside the uncertainty band ``(low, high)``:
    ``p >= high`` predicts ``pos_label``, ``p <= low`` the other class; in
    between it predicts ``reject_label`` ("refer to a pathologist"). A band
    ``(t, t)`` never abstains and is a plain threshold at ``t``. For more
    than two classes the band applies to the top probability: the case is
    decided when ``max(p) >= high`` (``low`` is ignored).

    The band should be read on calibrated probabilities: wrap the pipeline
    in :class:`~sklearn.calibration.CalibratedClassifierCV` first. To use an
    already fitted estimator, pass it wrapped in
    :class:`~sklearn.frozen.FrozenEstimator` (``fit`` then fits nothing).
    Score with :func:`~skleuk.metrics.get_abstention_scorers`: coverage and
    accuracy of the decided cases, separately.

    Parameters
    ----------
    estimator : classifier with predict_proba
        The classifier (e.g. :func:`skleuk.make_pipeline`, calibrated);
        cloned by :meth:`fit`.
    band : tuple of (float, float), default=(0.2, 0.8)
        ``(low, high)`` with ``0 <= low <= high <= 1``.
    pos_label : int, float, bool or str, default=None
        Positive class of a binary problem; None: the last of ``classes_``.
    reject_label : int, float or str, default=-1
        Label predicted for the referred cases; must not be a class.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone of ``estimator``.
    classes_ : ndarray of shape (n_classes,)
        The classes (``reject_label`` is not one of them).
    pos_label_ : label or None
        The positive class (binary problems).

    See Also
    --------
    skleuk.metrics.risk_coverage_curve : Every band at once.
    skleuk.metrics.get_abstention_scorers : Coverage and covered accuracy.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import AbstainingClassifier
    >>> X, y = make_classification(n_samples=200, random_state=0)
    >>> clf = AbstainingClassifier(LogisticRegression(), band=(0.1, 0.9))
    >>> pred = clf.fit(X, y).predict(X)
    >>> sorted(set(pred.tolist()))
    [-1, 0, 1]
    >>> from skleuk.metrics import coverage_score, covered_accuracy_score
    >>> coverage_score(y, pred) < 1, covered_accuracy_score(y, pred) > 0.95
    (True, True)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"])],
        "band": [tuple, list],
        "pos_label": [Real, str, "boolean", None],
        "reject_label": [Real, str],
    }

    def __init__(self, estimator, *, band=(0.2, 0.8), pos_label=None, reject_label=-1):
        self.estimator = estimator
        self.band = band
        self.pos_label = pos_label
        self.reject_label = reject_label

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Fit a clone of the estimator.

        Parameters
        ----------
        X : array-like
            Training images (whatever ``estimator.fit`` takes).
        y : array-like of shape (n_samples,)
            Class labels.
        **fit_params : dict
            Passed to ``estimator.fit``.

        Returns
        -------
        self : AbstainingClassifier
            Fitted.
        """
        _check_band(self.band)
        if isinstance(self.estimator, FrozenEstimator):
            try:
                check_is_fitted(self.estimator.estimator)
            except NotFittedError:
                raise NotFittedError(
                    f"AbstainingClassifier got an unfitted {_name(self.estimator)}: "
                    "an estimator wrapped in FrozenEstimator must be fitted first."
                ) from None
        self.estimator_ = clone(self.estimator).fit(X, y, **fit_params)
        self._set_classes()
        return self

    def _set_classes(self):
        try:
            check_is_fitted(self.estimator_)
            classes = np.asarray(self.estimator_.classes_)
        except (NotFittedError, AttributeError):
            raise NotFittedError(
                f"AbstainingClassifier got an unfitted {_name(self.estimator)}: "
                "an estimator wrapped in FrozenEstimator must be fitted first."
            ) from None
        if np.any(np.asarray(classes, dtype=object) == self.reject_label):
            raise ValueError(
                f"reject_label={self.reject_label!r} is one of the classes "
                f"{classes.tolist()}; choose another reject_label."
            )
        self.classes_ = classes
        self.pos_label_ = None
        if len(classes) == 2:
            pos = classes[-1] if self.pos_label is None else self.pos_label
            if pos not in classes.tolist():
                raise ValueError(
                    f"pos_label={pos!r} is not one of the classes {classes.tolist()}."
                )
            self.pos_label_ = pos

    def _labels_array(self, decided, idx):
        """Labels ``classes_[idx]`` where decided, ``reject_label`` elsewhere."""
        classes = self.classes_
        reject = np.asarray([self.reject_label])
        if classes.dtype.kind in "iuf" and reject.dtype.kind in "iuf":
            dtype = np.result_type(classes.dtype, reject.dtype)
        elif classes.dtype.kind == "U" and reject.dtype.kind == "U":
            dtype = np.result_type(classes.dtype, reject.dtype)
        else:
            dtype = object
        out = np.full(idx.shape, self.reject_label, dtype=dtype)
        out[decided] = classes[idx[decided]]
        return out

    def _decide(self, proba):
        low, high = _check_band(self.band)
        if self.pos_label_ is not None:
            pos = self.classes_.tolist().index(self.pos_label_)
            p = proba[:, pos]
            positive = p >= high
            negative = ~positive & (p <= low)
            idx = np.where(positive, pos, 1 - pos)
            return positive | negative, idx
        return proba.max(axis=1) >= high, np.argmax(proba, axis=1)

    def predict(self, X):
        """Predict classes, or ``reject_label`` inside the uncertainty band.

        Parameters
        ----------
        X : array-like
            Images (whatever ``estimator.predict_proba`` takes).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            Class labels and ``reject_label``.
        """
        check_is_fitted(self)
        proba = np.asarray(self.estimator_.predict_proba(X), dtype=float)
        decided, idx = self._decide(proba)
        return self._labels_array(decided, idx)

    def predict_proba(self, X):
        """The estimator's probabilities (unaffected by the band).

        Parameters
        ----------
        X : array-like
            Images.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns in the order of ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)

    @available_if(_estimator_has("decision_function"))
    def decision_function(self, X):
        """The estimator's decision function.

        Parameters
        ----------
        X : array-like
            Images.

        Returns
        -------
        scores : ndarray
            As ``estimator.decision_function``.
        """
        check_is_fitted(self)
        return self.estimator_.decision_function(X)

    def score(self, X, y, sample_weight=None):
        """Accuracy of the decided cases (abstentions left out).

        Read it with the coverage (:func:`~skleuk.metrics.coverage_score`):
        a wider band raises this accuracy by deciding fewer cases.

        Parameters
        ----------
        X : array-like
            Images.
        y : array-like of shape (n_samples,)
            True labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        score : float
            NaN when every case is referred.
        """
        from sklearn.metrics import accuracy_score

        y = np.asarray(y)
        pred = self.predict(X)
        decided = ~(np.asarray(pred, dtype=object) == self.reject_label)
        if not decided.any():
            return float("nan")
        w = None if sample_weight is None else np.asarray(sample_weight)[decided]
        return float(accuracy_score(
            y[decided], pred[decided].astype(self.classes_.dtype), sample_weight=w
        ))

    @property
    def n_features_in_(self):
        """Number of features seen by the fitted estimator (if it records it)."""
        check_is_fitted(self)
        return self.estimator_.n_features_in_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = self.estimator.__sklearn_tags__()
        tags.input_tags = inner.input_tags
        tags.classifier_tags.poor_score = True
        return tags
