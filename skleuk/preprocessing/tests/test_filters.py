"""Tests for LaplacianSharpener and NeighborhoodAverager."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from numpy.testing import assert_allclose, assert_array_equal
from scipy import ndimage as ndi
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.preprocessing import LaplacianSharpener, NeighborhoodAverager
from skleuk.preprocessing._median import _median_plan, median_filter
from skleuk.preprocessing.tests._strategies import image_batches
from skleuk.utils.validation import check_images

MODES = ["reflect", "mirror", "nearest", "wrap"]


@st.composite
def constant_batches(draw):
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 20)),
             draw(st.integers(1, 20)))
    colors = draw(arrays(np.float32, (shape[0], 1, 1, 3),
                         elements=st.floats(0, 1, width=32)))
    return np.ascontiguousarray(np.broadcast_to(colors, (*shape, 3)))


def _random_images(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


def _sharpen_reference(X, strength, kernel, mode):
    """y - c * laplacian(y), per image and channel, in float64 with scipy."""
    k = np.asarray(kernel, dtype=np.float64)[None, :, :, None]
    lap = ndi.correlate(X.astype(np.float64), k, mode=mode)
    return np.clip(X - strength * lap, 0, 1)


# --------------------------------------------------------- LaplacianSharpener


@given(X=image_batches(), strength=st.floats(0, 3),
       kernel=st.sampled_from(["4-neighbour", "8-neighbour"]),
       mode=st.sampled_from(MODES))
def test_sharpener_output_contract(X, strength, kernel, mode):
    est = LaplacianSharpener(strength=strength, kernel=kernel, mode=mode)
    out = est.fit_transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert_array_equal(est.transform(X), out)  # deterministic
    k = ([[0, 1, 0], [1, -4, 1], [0, 1, 0]] if kernel == "4-neighbour"
         else [[1, 1, 1], [1, -8, 1], [1, 1, 1]])
    assert_allclose(out, _sharpen_reference(X, strength, k, mode), atol=2e-5)


@given(X=constant_batches(), strength=st.floats(0, 5),
       kernel=st.sampled_from(["4-neighbour", "8-neighbour"]),
       mode=st.sampled_from(MODES))
def test_sharpener_keeps_constant_images(X, strength, kernel, mode):
    out = LaplacianSharpener(strength=strength, kernel=kernel, mode=mode
                             ).fit_transform(X)
    assert_allclose(out, X, atol=1e-5)


@given(X=image_batches(), kernel=st.sampled_from(["4-neighbour", "8-neighbour"]),
       mode=st.sampled_from(MODES))
def test_sharpener_commutes_with_flips_and_rotations(X, kernel, mode):
    est = LaplacianSharpener(strength=0.7, kernel=kernel, mode=mode)
    out = est.fit_transform(X)
    assert_allclose(est.transform(X[:, ::-1]), out[:, ::-1], atol=1e-6)
    assert_allclose(est.transform(X[:, :, ::-1]), out[:, :, ::-1], atol=1e-6)
    rot = np.rot90(X, axes=(1, 2))
    assert_allclose(est.transform(rot), np.rot90(out, axes=(1, 2)), atol=1e-6)


def test_sharpener_steepens_an_edge():
    X = np.zeros((1, 3, 8, 3), dtype=np.float32)
    X[..., :4, :] = 0.25
    X[..., 4:, :] = 0.75
    out = LaplacianSharpener(strength=0.5).fit_transform(X)[0, 1, :, 0]
    # Next to the edge: 0.25 - 0.5 * 0.5 = 0, 0.75 + 0.5 * 0.5 = 1.
    assert_allclose(out, [0.25, 0.25, 0.25, 0.0, 1.0, 0.75, 0.75, 0.75])


def test_sharpener_strength_zero_is_identity():
    X = _random_images((2, 9, 7, 3))
    assert_allclose(LaplacianSharpener(strength=0).fit_transform(X), X)


@pytest.mark.parametrize("est", [LaplacianSharpener(strength=0),
                                 NeighborhoodAverager(size=1),
                                 NeighborhoodAverager(size=1, method="median")])
def test_switched_off_filters_return_their_input(est):
    # The default pipeline's settings: no copy, no computation of a float32
    # batch, in fit_transform and transform.
    X = _random_images((2, 9, 7, 3))
    assert est.fit_transform(X) is X
    assert est.transform(X) is X
    # Other inputs are validated and converted as by every step.
    X8 = (X * 255).astype(np.uint8)
    out = est.transform(X8)
    assert out.dtype == np.float32
    assert_array_equal(out, check_images(X8))
    with pytest.raises(ValueError, match="NaN"):
        est.transform(np.full((1, 4, 4, 3), np.nan, dtype=np.float32))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        est.transform(np.full((1, 4, 4, 3), 2.0, dtype=np.float32))


def test_switched_off_filters_skip_value_scans_under_assume_finite():
    # Under assume_finite a switched-off filter does not scan the values:
    # its output is its input (checked by the next step).
    from sklearn import config_context

    bad = np.full((1, 4, 4, 3), 2.0, dtype=np.float32)
    bad[0, 0, 0, 0] = np.nan
    with config_context(assume_finite=True):
        for est in (LaplacianSharpener(strength=0), NeighborhoodAverager(size=1)):
            assert est.fit_transform(bad) is bad
            assert est.transform(bad) is bad
            with pytest.raises(ValueError, match="3 colour channels"):
                est.transform(bad[..., :2])
        # Switched on, a filter still checks the range under assume_finite.
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            NeighborhoodAverager(size=3).fit_transform(np.full_like(bad, 2.0))


def test_sharpener_matches_opencv_laplacian():
    cv2 = pytest.importorskip("cv2")
    X = _random_images((2, 20, 17, 3))
    out = LaplacianSharpener(strength=0.3, mode="mirror").fit_transform(X)
    lap = np.stack([
        cv2.Laplacian(x, cv2.CV_32F, ksize=1, borderType=cv2.BORDER_REFLECT_101)
        for x in X
    ])
    assert_allclose(out, np.clip(X - 0.3 * lap, 0, 1), atol=1e-5)


def test_sharpener_custom_kernel():
    k = np.array([[0, 0, 1, 0, 0], [0, 0, 0, 0, 0], [1, 0, -4, 0, 1],
                  [0, 0, 0, 0, 0], [0, 0, 1, 0, 0]])
    X = _random_images((2, 11, 12, 3))
    out = LaplacianSharpener(strength=0.2, kernel=k).fit_transform(X)
    assert_allclose(out, _sharpen_reference(X, 0.2, k, "reflect"), atol=1e-5)


def test_sharpener_does_not_mix_channels():
    X = _random_images((2, 10, 10, 3))
    out = LaplacianSharpener().fit_transform(X)
    Y = X.copy()
    Y[..., 1] = 0.5
    assert_array_equal(LaplacianSharpener().fit_transform(Y)[..., [0, 2]],
                       out[..., [0, 2]])


@pytest.mark.parametrize(
    "kernel, match",
    [
        (np.ones((3, 3)), "sum to 0"),
        (np.array([[1, -2, 1, 0]]), "odd"),
        (np.array([1, -2, 1]), "2-D"),
        (np.array([[np.nan, 0, 0]]), "finite"),
        ("5-neighbour", "kernel"),
    ],
)
def test_sharpener_invalid_kernel(kernel, match):
    X = _random_images((1, 5, 5, 3))
    with pytest.raises(InvalidParameterError, match=match):
        LaplacianSharpener(kernel=kernel).fit(X)


def test_sharpener_invalid_strength():
    with pytest.raises(InvalidParameterError, match="strength"):
        LaplacianSharpener(strength=-1).fit(_random_images((1, 5, 5, 3)))


# ------------------------------------------------------- NeighborhoodAverager


@given(X=image_batches(), size=st.integers(1, 7),
       method=st.sampled_from(["mean", "median"]), mode=st.sampled_from(MODES))
def test_averager_matches_scipy(X, size, method, mode):
    est = NeighborhoodAverager(size=size, method=method, mode=mode)
    out = est.fit_transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    assert_array_equal(est.transform(X), out)  # deterministic
    if method == "mean":
        ref = ndi.uniform_filter(X.astype(np.float64), (1, size, size, 1), mode=mode)
        assert_allclose(out, ref, atol=1e-5)
    else:
        ref = ndi.median_filter(X, (1, size, size, 1), mode=mode)
        assert_array_equal(out, ref)


@given(X=constant_batches(), size=st.integers(1, 8),
       method=st.sampled_from(["mean", "median"]), mode=st.sampled_from(MODES))
def test_averager_keeps_constant_images(X, size, method, mode):
    out = NeighborhoodAverager(size=size, method=method, mode=mode).fit_transform(X)
    assert_allclose(out, X, atol=1e-6)


@given(X=image_batches(), size=st.integers(1, 8))
def test_mean_with_wrap_preserves_the_image_mean(X, size):
    out = NeighborhoodAverager(size=size, mode="wrap").fit_transform(X)
    assert_allclose(out.mean(axis=(1, 2)), X.mean(axis=(1, 2)), atol=1e-5)


@given(X=image_batches(), size=st.sampled_from([3, 5]),
       method=st.sampled_from(["mean", "median"]), mode=st.sampled_from(MODES))
def test_odd_averager_commutes_with_flips_and_rotations(X, size, method, mode):
    # Odd windows are centred; even ones shift by half a pixel (below).
    est = NeighborhoodAverager(size=size, method=method, mode=mode)
    out = est.fit_transform(X)
    assert_allclose(est.transform(X[:, ::-1]), out[:, ::-1], atol=1e-6)
    assert_allclose(est.transform(X[:, :, ::-1]), out[:, :, ::-1], atol=1e-6)
    rot = np.rot90(X, axes=(1, 2))
    assert_allclose(est.transform(rot), np.rot90(out, axes=(1, 2)), atol=1e-6)


def test_even_window_spans_half_before():
    X = np.zeros((1, 8, 8, 3), dtype=np.float32)
    X[0, 4, 4] = 1.0
    out = NeighborhoodAverager(size=2).fit_transform(X)[0, :, :, 0]
    # Output (i, j) averages rows i-1..i and columns j-1..j.
    expected = np.zeros((8, 8))
    expected[4:6, 4:6] = 0.25
    assert_allclose(out, expected, atol=1e-7)


def test_paper_default_averages_36_neighbours():
    est = NeighborhoodAverager()
    assert est.size == 6 and est.method == "mean"
    X = np.zeros((1, 12, 12, 3), dtype=np.float32)
    X[0, 6, 6] = 1.0
    out = est.fit_transform(X)[0, :, :, 0]
    assert_allclose(out[out > 0], 1 / 36, rtol=1e-5)
    assert np.count_nonzero(out) == 36


def test_median_removes_salt_and_pepper():
    X = np.full((2, 20, 20, 3), 0.5, dtype=np.float32)
    X[:, 2::5, 3::5, 0] = 1.0  # isolated "salt"
    X[:, 4::5, 1::5, 2] = 0.0  # isolated "pepper"
    out = NeighborhoodAverager(size=3, method="median").fit_transform(X)
    assert_array_equal(out, 0.5)
    mean = NeighborhoodAverager(size=3).fit_transform(X)
    assert not np.allclose(mean, 0.5)


def test_size_one_is_identity():
    X = _random_images((2, 6, 7, 3))
    for method in ("mean", "median"):
        out = NeighborhoodAverager(size=1, method=method).fit_transform(X)
        assert_array_equal(out, X)
        assert out is X  # switched off: the input itself, no copy


@pytest.mark.parametrize("size", [3, 5])
def test_averager_matches_opencv(size):
    cv2 = pytest.importorskip("cv2")
    X = _random_images((2, 21, 18, 3))
    out = NeighborhoodAverager(size=size).fit_transform(X)
    ref = np.stack([cv2.blur(x, (size, size), borderType=cv2.BORDER_REFLECT)
                    for x in X])
    assert_allclose(out, ref, atol=1e-5)
    out = NeighborhoodAverager(size=size, method="median", mode="nearest"
                               ).fit_transform(X)
    ref = np.stack([cv2.medianBlur(x, size) for x in X])
    assert_array_equal(out, ref)


@pytest.mark.parametrize("size", [10, 13])
def test_large_mean_windows_use_running_sums(size):
    X = _random_images((2, 15, 30, 3))
    out = NeighborhoodAverager(size=size, mode="mirror").fit_transform(X)
    ref = ndi.uniform_filter(X.astype(np.float64), (1, size, size, 1), mode="mirror")
    assert out.dtype == np.float32
    assert_allclose(out, ref, atol=1e-5)


def test_median_filter_large_batches_use_tiles():
    # Tiles of rows of one image (large images) and of several images (small
    # ones) give the same result as scipy.
    for shape in [(2, 150, 140, 3), (40, 9, 8, 3)]:
        X = _random_images(shape, seed=1)
        assert_array_equal(median_filter(X, 4, "mirror"),
                           ndi.median_filter(X, (1, 4, 4, 1), mode="mirror"))


@pytest.mark.parametrize("tile_bytes", [700, 5000, 60000])
@pytest.mark.parametrize("mode", MODES)
def test_flat_tiles_equal_scipy_for_every_tiling(monkeypatch, tile_bytes, mode):
    # The filters work on padded tiles as flat buffers (bands of a few rows,
    # or several small images per tile, with borders extended per tile):
    # every tiling gives scipy's result, including windows wider than the
    # image and the last, shorter band.
    from skleuk.preprocessing import _filters, _tiles

    monkeypatch.setattr(_tiles, "_TILE_BYTES", tile_bytes)
    for shape in [(3, 23, 17, 3), (5, 4, 6, 3), (2, 1, 9, 3)]:
        X = _random_images(shape, seed=2)
        X64 = X.astype(np.float64)
        for size in (2, 3, 6, 7):
            assert_allclose(
                _filters._box_mean(X, size, mode),
                ndi.uniform_filter(X64, (1, size, size, 1), mode=mode),
                atol=1e-6,
            )
            kernel = np.arange(size * (size | 1), dtype=float).reshape(size, -1)
            kernel = kernel[: size | 1] - kernel.mean()
            assert_allclose(
                _filters._correlate_hw(X, kernel, mode),
                ndi.correlate(X64, kernel[None, :, :, None], mode=mode),
                atol=1e-6 * np.abs(kernel).sum(),
            )
        for size in (2, 3, 5):
            assert_array_equal(
                median_filter(X, size, mode),
                ndi.median_filter(X, (1, size, size, 1), mode=mode),
            )


def test_filters_bit_identical_on_threads(monkeypatch):
    # Opt-in threads (SKLEUK_NUM_THREADS) share the tiles out; every tile
    # writes its own part of the output, so the result is bit-identical.
    from skleuk.preprocessing import _filters, _threads, _tiles

    monkeypatch.setattr(_tiles, "_TILE_BYTES", 4000)
    monkeypatch.setattr(_threads.os, "sched_getaffinity", lambda pid: {0, 1, 2},
                        raising=False)
    X = _random_images((4, 30, 20, 3), seed=3)
    kernel = np.array([[0, -1, 0], [-1, 5, -1], [0, -1, 0]], dtype=float)
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("SKLEUK_NUM_THREADS", threads)
        assert _threads.n_threads() == int(threads)
        results.append((
            _filters._correlate_hw(X, kernel, "reflect"),
            _filters._box_mean(X, 6, "wrap"),
            median_filter(X, 5, "nearest"),
        ))
    for a, b in zip(*results, strict=True):
        assert_array_equal(a, b)


def test_median_plan_is_pruned():
    # Minimum/maximum operations per window size (documented in _median).
    counts = [
        sum(op in ("min", "max") for _, op, *_ in _median_plan(s)[0])
        for s in range(1, 8)
    ]
    assert counts == [0, 5, 28, 61, 170, 277, 404]


@pytest.mark.parametrize("params, match", [
    ({"size": 0}, "size"), ({"size": 2.5}, "size"),
    ({"method": "mode"}, "method"), ({"mode": "constant"}, "mode"),
])
def test_averager_invalid_params(params, match):
    with pytest.raises(InvalidParameterError, match=match):
        NeighborhoodAverager(**params).fit(_random_images((1, 5, 5, 3)))
