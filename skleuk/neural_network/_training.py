"""What one fit of the CNN does beyond SciKeras's: seeding, the optimizer's
learning-rate schedule, mixed precision, the early-stopping split and
BatchNorm recalibration.

Seeding: TensorFlow and Keras keep their global seeds in private modules
(``tensorflow.python.eager.context``, ``keras.src.backend.common.global_state``);
reading them is the only way to restore the caller's state after a seeded
fit. Everything in skleuk that touches them is in this module.
"""

from __future__ import annotations

import contextlib
import random
import threading
from numbers import Real
from pathlib import Path

import keras
import numpy as np
from sklearn.model_selection import train_test_split

__all__ = [
    "BF16_CPU_FLAGS",
    "cpu_has_native_bf16",
    "early_stopping_split",
    "fit_seed",
    "make_optimizer",
    "recalibrate_batch_norm",
    "resolve_dtype_policy",
    "seed_for",
    "seeded",
]


# ----------------------------------------------------------------------------
# seeding
# ----------------------------------------------------------------------------
def _tf_state():
    import tensorflow as tf
    from tensorflow.python.eager import context
    from tensorflow.python.framework import config as tf_config

    return tf, context, tf_config


# The seed of the fit running in this thread: models built during it derive
# every layer's seed from it (no draws from Python's global ``random``).
_FIT_SEED = threading.local()


def fit_seed():
    """Seed of the seeded fit running in this thread (None outside one)."""
    return getattr(_FIT_SEED, "value", None)


def seed_for(random_state, offset=0):
    """Integer seed of one fit from ``random_state`` (None stays None).

    A RandomState instance gives a new seed at every call; ``offset``
    (the first epoch of a continued fit) shifts it, so that ``partial_fit``
    calls do not repeat the same shuffles and dropout masks.
    """
    if random_state is None:
        return None
    if isinstance(random_state, np.random.RandomState):
        base = int(random_state.randint(np.iinfo(np.int32).max))
    else:
        base = int(random_state)
    return (base + 1_000_003 * int(offset)) % (2**31 - 1)


@contextlib.contextmanager
def seeded(seed):
    """Seed Python, NumPy, TensorFlow and Keras; enable TF op determinism.

    Everything global is restored on exit, so seeding one fit does not
    change the random streams (or the determinism flag) of the caller.
    Models built inside get per-layer seeds derived from ``seed``
    (:func:`~skleuk.neural_network._architectures.layer_seeds`), so their
    initial weights do not depend on Python's global ``random``, which other
    threads (a Dask worker's event loop) may draw from at the same time.
    """
    previous = fit_seed()
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


