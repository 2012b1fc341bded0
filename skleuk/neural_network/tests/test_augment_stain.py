"""RandomStain: another laboratory's stain, focus and camera while training."""

import numpy as np
import pytest

from skleuk.neural_network import (
    AUGMENT_DEFAULTS,
    LightweightCNNClassifier,
    RandomStain,
)
from skleuk.neural_network._augment import augmentation_layers, resolve_augment


def _x(n=4, size=16, seed=0):
    return np.random.default_rng(seed).random((n, size, size, 3)).astype("float32")


def test_inference_is_the_identity_and_training_is_not():
    layer = RandomStain(stain=0.2, blur=1.0, noise=0.1, seed=0)
    x = _x()
    np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
    assert not np.allclose(np.asarray(layer(x, training=True)), x)


def test_stain_moves_the_channels_independently():
    layer = RandomStain(stain=0.5, seed=1)
    x = _x(64)
    out = np.asarray(layer(x, training=True))
    shift = out.mean(axis=(1, 2)) - x.mean(axis=(1, 2))  # (n, 3)
    # per-channel shifts differ within an image (not one brightness shift)
    assert np.mean(np.ptp(shift, axis=1) > 1e-3) > 0.9
    ratio = out.std(axis=(1, 2)) / x.std(axis=(1, 2))
    assert ratio.min() >= 0.5 - 1e-4 and ratio.max() <= 1.5 + 1e-4


def test_blur_smooths_and_keeps_the_mean():
    layer = RandomStain(stain=0.0, blur=2.0, seed=0)
    x = _x(32, 24)
    out = np.asarray(layer(x, training=True))
    rough = lambda z: np.abs(np.diff(z, axis=1)).mean()  # noqa: E731
    assert rough(out) < rough(x)
    np.testing.assert_allclose(out.mean(), x.mean(), atol=0.02)


def test_noise_is_relative_to_the_image_spread():
    layer = RandomStain(stain=0.0, noise=0.5, seed=0)
    x = _x(32) * 0.1 + 0.5  # spread about 0.03
    diff = np.asarray(layer(x, training=True)) - x
    assert 0 < diff.std() < 0.5 * x.std() * 1.5


def test_config_round_trip():
    layer = RandomStain(stain=0.3, blur=1.5, noise=0.2, seed=3, name="s")
    again = RandomStain.from_config(layer.get_config())
    assert (again.stain, again.blur, again.noise, again.seed) == (0.3, 1.5, 0.2, 3)


def test_off_by_default_and_switched_on_by_the_augment_dict():
    assert AUGMENT_DEFAULTS["stain"] == AUGMENT_DEFAULTS["blur"] == 0
    assert AUGMENT_DEFAULTS["noise"] == 0
    assert not any(
        isinstance(la, RandomStain) for la in augmentation_layers(resolve_augment(True))
    )
    layers = augmentation_layers(resolve_augment({"stain": 0.1, "blur": 1.0}))
    (stain,) = [la for la in layers if isinstance(la, RandomStain)]
    assert (stain.stain, stain.blur, stain.noise) == (0.1, 1.0, 0.0)


@pytest.mark.parametrize("key, value", [("stain", 1.5), ("blur", 4.0), ("noise", -0.1)])
def test_out_of_range_strengths_are_refused(key, value):
    with pytest.raises(ValueError, match=key):
        resolve_augment({key: value})


def test_a_classifier_trains_and_saves_with_it(tmp_path):
    import pickle

    X = _x(16, 32)
    y = np.arange(16) % 2
    clf = LightweightCNNClassifier(
        epochs=1,
        batch_size=8,
        random_state=0,
        augment={"stain": 0.1, "blur": 1.0, "noise": 0.05},
    ).fit(X, y)
    kinds = {type(layer) for layer in clf.model_.layers}
    assert RandomStain in kinds
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X), atol=1e-5)
