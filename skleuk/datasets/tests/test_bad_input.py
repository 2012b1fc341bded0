"""Bad and large input to the readers and loaders (issue 15).

Pixel limit, reduced-resolution decoding, non-regular files (FIFOs) and
symbolic links, for :func:`read_image` and every loader built on it.
"""

import os
import threading

import numpy as np
import pytest
from PIL import Image

from skleuk.datasets import (
    DEFAULT_MAX_IMAGE_PIXELS,
    ImageReadError,
    load_all_idb,
    load_image_folder,
    read_image,
    read_images,
)
from skleuk.preprocessing import ImageReader


def _save(path, shape=(8, 8, 3), value=100, **kw):
    Image.fromarray(np.full(shape, value, np.uint8)).save(path, **kw)
    return path


# ---------------------------------------------------------------------------
# pixel limit
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("ext", [".png", ".tif", ".jpg", ".bmp"])
def test_pixel_limit_names_file_size_and_limit(tmp_path, ext):
    path = _save(tmp_path / f"big{ext}", shape=(30, 40, 3))
    with pytest.raises(ImageReadError) as info:
        read_image(path, max_pixels=1000)
    msg = str(info.value)
    assert str(path) in msg and "40x30" in msg and "1,000" in msg
    assert "corrupt" not in msg and "\n" not in msg
    assert read_image(path, max_pixels=1200).shape == (30, 40, 3)


def test_pixel_limit_from_environment(tmp_path, monkeypatch):
    path = _save(tmp_path / "a.png", shape=(30, 40, 3))
    monkeypatch.setenv("SKLEUK_MAX_IMAGE_PIXELS", "1000")
    with pytest.raises(ImageReadError, match="over the limit"):
        read_image(path)
    with pytest.raises(ImageReadError, match="over the limit"):
        ImageReader(size=8).fit_transform([str(path)])
    monkeypatch.setenv("SKLEUK_MAX_IMAGE_PIXELS", "lots")
    with pytest.raises(ValueError, match="SKLEUK_MAX_IMAGE_PIXELS"):
        read_image(path)


def test_default_limit_keeps_whole_smears():
    assert 2592 * 1944 < DEFAULT_MAX_IMAGE_PIXELS < 20000**2


def test_huge_tiff_refused_before_decoding(tmp_path):
    """A 20000x20000 TIFF is a few hundred KB compressed: refuse from its
    header, never allocate the 1.2 GB array."""
    tifffile = pytest.importorskip("tifffile")
    path = tmp_path / "huge.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(
            shape=(20000, 20000), dtype=np.uint8, compression="zlib",
            tile=(1024, 1024),
            data=(np.zeros((1024, 1024), np.uint8) for _ in range(400)),
        )
    assert os.path.getsize(path) < 5_000_000
    with pytest.raises(ImageReadError, match=r"20000x20000 = 400,000,000 pixels"):
        read_image(path)


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "10"])
def test_bad_max_pixels(tmp_path, bad):
    path = _save(tmp_path / "a.png")
    with pytest.raises(ValueError, match="max_pixels"):
        read_image(path, max_pixels=bad)


