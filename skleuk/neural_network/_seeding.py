"""Seeding of one CNN fit: Python, NumPy, TensorFlow and Keras, then restored.

TensorFlow and Keras keep their global seeds in private modules
(``tensorflow.python.eager.context``, ``keras.src.backend.common.global_state``):
reading them is the only way to restore the caller's state after a seeded
fit. Everything that touches them is in this module.
"""

from __future__ import annotations

import contextlib
import random
import threading

import keras
import numpy as np

__all__ = ["fit_seed", "seed_for", "seeded"]


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
