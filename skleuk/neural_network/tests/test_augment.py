import keras
import numpy as np
import pytest

from skleuk.neural_network import (
    AUGMENT_DEFAULTS,
    RandomColorJitter,
    RandomDihedral,
)
from skleuk.neural_network._augment import augmentation_layers, resolve_augment


def _dihedral(img):
    """The 8 images of the symmetry group of the square applied to ``img``."""
    out = []
    for t in (img, np.transpose(img, (1, 0, 2))):
        out += [t, t[::-1], t[:, ::-1], t[::-1, ::-1]]
    return out


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    return rng.random((64, 6, 6, 3)).astype(np.float32)


@pytest.mark.parametrize("layer_cls", [RandomDihedral, RandomColorJitter])
def test_inference_is_identity(layer_cls, batch):
    layer = layer_cls(seed=1)
    for training in (False, None):
        out = keras.ops.convert_to_numpy(layer(batch, training=training))
        np.testing.assert_array_equal(out, batch)


def test_dihedral_outputs_are_symmetries_and_cover_the_group(batch):
    x = np.repeat(batch[:1], 256, axis=0)
    out = keras.ops.convert_to_numpy(RandomDihedral(seed=3)(x, training=True))
    group = _dihedral(x[0])
    seen = set()
    for img in out:
        matches = [i for i, g in enumerate(group) if np.array_equal(g, img)]
        assert len(matches) == 1
        seen.add(matches[0])
    assert seen == set(range(8))


def test_rotate_only_gives_the_four_rotations(batch):
    x = np.repeat(batch[:1], 128, axis=0)
    layer = RandomDihedral(flip=False, rotate=True, seed=0)
    out = keras.ops.convert_to_numpy(layer(x, training=True))
    rotations = [np.rot90(x[0], k, axes=(0, 1)) for k in range(4)]
    seen = set()
    for img in out:
        (k,) = [k for k, r in enumerate(rotations) if np.array_equal(r, img)]
        seen.add(k)
    assert seen == {0, 1, 2, 3}


def test_non_square_images_keep_their_shape():
    x = np.random.default_rng(0).random((16, 4, 6, 3)).astype(np.float32)
    out = RandomDihedral(seed=0)(x, training=True)
    assert tuple(out.shape) == x.shape


def test_color_jitter_changes_colour_but_keeps_grey_grey():
    rng = np.random.default_rng(0)
    grey = np.repeat(rng.random((32, 5, 5, 1)), 3, axis=-1).astype(np.float32)
    layer = RandomColorJitter(brightness=0.0, contrast=0.0, hue=0.1, seed=0)
    out = keras.ops.convert_to_numpy(layer(grey, training=True))
    np.testing.assert_allclose(out, grey, atol=1e-5)  # hue rotation fixes grey
    colour = rng.random((32, 5, 5, 3)).astype(np.float32)
    out = keras.ops.convert_to_numpy(layer(colour, training=True))
    assert not np.allclose(out, colour)
    # a rotation about the grey axis keeps the pixel sum and the norm
    np.testing.assert_allclose(out.sum(-1), colour.sum(-1), atol=1e-4)
    np.testing.assert_allclose(
        np.linalg.norm(out, axis=-1), np.linalg.norm(colour, axis=-1), atol=1e-4
    )


def test_brightness_and_contrast_ranges(batch):
    layer = RandomColorJitter(brightness=0.2, contrast=0.0, hue=0.0, seed=0)
    out = keras.ops.convert_to_numpy(layer(batch, training=True))
    shift = (out - batch).reshape(len(batch), -1)
    np.testing.assert_allclose(shift, shift[:, :1].repeat(shift.shape[1], 1), atol=1e-5)
    assert np.all(np.abs(shift) <= 0.2 + 1e-6)
    layer = RandomColorJitter(brightness=0.0, contrast=0.3, hue=0.0, seed=0)
    out = keras.ops.convert_to_numpy(layer(batch, training=True))
    mean = batch.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, atol=1e-5)
    ratio = (out - mean)[..., 0] / (batch - mean)[..., 0]
    assert np.all((ratio > 0.7 - 1e-3) & (ratio < 1.3 + 1e-3))


@pytest.mark.parametrize("layer_cls", [RandomDihedral, RandomColorJitter])
def test_layers_serialise(layer_cls):
    layer = layer_cls(seed=5, name="aug")
    clone = layer_cls.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(layer)
    )
    assert type(restored) is layer_cls


def test_resolve_augment():
    assert resolve_augment(False) is None
    assert resolve_augment(None) is None
    assert resolve_augment(True) == AUGMENT_DEFAULTS
    assert resolve_augment({"hue": 0.0})["hue"] == 0.0
    assert resolve_augment(
        {"flip": False, "rotate": False, "brightness": 0, "contrast": 0, "hue": 0}
    ) is None
    with pytest.raises(ValueError, match="Unknown augmentation key"):
        resolve_augment({"zoom": 0.1})
    with pytest.raises(ValueError, match="hue"):
        resolve_augment({"hue": 2.0})
    with pytest.raises(ValueError, match="flip"):
        resolve_augment({"flip": 0.5})
    with pytest.raises(TypeError):
        resolve_augment("yes")


def test_augmentation_layers():
    assert augmentation_layers(None) == []
    layers = augmentation_layers(resolve_augment(True))
    assert [type(la) for la in layers] == [RandomDihedral, RandomColorJitter]
    layers = augmentation_layers(resolve_augment({"brightness": 0, "contrast": 0,
                                                   "hue": 0}))
    assert [type(la) for la in layers] == [RandomDihedral]
