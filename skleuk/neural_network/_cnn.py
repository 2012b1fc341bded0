"""The lightweight CNN of Alkhouli & Joshi as a scikit-learn classifier."""

from __future__ import annotations

import contextlib
import logging
import random
import threading
import warnings
from collections import defaultdict
from numbers import Integral, Real
from pathlib import Path

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import ClassifierTags, Tags, TargetTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_sample_weight
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ..utils._persistence import check_saved_versions, current_versions
from ..utils.validation import check_images
from ._architectures import ARCHITECTURE_PARAMS, ARCHITECTURES, build_lightweight_cnn
from ._persistence import model_from_bytes, model_to_bytes
from ._precision import resolve_dtype_policy

__all__ = ["LightweightCNNClassifier"]

#: Training defaults of the paper (Algorithm 1): 30 epochs, batch size 64.
DEFAULT_EPOCHS = 30
DEFAULT_BATCH_SIZE = 64

# Routed parameters (SciKeras convention): ``optimizer__momentum=0.9``,
# ``fit__shuffle=False``, ``predict__batch_size=256``, ``callbacks__0__...``.
_ROUTING_PREFIXES = ("optimizer__", "fit__", "predict__", "callbacks__")
_FIT_KWARGS = {"batch_size", "verbose", "shuffle", "validation_freq"}
_PREDICT_KWARGS = {"batch_size", "verbose", "steps"}


class _OneHotLabelEncoder(TransformerMixin, BaseEstimator):
    """Labels of any type <-> one-hot float32 rows in ``classes_`` order."""

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, y):
        check_classification_targets(y)
        if self.classes is not None:
            classes = np.unique(np.asarray(self.classes))
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes={classes.tolist()}."
                )
        else:
            classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "LightweightCNNClassifier needs at least two classes to learn; "
                f"y contains only one class: {classes.tolist()!r}. Check the "
                "labels, or use a stratified split so that every training fold "
                "sees every class."
            )
        self.classes_ = classes
        self.n_classes_ = int(classes.size)
        return self

    def transform(self, y):
        y = np.asarray(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.n_classes_ - 1)
        bad = self.classes_[idx] != y
        if np.any(bad):
            raise ValueError(
                f"y contains labels {np.unique(y[bad]).tolist()} not seen in the "
                f"first fit (classes_={self.classes_.tolist()})."
            )
        onehot = np.zeros((y.shape[0], self.n_classes_), dtype=np.float32)
        onehot[np.arange(y.shape[0]), idx] = 1.0
        return onehot

    def inverse_transform(self, proba, return_proba=False):
        proba = np.asarray(proba)
        if return_proba:
            return proba
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata(self):
        return {
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_": 1,
            "n_outputs_expected_": 1,
        }


def _dihedral_views(X):
    """The 8 flips/rotations of a batch of square images (4 if not square)."""
    views = [X, X[:, ::-1], X[:, :, ::-1], X[:, ::-1, ::-1]]
    if X.shape[1] == X.shape[2]:
        views += [np.swapaxes(v, 1, 2) for v in views]
    return [np.ascontiguousarray(v) for v in views]


def _tf_state():
    import tensorflow as tf
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config

    return tf, context, tf_config


# The seed of the fit running in this thread: models built during it derive
# every layer's seed from it (no draws from Python's global ``random``).
_FIT_SEED = threading.local()


def _fit_seed():
    """Seed of the seeded fit running in this thread (None outside one)."""
    return getattr(_FIT_SEED, "value", None)


@contextlib.contextmanager
def _seeded(seed):
    """Seed Python, NumPy, TensorFlow and Keras; enable TF op determinism.

    Everything global is restored on exit, so seeding one fit does not
    change the random streams (or the determinism flag) of the caller.
    Models built inside get per-layer seeds derived from ``seed``
    (:func:`~skleuk.neural_network._architectures.layer_seeds`), so their
    initial weights do not depend on Python's global ``random``, which other
    threads (a Dask worker's event loop) may draw from at the same time.
    """
    previous = _fit_seed()
    _FIT_SEED.value = None if seed is None else int(seed)
    try:
        with _seeded_globals(seed):
            yield
    finally:
        _FIT_SEED.value = previous


