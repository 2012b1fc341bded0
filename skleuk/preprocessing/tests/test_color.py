"""Tests for ColorNormalizer and the float32 L*a*b* conversion."""

import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from skimage import color
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.datasets import read_image
from skleuk.preprocessing import ColorNormalizer
from skleuk.preprocessing._lab import lab_to_rgb, rgb_to_lab
from skleuk.preprocessing.tests._strategies import image_batches


def _lab_stats(X):
    """Per-image L*a*b* mean and std, in float64 with scikit-image."""
    lab = color.rgb2lab(X.astype(np.float64))
    return lab.mean(axis=(1, 2)), lab.std(axis=(1, 2))


def _smear_like(n, size, seed=0, cast=(1.0, 1.0, 1.0)):
    """Pinkish background with purple blobs: a crude smear, no clipping."""
    rng = np.random.default_rng(seed)
    X = np.empty((n, size, size, 3), dtype=np.float32)
    X[...] = np.array([0.85, 0.72, 0.75], dtype=np.float32)
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        for _ in range(3):
            cy, cx, r = rng.integers(0, size, 2).tolist() + [size // 5]
            blob = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
            X[i][blob] = [0.45, 0.30, 0.60]
    X += rng.normal(0, 0.02, X.shape).astype(np.float32)
    X *= np.asarray(cast, dtype=np.float32)
    return np.clip(X, 0, 1)


# --------------------------------------------------------- Lab conversion


def test_rgb_to_lab_matches_skimage():
    rng = np.random.default_rng(0)
    X = rng.random((4, 9, 11, 3), dtype=np.float32)
    X[0, 0, :6] = [[0, 0, 0], [1, 1, 1], [0.04045, 0.04, 0.041], [1, 0, 0],
                   [0, 1, 0], [0, 0, 1]]
    lab = rgb_to_lab(X)
    assert lab.dtype == np.float32 and lab.shape == X.shape
    assert_allclose(lab, color.rgb2lab(X.astype(np.float64)), atol=5e-4)


@pytest.mark.parametrize("dark_share", [0.0, 0.002, 0.03, 0.5, 1.0])
def test_lab_conversions_match_skimage_with_few_or_many_dark_pixels(dark_share):
    # The linear pieces of the sRGB and L*a*b* curves (dark colours) are
    # added to the few values that need them, or to all when there are many:
    # both ways give scikit-image's result, in both directions.
    rng = np.random.default_rng(2)
    X = rng.uniform(0.1, 1.0, (2, 40, 30, 3)).astype(np.float32)
    dark = rng.random(X.shape) < dark_share
    X[dark] = rng.uniform(0.0, 0.045, dark.sum()).astype(np.float32)
    lab = rgb_to_lab(X)
    assert_allclose(lab, color.rgb2lab(X.astype(np.float64)), atol=5e-4)
    ref_lab = color.rgb2lab(X.astype(np.float64))
    assert_allclose(lab_to_rgb(ref_lab), color.lab2rgb(ref_lab), atol=1e-5)
    assert_allclose(lab_to_rgb(lab), X, atol=2e-5)


def test_lab_to_rgb_matches_skimage_in_gamut():
    rng = np.random.default_rng(1)
    X = rng.random((3, 10, 10, 3))
    lab = color.rgb2lab(X)
    out = lab_to_rgb(lab)
    assert out.dtype == np.float32
    assert_allclose(out, color.lab2rgb(lab), atol=1e-5)
    assert_allclose(out, X, atol=1e-5)


def test_lab_to_rgb_clips_out_of_gamut():
    lab = np.array([[120.0, 0, 0], [-10, 0, 0], [50, 200, -200], [50, -128, 128]])
    out = lab_to_rgb(lab)
    assert np.all((out >= 0) & (out <= 1))
    assert_allclose(out[0], 1.0)
    assert_allclose(out[1], 0.0)


@given(X=image_batches())
def test_lab_round_trip(X):
    assert_allclose(lab_to_rgb(rgb_to_lab(X)), X, atol=2e-5)


# ---------------------------------------------------------- ColorNormalizer


@given(
    X=image_batches(),
    method=st.sampled_from(["reinhard", "histogram", "grayworld"]),
)
def test_normalizer_output_contract(X, method):
    est = ColorNormalizer(method=method).fit(X)
    out = est.transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert_array_equal(est.transform(X), out)  # deterministic


@given(X=image_batches(), data=st.data())
def test_own_statistics_as_reference_is_identity(X, data):
    i = data.draw(st.integers(0, X.shape[0] - 1))
    image = X[i : i + 1]
    by_image = ColorNormalizer(reference=image).fit(X)
    assert_allclose(by_image.transform(image), image, atol=2e-4)
    mean, std = _lab_stats(image)
    by_stats = ColorNormalizer(reference={"mean": mean[0], "std": std[0]}).fit(X)
    assert_allclose(by_stats.transform(image), image, atol=2e-4)


@given(
    seed=st.integers(0, 2**32 - 1),
    shape=st.tuples(st.integers(1, 3), st.integers(6, 24), st.integers(6, 24)),
    ref_mean=st.tuples(st.floats(45, 75), st.floats(-10, 20), st.floats(-15, 10)),
    ref_std=st.tuples(st.floats(1, 6), st.floats(0.5, 4), st.floats(0.5, 4)),
)
def test_maps_channel_statistics_onto_the_reference(seed, shape, ref_mean, ref_std):
    # Mid-tone inputs mapped to a moderate reference: no clipping happens,
    # so every image's L*a*b* mean and std become the reference ones.
    rng = np.random.default_rng(seed)
    base = rng.uniform(0.3, 0.7, size=(shape[0], 1, 1, 3))
    X = (base + rng.uniform(-0.2, 0.2, size=(*shape, 3))).astype(np.float32)
    est = ColorNormalizer(reference={"mean": ref_mean, "std": ref_std}).fit(X)
    out = est.transform(X)
    assert 0 < out.min() and out.max() < 1  # clipping did not bite
    mean, std = _lab_stats(out)
    assert_allclose(mean, np.broadcast_to(ref_mean, mean.shape), atol=0.02)
    assert_allclose(std, np.broadcast_to(ref_std, std.shape), atol=0.02)


@pytest.mark.parametrize("method", ["reinhard", "histogram", "grayworld"])
def test_normalizer_never_writes_over_the_callers_images(method):
    # The Reinhard transform writes its output over the float32 batch that
    # validation made from uint8 images (nobody else holds it); a float32
    # batch passed in is the caller's and stays untouched. Same results.
    X8 = (_smear_like(3, 20, seed=4) * 255).astype(np.uint8)
    X = X8 / np.float32(255)
    X = X.astype(np.float32)
    before = X.copy()
    est = ColorNormalizer(method=method).fit(X)
    out_f = est.transform(X)
    assert_array_equal(X, before)
    assert not np.shares_memory(out_f, X)
    out_8 = est.transform(X8)
    out_ft = ColorNormalizer(method=method).fit_transform(X8)
    for out in (out_f, out_8, out_ft):
        assert type(out) is np.ndarray and out.dtype == np.float32
    assert_allclose(out_8, out_f, atol=1e-6)
    assert_allclose(out_ft, out_f, atol=1e-6)
    as_list = est.transform(list(X))
    assert_allclose(as_list, out_f, atol=1e-6)
    assert_array_equal(X, before)


def test_fit_learns_median_of_per_image_statistics():
    X = _smear_like(5, 20, seed=3)
    X[1] = np.clip(X[1] * 0.8, 0, 1)
    est = ColorNormalizer().fit(X)
    mean, std = _lab_stats(X)
    assert_allclose(est.reference_mean_, np.median(mean, axis=0), atol=1e-3)
    assert_allclose(est.reference_std_, np.median(std, axis=0), atol=1e-3)
    assert est.reference_mean_.shape == est.reference_std_.shape == (3,)


def test_normalization_removes_a_colour_cast():
    X = _smear_like(4, 32, seed=0)
    cast = _smear_like(4, 32, seed=0, cast=(0.8, 0.95, 1.0))
    est = ColorNormalizer().fit(X)
    before = np.abs(cast - X).mean()
    after = np.abs(est.transform(cast) - est.transform(X)).mean()
    assert after < before / 5


def test_reference_from_template_images_ignores_fit_images():
    template = _smear_like(2, 24, seed=5)
    X = _smear_like(3, 16, seed=6, cast=(0.7, 0.9, 1.0))
    a = ColorNormalizer(reference=template).fit(X)
    b = ColorNormalizer().fit(template)
    assert_allclose(a.reference_mean_, b.reference_mean_)
    assert_allclose(a.reference_std_, b.reference_std_)
    # Ragged templates work too (statistics per image, whatever its size).
    ragged = [template[0], template[1, :20, :15]]
    c = ColorNormalizer(reference=ragged).fit(X)
    assert c.reference_mean_.shape == (3,)


def test_constant_image_becomes_reference_colour():
    est = ColorNormalizer(reference={"mean": [60, 20, -10], "std": [5, 5, 5]})
    out = est.fit(np.zeros((1, 4, 4, 3))).transform(np.full((2, 5, 5, 3), 0.3))
    assert_allclose(out, np.broadcast_to(lab_to_rgb([[60, 20, -10]]), out.shape),
                    atol=1e-4)


def test_grey_image_chroma_is_shifted_not_stretched():
    # a*, b* of a grey image are ~0 everywhere: not amplified into noise.
    rng = np.random.default_rng(0)
    gray = np.repeat(rng.random((1, 12, 12, 1), dtype=np.float32), 3, axis=-1)
    est = ColorNormalizer(reference={"mean": [50, 5, 5], "std": [20, 10, 10]})
    out = est.fit(gray).transform(gray)
    lab = color.rgb2lab(out.astype(np.float64))
    assert lab[..., 1].std() < 0.5 and lab[..., 2].std() < 0.5


@given(seed=st.integers(0, 2**32 - 1), gain=st.floats(0.3, 0.9))
def test_histogram_matching_removes_global_colour_differences(seed, gain):
    # Two copies of one image with a different colour cast (a monotone map
    # of each channel) become the same image; every output channel follows
    # the reference distribution.
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(1, 24, 24, 3)).astype(np.uint8)
    cast = (X.astype(np.float64) * [gain, 1.0, gain**0.5]).round().astype(np.uint8)
    ref = rng.integers(0, 256, size=(2, 32, 32, 3)).astype(np.uint8)
    est = ColorNormalizer(method="histogram", reference=ref).fit(X)
    assert est.reference_quantiles_.shape == (3, 256)
    a, b = est.transform(X), est.transform(cast)
    # Levels merged by the cast's rounding move by less than a level or two.
    raw = np.abs(X / 255.0 - cast / 255.0).mean()
    assert np.abs(a - b).mean() < min(0.01, 0.2 * raw)
    out_q = np.quantile(a.reshape(-1, 3), [0.1, 0.5, 0.9], axis=0)
    ref_q = np.quantile(ref.reshape(-1, 3) / 255.0, [0.1, 0.5, 0.9], axis=0)
    assert_allclose(out_q, ref_q, atol=0.08)


