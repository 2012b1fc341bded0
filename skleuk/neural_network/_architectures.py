"""Network architectures of the lightweight CNN, and their cost (FLOPs)."""

from __future__ import annotations

from numbers import Integral, Real

import keras
import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

from ._augment import augmentation_layers, resolve_augment

__all__ = [
    "ARCHITECTURES",
    "build_lightweight_cnn",
    "count_flops",
    "resolve_architecture",
]

#: Architecture presets. ``"paper"`` is Algorithm 1 of Alkhouli & Joshi:
#: three Conv2D(64, 6x6, ReLU), two MaxPooling2D(2x2), Flatten, Dense(128,
#: ReLU), Dropout(0.1), BatchNormalization, Dense(n_classes, softmax).
#: ``"light"`` pools between the convolutions, uses 3x3 kernels with fewer
#: filters and global average pooling instead of Flatten: about 70 times
#: fewer FLOPs at 64x64 pixels and far fewer parameters. ``"wide"`` is
#: ``"light"`` with twice its filters (32, 64 and 128): the network of
#: :func:`skleuk.make_pipeline`'s default recipe, chosen on real cells (about
#: 4 times the FLOPs of ``"light"``, still 20 times fewer than the paper's).
ARCHITECTURES = {
    "paper": {
        "n_conv_layers": 3,
        "filters": 64,
        "kernel_size": 6,
        "padding": "valid",
        "pooling": "end",
        "n_pool_layers": 2,
        "pool_size": 2,
        "global_pooling": False,
        "dense_units": 128,
        "dropout": 0.1,
        "batch_norm": True,
        "batch_norm_momentum": 0.9,
        "conv_batch_norm": False,
    },
    "light": {
        "n_conv_layers": 3,
        "filters": (16, 32, 64),
        "kernel_size": 3,
        "padding": "same",
        "pooling": "interleaved",
        "n_pool_layers": 2,
        "pool_size": 2,
        "global_pooling": True,
        "dense_units": 64,
        "dropout": 0.1,
        "batch_norm": True,
        "batch_norm_momentum": 0.9,
        "conv_batch_norm": False,
    },
}
ARCHITECTURES["wide"] = {**ARCHITECTURES["light"], "filters": (32, 64, 128)}

ARCHITECTURE_PARAMS = tuple(ARCHITECTURES["paper"])


def _is_int(x, lo=None):
    return (
        isinstance(x, Integral)
        and not isinstance(x, bool)
        and (lo is None or x >= lo)
    )


def _resolve_filters(filters, n_conv, from_preset):
    """``filters`` as a tuple with one entry per convolution."""
    if _is_int(filters, 1):
        return (int(filters),) * n_conv
    if isinstance(filters, (tuple, list)) and all(_is_int(f, 1) for f in filters):
        filters = tuple(int(f) for f in filters)
        if len(filters) == n_conv:
            return filters
        if from_preset and len(filters) > 0:
            # Preset filters with a different depth: repeat the last one.
            return (filters + (filters[-1],) * n_conv)[:n_conv]
        raise InvalidParameterError(
            f"filters has {len(filters)} entries but n_conv_layers="
            f"{n_conv}; give one int or one entry per convolution."
        )
    raise InvalidParameterError(
        f"filters must be an int >= 1 or a sequence of them, got {filters!r}."
    )


def _pool_after(pooling, n_conv, n_pool_layers):
    """Number of convolutions before each pooling layer."""
    if pooling == "end":
        pool_after = (n_conv,) * n_pool_layers
    elif pooling == "interleaved":
        pool_after = tuple(range(1, n_conv))
    elif isinstance(pooling, (tuple, list)) and all(_is_int(p, 0) for p in pooling):
        pool_after = tuple(sorted(int(p) for p in pooling))
        if pool_after and pool_after[-1] > n_conv:
            raise InvalidParameterError(
                f"pooling={tuple(pooling)!r} places a pooling layer after "
                f"convolution {pool_after[-1]}, but there are only {n_conv}."
            )
    else:
        raise InvalidParameterError(
            "pooling must be 'end', 'interleaved' or a sequence of ints (the "
            f"number of convolutions before each pooling layer), got {pooling!r}."
        )
    return pool_after


