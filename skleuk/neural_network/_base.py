"""The Keras image classifier machinery under the CNN estimator.

:class:`BaseKerasImageClassifier` holds what does not depend on the network:
the scikit-learn protocol (tags, fitted check, routed parameters), image and
label validation, the training loop (seeding, sample and class weights,
early stopping, warm start), prediction (with test-time augmentation) and
pickling. :class:`~skleuk.neural_network.LightweightCNNClassifier` adds the
parameters, the network and its optimizer.
"""

from __future__ import annotations

import inspect
import warnings
from collections import defaultdict

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ..utils.validation import check_images
from ._augment import dihedral_views
from ._batch_norm import recalibrate_batch_norm
from ._compat import EndOfTagsChain, classifier_tags, quiet_retracing
from ._inference import inference_function, predict_batches
from ._label_encoder import _OneHotLabelEncoder
from ._mixup import MixupBatches
from ._params import ROUTING_PREFIXES, routed
from ._persistence import pack_state, unpack_state
from ._seeding import fit_seed, seed_for, seeded

__all__ = ["BaseKerasImageClassifier"]


def _callback_list(value, name):
    """``value`` (None, a callback, a class or a list of them) as a list."""
    if value is None:
        return []
    items = value if isinstance(value, (list, tuple)) else [value]
    callbacks = []
    for cb in items:
        if isinstance(cb, type) and issubclass(cb, keras.callbacks.Callback):
            cb = cb()
        if not isinstance(cb, keras.callbacks.Callback):
            raise TypeError(
                f"{name} must be a keras.callbacks.Callback (instance or class) "
                f"or a list of them; got {cb!r}."
            )
        callbacks.append(cb)
    return callbacks