def test_histogram_matching_constant_image_and_ties():
    X = _smear_like(2, 16)
    est = ColorNormalizer(method="histogram").fit(X)
    flat = np.full((1, 5, 7, 3), 0.3, dtype=np.float32)
    out = est.transform(flat)
    # Ties stay ties: a constant image stays constant (the reference median).
    assert np.ptp(out.reshape(-1, 3), axis=0).max() == 0
    assert_allclose(out[0, 0, 0], est.reference_quantiles_[:, 127], atol=0.01)
    with pytest.raises(ValueError, match="histogram"):
        ColorNormalizer(method="histogram", reference={"mean": [50, 0, 0],
                        "std": [1, 1, 1]}).fit(X)


def test_grayworld_equalises_channel_means():
    X = _smear_like(3, 20, seed=2, cast=(0.6, 0.7, 0.9))
    est = ColorNormalizer(method="grayworld").fit(X)
    out = est.transform(X)
    means = out.mean(axis=(1, 2))
    assert_allclose(means, means.mean(axis=1, keepdims=True).repeat(3, 1), atol=1e-5)
    assert not hasattr(est, "reference_mean_")
    gray = np.full((1, 4, 4, 3), 0.4, dtype=np.float32)
    assert_allclose(est.transform(gray), gray, atol=1e-6)
    black = np.zeros((1, 4, 4, 3), dtype=np.float32)
    assert_array_equal(est.transform(black), black)


