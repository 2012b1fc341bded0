"""One fold of :func:`~skleuk.model_selection.evaluate`: fit, then one prediction pass.

:func:`_fit_and_predict` runs in a joblib worker: it fits a fresh clone on
the training fold (fit parameters sliced to it) and predicts both folds
through the fitted estimator's own ``predict_proba``/``predict``/
``decision_function`` (:func:`_responses`), so a pipeline predicts the way
it does for its user -- an imbalanced-learn pipeline skips its samplers, a
nested pipeline runs its own steps.
"""

from __future__ import annotations

import sys
import time
from traceback import format_exc

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.metrics import accuracy_score, log_loss
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params

from ..utils._progress import epoch_progress, final_step


def _history_of(estimator):
    hist = getattr(final_step(estimator), "history_", None)
    if not hist:
        return None
    out = {}
    try:
        for key, values in dict(hist).items():
            out[str(key)] = [float(v) for v in np.ravel(values)]
    except (TypeError, ValueError):
        return None
    return out


# ----------------------------------------------------------------------------
# one prediction pass
# ----------------------------------------------------------------------------
def _predict_is_argmax_proba(estimator):
    """True when ``estimator.predict`` is exactly ``classes_[argmax(proba)]``.

    ``estimator`` is the final step of the pipeline: a pipeline's
    ``predict`` is its final step's ``predict`` of the same transformed
    data, so the same then holds for the pipeline. Only then may one
    ``predict_proba`` call stand in for ``predict``. So far: skleuk's CNN
    and scikit-learn's :class:`~sklearn.calibration.CalibratedClassifierCV`
    (the classical baseline's final step), unless a subclass overrides
    ``predict``. Threshold-tuned or abstaining classifiers, and other
    scikit-learn classifiers (whose predict may go through
    ``decision_function``), keep their ``predict`` call. The CNN's module
    is only looked up when already imported (it imports TensorFlow); an
    estimator of that class implies it is.
    """
    cnn = sys.modules.get("skleuk.neural_network")
    known = [CalibratedClassifierCV, getattr(cnn, "LightweightCNNClassifier", None)]
    return any(
        cls is not None and isinstance(estimator, cls)
        and type(estimator).predict is cls.predict
        for cls in known
    )


def _raw_proba(estimator, X):
    """``estimator.predict_proba(X)`` as floats, or None without it."""
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        return np.asarray(estimator.predict_proba(X), dtype=float)
    except (AttributeError, NotImplementedError):
        return None


def _align_proba(proba, estimator, classes):
    """Probabilities with columns in the order of ``classes`` (rows sum to 1)."""
    # float32 probabilities (Keras) do not sum exactly to one; log_loss warns.
    sums = proba.sum(axis=1, keepdims=True)
    if np.all(np.isfinite(sums)) and np.all(np.abs(sums - 1) < 1e-3):
        proba = proba / sums
    est_classes = list(getattr(estimator, "classes_", classes))
    if list(est_classes) == list(classes):
        return proba
    full = np.zeros((proba.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(est_classes):
        full[:, index[c]] = proba[:, j]
    return full


def _decision(estimator, X):
    if not hasattr(estimator, "decision_function"):
        return None
    try:
        return np.asarray(estimator.decision_function(X), dtype=float)
    except (AttributeError, NotImplementedError):
        return None


def _responses(estimator, X, classes, *, decision=False):
    """Predictions, probabilities (and decision values) of ``X``.

    Calls the fitted estimator's own methods: ``predict_proba``, then
    ``predict`` -- or, where ``predict`` is the argmax of the probabilities
    (:func:`_predict_is_argmax_proba`), the predictions are read off the
    probabilities, so skleuk's CNN makes one network pass and a pipeline
    preprocesses once. The result equals ``estimator.predict(X)`` and
    ``estimator.predict_proba(X)``.

    Returns
    -------
    y_pred, proba, decision
        ``proba`` aligned to ``classes`` or None; ``decision`` (only when
        asked and there are no probabilities) or None.
    """
    proba = _raw_proba(estimator, X)
    if proba is not None and _predict_is_argmax_proba(final_step(estimator)):
        y_pred = np.asarray(estimator.classes_)[np.argmax(proba, axis=1)]
    else:
        y_pred = np.asarray(estimator.predict(X))
    scores = None
    if proba is not None:
        proba = _align_proba(proba, estimator, classes)
    elif decision:
        scores = _decision(estimator, X)
    return y_pred, proba, scores


def _safe_log_loss(y, proba, classes):
    if proba is None:
        return float("nan")
    return float(log_loss(y, proba, labels=classes))


# ----------------------------------------------------------------------------
# one fold
# ----------------------------------------------------------------------------
def _failed_record(r, k, train, test, fit_time, error_score):
    """The fold record of a fit that raised (``error_score`` numeric)."""
    return {
        "repeat": r,
        "fold": k,
        "train_index": train,
        "test_index": test,
        "y_pred": None,
        "proba": None,
        "decision": None,
        "estimator_classes": None,
        "train_accuracy": float(error_score),
        "train_loss": float("nan"),
        "fit_time": fit_time,
        "predict_time": float("nan"),
        "history": None,
        "fit_error": format_exc(),
    }


def _fit_and_predict(estimator, X, y, classes, split, fit_params, *,
                     error_score="raise", epoch_bar=None, return_estimator=False):
    """Fit ``estimator`` (a fresh clone) on one training fold; predict both folds.

    Runs in a joblib worker. ``split`` is ``(repeat, fold, train, test)``;
    ``fit_params`` are sliced to the training fold like
    :func:`~sklearn.model_selection.cross_validate` does. Returns the fold
    record of :class:`CrossValidationReport` and the fitted estimator (or
    None). A fit that raises is raised again with ``error_score="raise"``;
    with a number, the record keeps the traceback (``fit_error``) and no
    predictions, as :func:`~sklearn.model_selection.cross_validate` does.
    """
    r, k, train, test = split
    X_train = _safe_indexing(X, train)
    y_train = y[train]
    params = _check_method_params(X, params=fit_params, indices=train)
    start = time.perf_counter()
    try:
        with epoch_progress(estimator, epoch_bar, enabled=epoch_bar is not None):
            estimator.fit(X_train, y_train, **params)
    except Exception:
        if error_score == "raise":
            raise
        fit_time = time.perf_counter() - start
        return _failed_record(r, k, train, test, fit_time, error_score), None
    fit_time = time.perf_counter() - start

    # Train metrics on the training fold, after fitting (no augmentation).
    train_pred, train_proba, _ = _responses(estimator, X_train, classes)
    del X_train

    start = time.perf_counter()
    y_pred, proba, decision = _responses(
        estimator, _safe_indexing(X, test), classes, decision=True
    )
    predict_time = time.perf_counter() - start
    record = {
        "repeat": r,
        "fold": k,
        "train_index": train,
        "test_index": test,
        "y_pred": y_pred,
        "proba": proba,
        "decision": decision,
        "estimator_classes": list(getattr(estimator, "classes_", classes)),
        "train_accuracy": accuracy_score(y_train, train_pred),
        "train_loss": _safe_log_loss(y_train, train_proba, classes),
        "fit_time": fit_time,
        "predict_time": predict_time,
        "history": _history_of(estimator),
        "fit_error": None,
    }
    return record, (estimator if return_estimator else None)