def resolve_architecture(architecture="paper", **overrides):
    """Return the full layer specification of an architecture.

    Parameters
    ----------
    architecture : {"paper", "light", "wide"}, default="paper"
        The preset.
    **overrides : dict
        Values replacing the preset's; ``None`` keeps the preset value. Keys
        are those of :data:`ARCHITECTURES` entries.

    Returns
    -------
    spec : dict
        Validated specification, with ``filters`` expanded to a tuple (one
        entry per convolution) and ``pool_after`` (the number of
        convolutions preceding each pooling layer).

    Raises
    ------
    sklearn.utils._param_validation.InvalidParameterError
        Unknown preset or key, or inconsistent values (a ValueError). This
        is the one place where architecture values are validated.
    """
    if architecture not in ARCHITECTURES:
        raise InvalidParameterError(
            f"architecture must be one of {sorted(ARCHITECTURES)}, got "
            f"{architecture!r}."
        )
    unknown = set(overrides) - set(ARCHITECTURE_PARAMS)
    if unknown:
        raise InvalidParameterError(
            f"Unknown architecture parameter(s): {sorted(unknown)}."
        )
    spec = dict(ARCHITECTURES[architecture])
    spec.update({k: v for k, v in overrides.items() if v is not None})

    n_conv = spec["n_conv_layers"]
    if not _is_int(n_conv, 1):
        raise InvalidParameterError(
            f"n_conv_layers must be an int >= 1, got {n_conv!r}."
        )
    spec["filters"] = _resolve_filters(
        spec["filters"], n_conv, from_preset=overrides.get("filters") is None
    )
    for key in ("kernel_size", "pool_size", "dense_units"):
        lo = 0 if key == "dense_units" else 1
        if not _is_int(spec[key], lo):
            raise InvalidParameterError(
                f"{key} must be an int >= {lo}, got {spec[key]!r}."
            )
    if spec["padding"] not in ("valid", "same"):
        raise InvalidParameterError(
            f"padding must be 'valid' or 'same', got {spec['padding']!r}."
        )
    if not _is_int(spec["n_pool_layers"], 0):
        raise InvalidParameterError(
            f"n_pool_layers must be an int >= 0, got {spec['n_pool_layers']!r}."
        )
    dropout = spec["dropout"]
    if isinstance(dropout, bool) or not isinstance(dropout, Real) or not (
        0 <= dropout < 1
    ):
        raise InvalidParameterError(
            f"dropout must be a float in [0, 1), got {dropout!r}."
        )
    for key in ("global_pooling", "batch_norm", "conv_batch_norm"):
        if not isinstance(spec[key], (bool, np.bool_)):
            raise InvalidParameterError(f"{key} must be a bool, got {spec[key]!r}.")
    momentum = spec["batch_norm_momentum"]
    if isinstance(momentum, bool) or not isinstance(momentum, Real) or not (
        0 <= momentum < 1
    ):
        raise InvalidParameterError(
            f"batch_norm_momentum must be a float in [0, 1), got {momentum!r}."
        )

    spec["pool_after"] = _pool_after(spec["pooling"], n_conv, spec["n_pool_layers"])
    return spec


