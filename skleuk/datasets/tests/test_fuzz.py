"""Fuzz tests of the image readers and ``check_images`` (hypothesis).

Every outcome must be either a valid array or the project's own exception
with a one-line message naming the problem: :class:`ImageReadError` for the
readers, :class:`ValueError`/:class:`TypeError` (as documented) for
``check_images``. Each example runs under a timeout, so a hang fails the test
instead of stalling CI. The example counts keep the whole file to a few
seconds.
"""

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image

from skleuk.datasets import IMAGE_EXTENSIONS, ImageReadError, read_image, read_images
from skleuk.preprocessing import ImageReader
from skleuk.utils.validation import check_images

# Warnings (e.g. "enlarged more than 4x") are allowed outcomes; errors are not.
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

BCCD = Path(__file__).resolve().parents[3] / "tests" / "data" / "bccd" / "JPEGImages"
TIMEOUT = 20  # seconds per example: far above any honest decode of these files

FUZZ = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture,
                           HealthCheck.too_slow],
)


def _call(func):
    """Run ``func`` in a thread; fail on a hang, return (value, exception)."""
    out = {}

    def target():
        try:
            out["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - inspected by the caller
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(TIMEOUT)
    if t.is_alive():
        pytest.fail(f"no result within {TIMEOUT} s: a hang")
    return out.get("value"), out.get("error")


def _check_read_outcome(value, error, path):
    if error is None:
        assert isinstance(value, np.ndarray) and value.dtype == np.uint8
        assert value.ndim == 3 and value.shape[-1] == 3 and value.size > 0
        return
    assert type(error) is ImageReadError, f"{type(error).__name__}: {error}"
    msg = str(error)
    assert "\n" not in msg and str(path) in msg


def _write(tmp_path_factory, data, ext):
    folder = tmp_path_factory.mktemp("fuzz")
    path = folder / f"x{ext}"
    path.write_bytes(data)
    return path


# Real headers make random tails reach the decoders, not only the sniffing.
_MAGIC = [b"", b"\xff\xd8\xff\xe0", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*",
          b"BM"]


@FUZZ
@given(
    head=st.sampled_from(_MAGIC),
    body=st.binary(max_size=2048),
    ext=st.sampled_from(IMAGE_EXTENSIONS),
)
def test_random_bytes_with_image_extensions(tmp_path_factory, head, body, ext):
    path = _write(tmp_path_factory, head + body, ext)
    value, error = _call(lambda: read_image(path))
    _check_read_outcome(value, error, path)


def _bccd_bytes():
    files = sorted(BCCD.glob("*.jpg"))
    if not files:
        pytest.skip("BCCD sample not found")
    return files[0].read_bytes()


@FUZZ
@given(cut=st.floats(0.0, 1.0), ext=st.sampled_from([".jpg", ".png", ".tif"]),
       flip=st.integers(0, 10_000))
def test_truncated_and_damaged_real_files(tmp_path_factory, cut, ext, flip):
    raw = _bccd_bytes()
    if ext != ".jpg":  # the same picture in another format
        folder = tmp_path_factory.mktemp("conv")
        Image.open(BCCD / sorted(os.listdir(BCCD))[0]).save(folder / f"a{ext}")
        raw = (folder / f"a{ext}").read_bytes()
    data = bytearray(raw[: int(len(raw) * cut)])
    if data and flip % 3 == 0:  # and flip one byte
        data[flip % len(data)] ^= 0xFF
    path = _write(tmp_path_factory, bytes(data), ext)
    value, error = _call(lambda: read_image(path, reduce_to=32))
    _check_read_outcome(value, error, path)
    # The pipeline step gives the same outcome.
    value, error = _call(lambda: ImageReader(size=16).fit_transform([str(path)]))
    if error is None:
        assert value.shape == (1, 16, 16, 3)
    else:
        assert type(error) is ImageReadError and "\n" not in str(error)


@FUZZ
@given(
    shape=st.tuples(st.integers(1, 64), st.integers(1, 64)),
    mode=st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "I", "F",
                          "CMYK"]),
    ext=st.sampled_from(IMAGE_EXTENSIONS),
    size=st.one_of(st.none(), st.integers(1, 24)),
)
def test_valid_images_of_any_mode(tmp_path_factory, shape, mode, ext, size):
    rng = np.random.default_rng(sum(shape))
    im = Image.fromarray(rng.integers(0, 255, shape, dtype=np.uint8)).convert(mode)
    folder = tmp_path_factory.mktemp("modes")
    path = folder / f"m{ext}"
    try:
        im.save(path)
    except (OSError, ValueError, KeyError):
        return  # Pillow cannot write this mode in this format
    value, error = _call(lambda: read_images([path], size=size))
    if error is not None:
        assert type(error) is ImageReadError and "\n" not in str(error)
        return
    if size is None:
        assert value.shape == (1, *shape, 3)
    else:
        assert value.shape == (1, size, size, 3)


_DTYPES = st.sampled_from([np.uint8, np.uint16, np.int8, np.int16, np.int32,
                           np.int64, np.float16, np.float32, np.float64, bool,
                           np.complex64])


@settings(max_examples=150, deadline=None)
@given(
    X=hnp.arrays(
        _DTYPES,
        hnp.array_shapes(min_dims=0, max_dims=5, min_side=0, max_side=6),
    )
)
def test_check_images_any_shape_and_dtype(X):
    value, error = _call(lambda: check_images(X))
    if error is None:
        assert value.dtype == np.float32 and value.ndim == 4
        assert value.shape[-1] == 3 and len(value) >= 1
        assert np.isfinite(value).all()
        assert value.min() >= 0 and value.max() <= 1
        return
    assert type(error) in (ValueError, TypeError), f"{type(error)}: {error}"
    msg = str(error)
    assert msg and "\n" not in msg
    assert "np.int" not in msg and "np.float" not in msg and "np.str_" not in msg
