"""The lightweight CNN of Alkhouli & Joshi as a scikit-learn classifier.

The estimator's parameters and network live here. Beside it: the training
and prediction machinery (``_base.py``), the parameter surface
(``_params.py``), label encoding (``_label_encoder.py``), seeding
(``_seeding.py``), TensorFlow/scikit-learn shims (``_compat.py``), the
optimizer and learning-rate schedule (``_optim.py``), BatchNorm
recalibration (``_batch_norm.py``) and the pickle payload
(``_persistence.py``).
"""

from __future__ import annotations

from numbers import Integral, Real
from pathlib import Path

import keras
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ._architectures import ARCHITECTURES, build_lightweight_cnn
from ._base import BaseKerasImageClassifier
from ._optim import make_optimizer
from ._params import architecture_spec
from ._precision import resolve_dtype_policy
from ._seeding import fit_seed

__all__ = ["LightweightCNNClassifier"]

#: Training defaults of the paper (Algorithm 1): 30 epochs, batch size 64.
DEFAULT_EPOCHS = 30
DEFAULT_BATCH_SIZE = 64


class LightweightCNNClassifier(BaseKerasImageClassifier):
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
    mixup : float, default=0.0
        Mixup (Zhang et al., 2018): each training batch is replaced by convex
        mixtures of its images and of their one-hot targets (and sample
        weights), ``lam * a + (1 - lam) * b`` with ``b`` another image of
        the batch and ``lam ~ Beta(mixup, mixup)`` drawn per image; 0 (the
        default) switches it off. Typical values are 0.1-0.4, which leave
        most images nearly unmixed. Only ``fit`` and ``partial_fit`` batches
        are mixed, never validation data or predictions.
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
        Routed parameters, as in SciKeras and skorch: ``model__<field>``
        (a field of ``architecture``), ``optimizer__<arg>`` (e.g.
        ``optimizer__momentum=0.9``), ``fit__<arg>`` and ``predict__<arg>``
        (arguments of Keras's ``fit`` and ``predict``).

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
    ``roc_auc`` scoring work with scikit-learn 1.6 to 1.9. It is a
    ``KerasClassifier`` by inheritance only: the parameters (routed ones
    included), callbacks, training loop and pickling are skleuk's own, and
    it uses no private SciKeras member.

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
    }

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
        **kwargs,
    ):
        # No call to KerasClassifier.__init__: it would add SciKeras's
        # generic parameters (model, loss, metrics, ...) that this class
        # fixes. Routed parameters (model__<field>, optimizer__<arg>, ...)
        # are attributes too; get_params and set_params (BaseKerasImage-
        # Classifier's) list and set them, so clone keeps them.
        self.architecture = architecture
        self.recalibrate_batch_norm = recalibrate_batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.epochs = epochs
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.warmup = warmup
        self.weight_decay = weight_decay
        self.label_smoothing = label_smoothing
        self.mixup = mixup
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

    # ------------------------------------------------------------------
    # parameters and network
    # ------------------------------------------------------------------
    def _architecture(self):
        """``(preset, overrides)`` of the network; validates them."""
        return architecture_spec(
            self.architecture,
            self.get_params(deep=False),
            owner=type(self).__name__,
        )

    def _check_params(self):
        super()._check_params()
        self._architecture()

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
        preset, overrides = self._architecture()
        return build_lightweight_cnn(
            input_shape,
            n_classes,
            architecture=preset,
            augment=self.augment,
            dtype_policy=resolve_dtype_policy(self.dtype_policy),
            seed=fit_seed(),
            **overrides,
        )

    def _make_optimizer(self, n_samples=None):
        return make_optimizer(
            self.optimizer,
            self._routed("optimizer"),
            learning_rate=self.learning_rate,
            weight_decay=self.weight_decay,
            n_samples=n_samples,
            lr_schedule=self.lr_schedule,
            batch_size=self.batch_size,
            epochs=self.epochs,
            warmup=self.warmup,
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
