"""The optional OpenCV backend of the filters and the resize equals numpy."""

import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from skleuk import config_context
from skleuk.preprocessing import (
    LaplacianSharpener,
    NeighborhoodAverager,
    Resizer,
    _opencv,
)
from skleuk.preprocessing.tests._strategies import image_batches

cv2 = pytest.importorskip("cv2")

TOL = 1e-5
MODES = ["reflect", "mirror", "nearest", "wrap"]


def _both(est, X):
    """``est.fit_transform(X)`` with and without OpenCV, and which one ran."""
    with config_context(opencv=False):
        numpy_out = est.fit_transform(X)
    with config_context(opencv=True):
        cv_out = est.fit_transform(X)
    return numpy_out, cv_out


def _assert_same(numpy_out, cv_out):
    assert cv_out.dtype == numpy_out.dtype == np.float32
    assert cv_out.shape == numpy_out.shape
    assert float(np.max(np.abs(cv_out - numpy_out), initial=0.0)) <= TOL


def _calls(monkeypatch, name):
    """Count the calls of ``cv2.<name>``."""
    calls = []
    func = getattr(cv2, name)

    def counted(*args, **kwargs):
        calls.append(1)
        return func(*args, **kwargs)

    monkeypatch.setattr(cv2, name, counted)
    return calls


# ------------------------------------------------------------- equivalence


@settings(max_examples=60, deadline=None)
@given(
    X=image_batches(),
    strength=st.floats(0.05, 3.0),
    kernel=st.sampled_from(["4-neighbour", "8-neighbour"]),
    mode=st.sampled_from(MODES),
)
def test_laplacian_equal(X, strength, kernel, mode):
    est = LaplacianSharpener(strength=strength, kernel=kernel, mode=mode)
    _assert_same(*_both(est, X))