# ----------------------------------------------------------------------------
# optimizer and learning-rate schedule
# ----------------------------------------------------------------------------
def _schedule(lr, *, n_samples, lr_schedule, batch_size, epochs, warmup):
    """The learning rate (a float or a Keras schedule) of one fit."""
    if lr_schedule == "constant":
        return lr
    batch = batch_size or 32
    total = max(1, -(-int(n_samples) // batch) * int(epochs))
    warm = int(round(warmup * total))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=0.0 if warm else float(lr),
        decay_steps=max(1, total - warm),
        alpha=0.0,
        warmup_target=float(lr) if warm else None,
        warmup_steps=warm,
    )


def make_optimizer(
    optimizer, *, learning_rate=None, weight_decay=None, n_samples=1,
    lr_schedule="constant", batch_size=None, epochs=1, warmup=0.0,
):
    """A new optimizer for one fit: ``optimizer``'s copy with the fit's rate.

    Parameters
    ----------
    optimizer : keras.optimizers.Optimizer
        The optimizer SciKeras built from ``optimizer`` and the
        ``optimizer__<arg>`` parameters (or the user's instance). It is
        copied through its config, so fits never share optimizer state.
    learning_rate : float or None, default=None
        Base rate replacing the optimizer's; None keeps the optimizer's
        (its default, or ``optimizer__learning_rate``).
    weight_decay : float or None, default=None
        Decoupled weight decay; None keeps the optimizer's.
    n_samples : int, default=1
        Training images of the fit (the schedule counts optimizer steps).
    lr_schedule : {"constant", "cosine"}, default="constant"
        The schedule; see ``LightweightCNNClassifier``.
    batch_size : int or None, default=None
        Mini-batch size (None: Keras's 32).
    epochs : int, default=1
        Epochs of the fit.
    warmup : float, default=0.0
        Share of the steps used for the linear warm-up of ``"cosine"``.

    Returns
    -------
    optimizer : keras.optimizers.Optimizer
    """
    config = optimizer.get_config()
    lr = config.get("learning_rate") if learning_rate is None else learning_rate
    if isinstance(lr, Real):  # not a schedule given as optimizer__learning_rate
        config["learning_rate"] = _schedule(
            lr, n_samples=n_samples, lr_schedule=lr_schedule,
            batch_size=batch_size, epochs=epochs, warmup=warmup,
        )
    if weight_decay is not None:
        config["weight_decay"] = float(weight_decay)
    return type(optimizer).from_config(config)


# ----------------------------------------------------------------------------
# mixed precision
# ----------------------------------------------------------------------------
#: ``/proc/cpuinfo`` flags of native bfloat16 arithmetic: Intel AMX tiles
#: (Sapphire Rapids and later) or AVX-512 BF16 dot products (Cooper Lake,
#: AMD Zen 4 and later).
BF16_CPU_FLAGS = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_has_native_bf16(cpuinfo="/proc/cpuinfo"):
    """Whether the CPU has native bfloat16 units (AMX or AVX-512 BF16).

    Reads the ``flags`` line of ``/proc/cpuinfo`` (Linux). On CPUs without
    these units bfloat16 is emulated and slower than float32, so
    ``dtype_policy="auto"`` uses it only where this returns True.

    Parameters
    ----------
    cpuinfo : str or path-like, default="/proc/cpuinfo"
        The file to read (another path in tests).

    Returns
    -------
    bool
        True when the first ``flags`` line lists ``amx_bf16`` or
        ``avx512_bf16``; False otherwise, and when the file cannot be read
        (not Linux).

    Examples
    --------
    >>> from skleuk.neural_network import cpu_has_native_bf16
    >>> isinstance(cpu_has_native_bf16(), bool)
    True
    """
    try:
        text = Path(cpuinfo).read_text(errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        key, sep, value = line.partition(":")
        if sep and key.strip() == "flags":
            return bool(BF16_CPU_FLAGS & set(value.split()))
    return False


def resolve_dtype_policy(dtype_policy, cpuinfo="/proc/cpuinfo"):
    """The Keras dtype policy that ``dtype_policy`` stands for on this CPU.

    Parameters
    ----------
    dtype_policy : {None, "auto", "float32", "mixed_bfloat16", "mixed_float16"}
        ``"auto"``: ``"mixed_bfloat16"`` where :func:`cpu_has_native_bf16`,
        else ``"float32"``. None: ``"float32"``. Other values are returned
        unchanged.
    cpuinfo : str or path-like, default="/proc/cpuinfo"
        Passed to :func:`cpu_has_native_bf16`.

    Returns
    -------
    str
        A Keras dtype policy name.

    Examples
    --------
    >>> from skleuk.neural_network._training import resolve_dtype_policy
    >>> resolve_dtype_policy(None)
    'float32'
    >>> resolve_dtype_policy("auto") in ("float32", "mixed_bfloat16")
    True
    """
    if dtype_policy is None:
        return "float32"
    if dtype_policy == "auto":
        return "mixed_bfloat16" if cpu_has_native_bf16(cpuinfo) else "float32"
    return dtype_policy


# ----------------------------------------------------------------------------
# early stopping and BatchNorm recalibration
# ----------------------------------------------------------------------------
def early_stopping_split(codes, fraction, seed):
    """Sorted ``(train, validation)`` indices: a stratified ``fraction``.

    Parameters
    ----------
    codes : ndarray of shape (n,)
        Class of each training image (an index into ``classes_``).
    fraction : float
        Share held out for validation.
    seed : int or None
        Seed of the split (the fit's).
    """
    n = codes.shape[0]
    try:
        train, val = train_test_split(
            np.arange(n), test_size=fraction, stratify=codes, random_state=seed
        )
    except ValueError as exc:
        raise ValueError(
            f"early_stopping=True could not hold out a stratified "
            f"validation_fraction={fraction} of {n} training images ({exc}). "
            "Use more images, a larger validation_fraction, or "
            "early_stopping=False."
        ) from None
    return np.sort(train), np.sort(val)


def _channel_moments(sub, X, axis, step):
    """Per-channel mean and variance of ``sub(X)`` in inference mode."""
    n = 0
    total = total_sq = None
    for start in range(0, X.shape[0], step):
        a = np.asarray(sub(X[start : start + step], training=False))
        a = a.astype(np.float64)
        channel = axis % a.ndim
        axes = tuple(i for i in range(a.ndim) if i != channel)
        if total is None:
            total = np.zeros(a.shape[channel])
            total_sq = np.zeros(a.shape[channel])
        total += a.sum(axis=axes)
        total_sq += np.square(a).sum(axis=axes)
        n += int(np.prod([a.shape[i] for i in axes]))
    mean = total / n
    return mean, np.maximum(total_sq / n - np.square(mean), 0.0)


def recalibrate_batch_norm(model, X, batch_size=None):
    """Set every BatchNormalization layer's statistics to their exact values.

    The moving mean and variance of each layer become the statistics of its
    inputs over ``X``, computed in inference mode with the current weights,
    layer after layer (later layers see recalibrated earlier ones).

    Parameters
    ----------
    model : keras.Model
        A functional model; changed in place.
    X : ndarray of shape (n_images, height, width, 3)
        The training images, as the model takes them.
    batch_size : int, default=None
        The fit's batch size; the forward passes use at least 256.
    """
    step = max(batch_size or 32, 256)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        sub = keras.Model(model.inputs[0], layer.input)
        mean, var = _channel_moments(sub, X, layer.axis, step)
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(var.astype(layer.moving_variance.dtype))
