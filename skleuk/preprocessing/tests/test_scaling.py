"""Tests for ImageScaler."""

import numpy as np
import pytest
from hypothesis import given
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import NotFittedError

from skleuk.preprocessing import ImageScaler
from skleuk.preprocessing.tests._strategies import image_batches


@given(X=image_batches())
def test_unit_is_float32_identity_in_range(X):
    out = ImageScaler().fit(X).transform(X)
    assert out.dtype == np.float32
    assert_array_equal(out, X)
    assert not np.shares_memory(out, X)


def test_unit_scales_integers():
    X = np.array([[[[0, 51, 255]]]], dtype=np.uint8)
    assert_allclose(ImageScaler().fit_transform(X)[0, 0, 0], [0, 0.2, 1])


@given(X=image_batches())
def test_standard_statistics_and_inverse(X):
    est = ImageScaler(method="standard").fit(X)
    flat = X.reshape(-1, 3).astype(np.float64)
    assert_allclose(est.mean_, flat.mean(axis=0), atol=1e-6)
    std = flat.std(axis=0)
    assert_allclose(est.scale_, np.where(std < 1e-6, 1.0, std), rtol=1e-4, atol=1e-5)
    out = est.transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert np.all(np.isfinite(out))
    assert_allclose(out * est.scale_ + est.mean_, X, atol=1e-4)
    assert_array_equal(est.transform(X), out)  # deterministic


def test_standard_transform_is_the_per_channel_formula_exactly():
    rng = np.random.default_rng(3)
    X = rng.random((3, 7, 5, 3), dtype=np.float32)
    est = ImageScaler(method="standard").fit(X[:2])
    expected = (X - est.mean_.astype(np.float32)) * (1.0 / est.scale_).astype(
        np.float32
    )
    assert_array_equal(est.transform(X), expected)
    ragged = est.transform([X[0], X[1, :4]])
    assert_array_equal(ragged[0], expected[0])
    assert_array_equal(ragged[1], expected[1, :4])


def test_standard_output_is_z_scores():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(5, 10, 12, 3), dtype=np.uint8)
    out = ImageScaler(method="standard").fit_transform(X)
    assert_allclose(out.mean(axis=(0, 1, 2)), 0, atol=1e-5)
    assert_allclose(out.std(axis=(0, 1, 2)), 1, atol=1e-4)
    assert out.min() < 0 and out.max() > 1


def test_standard_constant_channel_has_unit_scale():
    X = np.full((2, 4, 4, 3), 0.25, dtype=np.float32)
    X[1, ..., 0] = 0.75
    est = ImageScaler(method="standard").fit(X)
    assert_allclose(est.scale_[1:], 1.0)
    assert_allclose(est.scale_[0], 0.25)
    assert_allclose(est.transform(X)[..., 1:], 0.0)


def test_standard_pools_pixels_of_ragged_lists():
    a = np.zeros((2, 2, 3), dtype=np.float32)
    b = np.ones((4, 4, 3), dtype=np.float32)
    est = ImageScaler(method="standard").fit([a, b])
    assert_allclose(est.mean_, 16 / 20)  # pixels, not images, are pooled
    out = est.transform([a, b])
    assert [o.shape for o in out] == [(2, 2, 3), (4, 4, 3)]


def test_standard_uses_training_statistics_only():
    X_train = np.full((1, 3, 3, 3), 0.5, dtype=np.float32)
    X_train[0, 0] = 0.0
    est = ImageScaler(method="standard").fit(X_train)
    X_test = np.ones((1, 3, 3, 3), dtype=np.float32)
    expected = np.broadcast_to((1 - est.mean_) / est.scale_, X_test.shape)
    assert_allclose(est.transform(X_test), expected, rtol=1e-6)


def test_requires_fit_and_refit_drops_statistics():
    X = np.random.default_rng(0).random((2, 4, 4, 3), dtype=np.float32)
    for method in ("unit", "standard"):
        with pytest.raises(NotFittedError):
            ImageScaler(method=method).transform(X)
    est = ImageScaler(method="standard").fit(X)
    est.set_params(method="unit").fit(X)
    assert not hasattr(est, "mean_") and not hasattr(est, "scale_")


def test_standard_rejects_out_of_range_floats():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        ImageScaler(method="standard").fit(np.full((1, 2, 2, 3), 2.0))