def _spatial_trace(input_hw, spec):
    """Heights/widths after each conv/pool layer: list of (name, (h, w))."""
    h, w = input_hw
    k, p = spec["kernel_size"], spec["pool_size"]
    trace = []
    pools = list(spec["pool_after"])

    def pool(h, w, i):
        n = sum(1 for name, _ in trace if name.startswith("pooling")) + 1
        trace.append((f"pooling layer {n} (after convolution {i})", (h // p, w // p)))
        return h // p, w // p

    while pools and pools[0] == 0:
        pools.pop(0)
        h, w = pool(h, w, 0)
    for i in range(1, spec["n_conv_layers"] + 1):
        if spec["padding"] == "valid":
            h, w = h - k + 1, w - k + 1
        trace.append((f"convolution {i}", (h, w)))
        while pools and pools[0] == i:
            pools.pop(0)
            h, w = pool(h, w, i)
    return trace


def check_input_size(input_hw, spec):
    """Raise a clear ValueError when images are too small for ``spec``."""
    for name, (h, w) in _spatial_trace(input_hw, spec):
        if h < 1 or w < 1:
            minimum = _min_input_size(spec)
            raise ValueError(
                f"Images of {input_hw[0]}x{input_hw[1]} pixels are too small for "
                f"this network: after {name} the feature maps would be "
                f"{h}x{w}. This architecture needs at least {minimum}x{minimum} "
                "pixels; use larger images (Resizer(size=...)), padding='same', "
                "a smaller kernel_size or fewer convolution/pooling layers."
            )


def _min_input_size(spec):
    size = 1
    while size < 100_000:
        if all(min(hw) >= 1 for _, hw in _spatial_trace((size, size), spec)):
            return size
        size += 1
    return size  # pragma: no cover


def layer_seeds(seed):
    """Per-layer seeds derived from one integer seed, without global draws.

    The ``k``-th value is drawn from ``numpy.random.SeedSequence([seed,
    k])``: a pure function of ``(seed, k)``, so a model built from the same
    seed gets the same initial weights, dropout masks and augmentations in
    any process or thread -- unlike Keras's default, which draws every
    layer's seed from Python's global :mod:`random` (shared with whatever
    else runs in the process, e.g. a Dask worker's event loop).

    Parameters
    ----------
    seed : int or None
        The model's seed. None: yield None forever (Keras's default seeds).

    Yields
    ------
    int or None
        Seeds in ``[0, 2**31 - 1)``, one per random layer, in build order.
    """
    k = 0
    while True:
        if seed is None:
            yield None
        else:
            state = np.random.SeedSequence([int(seed), k]).generate_state(1)[0]
            yield int(state) % (2**31 - 1)
        k += 1


def _conv_stack(x, spec, dtype, init):
    """The convolutions and poolings of ``spec`` applied to ``x``."""
    pools = list(spec["pool_after"])
    n_pool = 0

    def add_pool(x):
        nonlocal n_pool
        n_pool += 1
        return keras.layers.MaxPooling2D(
            pool_size=spec["pool_size"], name=f"pool{n_pool}", dtype=dtype
        )(x)

    while pools and pools[0] == 0:
        pools.pop(0)
        x = add_pool(x)
    conv_bn = spec["conv_batch_norm"]
    for i in range(1, spec["n_conv_layers"] + 1):
        x = keras.layers.Conv2D(
            spec["filters"][i - 1],
            spec["kernel_size"],
            padding=spec["padding"],
            activation=None if conv_bn else "relu",
            use_bias=not conv_bn,
            kernel_initializer=init(),
            name=f"conv{i}",
            dtype=dtype,
        )(x)
        if conv_bn:
            x = keras.layers.BatchNormalization(
                momentum=float(spec["batch_norm_momentum"]),
                name=f"conv{i}_bn",
                dtype=dtype,
            )(x)
            x = keras.layers.ReLU(name=f"conv{i}_relu", dtype=dtype)(x)
        while pools and pools[0] == i:
            pools.pop(0)
            x = add_pool(x)
    return x


def _dense_head(x, spec, n_classes, dtype, init, seeds):
    """Flatten/global pooling, dense, dropout, BatchNorm and the softmax."""
    if spec["global_pooling"]:
        x = keras.layers.GlobalAveragePooling2D(name="global_pool", dtype=dtype)(x)
    else:
        x = keras.layers.Flatten(name="flatten", dtype=dtype)(x)
    if spec["dense_units"]:
        x = keras.layers.Dense(
            spec["dense_units"],
            activation="relu",
            kernel_initializer=init(),
            name="dense",
            dtype=dtype,
        )(x)
    if spec["dropout"]:
        x = keras.layers.Dropout(
            spec["dropout"], seed=next(seeds), name="dropout", dtype=dtype
        )(x)
    if spec["batch_norm"]:
        x = keras.layers.BatchNormalization(
            momentum=float(spec["batch_norm_momentum"]), name="batch_norm", dtype=dtype
        )(x)
    return keras.layers.Dense(
        n_classes,
        activation="softmax",
        kernel_initializer=init(),
        name="probabilities",
        dtype="float32",
    )(x)


def build_lightweight_cnn(
    input_shape,
    n_classes,
    *,
    architecture="paper",
    augment=False,
    dtype_policy=None,
    seed=None,
    name=None,
    **overrides,
):
    """Build the (uncompiled) Keras model of the lightweight CNN.

    Parameters
    ----------
    input_shape : tuple of int
        ``(height, width, channels)`` of one image.
    n_classes : int
        Number of output units (softmax), at least 2.
    architecture : {"paper", "light", "wide"}, default="paper"
        Preset of :data:`ARCHITECTURES`. ``"paper"`` is Algorithm 1 of
        Alkhouli & Joshi.
    augment : bool or dict, default=False
        Training-time augmentation layers placed after the input
        (see :class:`~skleuk.neural_network.LightweightCNNClassifier`).
    dtype_policy : {None, "mixed_bfloat16", "mixed_float16"} or str, default=None
        Keras dtype policy of the hidden layers; the output layer always
        computes in float32. None: float32 everywhere.
    seed : int, default=None
        Seed of every random layer (weight initialisers, dropout,
        augmentation), each layer getting its own seed derived from this one
        (:func:`layer_seeds`): the same ``seed`` builds the same network in
        any process or thread, with no draws from Python's global
        :mod:`random`. None: Keras's default (seeds drawn from the global
        :mod:`random`).
    name : str, default=None
        Model name (default: ``"lightweight_cnn_<architecture>"``).
    **overrides : dict
        Architecture values replacing the preset's (``n_conv_layers``,
        ``filters``, ``kernel_size``, ``padding``, ``pooling``,
        ``n_pool_layers``, ``pool_size``, ``global_pooling``, ``dense_units``,
        ``dropout``, ``batch_norm``, ``batch_norm_momentum``,
        ``conv_batch_norm``); None keeps the preset value.

    Returns
    -------
    model : keras.Model
        A functional model mapping ``(batch, *input_shape)`` float32 images
        to class probabilities.

    Raises
    ------
    ValueError
        Invalid parameters, or images too small for the convolutions and
        poolings (the message gives the minimum size).

    See Also
    --------
    count_flops : Floating-point operations of the model, per image.
    LightweightCNNClassifier : The scikit-learn classifier using this model.

    Examples
    --------
    >>> from skleuk.neural_network import build_lightweight_cnn
    >>> model = build_lightweight_cnn((32, 32, 3), 2)
    >>> for layer in model.layers[1:]:
    ...     print(layer.__class__.__name__, layer.output.shape[1:])
    Conv2D (27, 27, 64)
    Conv2D (22, 22, 64)
    Conv2D (17, 17, 64)
    MaxPooling2D (8, 8, 64)
    MaxPooling2D (4, 4, 64)
    Flatten (1024,)
    Dense (128,)
    Dropout (128,)
    BatchNormalization (128,)
    Dense (2,)
    >>> model.count_params()
    433986
    """
    spec = resolve_architecture(architecture, **overrides)
    input_shape = tuple(int(d) for d in input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"input_shape must be (height, width, channels), got {input_shape!r}."
        )
    if not _is_int(n_classes, 2):
        raise ValueError(f"n_classes must be an int >= 2, got {n_classes!r}.")
    check_input_size(input_shape[:2], spec)
    strengths = resolve_augment(augment)
    dtype = dtype_policy if dtype_policy is not None else "float32"

    seeds = layer_seeds(seed)

    def init():
        # Keras's default kernel initialiser, with an explicit seed.
        return keras.initializers.GlorotUniform(seed=next(seeds))

    inputs = keras.Input(shape=input_shape, name="images", dtype="float32")
    x = inputs
    for layer in augmentation_layers(strengths, seeds=seeds):
        x = layer(x)

    x = _conv_stack(x, spec, dtype, init)
    outputs = _dense_head(x, spec, n_classes, dtype, init, seeds)
    return keras.Model(
        inputs, outputs, name=name or f"lightweight_cnn_{architecture}"
    )


def _layer_flops(layer):
    """2 x multiply-accumulates of one Conv/Dense layer, per image."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        out = layer.output.shape
        kh, kw = layer.kernel_size
        return 2 * out[1] * out[2] * out[3] * kh * kw
    if isinstance(layer, keras.layers.SeparableConv2D):
        in_c = layer.input.shape[-1]
        out = layer.output.shape
        kh, kw = layer.kernel_size
        depth = in_c * layer.depth_multiplier
        # depthwise on the input grid (strides folded into the output grid)
        dw = 2 * out[1] * out[2] * depth * kh * kw
        pw = 2 * out[1] * out[2] * depth * out[3]
        return dw + pw
    if isinstance(layer, keras.layers.Conv2D):
        in_c = layer.input.shape[-1]
        out = layer.output.shape
        kh, kw = layer.kernel_size
        groups = getattr(layer, "groups", 1) or 1
        return 2 * out[1] * out[2] * out[3] * kh * kw * (in_c // groups)
    if isinstance(layer, keras.layers.Dense):
        in_shape = layer.input.shape
        positions = int(np.prod([d for d in in_shape[1:-1]], dtype=np.int64))
        return 2 * positions * in_shape[-1] * layer.units
    return 0


def count_flops(model):
    """Count the floating-point operations of one forward pass, per image.

    Sums ``2 x (multiply-accumulates)`` of every ``Conv2D``,
    ``DepthwiseConv2D``, ``SeparableConv2D`` and ``Dense`` layer, the usual
    convention for reporting the cost of a CNN. Bias additions, activations,
    pooling, normalisation and the augmentation layers (inactive at
    inference) are not counted; they are a small fraction of the total.

    Parameters
    ----------
    model : keras.Model
        A built model with known (non-None) spatial dimensions, e.g. from
        :func:`~skleuk.neural_network.build_lightweight_cnn` or a fitted
        classifier's ``model_``.
        Nested models are counted recursively.

    Returns
    -------
    flops : int
        Floating-point operations for one image.

    Raises
    ------
    ValueError
        If the model has not been built or has unknown spatial dimensions.

    See Also
    --------
    build_lightweight_cnn : Builds the models whose cost this measures.

    Examples
    --------
    A single 3x3 convolution with 4 filters on an 8x8 RGB image (``same``
    padding) has ``8 * 8 * 4`` outputs of ``3 * 3 * 3`` multiply-adds each:

    >>> import keras
    >>> from skleuk.neural_network import count_flops
    >>> inputs = keras.Input((8, 8, 3))
    >>> outputs = keras.layers.Conv2D(4, 3, padding="same")(inputs)
    >>> count_flops(keras.Model(inputs, outputs)) == 2 * 8 * 8 * 4 * 3 * 3 * 3
    True
    """
    if not getattr(model, "built", False):
        raise ValueError("count_flops needs a built model (call it on data first).")
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += count_flops(layer)
            continue
        if not isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense,
                                  keras.layers.DepthwiseConv2D,
                                  keras.layers.SeparableConv2D)):
            continue
        try:
            shapes = (tuple(layer.input.shape), tuple(layer.output.shape))
        except (AttributeError, ValueError) as exc:  # no symbolic input/output
            raise ValueError(
                f"count_flops could not read the shapes of layer {layer.name!r}; "
                "use a functional model built on a keras.Input with a fixed "
                "image size."
            ) from exc
        if any(d is None for shape in shapes for d in shape[1:]):
            raise ValueError(
                f"Layer {layer.name!r} has unknown spatial dimensions "
                f"{shapes[1]}; build the model for a fixed image size."
            )
        total += int(_layer_flops(layer))
    return int(total)