@pytest.mark.parametrize("side", [3, 5, 7, 11, 13])
@pytest.mark.parametrize("mode", MODES)
def test_laplacian_custom_kernels_equal(side, mode):
    # Kernels of 11 px and more would go through OpenCV's DFT (1e-5 off):
    # those run numpy.
    rng = np.random.default_rng(side)
    k = rng.random((side, side))
    k[side // 2, side // 2] -= k.sum()
    X = rng.random((2, 23, 31, 3), dtype=np.float32)
    _assert_same(*_both(LaplacianSharpener(strength=0.3, kernel=k, mode=mode), X))


@settings(max_examples=60, deadline=None)
@given(
    X=image_batches(),
    size=st.integers(2, 12),
    mode=st.sampled_from(MODES),
)
def test_box_mean_equal(X, size, mode):
    _assert_same(*_both(NeighborhoodAverager(size=size, mode=mode), X))


@settings(max_examples=40, deadline=None)
@given(X=image_batches(), size=st.integers(2, 6), mode=st.sampled_from(MODES))
def test_median_equal(X, size, mode):
    numpy_out, cv_out = _both(
        NeighborhoodAverager(size=size, method="median", mode=mode), X
    )
    assert_array_equal(cv_out, numpy_out)  # a median picks an input value


@pytest.mark.filterwarnings("ignore:.*enlarged more than:UserWarning")
@settings(max_examples=80, deadline=None)
@given(
    X=image_batches(max_side=40),
    size=st.tuples(st.integers(1, 48), st.integers(1, 48)),
    anti_aliasing=st.booleans(),
)
def test_resize_equal(X, size, anti_aliasing):
    _assert_same(*_both(Resizer(size=size, anti_aliasing=anti_aliasing), X))


@pytest.mark.parametrize("size", [32, 64, 96, 128, 300])
def test_resize_from_257_equal(size):
    X = np.random.default_rng(size).random((2, 257, 257, 3), dtype=np.float32)
    _assert_same(*_both(Resizer(size=size), X))


# ------------------------------------------------- which backend runs when


@pytest.mark.parametrize(
    "est, name, used",
    [
        (LaplacianSharpener(mode="reflect"), "filter2D", True),
        (LaplacianSharpener(mode="mirror"), "filter2D", True),
        (LaplacianSharpener(mode="nearest"), "filter2D", True),
        (LaplacianSharpener(mode="wrap"), "filter2D", False),
        (LaplacianSharpener(kernel=np.pad([[0, 1, 0], [1, -4, 1], [0, 1, 0]], 3)),
         "filter2D", True),
        (LaplacianSharpener(kernel=np.pad([[0, 1, 0], [1, -4, 1], [0, 1, 0]], 4)),
         "filter2D", False),
        (NeighborhoodAverager(size=6), "blur", True),
        (NeighborhoodAverager(size=4, mode="nearest"), "blur", True),
        (NeighborhoodAverager(size=6, mode="wrap"), "blur", False),
        (NeighborhoodAverager(size=3, method="median", mode="nearest"),
         "medianBlur", True),
        (NeighborhoodAverager(size=5, method="median", mode="nearest"),
         "medianBlur", True),
        (NeighborhoodAverager(size=5, method="median"), "medianBlur", False),
        (NeighborhoodAverager(size=7, method="median", mode="nearest"),
         "medianBlur", False),
        (NeighborhoodAverager(size=4, method="median", mode="nearest"),
         "medianBlur", False),
        (Resizer(size=8), "resize", True),
        (Resizer(size=30), "resize", True),
        (Resizer(size=8, anti_aliasing=False), "resize", True),
        (Resizer(size=(8, 30)), "resize", False),  # shrink one, enlarge other
        (Resizer(size=(8, 30), anti_aliasing=False), "resize", True),
        (Resizer(size=20), "resize", False),  # same size: a copy
        (Resizer(size=5), "resize", True),  # 16x fewer pixels
        (Resizer(size=4), "resize", False),  # 25x: numpy is faster
        (Resizer(size=(4, 20)), "resize", True),  # 5x
        (Resizer(size=4, anti_aliasing=False), "resize", True),
    ],
)
def test_backend_choice(monkeypatch, est, name, used):
    calls = _calls(monkeypatch, name)
    X = np.random.default_rng(0).random((3, 20, 20, 3), dtype=np.float32)
    for setting in ("auto", True):
        calls.clear()
        with config_context(opencv=setting):
            est.fit_transform(X)
        assert len(calls) == (3 if used else 0)
    calls.clear()
    with config_context(opencv=False):
        est.fit_transform(X)
    assert not calls


def test_switched_off_filters_return_input(monkeypatch):
    calls = _calls(monkeypatch, "blur") + _calls(monkeypatch, "filter2D")
    X = np.random.default_rng(0).random((2, 9, 9, 3), dtype=np.float32)
    assert NeighborhoodAverager(size=1).fit_transform(X) is X
    assert LaplacianSharpener(strength=0).fit_transform(X) is X
    assert not calls


# ------------------------------------------------------- inputs and outputs


@pytest.mark.parametrize(
    "est",
    [LaplacianSharpener(), NeighborhoodAverager(size=6),
     NeighborhoodAverager(size=5, method="median", mode="nearest"),
     Resizer(size=12), Resizer(size=40)],
)
def test_views_read_only_and_uint8(est):
    rng = np.random.default_rng(1)
    big = rng.random((4, 30, 44, 3), dtype=np.float32)
    views = {
        "strided": big[::2, ::-1, 1::2],
        "channels reversed": big[..., ::-1],
    }
    ro = big.copy()
    ro.flags.writeable = False
    views["read-only"] = ro
    views["uint8"] = (big * 255).astype(np.uint8)
    for name, X in views.items():
        before = np.array(X, copy=True)
        numpy_out, cv_out = _both(est, X)
        _assert_same(numpy_out, cv_out)
        assert_array_equal(X, before), name  # input not modified
        assert cv_out.flags.c_contiguous and cv_out.flags.writeable
        assert not np.shares_memory(cv_out, X)


def test_ragged_list_resize_equal():
    rng = np.random.default_rng(2)
    X = [rng.random((19, 25, 3), dtype=np.float32),
         rng.random((30, 30, 3), dtype=np.float32)]
    _assert_same(*_both(Resizer(size=12), X))


@pytest.mark.parametrize(
    "est", [LaplacianSharpener(), NeighborhoodAverager(), Resizer(size=4)]
)
def test_same_errors_with_opencv(est):
    bad = np.random.default_rng(0).random((2, 8, 8, 3)).astype(np.float32)
    bad[1, 2, 3, 0] = np.nan
    messages = []
    for setting in (False, True):
        with config_context(opencv=setting), pytest.raises(ValueError) as exc:
            est.fit_transform(bad)
        messages.append(str(exc.value))
    assert messages[0] == messages[1]


# ------------------------------------------------------ OpenCV not installed


@pytest.fixture
def no_cv2(monkeypatch):
    """Make ``import cv2`` fail, as without OpenCV installed."""
    monkeypatch.setitem(sys.modules, "cv2", None)


@pytest.mark.parametrize(
    "est",
    [LaplacianSharpener(), NeighborhoodAverager(size=3),
     NeighborhoodAverager(size=3, method="median", mode="nearest"),
     Resizer(size=4)],
)
def test_opencv_true_without_cv2_raises(no_cv2, est):
    X = np.random.default_rng(0).random((1, 8, 8, 3), dtype=np.float32)
    with config_context(opencv=True), pytest.raises(
        ImportError, match=r"opencv=True.*pip install opencv-python-headless.*"
        r"skleuk\[opencv\]"
    ):
        est.fit_transform(X)


@pytest.mark.parametrize("setting", ["auto", False])
def test_auto_and_false_without_cv2_run_numpy(no_cv2, setting):
    X = np.random.default_rng(0).random((2, 12, 12, 3), dtype=np.float32)
    with config_context(opencv=setting):
        assert _opencv.opencv() is None
        out = NeighborhoodAverager(size=3).fit_transform(X)
    with config_context(opencv=False):
        expected = NeighborhoodAverager(size=3).fit_transform(X)
    assert_array_equal(out, expected)


def test_import_skleuk_does_not_import_cv2():
    import subprocess

    code = ("import sys, skleuk, skleuk.preprocessing; "
            "print('cv2' in sys.modules)")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True,
                         text=True, check=True)
    assert res.stdout.strip() == "False"