class BaseKerasImageClassifier(KerasClassifier, EndOfTagsChain):
    """Base class of the Keras image classifiers (not for direct use).

    Subclasses define ``_parameter_constraints``, ``__init__`` and
    ``_build_keras_model(n_samples)``, which returns the compiled network,
    and may extend ``_check_params``. The parameters read here are those of
    :class:`~skleuk.neural_network.LightweightCNNClassifier`.
    """

    # ------------------------------------------------------------------
    # scikit-learn protocol
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        return classifier_tags(super().__sklearn_tags__())

    def __sklearn_is_fitted__(self):
        return (
            getattr(self, "model_", None) is not None
            and getattr(self, "classes_", None) is not None
        )

    def __repr__(self, N_CHAR_MAX=700):
        # SciKeras prints every parameter on its own line; use sklearn's.
        return BaseEstimator.__repr__(self, N_CHAR_MAX=N_CHAR_MAX)

    @property
    def target_encoder(self):
        """Label encoder: labels of any type <-> one-hot rows."""
        return _OneHotLabelEncoder(classes=getattr(self, "_partial_fit_classes", None))

    # SciKeras's convention, owned here: routed parameters are attributes.
    # (``skleuk.model_selection`` reads ``_routing_prefixes`` to find
    # estimators that take ``fit__callbacks``.)
    _routing_prefixes = frozenset(prefix[:-2] for prefix in ROUTING_PREFIXES)

    def get_params(self, deep=True):
        """Parameters of this estimator, routed ones included.

        Parameters
        ----------
        deep : bool, default=True
            Unused (no parameter is an estimator); kept for scikit-learn.

        Returns
        -------
        params : dict
            The constructor's parameters plus every routed parameter
            (``model__<field>``, ``optimizer__<arg>``, ...) and any other
            keyword given to the constructor (rejected by ``fit``).
        """
        signature = inspect.signature(type(self).__init__).parameters
        names = [
            name
            for name, p in signature.items()
            if name != "self" and p.kind not in (p.VAR_KEYWORD, p.VAR_POSITIONAL)
        ]
        params = {name: getattr(self, name) for name in names}
        params.update(
            (k, v)
            for k, v in vars(self).items()
            if k not in params and not k.startswith("_") and not k.endswith("_")
        )
        return params

    def set_params(self, **params):
        """Set parameters, routed ones (``model__filters=32``) included.

        Parameters
        ----------
        **params : dict
            Parameter names and values.

        Returns
        -------
        self : estimator
            This estimator.
        """
        valid = self.get_params(deep=False)
        for name, value in params.items():
            if name not in valid and not name.startswith(ROUTING_PREFIXES):
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator "
                    f"{type(self).__name__}. Valid parameters are: "
                    f"{sorted(valid)}, plus routed ones (model__<field>, "
                    "optimizer__<arg>, fit__<arg>, predict__<arg>)."
                )
            setattr(self, name, value)
        return self

    @property
    def current_epoch(self):
        """Number of epochs trained so far (0 before ``fit``)."""
        history = getattr(self, "history_", None)
        return len(history.get("loss", [])) if history is not None else 0

    def _routed(self, destination):
        return routed(self.get_params(deep=False), destination)

    def _init_callbacks(self):
        """The Keras callbacks of ``fit`` and ``predict``, from the parameters."""
        params = self.get_params(deep=False)
        common = _callback_list(params.get("callbacks"), "callbacks")
        self._fit_callbacks = common + _callback_list(
            params.get("fit__callbacks"), "fit__callbacks"
        )
        self._predict_callbacks = common + _callback_list(
            params.get("predict__callbacks"), "predict__callbacks"
        )

    def _check_params(self):
        """Reject unknown parameters (typos) that are not routed ones."""
        known = set(self._parameter_constraints)
        for name in self.get_params(deep=False):
            if name not in known and not name.startswith(ROUTING_PREFIXES):
                raise ValueError(
                    f"Unknown parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters: {sorted(known)}, plus routed ones "
                    "starting with 'model__', 'optimizer__', 'fit__' or "
                    "'predict__'."
                )

    # ------------------------------------------------------------------
    # validation
    # ------------------------------------------------------------------
    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        """Validate images (and labels); set or check the input size."""
        if X is not None:
            X = check_images(X, value_range=None, input_name="X")
            if reset:
                self.input_shape_ = tuple(int(d) for d in X.shape[1:])
                self.X_dtype_ = X.dtype
                self.X_shape_ = X.shape
            else:
                expected = self.input_shape_
                if tuple(X.shape[1:]) != tuple(expected):
                    raise ValueError(
                        f"X has images of {X.shape[1]}x{X.shape[2]} pixels, but "
                        f"this {type(self).__name__} was fitted on "
                        f"{expected[0]}x{expected[1]} images. Resize them to the "
                        f"training size (skleuk.preprocessing.Resizer(size="
                        f"{expected[0] if expected[0] == expected[1] else expected[:2]}"
                        ")), or refit."
                    )
        if y is not None:
            y = column_or_1d(y, warn=True)
            if y.dtype == object:
                kinds = {type(v) for v in y}
                if len(kinds) > 1:
                    raise ValueError(
                        "y mixes label types "
                        f"({sorted(k.__name__ for k in kinds)}); use one type."
                    )
            if X is not None:
                check_consistent_length(X, y)
            if reset:
                self.target_type_ = type_of_target(y, input_name="y")
                self.y_dtype_ = y.dtype
                self.y_ndim_ = y.ndim
        return X, y

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    def _initialize(self, X, y=None):
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None."
            )
        X, y = self._validate_data(X, y, reset=True)
        self.target_encoder_ = self.target_encoder.fit(y)
        vars(self).update(**self.target_encoder_.get_metadata())
        n_train = X.shape[0]
        if self.early_stopping:
            n_train -= int(np.ceil(self.validation_fraction * n_train))
        self.model_ = self._build_keras_model(n_train)
        self._init_callbacks()
        return X, y

    def initialize(self, X, y):
        """Build the network for ``(X, y)`` without training it.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images (only their size is used).
        y : array-like of shape (n_images,)
            Labels (only the classes are used).

        Returns
        -------
        self : LightweightCNNClassifier
            The estimator, with an untrained ``model_``.
        """
        self._validate_params()
        self._check_params()
        with seeded(self._seed()):
            self._initialize(X, y)
        self.history_ = defaultdict(list)
        self.n_iter_ = 0
        return self

    def _seed(self, offset=0):
        """Integer seed for this fit (None when random_state is None)."""
        return seed_for(self.random_state, offset)

    def _sample_weight(self, X, y, sample_weight):
        if sample_weight is not None:
            sample_weight = _check_sample_weight(sample_weight, X, dtype=np.float64)
        if self.class_weight is not None:
            cw = compute_sample_weight(self.class_weight, y)
            sample_weight = cw if sample_weight is None else sample_weight * cw
        if sample_weight is not None:
            if not np.any(sample_weight > 0):
                raise ValueError("All sample weights are zero: nothing to train on.")
            sample_weight = sample_weight.astype(np.float32)
        return sample_weight

    def _validation_split(self, y, seed):
        n = y.shape[0]
        try:
            train, val = train_test_split(
                np.arange(n),
                test_size=self.validation_fraction,
                stratify=y,
                random_state=seed,
            )
        except ValueError as exc:
            raise ValueError(
                f"early_stopping=True could not hold out a stratified "
                f"validation_fraction={self.validation_fraction} of {n} training "
                f"images ({exc}). Use more images, a larger "
                "validation_fraction, or early_stopping=False."
            ) from None
        return np.sort(train), np.sort(val)

    def _fit(
        self,
        X,
        y,
        sample_weight,
        warm_start,
        epochs,
        initial_epoch,
        use_early_stopping=False,
    ):
        seed = self._seed(offset=initial_epoch)
        with seeded(seed), quiet_retracing():
            if warm_start and self.__sklearn_is_fitted__():
                X, y = self._validate_data(X, y)
            else:
                X, y = self._initialize(X, y)
                initial_epoch = 0
            sample_weight = self._sample_weight(X, y, sample_weight)
            y_enc = self.target_encoder_.transform(y)
            extra = {}
            callbacks = []
            if use_early_stopping:
                train, val = self._validation_split(y, seed)
                val_data = (X[val], y_enc[val])
                if sample_weight is not None:
                    val_data += (sample_weight[val],)
                    sample_weight = sample_weight[train]
                extra["validation_data"] = val_data
                X, y_enc = X[train], y_enc[train]
                callbacks.append(
                    keras.callbacks.EarlyStopping(
                        monitor="val_loss",
                        patience=self.n_iter_no_change,
                        restore_best_weights=True,
                    )
                )
            self._fit_keras_model(
                X,
                y_enc,
                sample_weight=sample_weight,
                warm_start=warm_start,
                epochs=epochs,
                initial_epoch=initial_epoch,
                callbacks=callbacks,
                **extra,
            )
            if self.recalibrate_batch_norm:
                recalibrate_batch_norm(self.model_, X, self.batch_size)
        self.n_iter_ = len(self.history_.get("loss", []))

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, callbacks=(),
        **kwargs,
    ):
        params = self.get_params(deep=False)
        fit_args = {k: params[k] for k in ("batch_size", "verbose")}
        fit_routed = routed(params, "fit")
        fit_routed.pop("callbacks", None)
        fit_args.update(fit_routed)
        fit_args.update(kwargs)
        fit_args.update(
            sample_weight=sample_weight,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            callbacks=list(getattr(self, "_fit_callbacks", [])) + list(callbacks),
        )
        alpha = float(params.get("mixup") or 0.0)
        if alpha > 0:
            # Mixed training batches (the validation data stay as they are);
            # the dataset shuffles and batches, so Keras must not. Its seed
            # is this fit's own (a fresh one when random_state is None), not
            # a second draw from random_state.
            seed = fit_seed()
            if seed is None:
                seed = int(np.random.default_rng().integers(2**31 - 1))
            batches = MixupBatches(
                X,
                y,
                fit_args.pop("sample_weight"),
                fit_args.pop("batch_size") or 32,
                alpha,
                seed=seed,
            )
            fit_args.pop("shuffle", None)
            hist = self.model_.fit(batches, **fit_args)
        else:
            hist = self.model_.fit(x=X, y=y, **fit_args)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, val in hist.history.items():
            self.history_[key] += [float(v) for v in val]

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Training images: ``uint8``, or floats (e.g. standardised).
            Grayscale and RGBA are converted to RGB.
        y : array-like of shape (n_images,)
            Labels of any type, at least two classes.
        sample_weight : array-like of shape (n_images,), default=None
            Per-image weights in the loss (multiplied by ``class_weight``).

        Returns
        -------
        self : LightweightCNNClassifier
            The fitted classifier.

        Raises
        ------
        ValueError
            Invalid images or labels (one class only, continuous labels),
            images too small for the architecture, invalid parameters.
        """
        self._check_params()
        self._partial_fit_classes = None
        self._fit(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=self.warm_start,
            epochs=self.epochs,
            initial_epoch=self.current_epoch if self.warm_start else 0,
            use_early_stopping=self.early_stopping,
        )
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one more epoch, keeping the network and its history.

        Early stopping does not apply to ``partial_fit``.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Training images.
        y : array-like of shape (n_images,)
            Labels.
        classes : array-like of shape (n_classes,), default=None
            All classes; needed in the first call when ``y`` may miss some.
        sample_weight : array-like of shape (n_images,), default=None
            Per-image weights.

        Returns
        -------
        self : LightweightCNNClassifier
            The classifier.
        """
        self._check_params()
        first = not self.__sklearn_is_fitted__()
        if first:
            self._partial_fit_classes = classes
        self._fit(
            X,
            y,
            sample_weight=sample_weight,
            warm_start=True,
            epochs=1,
            initial_epoch=self.current_epoch,
        )
        return self

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _predict_raw(self, X):
        check_is_fitted(self)
        X, _ = self._validate_data(X)
        params = self.get_params(deep=False)
        pred_args = {k: params[k] for k in ("batch_size", "verbose")}
        pred_args.update(routed(params, "predict"))
        if pred_args.get("batch_size") is None:
            pred_args.pop("batch_size")
        callbacks = list(getattr(self, "_predict_callbacks", []))
        with quiet_retracing():
            if callbacks or pred_args.get("verbose") or set(pred_args) - {
                "batch_size", "verbose"
            }:
                # Keras's predict loop: callbacks, a progress bar or routed
                # predict__ arguments.
                pred_args["callbacks"] = callbacks
                if not self.tta:
                    return self.model_.predict(X, **pred_args)
                return np.mean(
                    [self.model_.predict(v, **pred_args) for v in dihedral_views(X)],
                    axis=0,
                )
            return predict_batches(
                self._inference_function(X.shape[1] == X.shape[2]),
                X,
                pred_args.get("batch_size") or 32,
            )

    def _inference_function(self, square):
        """The compiled forward pass of ``model_`` (cached per network)."""
        cache = getattr(self, "_inference_cache", None)
        if cache is None or cache[0] is not self.model_:
            cache = self._inference_cache = (self.model_, {})
        key = (bool(self.tta), bool(square))
        if key not in cache[1]:
            cache[1][key] = inference_function(self.model_, *key)
        return cache[1][key]

    def predict_proba(self, X):
        """Class probabilities of images.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images of the training size.

        Returns
        -------
        proba : ndarray of shape (n_images, n_classes)
            Probabilities (float64, rows sum to 1), columns in ``classes_``
            order.
        """
        proba = np.asarray(self._predict_raw(X), dtype=np.float64)
        proba = proba.reshape(proba.shape[0], -1)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        """Predicted class labels.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images of the training size.

        Returns
        -------
        y_pred : ndarray of shape (n_images,)
            Labels from ``classes_`` (the most probable class).
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def score(self, X, y, sample_weight=None):
        """Accuracy on images ``X`` with labels ``y``.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images.
        y : array-like of shape (n_images,)
            True labels.
        sample_weight : array-like of shape (n_images,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Mean accuracy.
        """
        return accuracy_score(
            column_or_1d(y), self.predict(X), sample_weight=sample_weight
        )

    # ------------------------------------------------------------------
    # persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        return pack_state(
            super().__getstate__(),
            ("_fit_callbacks", "_predict_callbacks", "_inference_cache"),
        )

    def __setstate__(self, state):
        state = unpack_state(state, type(self).__name__)
        super().__setstate__(state)
        if state.get("model_") is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._init_callbacks()
