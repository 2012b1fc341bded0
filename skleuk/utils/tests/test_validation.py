"""Tests for the shared image validator ``check_images``."""

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from skleuk.utils.validation import check_images, is_path_sequence

shapes_4d = st.tuples(
    st.integers(1, 3), st.integers(1, 12), st.integers(1, 12), st.just(3)
)


@given(hnp.arrays(np.uint8, shapes_4d))
def test_uint8_scaled_to_unit_float32(X):
    out = check_images(X)
    assert out.dtype == np.float32
    assert out.shape == X.shape
    assert out.flags.c_contiguous
    np.testing.assert_allclose(out * 255.0, X.astype(np.float64), atol=1e-3)
    assert out.min() >= 0.0 and out.max() <= 1.0


@given(
    hnp.arrays(
        np.float64,
        shapes_4d,
        elements=st.floats(0.0, 1.0, allow_nan=False, allow_infinity=False),
    )
)
def test_unit_floats_pass_through(X):
    out = check_images(X)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, X, atol=1e-6)


@given(hnp.arrays(np.uint16, shapes_4d))
def test_uint16_scaled(X):
    out = check_images(X)
    np.testing.assert_allclose(out, X / 65535.0, atol=1e-6)


@given(
    hnp.arrays(
        np.uint8, st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9))
    )
)
def test_grayscale_batch_replicated_to_rgb(X):
    out = check_images(X)
    assert out.shape == X.shape + (3,)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], out[..., 0])
    np.testing.assert_allclose(out[..., 0] * 255, X, atol=1e-3)


@given(
    hnp.arrays(
        np.uint8,
        st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.just(1)),
    )
)
def test_single_channel_replicated(X):
    out = check_images(X)
    assert out.shape == X.shape[:3] + (3,)
    np.testing.assert_array_equal(out[..., 2], out[..., 0])


@given(
    hnp.arrays(
        np.float32,
        st.tuples(st.integers(1, 3), st.integers(1, 9), st.integers(1, 9), st.just(4)),
        elements=st.floats(0.0, 1.0, width=32),
    )
)
def test_rgba_composited_on_white(X):
    out = check_images(X)
    assert out.shape == X.shape[:3] + (3,)
    alpha = X[..., 3:4]
    expected = X[..., :3] * alpha + (1 - alpha)
    np.testing.assert_allclose(out, expected, atol=1e-6)
    assert out.min() >= 0 and out.max() <= 1 + 1e-6


def test_opaque_rgba_equals_rgb():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (2, 5, 5, 3), dtype=np.uint8)
    rgba = np.concatenate([rgb, np.full((2, 5, 5, 1), 255, np.uint8)], axis=-1)
    np.testing.assert_allclose(check_images(rgba), check_images(rgb), atol=1e-6)


@given(st.lists(hnp.arrays(np.uint8, st.just((6, 7, 3))), min_size=1, max_size=4))
def test_list_of_same_shape_images_stacked(images):
    out = check_images(images)
    assert isinstance(out, np.ndarray)
    assert out.shape == (len(images), 6, 7, 3)


@given(
    st.lists(
        st.tuples(st.integers(2, 8), st.integers(2, 8)), min_size=2, max_size=5
    ).filter(lambda s: len(set(s)) > 1)
)
def test_ragged_allowed_returns_list(sizes):
    images = [np.zeros((h, w, 3), np.uint8) for h, w in sizes]
    out = check_images(images, allow_ragged=True)
    assert isinstance(out, list)
    assert [o.shape[:2] for o in out] == sizes
    assert all(o.dtype == np.float32 for o in out)


def test_ragged_rejected_by_default_with_sizes_in_message():
    images = [np.zeros((8, 8, 3), np.uint8), np.zeros((6, 8, 3), np.uint8)]
    with pytest.raises(ValueError, match=r"same height and width.*\(8, 8\).*\(6, 8\)"):
        check_images(images)


