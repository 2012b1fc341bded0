"""One fold of :func:`~skleuk.model_selection.evaluate`: fit, then one prediction pass.

:func:`_fit_and_predict` runs in a joblib worker: it fits a fresh clone on
the training fold (fit parameters sliced to it) and predicts both folds,
each with one pass through the pipeline's preprocessing and, for skleuk's
CNN, one network pass (:func:`_responses`).
"""

from __future__ import annotations

import contextlib
import sys
import time

import numpy as np
from sklearn.metrics import accuracy_score, log_loss
from sklearn.utils import _safe_indexing
from sklearn.utils.validation import _check_method_params


def _bar_kwargs():
    """tqdm settings: stderr; rare refreshes when it is a log file, not a TTY."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return {"file": sys.stderr, "mininterval": 0.1 if tty else 10.0}


def _final_step(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return _final_step(steps[-1][1])
    return estimator


def _history_of(estimator):
    hist = getattr(_final_step(estimator), "history_", None)
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
def _split_final(estimator):
    """``(transformers, final)``: a pipeline's transforming steps and its end.

    Nested pipelines are flattened; ``None``/``"passthrough"`` steps are
    left out, as :meth:`sklearn.pipeline.Pipeline.predict` does.
    """
    steps = getattr(estimator, "steps", None)
    if not steps:
        return [], estimator
    head = [s for _, s in steps[:-1] if s is not None and s != "passthrough"]
    inner_head, final = _split_final(steps[-1][1])
    return head + inner_head, final


def _predict_is_argmax_proba(estimator):
    """True when ``estimator.predict`` is exactly ``classes_[argmax(proba)]``.

    Only then may one ``predict_proba`` call stand in for ``predict``. So
    far: skleuk's CNN, unless a subclass overrides ``predict``. Threshold-
    tuned or abstaining classifiers, and scikit-learn's own (whose predict
    may go through ``decision_function``), keep their ``predict`` call. The
    CNN's module is only looked up when already imported (it imports
    TensorFlow); an estimator of that class implies it is.
    """
    cnn = sys.modules.get("skleuk.neural_network")
    cls = getattr(cnn, "LightweightCNNClassifier", None)
    return (
        cls is not None
        and isinstance(estimator, cls)
        and type(estimator).predict is cls.predict
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
    """Predictions, probabilities (and decision values) of ``X`` in one pass.

    A pipeline's transforming steps run once; its final step then gives
    ``predict_proba`` and ``predict`` -- or, where ``predict`` is the argmax
    of the probabilities (:func:`_predict_is_argmax_proba`), the
    predictions are read off the probabilities instead of a second network
    pass. The result equals ``estimator.predict(X)`` and
    ``estimator.predict_proba(X)``.

    Returns
    -------
    y_pred, proba, decision
        ``proba`` aligned to ``classes`` or None; ``decision`` (only when
        asked and there are no probabilities) or None.
    """
    head, final = _split_final(estimator)
    for step in head:
        X = step.transform(X)
    proba = _raw_proba(final, X)
    if proba is not None and _predict_is_argmax_proba(final):
        y_pred = np.asarray(final.classes_)[np.argmax(proba, axis=1)]
    else:
        y_pred = np.asarray(final.predict(X))
    scores = None
    if proba is not None:
        proba = _align_proba(proba, final, classes)
    elif decision:
        scores = _decision(final, X)
    return y_pred, proba, scores


def _safe_log_loss(y, proba, classes):
    if proba is None:
        return float("nan")
    return float(log_loss(y, proba, labels=classes))


@contextlib.contextmanager
def _epoch_progress(estimator, enabled, desc):
    """Show a tqdm bar per epoch while a Keras (SciKeras) final step fits.

    The callback is attached to the final step's ``fit__callbacks`` for the
    duration of the fit only, so the fitted estimator stays picklable.
    """
    final = _final_step(estimator)
    prefixes = getattr(final, "_routing_prefixes", ())
    if not enabled or "fit" not in prefixes:
        yield
        return
    from keras.callbacks import Callback
    from tqdm.auto import tqdm

    class _TqdmEpochs(Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(
                total=self.params.get("epochs"),
                desc=desc,
                unit="epoch",
                leave=False,
                position=1,
                **_bar_kwargs(),
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            post = {k: f"{v:.3f}" for k, v in logs.items()
                    if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    had = "fit__callbacks" in vars(final)
    old = getattr(final, "fit__callbacks", None)
    if old is None:
        cbs = []
    else:
        cbs = list(old) if isinstance(old, (list, tuple)) else [old]
    final.set_params(fit__callbacks=[*cbs, _TqdmEpochs()])
    try:
        yield
    finally:
        if had:
            final.set_params(fit__callbacks=old)
        else:
            vars(final).pop("fit__callbacks", None)


# ----------------------------------------------------------------------------
# one fold
# ----------------------------------------------------------------------------
def _fit_and_predict(estimator, X, y, classes, split, fit_params, *,
                     epoch_bar=None, return_estimator=False):
    """Fit ``estimator`` (a fresh clone) on one training fold; predict both folds.

    Runs in a joblib worker. ``split`` is ``(repeat, fold, train, test)``;
    ``fit_params`` are sliced to the training fold like
    :func:`~sklearn.model_selection.cross_validate` does. Returns the fold
    record of :class:`CrossValidationReport` and the fitted estimator (or
    None).
    """
    r, k, train, test = split
    X_train = _safe_indexing(X, train)
    y_train = y[train]
    params = _check_method_params(X, params=fit_params, indices=train)
    start = time.perf_counter()
    with _epoch_progress(estimator, epoch_bar is not None, epoch_bar):
        estimator.fit(X_train, y_train, **params)
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
    }
    return record, (estimator if return_estimator else None)
