"""The lightweight CNN of Alkhouli & Joshi as a SciKeras classifier.

:class:`LightweightCNNClassifier` is a :class:`scikeras.wrappers.KerasClassifier`
used as SciKeras designs subclasses: its ``__init__`` runs, the network is
built in SciKeras's ``_keras_build_fn`` hook from the routed parameters
(``model__``, ``optimizer__``, ``compile__``), and SciKeras's ``fit`` /
``partial_fit`` / ``initialize`` do the bookkeeping (metadata, target
encoding, class and sample weights, callbacks, ``history_``). What SciKeras
lacks is added in overrides of its public methods and hooks: image
validation, seeding, early stopping on a stratified slice, mixup, BatchNorm
recalibration, test-time augmentation and a compiled prediction path, and
pickles that record the package versions. Two private SciKeras methods are
overridden, each with a comment naming the SciKeras limitation it works
around (listed in ``docs/development.rst``). Beside this module: the fit's
own machinery (``_training.py``), the compiled prediction
(``_inference.py``) and the pickle payload (``_persistence.py``).
"""

from __future__ import annotations

import inspect
import warnings
from collections import defaultdict
from numbers import Integral, Real
from pathlib import Path

import keras
import numpy as np
from scikeras.wrappers import KerasClassifier
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils import ClassifierTags
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets, type_of_target
from sklearn.utils.validation import (
    _check_sample_weight,
    check_consistent_length,
    check_is_fitted,
    column_or_1d,
)

from ..utils.validation import check_images
from ._architectures import (
    ARCHITECTURE_PARAMS,
    ARCHITECTURES,
    build_lightweight_cnn,
    resolve_architecture,
)
from ._augment import dihedral_views
from ._inference import inference_function, predict_batches
from ._mixup import MixupBatches
from ._persistence import pack_state, unpack_state
from ._snapshots import EpochSnapshots
from ._tf_logs import quiet_retracing
from ._training import (
    early_stopping_split,
    fit_seed,
    make_optimizer,
    recalibrate_batch_norm,
    resolve_dtype_policy,
    seed_for,
    seeded,
)

__all__ = ["LightweightCNNClassifier"]

#: Training defaults of the paper (Algorithm 1): 30 epochs, batch size 64.
DEFAULT_EPOCHS = 30
DEFAULT_BATCH_SIZE = 64


class _LabelEncoder(TransformerMixin, BaseEstimator):
    """Labels of any type <-> one-hot float32 rows in ``classes_`` order.

    The classifier's ``target_encoder`` (SciKeras's hook): unlike SciKeras's
    default encoder it needs no ``loss`` to one-hot encode, requires two
    classes, and names unseen labels.
    """

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
        idx = np.clip(np.searchsorted(self.classes_, y), 0, self.n_classes_ - 1)
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


def _architecture_spec(architecture, fields, owner):
    """``(preset, overrides)`` of a network; validates them.

    ``architecture`` is a preset name or a dict of fields with an optional
    ``"preset"`` (default ``"paper"``); ``fields`` are the routed
    ``model__<field>`` values, which override the dict (None: not set).
    """
    if isinstance(architecture, str):
        preset, overrides = architecture, {}
    else:
        overrides = dict(architecture)
        preset = overrides.pop("preset", "paper")
        unknown = sorted(set(overrides) - set(ARCHITECTURE_PARAMS))
        if unknown:
            raise ValueError(
                f"architecture has unknown key(s) {unknown}; valid keys are "
                f"'preset' and {list(ARCHITECTURE_PARAMS)}."
            )
    unknown = sorted(set(fields) - set(ARCHITECTURE_PARAMS))
    if unknown:
        raise ValueError(
            f"Unknown parameter(s) {['model__' + k for k in unknown]} for "
            f"{owner}: model__<name> sets a field of the architecture, one of "
            f"{list(ARCHITECTURE_PARAMS)}."
        )
    overrides = {k: v for k, v in overrides.items() if v is not None}
    overrides.update((k, v) for k, v in fields.items() if v is not None)
    resolve_architecture(preset, **overrides)
    return preset, overrides


