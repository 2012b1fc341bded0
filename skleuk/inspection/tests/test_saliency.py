"""Grad-CAM saliency: shape, geometry and the Adebayo et al. sanity check."""

import copy

import numpy as np
import pytest
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator

from skleuk import make_pipeline
from skleuk.inspection import saliency
from skleuk.neural_network.tests._data import TINY_CNN

TINY = {f"cnn__{k}": v for k, v in TINY_CNN.items()}


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(n_samples=24, image_size=48, random_state=0,
                             return_X_y=True)


@pytest.fixture(scope="module")
def fitted(smears):
    X, y = smears
    return make_pipeline(image_size=16, crop__crop_size=24, cnn__random_state=0,
                         **TINY).fit(X, y)


def test_maps_have_the_original_shape_and_live_in_the_crop_window(smears, fitted):
    X, _ = smears
    maps = saliency(fitted, X[:6])
    assert maps.shape == (6, 48, 48)
    assert maps.dtype == np.float32
    assert maps.min() >= 0 and maps.max() <= 1
    # the crop window, recomputed from the cropper on its own input
    crop = fitted.named_steps["crop"]
    before = [name for name, _ in fitted.steps].index("crop")
    crop_in = fitted[:before].transform(X[:6]) if before else X[:6]
    centers, _ = crop.locate(crop_in)
    start = np.floor(centers - (24 - 1) / 2 + 0.5).astype(int)
    for m, (r0, c0) in zip(maps, start, strict=True):
        window = np.zeros_like(m, dtype=bool)
        window[max(r0, 0):r0 + 24, max(c0, 0):c0 + 24] = True
        assert np.all(m[~window] == 0)        # never outside what the CNN saw
        if m.max() > 0:
            assert m[window].max() > 0.5          # the peak survives resampling


def test_maps_of_images_of_different_sizes_come_back_as_a_list(smears, fitted):
    X, _ = smears
    images = [X[0], X[1][:40, :44]]
    maps = saliency(fitted, images)
    assert isinstance(maps, list)
    assert [m.shape for m in maps] == [(48, 48), (40, 44)]


def test_target_and_wrappers(smears, fitted):
    X, y = smears
    by_pred = saliency(fitted, X[:4])
    pred = fitted.predict(X[:4])
    np.testing.assert_allclose(saliency(fitted, X[:4], target=pred), by_pred)
    other = saliency(fitted, X[:4], target=1 - pred)
    assert not np.allclose(other, by_pred)
    # meta-estimators around the fitted pipeline
    cal = CalibratedClassifierCV(FrozenEstimator(fitted)).fit(X, y)
    np.testing.assert_allclose(saliency(cal, X[:4]), by_pred)
    with pytest.raises(ValueError, match="not classes"):
        saliency(fitted, X[:2], target="ALL")
    with pytest.raises(ValueError, match="no layer 'nope'"):
        saliency(fitted, X[:2], layer="nope")


def test_unfitted_pipeline_is_refused(smears):
    X, _ = smears
    with pytest.raises(NotFittedError):
        saliency(make_pipeline(**TINY), X[:2])
    with pytest.raises(TypeError, match="Keras classifier"):
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import FunctionTransformer

        flat = FunctionTransformer(lambda Z: Z.reshape(len(Z), -1))
        pipe = Pipeline([("flat", flat), ("lr", LogisticRegression())])
        saliency(pipe.fit(X, np.arange(len(X)) % 2), X[:2])


def test_randomised_weights_change_the_map(smears, fitted):
    """Model-parameter randomisation test (Adebayo et al. 2018)."""
    X, _ = smears
    trained = saliency(fitted, X[:8], target=np.ones(8, dtype=int))
    randomised = copy.deepcopy(fitted)  # same architecture, no refit...
    model = randomised.named_steps["cnn"].model_
    rng = np.random.default_rng(123)
    import keras

    for layer in model.layers:             # ...all conv/dense weights re-drawn
        weights = layer.get_weights()
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            layer.set_weights([rng.normal(0, 0.3, w.shape).astype(w.dtype)
                               for w in weights])
    rand = saliency(randomised, X[:8], target=np.ones(8, dtype=int))
    assert trained.shape == rand.shape
    corr = np.corrcoef(trained.ravel(), rand.ravel())[0, 1]
    assert np.mean(np.abs(trained - rand)) > 0.02
    assert not corr > 0.95