@contextlib.contextmanager
def _seeded_globals(seed):
    if seed is None:
        yield
        return
    tf, context, tf_config = _tf_state()
    from keras.src.backend.common import global_state

    py_state = random.getstate()
    np_state = np.random.get_state()  # noqa: NPY002 (restored below)
    tf_seed = context.global_seed() if context.executing_eagerly() else None
    keras_seed = global_state.get_global_attribute("global_random_seed")
    keras_gen = global_state.get_global_attribute("global_seed_generator")
    was_deterministic = tf_config.is_op_determinism_enabled()
    try:
        keras.utils.set_random_seed(int(seed))
        if not was_deterministic:
            tf_config.enable_op_determinism()
        yield
    finally:
        if not was_deterministic:
            tf_config.disable_op_determinism()
        random.setstate(py_state)
        np.random.set_state(np_state)  # noqa: NPY002
        tf.random.set_seed(tf_seed)
        global_state.set_global_attribute("global_random_seed", keras_seed)
        global_state.set_global_attribute("global_seed_generator", keras_gen)


class _DropRetracingWarnings(logging.Filter):
    """Drop TensorFlow's "tf.function retracing" warnings.

    Every fit builds a new network on purpose (cross-validation, grid
    search), which TensorFlow reports as excessive retracing.
    """

    def filter(self, record):
        return "triggered tf.function retracing" not in record.getMessage()


@contextlib.contextmanager
def _quiet_retracing():
    logger = logging.getLogger("tensorflow")
    log_filter = _DropRetracingWarnings()
    logger.addFilter(log_filter)
    try:
        yield
    finally:
        logger.removeFilter(log_filter)


class _EndOfTagsChain:
    """Last base class: the end of the ``__sklearn_tags__`` ``super()`` chain.

    scikit-learn 1.6 still reads SciKeras's old ``_more_tags``; its fallback
    then calls ``ClassifierMixin.__sklearn_tags__``, whose ``super()`` --
    behind ``BaseEstimator`` in a KerasClassifier's MRO -- would be
    ``object``, and ``is_classifier`` raised AttributeError. This class,
    placed last, answers that call. Newer scikit-learn never reaches it.
    """

    def __sklearn_tags__(self):
        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