def test_rejects_empty():
    with pytest.raises(ValueError, match="at least 1 image"):
        check_images(np.zeros((0, 4, 4, 3)))
    with pytest.raises(ValueError, match="at least 1 image"):
        check_images([])


@pytest.mark.parametrize("shape", [(4,), (4, 4), (1, 2, 3, 3, 3)])
def test_rejects_wrong_ndim(shape):
    with pytest.raises(ValueError, match=r"expected a 4-D array.*got a \d-D"):
        check_images(np.zeros(shape))


def test_single_colour_image_gets_a_hint():
    with pytest.raises(ValueError, match="single .*image.*X\\[np.newaxis\\]"):
        check_images(np.zeros((32, 32, 3), np.uint8))


@pytest.mark.parametrize("channels", [2, 5])
def test_rejects_wrong_channel_count(channels):
    with pytest.raises(ValueError, match=f"got {channels} channels"):
        check_images(np.zeros((2, 4, 4, channels), np.uint8))
    with pytest.raises(ValueError, match=f"got {channels} channels"):
        check_images([np.zeros((4, 4, channels), np.uint8)])


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite(bad):
    X = np.zeros((2, 4, 4, 3))
    X[1, 2, 3, 0] = bad
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_images(X)
    with pytest.raises(ValueError, match="NaN or infinite"):
        check_images(X, value_range=None)


def test_rejects_floats_outside_unit_range_with_hint():
    X = np.full((1, 4, 4, 3), 200.0)
    with pytest.raises(ValueError, match=r"\[0, 1\].*0-255 data stored as floats"):
        check_images(X)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        check_images(np.full((1, 4, 4, 3), -0.5))
    # standardised data is fine where the caller allows it
    out = check_images(np.full((1, 4, 4, 3), -0.5), value_range=None)
    assert out.min() == -0.5


def test_tiny_rounding_error_is_clipped():
    X = np.full((1, 2, 2, 3), 1.00005)
    assert check_images(X).max() == 1.0


def test_rejects_object_and_string_arrays():
    with pytest.raises(TypeError, match="numeric image data"):
        check_images(np.array([[["a"]]]))
    obj = np.empty((2, 2), dtype=object)
    with pytest.raises(TypeError, match="numeric image data"):
        check_images(obj)
    with pytest.raises(TypeError, match="numeric image data"):
        check_images([np.array([["x", "y"]])])
    with pytest.raises(TypeError, match="complex"):
        check_images(np.zeros((1, 2, 2, 3), complex))


def test_rejects_non_sequence():
    with pytest.raises(TypeError, match="expected a 4-D array"):
        check_images(42)


def test_rejects_file_paths_pointing_to_image_reader(tmp_path):
    with pytest.raises(TypeError, match="ImageReader"):
        check_images(["a.tif", "b.tif"])
    with pytest.raises(TypeError, match="ImageReader"):
        check_images(tmp_path / "a.tif")
    with pytest.raises(TypeError, match="ImageReader"):
        check_images(np.array(["a.tif"]))
    with pytest.raises(TypeError, match=r"X\[1\] is a file path"):
        check_images([np.zeros((2, 2, 3)), "b.tif"])


def test_rejects_out_of_range_integers():
    with pytest.raises(ValueError, match=r"\[0, 255\]"):
        check_images(np.full((1, 2, 2, 3), 300, dtype=np.int32))
    out = check_images(np.full((1, 2, 2, 3), 255, dtype=np.int64))
    assert out.max() == 1.0


def test_min_size_and_min_samples():
    with pytest.raises(ValueError, match="at least 4x4"):
        check_images(np.zeros((1, 3, 8, 3)), min_size=4)
    with pytest.raises(ValueError, match="at least 2 image"):
        check_images(np.zeros((1, 8, 8, 3)), ensure_min_samples=2)


