"""Tests for PadToSquare, Resizer and CenterCropper."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.preprocessing import CenterCropper, PadToSquare, Resizer
from skleuk.preprocessing._geometry import resize_images
from skleuk.preprocessing.tests._strategies import image_batches


def _random_images(shape, seed=0):
    return np.random.default_rng(seed).random(shape, dtype=np.float32)


sizes = st.one_of(
    st.integers(1, 40), st.tuples(st.integers(1, 40), st.integers(1, 40))
)


def _pair(size):
    return (size, size) if isinstance(size, int) else tuple(size)


# ---------------------------------------------------------------- PadToSquare


@given(X=image_batches(), mode=st.sampled_from(["reflect", "symmetric", "edge",
                                                  "constant"]))
def test_pad_to_square_is_square_and_contains_original(X, mode):
    n, h, w, _ = X.shape
    out = PadToSquare(mode=mode).fit_transform(X)
    side = max(h, w)
    assert out.shape == (n, side, side, 3)
    assert out.dtype == np.float32
    top, left = (side - h) // 2, (side - w) // 2
    assert_array_equal(out[:, top : top + h, left : left + w], X)
    assert out.min() >= 0 and out.max() <= 1


def test_pad_to_square_modes():
    X = np.arange(2 * 3, dtype=np.float32).reshape(1, 2, 3, 1) / 10
    X = np.repeat(X, 3, axis=-1)
    # 2x3 -> 3x3: one extra row, at the bottom.
    out = PadToSquare(mode="edge").fit_transform(X)[0, :, :, 0]
    assert_allclose(out, [[0, 0.1, 0.2], [0.3, 0.4, 0.5], [0.3, 0.4, 0.5]])
    out = PadToSquare(mode="reflect").fit_transform(X)[0, :, :, 0]
    assert_allclose(out, [[0, 0.1, 0.2], [0.3, 0.4, 0.5], [0, 0.1, 0.2]])
    out = PadToSquare(mode="constant", fill_value=(1.0, 0.5, 0.0)).fit_transform(X)
    assert_allclose(out[0, 2], [[1.0, 0.5, 0.0]] * 3)


def test_pad_to_square_symmetric_split():
    X = np.zeros((1, 4, 10, 3), dtype=np.float32)
    out = PadToSquare(mode="constant", fill_value=1.0).fit_transform(X)
    # 6 rows to add: 3 on top, 3 at the bottom.
    assert_array_equal(out[0, :, 0, 0], [1, 1, 1, 0, 0, 0, 0, 1, 1, 1])


def test_pad_to_square_ragged():
    X = [_random_images((193, 257, 3)), _random_images((257, 214, 3), 1)]
    out = PadToSquare().fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape == (2, 257, 257, 3)
    X = [_random_images((5, 7, 3)), _random_images((9, 4, 3), 1)]
    out = PadToSquare().fit_transform(X)
    assert isinstance(out, list)
    assert [o.shape for o in out] == [(7, 7, 3), (9, 9, 3)]


def test_pad_to_square_uint8_and_square_passthrough():
    X = np.full((2, 5, 5, 3), 255, dtype=np.uint8)
    out = PadToSquare().fit_transform(X)
    assert out.dtype == np.float32
    assert_array_equal(out, np.ones((2, 5, 5, 3), np.float32))


@pytest.mark.parametrize("fill_value", [1.5, (0.1, 0.2), (0, 0, 2)])
def test_pad_to_square_invalid_fill(fill_value):
    X = np.zeros((1, 4, 6, 3), dtype=np.float32)
    with pytest.raises(InvalidParameterError, match="fill_value"):
        PadToSquare(mode="constant", fill_value=fill_value).fit(X)


def test_pad_to_square_invalid_mode():
    with pytest.raises(InvalidParameterError, match="mode"):
        PadToSquare(mode="wrap").fit(np.zeros((1, 4, 6, 3)))


# -------------------------------------------------------------------- Resizer


@given(X=image_batches(), size=sizes, anti_aliasing=st.booleans())
def test_resizer_output_size_whatever_input(X, size, anti_aliasing):
    out = Resizer(size=size, anti_aliasing=anti_aliasing).fit_transform(X)
    assert out.shape == (X.shape[0], *_pair(size), 3)
    assert out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1
    # Each output is a convex combination of input pixels of its channel.
    assert np.all(out.max(axis=(1, 2)) <= X.max(axis=(1, 2)) + 1e-6)
    assert np.all(out.min(axis=(1, 2)) >= X.min(axis=(1, 2)) - 1e-6)


@given(X=image_batches(min_side=2), size=sizes)
def test_resizer_commutes_with_flips(X, size):
    est = Resizer(size=size)
    out = est.fit_transform(X)
    assert_allclose(est.transform(X[:, ::-1]), out[:, ::-1], atol=1e-6)
    assert_allclose(est.transform(X[:, :, ::-1]), out[:, :, ::-1], atol=1e-6)


@given(
    color=st.tuples(*[st.floats(0, 1, width=32)] * 3),
    shape=st.tuples(st.integers(1, 30), st.integers(1, 30)),
    size=sizes,
)
def test_resizer_keeps_constant_image(color, shape, size):
    X = np.empty((1, *shape, 3), dtype=np.float32)
    X[...] = color
    out = Resizer(size=size).fit_transform(X)
    assert_allclose(out, np.broadcast_to(X[:, :1, :1], out.shape), atol=1e-6)


def test_resizer_integer_factor_is_block_mean():
    X = _random_images((3, 12, 18, 3))
    out = Resizer(size=(4, 6)).fit_transform(X)
    expected = X.reshape(3, 4, 3, 6, 3, 3).mean(axis=(2, 4))
    assert_allclose(out, expected, atol=1e-6)


@pytest.mark.parametrize(
    "in_shape, size", [((37, 53), (16, 20)), ((257, 257), 64), ((193, 257), 64)]
)
def test_resizer_matches_opencv_inter_area(in_shape, size):
    cv2 = pytest.importorskip("cv2")
    X = _random_images((2, *in_shape, 3))
    h, w = _pair(size)
    out = Resizer(size=size).fit_transform(X)
    ref = np.stack([cv2.resize(x, (w, h), interpolation=cv2.INTER_AREA) for x in X])
    assert_allclose(out, ref, atol=1e-5)


@pytest.mark.parametrize("anti_aliasing", [True, False])
def test_resizer_upscale_is_bilinear(anti_aliasing):
    cv2 = pytest.importorskip("cv2")
    X = _random_images((2, 7, 9, 3))
    out = Resizer(size=(20, 13), anti_aliasing=anti_aliasing).fit_transform(X)
    ref = np.stack([cv2.resize(x, (13, 20), interpolation=cv2.INTER_LINEAR)
                    for x in X])
    assert_allclose(out, ref, atol=1e-5)


def test_resizer_without_anti_aliasing_samples_bilinearly():
    # A 2x shrink of a period-2 stripe pattern: both methods give 0.5
    # (bilinear samples half-way between two pixels). A 3x shrink: bilinear
    # samples single pixels and keeps the full contrast (aliasing), the area
    # average keeps 1/3 of it.
    row = np.tile([0.0, 1.0], 8).astype(np.float32)
    X = np.broadcast_to(row[None, None, :, None], (1, 4, 16, 3)).copy()
    for aa in (True, False):
        out = Resizer(size=(4, 8), anti_aliasing=aa).fit_transform(X)
        assert_allclose(out, 0.5, atol=1e-6)
    X3 = X[:, :, :15]
    aliased = Resizer(size=(4, 5), anti_aliasing=False).fit_transform(X3)
    smooth = Resizer(size=(4, 5), anti_aliasing=True).fit_transform(X3)
    assert np.ptp(aliased[0, 0, :, 0]) == pytest.approx(1.0)
    assert np.ptp(smooth[0, 0, :, 0]) == pytest.approx(1 / 3, abs=1e-6)


def test_resizer_no_leak_across_images_or_channels():
    X = _random_images((3, 30, 30, 3))
    out = Resizer(size=11).fit_transform(X)
    Y = X.copy()
    Y[1] = 0.0
    Y[2, ..., 0] = 1.0
    out2 = Resizer(size=11).fit_transform(Y)
    assert_array_equal(out2[0], out[0])
    assert_array_equal(out2[2, ..., 1:], out[2, ..., 1:])
    assert_array_equal(out2[1], 0.0)


def test_resizer_ragged_input_gives_uniform_output():
    X = [_random_images((193, 257, 3)), _random_images((257, 257, 3), 1),
         _random_images((20, 10, 3), 2)]
    out = Resizer(size=16).fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape == (3, 16, 16, 3)
    for x, o in zip(X, out, strict=True):
        assert_allclose(Resizer(size=16).fit_transform(x[None])[0], o, atol=1e-6)


def test_resizer_same_size_returns_copy():
    X = _random_images((2, 8, 8, 3))
    out = Resizer(size=8).fit_transform(X)
    assert_array_equal(out, X)
    assert not np.shares_memory(out, X)


def test_resizer_many_images_blocks():
    # More images than one cache block: results independent of blocking.
    X = _random_images((40, 100, 90, 3))
    out = resize_images(X, (20, 30))
    for i in (0, 17, 39):
        assert_allclose(resize_images(X[i : i + 1], (20, 30))[0], out[i], atol=1e-6)


@pytest.mark.parametrize("size", [0, (3,), (3, 0), (2.5, 3), "64", (3, 4, 5)])
def test_resizer_invalid_size(size):
    with pytest.raises(InvalidParameterError, match="size"):
        Resizer(size=size).fit(np.zeros((1, 4, 4, 3)))
    with pytest.raises(InvalidParameterError, match="size"):
        Resizer(size=size).transform(np.zeros((1, 4, 4, 3)))


# -------------------------------------------------------------- CenterCropper


@given(X=image_batches(), size=sizes,
       mode=st.sampled_from(["reflect", "symmetric", "edge", "constant"]))
def test_center_cropper_output_size_whatever_input(X, size, mode):
    out = CenterCropper(size=size, mode=mode).fit_transform(X)
    assert out.shape == (X.shape[0], *_pair(size), 3)
    assert out.dtype == np.float32
    assert out.min() >= 0 and out.max() <= 1


@given(X=image_batches())
def test_center_cropper_undoes_pad_to_square(X):
    h, w = X.shape[1:3]
    padded = PadToSquare(mode="constant").fit_transform(X)
    assert_array_equal(CenterCropper(size=(h, w)).fit_transform(padded), X)


def test_center_cropper_crops_the_centre():
    X = _random_images((2, 10, 13, 3))
    out = CenterCropper(size=(4, 6)).fit_transform(X)
    assert_array_equal(out, X[:, 3:7, 3:9])
    out = CenterCropper().fit_transform(X)
    assert_array_equal(out, X[:, :, 1:11])
    assert not np.shares_memory(out, X)


def test_center_cropper_pads_when_too_small():
    X = np.zeros((1, 4, 8, 3), dtype=np.float32)
    out = CenterCropper(size=6, mode="constant", fill_value=1.0).fit_transform(X)
    assert_array_equal(out[0, :, 0, 0], [1, 0, 0, 0, 0, 1])
    assert_array_equal(out[0, 1, :, 0], 0.0)


def test_center_cropper_ragged():
    X = [_random_images((9, 12, 3)), _random_images((14, 10, 3), 1)]
    out = CenterCropper(size=8).fit_transform(X)
    assert isinstance(out, np.ndarray) and out.shape == (2, 8, 8, 3)
    out = CenterCropper().fit_transform(X)
    assert [o.shape for o in out] == [(9, 9, 3), (10, 10, 3)]