def _float64_weights(sample_weight, X):
    """A float64 copy of ``sample_weight`` (KerasClassifier multiplies the
    class weights into it in place), or None."""
    if sample_weight is None:
        return None
    return _check_sample_weight(sample_weight, X, dtype=np.float64, copy=True)


class LightweightCNNClassifier(KerasClassifier):
    """The lightweight CNN of Alkhouli & Joshi as a scikit-learn classifier.

    A :class:`scikeras.wrappers.KerasClassifier` for batches of RGB images
    ``(n_images, height, width, 3)``. The default network is Algorithm 1 of
    the paper, in its order: three ``Conv2D(64, 6x6, ReLU)``, two
    ``MaxPooling2D(2x2)``, ``Flatten``, ``Dense(128, ReLU)``,
    ``Dropout(0.1)``, ``BatchNormalization``, ``Dense(n_classes, softmax)``,
    trained with categorical cross-entropy by Adam or SGD for 30 epochs in
    batches of 64. Every architectural number is a field of
    ``architecture``, reachable by a grid search as ``model__<field>``;
    ``architecture="light"`` is a much cheaper variant.

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
    architecture : {"paper", "light", "wide"} or dict, default="paper"
        The network: a preset name, or a dict of fields changing a preset,
        e.g. ``{"preset": "light", "filters": 32}`` (``"preset"`` defaults
        to ``"paper"``). One field can also be set as the routed parameter
        ``model__<field>`` (``model__filters=32``; in a pipeline
        ``cnn__model__filters``), which overrides the dict and is what a
        grid search varies. ``"paper"`` is Algorithm 1; ``"light"`` differs
        in ``filters=(16, 32, 64)``, ``kernel_size=3``, ``padding="same"``,
        ``pooling="interleaved"``, ``global_pooling=True`` and
        ``dense_units=64``; ``"wide"`` is ``"light"`` with
        ``filters=(32, 64, 128)`` (the network of
        :func:`skleuk.make_pipeline`'s default recipe). The fields (paper's
        value in brackets):

        - ``n_conv_layers`` (3): number of ``Conv2D`` layers (ReLU);
        - ``filters`` (64): filters of every convolution, or a tuple with
          one value per convolution;
        - ``kernel_size`` (6): side of the square convolution kernels;
        - ``padding`` (``"valid"``): convolution padding, or ``"same"``;
        - ``pooling`` (``"end"``): where the ``MaxPooling2D`` layers go --
          ``"end"``: all ``n_pool_layers`` after the last convolution;
          ``"interleaved"``: one after each convolution but the last; a
          tuple: the number of convolutions before each pooling layer (the
          paper is ``(3, 3)``);
        - ``n_pool_layers`` (2): pooling layers with ``pooling="end"``;
        - ``pool_size`` (2): pooling window and stride;
        - ``global_pooling`` (False): global average pooling instead of
          ``Flatten`` before the dense head;
        - ``dense_units`` (128): units of the hidden ``Dense`` layer (0: none);
        - ``dropout`` (0.1): dropout rate after it (0: none);
        - ``batch_norm`` (True): ``BatchNormalization`` before the output;
        - ``batch_norm_momentum`` (0.9, both presets): momentum of the
          BatchNorm moving averages. Keras's default, 0.99, needs hundreds
          of optimizer steps to forget its initial values, and 260 images in
          batches of 64 give 4 steps an epoch: with it, validation curves
          (and early stopping) see a network whose inference-mode outputs
          are nearly constant. See also ``recalibrate_batch_norm``;
        - ``conv_batch_norm`` (False, both presets): ``BatchNormalization``
          after every convolution (Conv2D without bias, then BatchNorm, then
          ReLU; Ioffe & Szegedy, 2015).
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
        share optimizer state. Arguments of a named optimizer or class are
        routed (SciKeras), e.g. ``optimizer__momentum=0.9``.
    learning_rate : float, default=None
        Learning rate; None keeps the optimizer's (its default -- Adam
        0.001, SGD 0.01 -- or ``optimizer__learning_rate``, which takes
        precedence over this parameter).
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
    mixup : float, default=0.0
        Mixup (Zhang et al., 2018): each training batch is replaced by convex
        mixtures of its images and of their one-hot targets (and sample
        weights), ``lam * a + (1 - lam) * b`` with ``b`` another image of
        the batch and ``lam ~ Beta(mixup, mixup)`` drawn per image; 0 (the
        default) switches it off. Typical values are 0.1-0.4, which leave
        most images nearly unmixed. Only ``fit`` and ``partial_fit`` batches
        are mixed, never validation data or predictions; mixed batches are
        always shuffled (``shuffle`` does not apply).
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
        switches augmentation off. ``{"stain": ..., "blur": ..., "noise":
        ...}`` adds :class:`~skleuk.neural_network.RandomStain` (another
        laboratory's stain, focus and camera; off by default, see the user
        guide's *Using a model on another laboratory's smears*). The paper
        augmented its whole data set *before* splitting it into folds, so
        augmented copies of validation images were trained on; here only
        the training batches are augmented, so a held-out image is never
        seen in any form. A blood cell has no preferred orientation, which
        makes flips and rotations label-preserving.
    class_weight : dict, "balanced" or None, default=None
        Weights of the classes in the loss, ``{label: weight}`` or
        ``"balanced"`` (``n_samples / (n_classes * count)``), multiplied into
        ``sample_weight`` (by SciKeras). Images of weight 0 are left out
        of the fit.
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
        Extra Keras callbacks for ``fit`` and ``predict`` (instances, or
        classes that SciKeras instantiates, with arguments routed as
        ``callbacks__<i>__<arg>``); ``fit__callbacks`` and
        ``predict__callbacks`` apply to one of them only.
    warm_start : bool, default=False
        Continue training the existing network on the next ``fit``, from
        the epoch where it stopped (``history_`` grows).
    random_state : int, RandomState instance or None, default=None
        Seed for the weight initialisation, shuffling, dropout, augmentation
        and the early-stopping split. With an int, two fits on the same data
        give identical predictions on CPU: the fit runs with Python, NumPy,
        TensorFlow and Keras seeded and TensorFlow's op determinism enabled,
        and all that global state is restored afterwards. (Being global, it
        must not overlap with other TensorFlow work in threads of the same
        process; joblib's default process-based ``n_jobs`` is fine.) A
        RandomState instance gives each fit a new seed drawn from it; a
        fit continued by ``warm_start`` or ``partial_fit`` gets a seed of
        its own, so it does not repeat the first fit's shuffles.
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
    metrics : list, default=None
        Keras metrics recorded in ``history_`` (SciKeras's parameter, with
        ``metrics__<arg>`` routing); None: ``["accuracy"]``.
    shuffle : bool, default=True
        Shuffle the training images before each epoch (Keras's ``fit``).
    run_eagerly : bool, default=False
        Run Keras's training step eagerly (debugging; slow).
    validation_batch_size : int, default=None
        Batch size of the validation data (None: ``batch_size``).
    validation_split : float, default=0.0
        Keras's own validation split: the *last* share of the training
        images, not stratified, only recorded in ``history_``. Prefer
        ``early_stopping`` and ``validation_fraction``; incompatible with
        both ``early_stopping`` and ``mixup``.
    model, build_fn, loss : None
        SciKeras's parameters for a network of its own or another loss; this
        class fixes them (the network is ``architecture``, the loss the
        categorical cross-entropy with ``label_smoothing``): only None.
    **kwargs : dict
        Routed parameters, SciKeras's ``<destination>__<arg>``:
        ``model__<field>`` (a field of ``architecture``),
        ``optimizer__<arg>`` (e.g. ``optimizer__momentum=0.9``),
        ``compile__<arg>``, ``fit__<arg>`` and ``predict__<arg>`` (arguments
        of Keras's ``compile``, ``fit`` and ``predict``, e.g.
        ``predict__batch_size=256``) and ``callbacks__<i>__<arg>``.
        ``compile__steps_per_execution=4`` runs 4 training steps per call
        of Keras's compiled step: the same fit bit for bit, with less
        per-step overhead (batch-level callbacks, also of Keras's predict
        loop, then run every 4 steps).

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
        ``val_accuracy`` with early stopping), kept by SciKeras.
    n_iter_ : int
        Number of epochs trained (fewer than ``epochs`` after early
        stopping).
    target_encoder_ : object
        The label encoder (labels <-> one-hot), SciKeras's
        ``target_encoder`` hook.

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

    SciKeras does the scikit-learn plumbing: ``get_params``/``set_params``
    with routed parameters, ``fit`` and ``partial_fit`` (metadata, label
    encoding, class weights, callbacks, ``history_``, ``current_epoch``),
    ``initialize`` and ``score``. This class builds the network in
    SciKeras's ``_keras_build_fn`` and adds image validation, seeding,
    early stopping, mixup, BatchNorm recalibration, test-time augmentation
    and its own estimator tags: SciKeras 0.13 predates scikit-learn's tags,
    and a plain ``KerasClassifier`` is not a classifier for scikit-learn
    1.7+ (``cv=5`` would not stratify, ``roc_auc`` scores would be NaN).

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

    Changing the network: a preset with some fields changed, or one field
    as a routed parameter (what a grid search varies):

    >>> small = LightweightCNNClassifier({"preset": "light", "filters": 8})
    >>> small.build_model((32, 32, 3)).count_params()
    2354
    >>> small.set_params(model__filters=(8, 16, 16)).get_params()["model__filters"]
    (8, 16, 16)

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
        "architecture": [StrOptions(set(ARCHITECTURES)), dict],
        "recalibrate_batch_norm": ["boolean"],
        "optimizer": [str, keras.optimizers.Optimizer, type],
        "learning_rate": [Interval(Real, 0, None, closed="neither"), None],
        "epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "lr_schedule": [StrOptions({"constant", "cosine"})],
        "warmup": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left"), None],
        "label_smoothing": [Interval(Real, 0, 1, closed="left")],
        "mixup": [Interval(Real, 0, None, closed="left")],
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
        "metrics": [list, None],
        "shuffle": ["boolean"],
        "run_eagerly": ["boolean"],
        "validation_batch_size": [Interval(Integral, 1, None, closed="left"), None],
        "validation_split": [Interval(Real, 0, 1, closed="left")],
        "model": [None],
        "build_fn": [None],
        "loss": [None],
    }

    # SciKeras's routing prefixes, plus callbacks__<i>__<arg>, which its
    # callbacks support but its set_params does not route.
    _routing_prefixes = KerasClassifier._routing_prefixes | {"callbacks"}

    def __init__(
        self,
        architecture="paper",
        *,
        recalibrate_batch_norm=True,
        optimizer="adam",
        learning_rate=None,
        epochs=DEFAULT_EPOCHS,
        batch_size=DEFAULT_BATCH_SIZE,
        lr_schedule="constant",
        warmup=0.05,
        weight_decay=None,
        label_smoothing=0.0,
        mixup=0.0,
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
        metrics=None,
        shuffle=True,
        run_eagerly=False,
        validation_batch_size=None,
        validation_split=0.0,
        model=None,
        build_fn=None,
        loss=None,
        **kwargs,
    ):
        super().__init__(
            model=model,
            build_fn=build_fn,
            warm_start=warm_start,
            random_state=random_state,
            optimizer=optimizer,
            loss=loss,
            metrics=metrics,
            batch_size=batch_size,
            validation_batch_size=validation_batch_size,
            verbose=verbose,
            callbacks=callbacks,
            validation_split=validation_split,
            shuffle=shuffle,
            run_eagerly=run_eagerly,
            epochs=epochs,
            class_weight=class_weight,
            **kwargs,
        )
        self.architecture = architecture
        self.recalibrate_batch_norm = recalibrate_batch_norm
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.mixup = mixup
        self.tta = tta
        self.augment = augment
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.dtype_policy = dtype_policy

    # ------------------------------------------------------------------
    # scikit-learn protocol
    # ------------------------------------------------------------------
    def __sklearn_tags__(self):
        # SciKeras 0.13 predates scikit-learn's estimator tags and lists
        # ClassifierMixin after BaseEstimator, whose tags therefore never
        # apply: without this, scikit-learn >= 1.7 does not see a classifier.
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
        return tags

    def __sklearn_is_fitted__(self):
        return (
            getattr(self, "model_", None) is not None
            and getattr(self, "classes_", None) is not None
        )

    # SciKeras's repr lists every parameter on its own line; scikit-learn's
    # lists those that differ from their defaults.
    __repr__ = BaseEstimator.__repr__

    @property
    def target_encoder(self):
        """SciKeras's hook: the label encoder of the next fit (labels <->
        one-hot rows; ``partial_fit(classes=...)`` sets its classes)."""
        return _LabelEncoder(classes=getattr(self, "classes_", None))

    def _check_params(self):
        """Reject unknown (not routed) parameters and invalid networks."""
        params = self.get_params(deep=False)
        for name in params:
            routed = "__" in name and name.split("__")[0] in self._routing_prefixes
            if name not in self._parameter_constraints and not routed:
                raise ValueError(
                    f"Unknown parameter {name!r} for {type(self).__name__}. "
                    f"Valid parameters: {sorted(self._parameter_constraints)}, "
                    "plus routed ones (<destination>__<arg> with destination "
                    f"one of {sorted(self._routing_prefixes)})."
                )
        self._architecture(self._model_fields())
        self._check_optimizer(params)
        if self.validation_split and (self.early_stopping or self.mixup):
            raise ValueError(
                "validation_split (Keras's unstratified split) cannot be combined "
                "with early_stopping (which holds out its own stratified "
                "validation_fraction) or mixup; set validation_split=0."
            )

    def _check_optimizer(self, params):
        """Clear errors for what SciKeras's optimizer routing would fail on."""
        optimizer = self.optimizer
        if isinstance(optimizer, str):
            try:
                optimizer = type(keras.optimizers.get(optimizer))
            except ValueError:
                raise ValueError(
                    f"Unknown optimizer {optimizer!r}; use 'adam', 'sgd' (or "
                    "another Keras optimizer name, or a keras.optimizers.Optimizer)."
                ) from None
        routed = sorted(
            name for name in params
            if name.startswith("optimizer__") and "__" not in name[11:]
        )
        if routed and not isinstance(optimizer, type):
            raise ValueError(
                f"{routed} need optimizer to be a name or a class (SciKeras "
                "routes them to its constructor); got an instance: set them "
                "on the instance instead."
            )
        if routed and optimizer.__module__.startswith("keras."):
            names = inspect.signature(optimizer.__init__).parameters
            unknown = [n for n in routed if n[11:] not in names]
            if unknown:
                raise ValueError(
                    f"Invalid optimizer arguments {unknown} for "
                    f"{optimizer.__name__}; it takes "
                    f"{[n for n in names if n not in ('self', 'kwargs')]}."
                )

    def _validate_data(self, X=None, y=None, reset=False, y_numeric=False):
        # Overrides SciKeras's private _validate_data, which checks X as a
        # generic numeric array: images need skleuk's check_images (file
        # paths refused with a hint, grey and RGBA made RGB, uint8 scaled to
        # [0, 1]) and a size check that names the Resizer.
        if X is not None:
            X = check_images(X, value_range=None, input_name="X")
            if reset:
                self.input_shape_ = tuple(int(d) for d in X.shape[1:])
                self.X_dtype_ = X.dtype
                self.X_shape_ = X.shape
            elif X.shape[1:] != tuple(self.input_shape_):
                h, w = self.input_shape_[:2]
                raise ValueError(
                    f"X has images of {X.shape[1]}x{X.shape[2]} pixels, but "
                    f"this {type(self).__name__} was fitted on {h}x{w} images. "
                    "Resize them to the training size (skleuk.preprocessing."
                    f"Resizer(size={h if h == w else (h, w)})), or refit."
                )
        if y is not None:
            y = column_or_1d(y, warn=True)
            if y.dtype == object and len({type(v) for v in y}) > 1:
                raise ValueError(
                    "y mixes label types "
                    f"({sorted({type(v).__name__ for v in y})}); use one type."
                )
            if X is not None:
                check_consistent_length(X, y)
            if reset:
                self.target_type_ = type_of_target(y, input_name="y")
                self.y_dtype_ = y.dtype
                self.y_ndim_ = y.ndim
        return X, y

    # ------------------------------------------------------------------
    # the network (SciKeras's build hook)
    # ------------------------------------------------------------------
    def _model_fields(self):
        """The routed ``model__<field>`` parameters, prefix removed."""
        return {
            name[len("model__"):]: value
            for name, value in self.get_params(deep=False).items()
            if name.startswith("model__") and "__" not in name[len("model__"):]
        }

    def _architecture(self, fields):
        return _architecture_spec(self.architecture, fields, type(self).__name__)

    def _network(self, input_shape, n_classes, fields):
        preset, overrides = self._architecture(fields)
        return build_lightweight_cnn(
            input_shape,
            n_classes,
            architecture=preset,
            augment=self.augment,
            dtype_policy=resolve_dtype_policy(self.dtype_policy),
            seed=fit_seed(),
            **overrides,
        )

    def _keras_build_fn(self, meta, compile_kwargs, params, **fields):
        """The compiled network of one fit (SciKeras's build hook).

        SciKeras calls it with the ``model__<field>`` parameters as
        ``fields``, the fit's metadata (``meta``: input shape, classes), the
        ``compile_kwargs`` it built (the optimizer from ``optimizer`` and
        ``optimizer__<arg>``, the ``metrics``, ``compile__<arg>``) and all
        parameters. Added here: the learning rate and its schedule, weight
        decay, mixed precision and the label-smoothed loss.
        """
        self.dtype_policy_ = resolve_dtype_policy(self.dtype_policy)
        model = self._network(meta["input_shape_"], meta["n_classes_"], fields)
        n_train = meta["X_shape_"][0]
        if self.early_stopping:
            n_train -= int(np.ceil(self.validation_fraction * n_train))
        optimizer = make_optimizer(
            compile_kwargs["optimizer"],
            # optimizer__learning_rate takes precedence over learning_rate
            learning_rate=(
                None if "optimizer__learning_rate" in params else self.learning_rate
            ),
            weight_decay=self.weight_decay,
            n_samples=n_train,
            lr_schedule=self.lr_schedule,
            batch_size=self.batch_size,
            epochs=self.epochs,
            warmup=self.warmup,
        )
        if self.dtype_policy_ == "mixed_float16":
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        compile_args = {
            k: v for k, v in compile_kwargs.items()
            if k not in ("optimizer", "loss", "metrics")
        }
        model.compile(
            optimizer=optimizer,
            loss=keras.losses.CategoricalCrossentropy(
                label_smoothing=float(self.label_smoothing)
            ),
            metrics=compile_kwargs["metrics"] or ["accuracy"],
            **compile_args,
        )
        return model

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
        return self._network(input_shape, n_classes, self._model_fields())

    # ------------------------------------------------------------------
    # fitting: SciKeras's fit, partial_fit and initialize, seeded
    # ------------------------------------------------------------------
    def _seed(self, offset=0):
        """Integer seed of a fit starting at epoch ``offset`` (None when
        ``random_state`` is None; a new one per call for a RandomState)."""
        return seed_for(self.random_state, offset)

    def _after_fit(self):
        # KerasClassifier.fit sets classes_ to None and only a new network
        # sets it again: a warm-start fit would end without classes_.
        self.classes_ = self.target_encoder_.classes_
        self.n_iter_ = self.current_epoch
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the network on images ``X`` with labels ``y``.

        SciKeras's ``fit``, in a seeded context: a new network (or, with
        ``warm_start``, the existing one for ``epochs`` more epochs).

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
        # KerasClassifier.fit weighs the classes before it validates y: a NaN
        # label would fail there with a message that does not name y.
        type_of_target(y, input_name="y")
        initial_epoch = self.current_epoch if self.warm_start else 0
        with seeded(self._seed(initial_epoch)), quiet_retracing():
            super().fit(
                X,
                y,
                sample_weight=_float64_weights(sample_weight, X),
                initial_epoch=initial_epoch,
                early_stopping=self.early_stopping,
            )
        return self._after_fit()

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Train for one more epoch, keeping the network and its history.

        SciKeras's ``partial_fit``, seeded. Early stopping does not apply.

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
        with seeded(self._seed(self.current_epoch)), quiet_retracing():
            super().partial_fit(
                X, y, classes=classes,
                sample_weight=_float64_weights(sample_weight, X),
            )
        return self._after_fit()

    def initialize(self, X, y):
        """Build the network for ``(X, y)`` without training it.

        SciKeras's ``initialize``, seeded: afterwards ``predict`` works (with
        the untrained network) and ``fit`` with ``warm_start=True`` trains it.

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
        if y is None:
            raise ValueError(
                f"{type(self).__name__}.initialize needs y (the classes)."
            )
        with seeded(self._seed()), quiet_retracing():
            super().initialize(X, y)
        self.history_ = defaultdict(list)
        self.n_iter_ = 0
        return self

    def _fit_keras_model(
        self, X, y, sample_weight, warm_start, epochs, initial_epoch,
        early_stopping=False, **kwargs,
    ):
        # Overrides SciKeras's private _fit_keras_model, the call to
        # keras.Model.fit, which (1) hands Keras arrays only (x=X, y=y), not
        # the keras.utils.PyDataset of mixup's batches; (2) takes its
        # callbacks from the parameters only, so no EarlyStopping on a
        # validation slice chosen per fit; and (3) reseeds TensorFlow with
        # random_state around the call (seed 0 for any RandomState, the
        # same seed for every partial_fit), undoing the per-fit seed of
        # seeded(). Kept from SciKeras: the arguments it routes to Keras's
        # fit (batch_size, verbose, shuffle, validation_*, fit__<arg>), its
        # callbacks (callbacks, fit__callbacks) and its history_.
        params = self.get_params()
        fit_args = {k: params[k] for k in self._fit_kwargs if k in params}
        fit_args.update(
            (name[len("fit__"):], value) for name, value in params.items()
            if name.startswith("fit__") and not name.startswith("fit__callbacks")
        )
        fit_args.update(kwargs)
        fit_args.update(
            sample_weight=sample_weight,
            epochs=initial_epoch + epochs,
            initial_epoch=initial_epoch,
            callbacks=list(self._fit_callbacks),
        )
        if early_stopping:
            X, y, sample_weight = self._hold_out_validation(
                X, y, sample_weight, fit_args
            )
        if self.mixup:
            seed = fit_seed()  # this fit's, not a second draw from random_state
            if seed is None:
                seed = int(np.random.default_rng().integers(2**31 - 1))
            fit_args.pop("shuffle", None)  # the batches shuffle themselves
            batches = MixupBatches(
                X, y, fit_args.pop("sample_weight"),
                fit_args.pop("batch_size") or 32, float(self.mixup), seed=seed,
            )
            history = self.model_.fit(batches, **fit_args)
        else:
            history = self.model_.fit(x=X, y=y, **fit_args)
        if not warm_start or not hasattr(self, "history_") or initial_epoch == 0:
            self.history_ = defaultdict(list)
        for key, values in history.history.items():
            self.history_[key] += [float(v) for v in values]
        if self.recalibrate_batch_norm:
            recalibrate_batch_norm(self.model_, X, self.batch_size)
            for callback in fit_args["callbacks"]:
                if isinstance(callback, EpochSnapshots):  # the same for its snapshots
                    callback.recalibrate(self.model_, X, self.batch_size)

    def _hold_out_validation(self, X, y, sample_weight, fit_args):
        """Early stopping: a stratified validation slice and the callback."""
        train, val = early_stopping_split(
            y.argmax(axis=1), self.validation_fraction, fit_seed()
        )
        validation = (X[val], y[val])
        if sample_weight is not None:
            validation += (sample_weight[val],)
            sample_weight = sample_weight[train]
        fit_args.update(validation_data=validation, sample_weight=sample_weight)
        fit_args["callbacks"].append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss",
                patience=self.n_iter_no_change,
                restore_best_weights=True,
            )
        )
        return X[train], y[train], sample_weight

    # ------------------------------------------------------------------
    # prediction
    # ------------------------------------------------------------------
    def _keras_predict_loop(self):
        """Whether prediction needs Keras's loop: callbacks, a progress bar
        or routed ``predict__<arg>``."""
        return bool(
            self.callbacks
            or self.verbose
            or any(name.startswith("predict__") for name in self.get_params())
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

        Without callbacks, ``verbose`` or ``predict__<arg>``, a compiled
        forward pass (with test-time augmentation in the same graph);
        otherwise SciKeras's ``predict_proba`` (Keras's ``predict`` loop),
        once per view with ``tta=True``.

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
        check_is_fitted(self)
        X, _ = self._validate_data(X)
        with quiet_retracing():
            if self._keras_predict_loop():
                views = dihedral_views(X) if self.tta else [X]
                keras_loop = super().predict_proba  # SciKeras's
                proba = np.mean([keras_loop(v) for v in views], axis=0)
            else:
                proba = predict_batches(
                    self._inference_function(X.shape[1] == X.shape[2]),
                    X,
                    self.batch_size or 32,
                )
        proba = np.asarray(proba, dtype=np.float64).reshape(X.shape[0], -1)
        proba /= proba.sum(axis=1, keepdims=True)
        return proba

    def predict(self, X):
        """Predicted class labels: the most probable class of ``predict_proba``.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images of the training size.

        Returns
        -------
        y_pred : ndarray of shape (n_images,)
            Labels from ``classes_``.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def embed(self, X):
        """Penultimate-layer activations of images: the network's own description.

        The input of the final (softmax) layer -- for the built-in
        architectures, the dense layer's units (128 for ``"paper"``, 64 for
        ``"light"`` and ``"wide"``) after dropout (inactive) and batch
        normalisation -- in inference mode, one pass per image (no
        test-time augmentation). Images the network finds alike are close
        in this space; :class:`skleuk.preprocessing.EmbeddingFamiliarity`
        uses it to tell images unlike the training images.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images of the training size, preprocessed as for
            :meth:`predict_proba`.

        Returns
        -------
        embedding : ndarray of shape (n_images, n_dims)
            ``float32``.

        Examples
        --------
        >>> import numpy as np
        >>> from skleuk.neural_network import LightweightCNNClassifier
        >>> rng = np.random.default_rng(0)
        >>> X = rng.random((8, 16, 16, 3)).astype("float32")
        >>> clf = LightweightCNNClassifier(architecture="light", epochs=1,
        ...                                random_state=0).fit(X, [0, 1] * 4)
        >>> clf.embed(X).shape
        (8, 64)
        """
        check_is_fitted(self)
        X, _ = self._validate_data(X)
        cache = getattr(self, "_embedding_cache", None)
        if cache is None or cache[0] is not self.model_:
            head = self.model_.get_layer(index=len(self.model_.layers) - 1)
            network = keras.Model(self.model_.inputs, head.input)
            cache = self._embedding_cache = (
                self.model_, inference_function(network, tta=False)
            )
        with quiet_retracing():
            out = predict_batches(cache[1], X, self.batch_size or 32)
        return np.asarray(out, dtype=np.float32).reshape(len(X), -1)

    # ------------------------------------------------------------------
    # persistence, summary, export
    # ------------------------------------------------------------------
    def __getstate__(self):
        # The network as .keras bytes plus the package versions; callbacks
        # and the compiled prediction function are rebuilt after loading.
        return pack_state(
            super().__getstate__(),
            ("_fit_callbacks", "_predict_callbacks", "_inference_cache",
             "_embedding_cache"),
        )

    def __setstate__(self, state):
        state = unpack_state(state, type(self).__name__)
        super().__setstate__(state)
        if state.get("model_") is not None:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                self._initialize_callbacks()  # SciKeras's, from the parameters

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
        of the output columns) must be kept separately, and it predicts
        without test-time augmentation: with ``tta=True`` the classifier's
        ``predict_proba`` is the mean of its predictions on the 8 flips and
        rotations of each image (:func:`numpy.flip`, :func:`numpy.swapaxes`).

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