# ---------------------------------------------------------------------------
# reduced-resolution decoding
# ---------------------------------------------------------------------------
def _gradient(h, w):
    yy, xx = np.mgrid[0:h, 0:w]
    return np.stack(
        [(xx * 255 // w), (yy * 255 // h), ((xx + yy) * 255 // (h + w))], -1
    ).astype(np.uint8)


@pytest.mark.parametrize("ext", [".jpg", ".png", ".tif", ".bmp"])
def test_reduced_decoding_keeps_at_least_target(tmp_path, ext):
    path = tmp_path / f"g{ext}"
    Image.fromarray(_gradient(400, 300)).save(path)
    full = read_image(path)
    small = read_image(path, reduce_to=48)
    assert full.shape == (400, 300, 3)
    assert max(small.shape[:2]) >= 48 and max(small.shape[:2]) < 200
    # Box/DCT reduction of a smooth image: the same picture, smaller.
    resized = np.asarray(
        Image.fromarray(full).resize(small.shape[1::-1], Image.BOX), dtype=float
    )
    assert np.abs(resized - small).mean() < 6


def test_read_images_size_close_to_full_decode(tmp_path):
    path = tmp_path / "g.jpg"
    Image.fromarray(_gradient(640, 480)).save(path, quality=95)
    from skleuk.utils._image_io import _resize_one

    reduced = read_images([path], size=32)[0].astype(float)
    full = _resize_one(read_image(path), 32, "reflect").astype(float)
    assert np.abs(reduced - full).mean() < 3


def test_no_reduction_by_default_for_smears(tmp_path):
    path = tmp_path / "smear.jpg"
    Image.fromarray(np.zeros((1944, 2592, 3), np.uint8)).save(path)
    assert read_image(path).shape == (1944, 2592, 3)
    assert ImageReader().fit_transform([str(path)]).shape == (1, 1944, 2592, 3)


# ---------------------------------------------------------------------------
# non-regular files: never opened, never a hang
# ---------------------------------------------------------------------------
def _run_with_timeout(func, timeout=20):
    out = {}

    def target():
        try:
            out["value"] = func()
        except BaseException as exc:  # noqa: BLE001 - re-raised below
            out["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        pytest.fail(f"{func} did not return within {timeout} s (hang)")
    if "error" in out:
        raise out["error"]
    return out.get("value")


needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")


@needs_fifo
def test_fifo_is_refused_without_opening(tmp_path):
    fifo = tmp_path / "cell.png"
    os.mkfifo(fifo)
    with pytest.raises(ImageReadError, match="FIFO"):
        _run_with_timeout(lambda: read_image(fifo))


@needs_fifo
def test_loaders_skip_fifo_with_warning(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / cls).mkdir()
        _save(tmp_path / cls / "x.png")
    os.mkfifo(tmp_path / "a" / "cell.png")
    with pytest.warns(UserWarning, match="not regular files"):
        data = _run_with_timeout(lambda: load_image_folder(tmp_path))
    assert len(data.filenames) == 2 and data.n_ignored_files == 1


# ---------------------------------------------------------------------------
# symbolic links
# ---------------------------------------------------------------------------
needs_symlink = pytest.mark.skipif(os.name == "nt", reason="symlinks need admin")


@needs_symlink
def test_symlinked_subfolders_are_followed(tmp_path):
    store = tmp_path / "store"
    (store / "p1").mkdir(parents=True)
    for i in range(3):
        _save(store / "p1" / f"{i}.png")
    root = tmp_path / "data"
    for cls in ("all", "hem"):
        (root / cls).mkdir(parents=True)
        _save(root / cls / "own.png")
    os.symlink(store / "p1", root / "all" / "patient1")  # folder link
    os.symlink(store / "p1" / "0.png", root / "hem" / "linked.png")  # file link
    os.symlink(root / "all", root / "all" / "loop")  # a cycle
    data = load_image_folder(root, return_images=False)
    assert data.class_counts == {"all": 4, "hem": 2}


@needs_symlink
@pytest.mark.filterwarnings("ignore:Found 4 ALL_IDB2")
def test_all_idb_follows_symlinked_folder(tmp_path):
    real = tmp_path / "elsewhere"
    real.mkdir()
    for i, t in enumerate([1, 1, 0, 0]):
        _save(real / f"Im{i + 1:03d}_{t}.tif")
    (tmp_path / "ALL_IDB2").mkdir()
    os.symlink(real, tmp_path / "ALL_IDB2" / "img")
    os.symlink(tmp_path / "ALL_IDB2", tmp_path / "ALL_IDB2" / "img2")
    bunch = load_all_idb(tmp_path, subset="ALL_IDB2", return_images=False,
                         on_unexpected="ignore")
    assert len(bunch.filenames) == 4


def test_file_given_for_folder_says_so(tmp_path):
    path = _save(tmp_path / "a.png")
    with pytest.raises(NotADirectoryError, match="is a file, not a folder"):
        load_image_folder(path)


def test_pillow_bomb_limit_is_reported_as_too_large(tmp_path, monkeypatch):
    """Above Pillow's own limit the message says so, not "corrupt"."""
    from PIL import Image as PILImage

    path = _save(tmp_path / "a.png", shape=(40, 40, 3))
    monkeypatch.setattr(PILImage, "MAX_IMAGE_PIXELS", 100)
    with pytest.raises(ImageReadError) as info:
        read_image(path, max_pixels=10**9)
    msg = str(info.value)
    assert "corrupt" not in msg and "PIL.Image.MAX_IMAGE_PIXELS" in msg
    assert str(path) in msg


def test_pyramidal_tiff_read_from_a_reduced_level(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    data = np.random.default_rng(0).integers(0, 255, (512, 512, 3), dtype=np.uint8)
    path = tmp_path / "pyramid.tif"
    with tifffile.TiffWriter(path) as tw:
        tw.write(data, subifds=2, photometric="rgb")
        tw.write(data[::2, ::2], subfiletype=1, photometric="rgb")
        tw.write(data[::4, ::4], subfiletype=1, photometric="rgb")
    assert read_image(path).shape == (512, 512, 3)
    np.testing.assert_array_equal(read_image(path, reduce_to=100), data[::4, ::4])
    np.testing.assert_array_equal(read_image(path, reduce_to=200), data[::2, ::2])