def test_grayworld_is_independent_of_the_fit_data():
    X = _smear_like(3, 16, seed=2)
    a = ColorNormalizer(method="grayworld").fit(X).transform(X)
    b = ColorNormalizer(method="grayworld").fit(X[:1] * 0.5).transform(X)
    assert_array_equal(a, b)


def test_refit_with_other_method_drops_reference():
    X = _smear_like(2, 16)
    est = ColorNormalizer().fit(X)
    assert hasattr(est, "reference_mean_")
    est.set_params(method="grayworld").fit(X)
    assert not hasattr(est, "reference_mean_")


def test_normalizer_requires_fit():
    with pytest.raises(NotFittedError):
        ColorNormalizer().transform(_smear_like(1, 8))
    with pytest.raises(NotFittedError):
        ColorNormalizer(method="grayworld").transform(_smear_like(1, 8))


@pytest.mark.parametrize(
    "reference",
    [
        {"mean": [50, 0, 0]},
        {"mean": [50, 0], "std": [1, 1, 1]},
        {"mean": [50, 0, 0], "std": [1, -1, 1]},
        {"mean": [50, np.nan, 0], "std": [1, 1, 1]},
        {"mean": "abc", "std": [1, 1, 1]},
    ],
)
def test_invalid_reference_dict(reference):
    with pytest.raises(InvalidParameterError, match="reference"):
        ColorNormalizer(reference=reference).fit(_smear_like(1, 8))