def test_bool_images():
    X = np.zeros((1, 2, 2, 3), bool)
    X[0, 0, 0] = True
    with pytest.warns(UserWarning, match="boolean array: read as black"):
        out = check_images(X)
    assert out.dtype == np.float32 and out.max() == 1.0


def test_copy_never_aliases_input():
    X = np.zeros((1, 2, 2, 3), np.float32)
    assert np.shares_memory(check_images(X), X)
    assert not np.shares_memory(check_images(X, copy=True), X)


def test_input_name_in_messages():
    with pytest.raises(ValueError, match="^images: "):
        check_images(np.zeros((0, 2, 2, 3)), input_name="images")


def test_invalid_value_range_argument():
    with pytest.raises(ValueError, match="value_range"):
        check_images(np.zeros((1, 2, 2, 3)), value_range="bytes")


def test_is_path_sequence():
    assert is_path_sequence("a.png")
    assert is_path_sequence(Path("a.png"))
    assert is_path_sequence([Path("a"), "b"])
    assert is_path_sequence(np.array(["a", "b"], dtype=object))
    assert not is_path_sequence([])
    assert not is_path_sequence(np.zeros(3))
    assert not is_path_sequence([np.zeros(3)])
    assert not is_path_sequence(np.array([os.sep, 1], dtype=object))


# --------------------------------------------------------------- fast paths
@given(
    hnp.arrays(
        np.float64,
        st.tuples(st.integers(1, 3), st.integers(1, 5), st.integers(1, 5), st.just(3)),
        elements=st.one_of(
            st.floats(-2, 2, width=32), st.sampled_from([np.nan, np.inf, -np.inf])
        ),
    )
)
def test_min_max_scan_decides_like_an_isfinite_scan(X):
    # The validator decides finiteness from the min/max scan; it must accept
    # and reject exactly what an explicit isfinite + range check would.
    finite = bool(np.isfinite(X).all())
    in_range = finite and X.min() >= -1e-4 and X.max() <= 1 + 1e-4
    if in_range:
        out = check_images(X)
        np.testing.assert_array_equal(out, np.clip(X, 0, 1).astype(np.float32))
    else:
        message = "NaN or infinite" if not finite else "values in"
        with pytest.raises(ValueError, match=message):
            check_images(X)


def test_float64_overflowing_float32_rejected():
    X = np.full((1, 2, 2, 3), 1e300)
    with pytest.raises(ValueError, match="do not fit float32"):
        check_images(X, value_range=None)


def test_assume_finite_skips_only_the_unchecked_range_scan():
    from sklearn import config_context

    X = np.zeros((1, 2, 2, 3), dtype=np.float32)
    X[0, 0, 0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        check_images(X, value_range=None)
    with config_context(assume_finite=True):
        # The user promised finite data: no scan for value_range=None ...
        out = check_images(X, value_range=None)
        assert out is X
        # ... but a [0, 1] range check still scans (and so still rejects).
        with pytest.raises(ValueError, match="NaN"):
            check_images(X)


def test_keep_uint8_returns_uint8_rgb_unconverted():
    X = np.arange(2 * 4 * 5 * 3, dtype=np.uint8).reshape(2, 4, 5, 3)
    out = check_images(X, keep_uint8=True)
    assert out.dtype == np.uint8 and np.array_equal(out, X)
    # A list of uint8 RGB images is kept too; anything else is converted.
    assert check_images(list(X), keep_uint8=True).dtype == np.uint8
    mixed = [X[0], X[1].astype(np.float32) / 255]
    assert check_images(mixed, keep_uint8=True).dtype == np.float32
    gray = np.zeros((2, 4, 5), dtype=np.uint8)
    assert check_images(gray, keep_uint8=True).dtype == np.float32
    # Validation still applies.
    with pytest.raises(ValueError, match="channels"):
        check_images(np.zeros((1, 4, 4, 2), dtype=np.uint8), keep_uint8=True)
