"""RandomDihedral's one-gather path gives the images of its selections, bit for bit."""

import keras
import numpy as np
import pytest
import tensorflow as tf
from keras import ops

from skleuk.neural_network import RandomDihedral


def _by_selection(layer, x, bits):
    """The images of flips and a transpose chosen by ``bits`` (the reference)."""

    def pick(i):
        return ops.reshape(bits[:, i], (-1, 1, 1, 1))

    if layer.flip:
        x = ops.where(pick(0), ops.flip(x, axis=1), x)
        x = ops.where(pick(1), ops.flip(x, axis=2), x)
    elif layer.rotate:
        x = ops.where(pick(0), ops.flip(ops.flip(x, axis=1), axis=2), x)
    if layer.rotate and x.shape[1] == x.shape[2]:
        t = ops.transpose(x, (0, 2, 1, 3))
        if not layer.flip:
            t = ops.flip(t, axis=1)
        x = ops.where(pick(2), t, x)
    return x


@pytest.mark.parametrize("flip, rotate", [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("shape", [(5, 5), (4, 6)])
def test_gather_equals_the_selections(flip, rotate, shape):
    x = tf.constant(
        np.random.default_rng(0).standard_normal((64, *shape, 3)), tf.float32
    )
    layer = RandomDihedral(flip=flip, rotate=rotate, seed=3)
    twin = keras.random.SeedGenerator(3)  # the layer's stream, drawn again
    seen = set()
    for _ in range(3):
        got = layer(x, training=True).numpy()
        bits = keras.random.uniform((64, 3), seed=twin) < 0.5
        want = _by_selection(layer, x, bits).numpy()
        np.testing.assert_array_equal(got, want)
        seen |= {v.tobytes() for v in got[:, :, :, 0]}
    # the images were transformed (several distinct group elements appeared)
    assert len(seen) > 64


def test_unknown_size_takes_the_selections():
    layer = RandomDihedral(seed=0)
    f = tf.function(lambda x: layer(x, training=True),
                    input_signature=[tf.TensorSpec((None, None, None, 3))])
    x = np.random.default_rng(1).standard_normal((8, 6, 6, 3)).astype("float32")
    out = f(x).numpy()
    assert out.shape == x.shape
    np.testing.assert_allclose(np.sort(out.ravel()), np.sort(x.ravel()))