def test_invalid_reference_images():
    bad = np.full((1, 4, 4, 3), np.nan)
    with pytest.raises(ValueError, match="reference"):
        ColorNormalizer(reference=bad).fit(_smear_like(1, 8))
    with pytest.raises(TypeError, match="reference"):
        ColorNormalizer(reference=["x.tif"]).fit(_smear_like(1, 8))


def test_normalizer_real_smear_photo():
    # A real BCCD photo shipped with the tests (tests/data/bccd, MIT licence).
    root = Path(__file__).resolve().parents[3]
    path = root / "tests/data/bccd/JPEGImages/BloodImage_00000.jpg"
    image = read_image(path)[::4, ::4]
    X = np.stack([image, (image * [0.85, 1.0, 0.9]).astype(np.uint8)])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = ColorNormalizer().fit(X[:1]).transform(X)
    # The colour-cast copy ends up much closer to the original.
    assert np.abs(out[1] - out[0]).mean() < 0.2 * np.abs(X[1] / 255 - X[0] / 255).mean()


# ------------------------------------ Reinhard against a plain reference


def _reinhard_reference(X, ref_mean, ref_std, min_std=1e-2):
    """Reinhard colour transfer written plainly with scikit-image, in float64:
    per image, L*a*b* statistics, affine map per channel, back to RGB."""
    out = np.empty(X.shape)
    for i, x in enumerate(X.astype(np.float64)):
        lab = color.rgb2lab(x)
        mean, std = lab.mean(axis=(0, 1)), lab.std(axis=(0, 1))
        gain = np.where(std > min_std, ref_std / np.maximum(std, min_std), 1.0)
        out[i] = np.clip(color.lab2rgb((lab - mean) * gain + ref_mean), 0, 1)
    return out


@pytest.mark.parametrize("n, size", [(1, 33), (30, 64), (3, 257)])
def test_reinhard_matches_a_plain_skimage_reference(n, size):
    # Several images per block and one image over several pixel chunks; the
    # output buffer reused (uint8 input) or fresh (float input).
    X = _smear_like(n, size, seed=size, cast=(1.0, 0.9, 1.1))
    X[0, :4, :4] = 0.001  # a few dark pixels: the curves' linear pieces
    norm = ColorNormalizer().fit(_smear_like(4, 40, seed=1))
    expected = _reinhard_reference(X, norm.reference_mean_, norm.reference_std_)
    assert_allclose(norm.transform(X), expected, atol=1e-5)
    X8 = (X * 255).round().astype(np.uint8)
    expected8 = _reinhard_reference(X8 / 255.0, norm.reference_mean_,
                                    norm.reference_std_)
    assert_allclose(norm.transform(X8), expected8, atol=1e-5)
    # fit_transform: the images' own median statistics as the reference.
    fitted = ColorNormalizer()
    out = fitted.fit_transform(X)
    assert_allclose(out, _reinhard_reference(X, fitted.reference_mean_,
                                             fitted.reference_std_), atol=1e-5)