class LightweightCNNClassifier(KerasClassifier, _EndOfTagsChain):
    """The lightweight CNN of Alkhouli & Joshi as a scikit-learn classifier.

    A :class:`scikeras.wrappers.KerasClassifier` for batches of RGB images
    ``(n_images, height, width, 3)``. The default network is Algorithm 1 of
    the paper, in its order: three ``Conv2D(64, 6x6, ReLU)``, two
    ``MaxPooling2D(2x2)``, ``Flatten``, ``Dense(128, ReLU)``,
    ``Dropout(0.1)``, ``BatchNormalization``, ``Dense(n_classes, softmax)``,
    trained with categorical cross-entropy by Adam or SGD for 30 epochs in
    batches of 64. Every architectural number is a parameter (so a grid
    search can reach it); ``architecture="light"`` is a much cheaper variant.

    The network's input size is the size of the images given to ``fit``
    (in the full system, the ``resize`` step of :func:`skleuk.make_pipeline`
    sets it, by default to 32 pixels: grid-search ``resize__size``). At 48x48
    pixels the paper network has 827,202 parameters and needs 0.77 GFLOPs
    per image (64x64: 1,482,562 and 1.62 GFLOPs); the light one has 28,130
    parameters at any size and needs 12.6 MFLOPs (64x64: 22.4 MFLOPs).

    Labels may be of any type (``"Benign"``, ``"Early"``, ... or ints);
    ``predict_proba`` columns follow ``classes_`` (sorted labels).

    Parameters
    ----------
    architecture : {"paper", "light"}, default="paper"
        Preset for the parameters below that are left at None.
        ``"paper"``: Algorithm 1 (``n_conv_layers=3, filters=64,
        kernel_size=6, padding="valid", pooling="end", n_pool_layers=2,
        pool_size=2, global_pooling=False, dense_units=128, dropout=0.1,
        batch_norm=True``). ``"light"``: ``filters=(16, 32, 64)``,
        ``kernel_size=3``, ``padding="same"``, ``pooling="interleaved"``
        (a pooling layer after each convolution but the last),
        ``global_pooling=True``, ``dense_units=64``, the rest as the paper.
    n_conv_layers : int, default=None
        Number of ``Conv2D`` layers (ReLU).
    filters : int or tuple of int, default=None
        Filters of every convolution, or one value per convolution.
    kernel_size : int, default=None
        Side of the square convolution kernels.
    padding : {"valid", "same"}, default=None
        Convolution padding. The paper uses Keras's default, ``"valid"``.
    pooling : {"end", "interleaved"} or tuple of int, default=None
        Where the ``MaxPooling2D`` layers go: ``"end"`` -- all
        ``n_pool_layers`` after the last convolution (the paper);
        ``"interleaved"`` -- one after each convolution but the last; a
        tuple -- the number of convolutions before each pooling layer
        (the paper is ``(3, 3)``).
    n_pool_layers : int, default=None
        Number of pooling layers with ``pooling="end"``.
    pool_size : int, default=None
        Pooling window and stride.
    global_pooling : bool, default=None
        Global average pooling instead of ``Flatten`` before the dense head.
    dense_units : int, default=None
        Units of the hidden ``Dense`` layer (0: no hidden layer).
    dropout : float, default=None
        Dropout rate after the hidden dense layer (0: none).
    batch_norm : bool, default=None
        ``BatchNormalization`` before the output layer.
    batch_norm_momentum : float, default=None
        Momentum of the ``BatchNormalization`` moving averages (both presets:
        0.9). Keras's default, 0.99, needs hundreds of optimizer steps to
        forget its initial values, and 260 images in batches of 64 give 4
        steps an epoch: with it, the validation curves during training (and
        early stopping) see a network whose inference-mode outputs are
        nearly constant. This changes only the running statistics, not the
        architecture; see also ``recalibrate_batch_norm``.
    conv_batch_norm : bool, default=None
        ``BatchNormalization`` after every convolution (Conv2D without bias,
        then BatchNorm, then ReLU; Ioffe & Szegedy, 2015). Both presets:
        False.
    recalibrate_batch_norm : bool, default=True
        After training, set every ``BatchNormalization`` layer's moving mean
        and variance to the exact statistics of its inputs over the training
        images, computed in inference mode with the final weights (one extra
        forward pass; "precise BatchNorm"). Keras updates these statistics as
        moving averages with momentum 0.99, which need hundreds of optimizer
        steps to settle: on data sets the size of ALL-IDB2 (four steps of 64
        images per epoch) they stay far off, and ``predict`` then returns a
        single class although the training accuracy is high. False keeps
        Keras's moving averages.
    optimizer : {"adam", "sgd"}, str, keras.optimizers.Optimizer or class, \
            default="adam"
        The optimizer. Strings are Keras optimizer names; an optimizer
        instance is copied (through its config) for every fit, so fits never
        share optimizer state. Extra arguments can be routed, e.g.
        ``optimizer__momentum=0.9``.
    learning_rate : float, default=None
        Learning rate; None keeps the optimizer's default (Adam 0.001,
        SGD 0.01).
    epochs : int, default=30
        Training epochs (the paper: 30).
    batch_size : int, default=64
        Mini-batch size for training and prediction (the paper: 64).
    lr_schedule : {"constant", "cosine"}, default="constant"
        Learning-rate schedule over the ``epochs``: ``"constant"`` (the
        paper), or ``"cosine"`` -- a linear warm-up from 0 over the first
        ``warmup`` share of the optimizer steps, then a cosine decay to 0 at
        the last step (Loshchilov & Hutter, 2017; Goyal et al., 2017). The
        schedule spans the ``epochs`` of one ``fit``: further training with
        ``warm_start`` or ``partial_fit`` continues at its end (rate 0), so
        use ``"constant"`` for incremental training.
    warmup : float, default=0.05
        Share of the training steps used for the warm-up of
        ``lr_schedule="cosine"`` (ignored with ``"constant"``).
    weight_decay : float or None, default=None
        Decoupled weight decay of the optimizer (``AdamW``-style with Adam;
        Keras's ``weight_decay`` argument). None: none.
    label_smoothing : float, default=0.0
        Label smoothing of the cross-entropy loss (Szegedy et al., 2016):
        the one-hot targets become ``1 - label_smoothing + label_smoothing /
        n_classes`` and ``label_smoothing / n_classes``.
    tta : bool, default=False
        Test-time augmentation: ``predict_proba`` averages the network's
        probabilities over the 8 flips and 90-degree rotations of each
        (square) image; on non-square images over the 4 flips.
    augment : bool or dict, default=True
        Training-time augmentation: random flips and 90-degree rotations
        (:class:`~skleuk.neural_network.RandomDihedral`) and small
        brightness, contrast and hue changes
        (:class:`~skleuk.neural_network.RandomColorJitter`), as Keras layers
        active only in ``fit``; ``predict`` never sees augmented images.
        ``True`` uses :data:`~skleuk.neural_network.AUGMENT_DEFAULTS`; a dict
        such as ``{"hue": 0.0, "brightness": 0.1}`` updates them; ``False``
        switches augmentation off. The paper augmented its whole data set
        *before* splitting it into folds, so augmented copies of validation
        images were trained on; here only the training batches are
        augmented, so a held-out image is never seen in any form. A blood
        cell has no preferred orientation, which makes flips and rotations
        label-preserving.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, ``{label: weight}`` or
        ``"balanced"`` (``n_samples / (n_classes * count)``), multiplied into
        ``sample_weight``.
    early_stopping : bool, default=False
        Hold out a stratified ``validation_fraction`` of the training data
        (only the data given to ``fit``: in cross-validation, of the training
        fold), stop when its loss has not improved for ``n_iter_no_change``
        epochs, and keep the weights of the best epoch.
    validation_fraction : float, default=0.1
        Share of the training data held out with ``early_stopping=True``.
    n_iter_no_change : int, default=5
        Patience of early stopping, in epochs.
    callbacks : list of keras.callbacks.Callback, default=None
        Extra Keras callbacks for ``fit`` (and ``predict``).
    warm_start : bool, default=False
        Continue training the existing network on the next ``fit``.
    random_state : int, RandomState instance or None, default=None
        Seed for the weight initialisation, shuffling, dropout, augmentation
        and the early-stopping split. With an int, two fits on the same data
        give identical predictions on CPU: the fit runs with Python, NumPy,
        TensorFlow and Keras seeded and TensorFlow's op determinism enabled,
        and all that global state is restored afterwards. (Being global, it
        must not overlap with other TensorFlow work in threads of the same
        process; joblib's default process-based ``n_jobs`` is fine.) A
        RandomState instance gives each fit a new seed drawn from it.
    verbose : int, default=0
        Keras verbosity (0: silent, 1: progress bar, 2: one line per epoch).
    dtype_policy : {None, "float32", "auto", "mixed_bfloat16", \
            "mixed_float16"}, default=None
        Keras mixed-precision policy of the hidden layers; the output layer
        and the inputs stay float32. None: float32. ``"auto"``:
        ``"mixed_bfloat16"`` on CPUs with native bfloat16 units (AMX or
        AVX-512 BF16, see :func:`~skleuk.neural_network.cpu_has_native_bf16`),
        float32 elsewhere (where bfloat16 is emulated and slower). The
        default stays float32 until ``"auto"`` is verified on the real-data
        accuracy benchmark; ``dtype_policy_`` records the policy a fit used.
    **kwargs : dict
        Routed parameters (``optimizer__<arg>``, ``fit__<arg>``,
        ``predict__<arg>``), as in SciKeras.

    Attributes
    ----------
    model_ : keras.Model
        The trained network.
    classes_ : ndarray of shape (n_classes,)
        The class labels, in the order of the ``predict_proba`` columns.
    n_classes_ : int
        Number of classes.
    dtype_policy_ : str
        The Keras dtype policy the network was built with (``"auto"``
        resolved on the machine that fitted it).
    input_shape_ : tuple of int
        ``(height, width, 3)`` of the training images; ``predict`` needs the
        same size.
    history_ : dict of list
        Per-epoch ``loss`` and ``accuracy`` (and ``val_loss``,
        ``val_accuracy`` with early stopping).
    n_iter_ : int
        Number of epochs trained (fewer than ``epochs`` after early
        stopping).
    target_encoder_ : object
        The label encoder (labels <-> one-hot).

    See Also
    --------
    skleuk.make_pipeline : The paper's whole system (preprocessing + this CNN).
    build_lightweight_cnn : The Keras model this classifier trains.
    count_flops : FLOPs per image of a Keras model.

    Notes
    -----
    Input validation is :func:`skleuk.utils.check_images` with
    ``value_range=None``: ``uint8`` images are scaled to ``[0, 1]``, float
    images are taken as they are (e.g. standardised by
    :class:`~skleuk.preprocessing.ImageScaler`).

    Pickling (``joblib.dump``) stores the network in Keras's ``.keras``
    format plus the versions of skleuk, Keras, TensorFlow, SciKeras and
    scikit-learn; loading under other versions warns with
    :class:`~skleuk.neural_network.InconsistentVersionWarning`. **Loading a
    pickle runs arbitrary code: only load files you trust.**
    :meth:`export_keras` writes the bare network, which Keras loads without
    running code.

    SciKeras 0.13 predates scikit-learn's estimator tags: with scikit-learn
    1.7+ a plain ``KerasClassifier`` is not recognised as a classifier (so
    ``cv=5`` is not stratified and ``roc_auc`` scores are NaN), and with 1.6
    ``is_classifier`` raises. This class declares its own tags (a classifier
    of 3-D images per sample), so ``is_classifier``, stratified ``cv=5`` and
    ``roc_auc`` scoring work with scikit-learn 1.6 to 1.9.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.neural_network import LightweightCNNClassifier
    >>> clf = LightweightCNNClassifier(optimizer="sgd", epochs=10)
    >>> clf.get_params()["optimizer"]
    'sgd'
    >>> model = clf.build_model((64, 64, 3), n_classes=2)
    >>> model.count_params()
    1482562

    Training on tiny random images (slow under doctest, hence skipped):

    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(40, 16, 16, 3), dtype=np.uint8)
    >>> y = np.array(["Benign", "Malignant"] * 20)
    >>> clf = LightweightCNNClassifier(architecture="light", epochs=1,
    ...                                random_state=0)
    >>> clf.fit(X, y).predict_proba(X).shape  # doctest: +SKIP
    (40, 2)
    """

    _parameter_constraints: dict = {
        "architecture": [StrOptions(set(ARCHITECTURES))],
        "n_conv_layers": [Interval(Integral, 1, None, closed="left"), None],
        "filters": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "kernel_size": [Interval(Integral, 1, None, closed="left"), None],
        "padding": [StrOptions({"valid", "same"}), None],
        "pooling": [StrOptions({"end", "interleaved"}), tuple, list, None],
        "n_pool_layers": [Interval(Integral, 0, None, closed="left"), None],
        "pool_size": [Interval(Integral, 1, None, closed="left"), None],
        "global_pooling": ["boolean", None],
        "dense_units": [Interval(Integral, 0, None, closed="left"), None],
        "dropout": [Interval(Real, 0, 1, closed="left"), None],
        "batch_norm": ["boolean", None],
        "batch_norm_momentum": [Interval(Real, 0, 1, closed="left"), None],
        "conv_batch_norm": ["boolean", None],
        "recalibrate_batch_norm": ["boolean"],
        "optimizer": [str, keras.optimizers.Optimizer, type],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "warmup": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "tta": ["boolean"],
        "augment": ["boolean", dict],
        "class_weight": [StrOptions({"balanced"}), dict, None],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "callbacks": [list, keras.callbacks.Callback, None],
        "warm_start": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "dtype_policy": [
            StrOptions({"float32", "auto", "mixed_bfloat16", "mixed_float16"}),
            None,
        ],
    }

    def __init__(
        self,
        architecture="paper",
        *,
        n_conv_layers=None,
        filters=None,
        kernel_size=None,
        padding=None,
        pooling=None,
        n_pool_layers=None,
        pool_size=None,
        global_pooling=None,
        dense_units=None,
        dropout=None,
        batch_norm=None,
        batch_norm_momentum=None,
        conv_batch_norm=None,
        recalibrate_batch_norm=True,
        optimizer="adam",
        learning_rate=None,
        epochs=DEFAULT_EPOCHS,
        batch_size=DEFAULT_BATCH_SIZE,
        lr_schedule="constant",
        warmup=0.05,
        weight_decay=None,
        label_smoothing=0.0,
        tta=False,
        augment=True,
        class_weight=None,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=5,
        callbacks=None,
        warm_start=False,
        random_state=None,
        verbose=0,
        dtype_policy=None,
        **kwargs,
    ):
        # No call to KerasClassifier.__init__: it would add SciKeras's
        # generic parameters (model, loss, metrics, ...) that this class
        # fixes. SciKeras reads parameters from __dict__, like this.
        self.architecture = architecture
        self.n_conv_layers = n_conv_layers
        self.filters = filters
        self.kernel_size = kernel_size
        self.padding = padding
        self.pooling = pooling
        self.n_pool_layers = n_pool_layers
        self.pool_size = pool_size
        self.global_pooling = global_pooling
        self.dense_units = dense_units
        self.dropout = dropout
        self.batch_norm = batch_norm
        self.batch_norm_momentum = batch_norm_momentum
        self.conv_batch_norm = conv_batch_norm
        self.recalibrate_batch_norm = recalibrate_batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.tta = tta
        self.augment = augment
        self.class_weight = class_weight
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.callbacks = callbacks
        self.warm_start = warm_start
        self.random_state = random_state
        self.verbose = verbose
        self.dtype_policy = dtype_policy
        vars(self).update(kwargs)
        if kwargs:
            self._user_params = set(kwargs)

    # ------------------------------------------------------------------
    # scikit-learn protocol
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        # KerasClassifier lists ClassifierMixin after BaseEstimator, so the
        # mixin's tags never apply (and SciKeras's _more_tags is ignored by
        # scikit-learn >= 1.7): is_classifier() would be False, cv=5 would
        # not stratify and roc_auc scorers would fail. Declare them here.
        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags(
            poor_score=True, multi_class=True, multi_label=False
        )
        tags.target_tags.required = True
        tags.target_tags.single_output = True
        tags.target_tags.multi_output = False
        tags.target_tags.one_d_labels = True
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.requires_fit = True
        return tags

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

    def _check_routed_params(self):
        known = set(self._parameter_constraints)
        for name in self.get_params(deep=False):
            if name in known:
                continue
            if not name.startswith(_ROUTING_PREFIXES):
                raise ValueError(
                    f"Unknown parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters: {sorted(known)}, plus routed ones "
                    "starting with 'optimizer__', 'fit__' or 'predict__'."
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
                self.target_type_ = type_of_target(y)
                self.y_dtype_ = y.dtype
                self.y_ndim_ = y.ndim
        return X, y

    # ------------------------------------------------------------------
    # model building
    # ------------------------------------------------------------------
    def _architecture_overrides(self):
        return {k: getattr(self, k) for k in ARCHITECTURE_PARAMS}

    def build_model(self, input_shape, n_classes=2):
        """Build (without training) the Keras network for these parameters.

        Parameters
        ----------
        input_shape : tuple of int
            ``(height, width, channels)`` of one image.
        n_classes : int, default=2
            Number of classes.

        Returns
        -------
        model : keras.Model
            The uncompiled network.

        Examples
        --------
        >>> from skleuk.neural_network import LightweightCNNClassifier
        >>> LightweightCNNClassifier().build_model((32, 32, 3)).count_params()
        433986
        """
        return build_lightweight_cnn(
            input_shape,
            n_classes,
            architecture=self.architecture,
            augment=self.augment,
            dtype_policy=resolve_dtype_policy(self.dtype_policy),
            seed=_fit_seed(),
            **self._architecture_overrides(),
        )

    def _learning_rate(self, opt, n_samples, lr):
        """The learning rate (a float or a Keras schedule) for this fit."""
        if lr is None:
            # The optimizer's own default (Adam 0.001, SGD 0.01, ...).
            if isinstance(opt, keras.optimizers.Optimizer):
                lr = float(opt.get_config()["learning_rate"])
            elif isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
                lr = float(opt().get_config()["learning_rate"])
        if self.lr_schedule == "constant" or lr is None:
            return lr
        batch = self.batch_size or 32
        total = max(1, -(-int(n_samples) // batch) * int(self.epochs))
        warm = int(round(self.warmup * total))
        return keras.optimizers.schedules.CosineDecay(
            initial_learning_rate=0.0 if warm else float(lr),
            decay_steps=max(1, total - warm),
            alpha=0.0,
            warmup_target=float(lr) if warm else None,
            warmup_steps=warm,
        )

    def _make_optimizer(self, n_samples=None):
        routed = {
            k[len("optimizer__") :]: v
            for k, v in self.get_params(deep=False).items()
            if k.startswith("optimizer__") and "__" not in k[len("optimizer__") :]
        }
        if self.weight_decay is not None:
            routed["weight_decay"] = float(self.weight_decay)
        opt = self.optimizer
        if isinstance(opt, str):
            try:
                opt = type(keras.optimizers.get(opt))
            except ValueError:
                raise ValueError(
                    f"Unknown optimizer {opt!r}; use 'adam', 'sgd' (or "
                    "another Keras optimizer name, or a "
                    "keras.optimizers.Optimizer)."
                ) from None
        lr = routed.pop("learning_rate", self.learning_rate)
        if lr is None or isinstance(lr, Real):
            lr = self._learning_rate(opt, n_samples or 1, lr)
        if lr is not None:
            routed["learning_rate"] = lr
        try:
            if isinstance(opt, keras.optimizers.Optimizer):
                config = opt.get_config()
                config.update(routed)
                return type(opt).from_config(config)
            if isinstance(opt, type) and issubclass(opt, keras.optimizers.Optimizer):
                return opt(**routed)
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"Invalid optimizer arguments {sorted(routed)} for "
                f"{getattr(opt, '__name__', type(opt).__name__)}: {exc}"
            ) from None
        raise ValueError(
            "optimizer must be a Keras optimizer name ('adam', 'sgd'), a "
            f"keras.optimizers.Optimizer or a subclass of it; got {opt!r}."
        )

    def _build_keras_model(self, n_samples=None):
        self.dtype_policy_ = resolve_dtype_policy(self.dtype_policy)
        model = self.build_model(self.input_shape_, self.n_classes_)
        optimizer = self._make_optimizer(n_samples)
        if self.dtype_policy_ == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(
                label_smoothing=float(self.label_smoothing)
            ),
            metrics=["accuracy"],
        )
        return model

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
        self._initialize_callbacks()
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
        self._check_routed_params()
        with _seeded(self._seed()):
            self._initialize(X, y)
        self.history_ = defaultdict(list)
        self.n_iter_ = 0
        return self

    # ------------------------------------------------------------------
    # fitting
    # ------------------------------------------------------------------
    def _seed(self, offset=0):
        """Integer seed for this fit (None when random_state is None)."""
        rs = self.random_state
        if rs is None:
            return None
        if isinstance(rs, np.random.RandomState):
            base = int(rs.randint(np.iinfo(np.int32).max))
        else:
            base = int(rs)
        return (base + 1_000_003 * int(offset)) % (2**31 - 1)

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
        with _seeded(seed), _quiet_retracing():
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
                self._recalibrate_batch_norm(X)
        self.n_iter_ = len(self.history_.get("loss", []))

    def _recalibrate_batch_norm(self, X):
        """Set BatchNormalization statistics to their exact training values."""
        model = self.model_
        layers = [
            layer
            for layer in model.layers
            if isinstance(layer, keras.layers.BatchNormalization)
        ]
        step = max(self.batch_size or 32, 256)
        for layer in layers:  # in order: later layers see recalibrated ones
            sub = keras.Model(model.inputs[0], layer.input)
            n = 0
            total = total_sq = None
            for start in range(0, X.shape[0], step):
                a = np.asarray(sub(X[start : start + step], training=False))
                a = a.astype(np.float64)
                channel = layer.axis % a.ndim
                axes = tuple(i for i in range(a.ndim) if i != channel)
                if total is None:
                    total = np.zeros(a.shape[channel])
                    total_sq = np.zeros(a.shape[channel])
                total += a.sum(axis=axes)
                total_sq += np.square(a).sum(axis=axes)
                n += int(np.prod([a.shape[i] for i in axes]))
            mean = total / n
            var = np.maximum(total_sq / n - np.square(mean), 0.0)
            layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
            layer.moving_variance.assign(var.astype(layer.moving_variance.dtype))

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch, callbacks=(),
        **kwargs,
    ):
        params = self.get_params(deep=False)
        fit_args = {k: params[k] for k in ("batch_size", "verbose")}
        for k, v in params.items():
            if k.startswith("fit__") and "__" not in k[5:] and k[5:] != "callbacks":
                fit_args[k[5:]] = v
        fit_args.update(kwargs)
        fit_args.update(
            sample_weight=sample_weight,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            callbacks=list(getattr(self, "_fit_callbacks", [])) + list(callbacks),
        )
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
        self._check_routed_params()
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
        self._check_routed_params()
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
        for k, v in params.items():
            if k.startswith("predict__") and "__" not in k[9:]:
                pred_args[k[9:]] = v
        if pred_args.get("batch_size") is None:
            pred_args.pop("batch_size")
        pred_args["callbacks"] = list(getattr(self, "_predict_callbacks", []))
        with _quiet_retracing():
            if not self.tta:
                return self.model_.predict(X, **pred_args)
            return np.mean(
                [self.model_.predict(v, **pred_args) for v in _dihedral_views(X)],
                axis=0,
            )

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
    # inspection and export
    # ------------------------------------------------------------------
    def summary(self, input_shape=None, n_classes=None, **kwargs):
        """Print the Keras summary of the network (layers, shapes, parameters).

        Parameters
        ----------
        input_shape : tuple of int, default=None
            ``(height, width, channels)``. None: the fitted network (requires
            ``fit``). Given: a network is built for that input size with this
            estimator's parameters (no training).
        n_classes : int, default=None
            Classes of the built network (default: ``n_classes_`` when
            fitted, else 2).
        **kwargs : dict
            Passed to ``keras.Model.summary`` (e.g. ``print_fn``).

        Examples
        --------
        >>> from skleuk.neural_network import LightweightCNNClassifier
        >>> lines = []
        >>> LightweightCNNClassifier().summary((64, 64, 3), print_fn=lines.append)
        >>> any("1,482,562" in line for line in lines)
        True
        """
        if input_shape is None:
            if not self.__sklearn_is_fitted__():
                check_is_fitted(
                    self,
                    msg=(
                        "This %(name)s instance is not fitted yet: call 'fit', "
                        "or pass input_shape=(height, width, 3) to summarise "
                        "the untrained network."
                    ),
                )
            model = self.model_
        else:
            if n_classes is None:
                n_classes = getattr(self, "n_classes_", None) or 2
            model = self.build_model(input_shape, n_classes)
        model.summary(**kwargs)

    def export_keras(self, path, *, overwrite=False):
        """Save the trained network in Keras's own ``.keras`` format.

        The file holds the architecture, weights and optimizer state. Unlike a
        pickle it runs no code when loaded (``keras.saving.load_model`` with
        its default ``safe_mode=True``; ``import skleuk.neural_network`` first,
        which registers the augmentation layers). It holds only the network:
        the preprocessing steps and the class labels (``classes_``, the order
        of the output columns) must be kept separately.

        Parameters
        ----------
        path : str or path-like
            Destination file; must end with ``.keras``.
        overwrite : bool, default=False
            Replace an existing file. Without it an existing file is an error.

        Returns
        -------
        path : pathlib.Path
            The written file.

        Raises
        ------
        FileExistsError
            ``path`` exists and ``overwrite=False``.
        ValueError
            ``path`` does not end with ``.keras``.
        sklearn.exceptions.NotFittedError
            The classifier is not fitted.
        """
        check_is_fitted(self)
        path = Path(path)
        if path.suffix != ".keras":
            raise ValueError(
                f"The Keras format needs a file name ending with '.keras'; got "
                f"{str(path)!r}."
            )
        if path.exists() and not overwrite:
            raise FileExistsError(
                f"{str(path)!r} already exists; pass overwrite=True to replace it."
            )
        self.model_.save(path, overwrite=True)
        return path

    # ------------------------------------------------------------------
    # persistence
    # ------------------------------------------------------------------
    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("_fit_callbacks", None)
        state.pop("_predict_callbacks", None)
        model = state.get("model_")
        if model is not None:
            state["model_"] = _KerasModelBytes(model_to_bytes(model))
        state["_skleuk_versions"] = current_versions()
        return state

    def __setstate__(self, state):
        state = dict(state)
        versions = state.pop("_skleuk_versions", None)
        check_saved_versions(versions, type(self).__name__)
        model = state.get("model_")
        if isinstance(model, _KerasModelBytes):
            try:
                state["model_"] = model_from_bytes(model.data)
            except Exception as exc:
                saved = versions or {}
                raise RuntimeError(
                    f"Could not load the Keras network of this "
                    f"{type(self).__name__} (saved with keras "
                    f"{saved.get('keras', 'unknown')}, tensorflow "
                    f"{saved.get('tensorflow', 'unknown')}): {exc}"
                ) from exc
        super().__setstate__(state)
        if state.get("model_") is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._initialize_callbacks()


class _KerasModelBytes:
    """Pickle payload: a Keras model as ``.keras`` file bytes."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __getstate__(self):
        return {"data": self.data}

    def __setstate__(self, state):
        self.data = state["data"]
