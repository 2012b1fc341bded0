"""Tests for image file reading (skleuk.utils._image_io; public in skleuk.datasets)."""

import os

import numpy as np
import pytest
import tifffile
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image

from skleuk.datasets import (
    IMAGE_EXTENSIONS,
    ImageReadError,
    read_image,
    read_images,
)


def _rgb(h=5, w=7, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


@pytest.mark.parametrize("ext", [".png", ".bmp", ".tif", ".tiff", ".PNG", ".TIF"])
def test_lossless_formats_round_trip(tmp_path, ext):
    img = _rgb()
    path = tmp_path / f"a{ext}"
    Image.fromarray(img).save(
        path,
        format={"tif": "TIFF", "tiff": "TIFF"}.get(ext[1:].lower(), ext[1:].upper()),
    )
    out = read_image(path)
    assert out.dtype == np.uint8 and out.shape == (5, 7, 3)
    np.testing.assert_array_equal(out, img)


def test_tifffile_rgb_and_planar(tmp_path):
    img = _rgb(6, 4)
    tifffile.imwrite(tmp_path / "contig.tif", img, photometric="rgb")
    tifffile.imwrite(
        tmp_path / "planar.tif",
        np.moveaxis(img, -1, 0),
        photometric="rgb",
        planarconfig="separate",
    )
    np.testing.assert_array_equal(read_image(tmp_path / "contig.tif"), img)
    np.testing.assert_array_equal(read_image(tmp_path / "planar.tif"), img)


def test_sixteen_bit_is_scaled_full_range(tmp_path):
    img16 = np.array([[0, 257 * 100, 65535]], dtype=np.uint16)
    tifffile.imwrite(tmp_path / "g16.tif", img16)
    out = read_image(tmp_path / "g16.tif")
    assert out.shape == (1, 3, 3)
    np.testing.assert_array_equal(out[0, :, 0], [0, 100, 255])
    rgb16 = np.stack([img16] * 3, axis=-1)
    tifffile.imwrite(tmp_path / "rgb16.tif", rgb16, photometric="rgb")
    np.testing.assert_array_equal(
        read_image(tmp_path / "rgb16.tif")[0, :, 1], [0, 100, 255]
    )
    # 16-bit PNG through Pillow.
    Image.fromarray(img16).save(tmp_path / "g16.png")
    np.testing.assert_array_equal(
        read_image(tmp_path / "g16.png")[0, :, 2], [0, 100, 255]
    )


def test_grayscale_is_replicated(tmp_path):
    gray = np.arange(12, dtype=np.uint8).reshape(3, 4) * 20
    Image.fromarray(gray).save(tmp_path / "g.png")
    out = read_image(tmp_path / "g.png")
    assert out.shape == (3, 4, 3)
    for c in range(3):
        np.testing.assert_array_equal(out[..., c], gray)


def test_rgba_and_gray_alpha_composited_on_white(tmp_path):
    rgba = np.zeros((1, 3, 4), dtype=np.uint8)
    rgba[0, :, 0] = 200  # red channel
    rgba[0, :, 3] = [0, 255, 51]  # alpha: transparent, opaque, 20 %
    Image.fromarray(rgba, "RGBA").save(tmp_path / "a.png")
    out = read_image(tmp_path / "a.png")
    np.testing.assert_array_equal(out[0, 0], [255, 255, 255])
    np.testing.assert_array_equal(out[0, 1], [200, 0, 0])
    np.testing.assert_array_equal(out[0, 2], [244, 204, 204])
    la = np.stack([np.full((2, 2), 100, np.uint8), np.zeros((2, 2), np.uint8)], -1)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    np.testing.assert_array_equal(read_image(tmp_path / "la.png"), 255)


def test_palette_image(tmp_path):
    im = Image.fromarray(_rgb()).convert("P")
    im.save(tmp_path / "p.png")
    out = read_image(tmp_path / "p.png")
    np.testing.assert_array_equal(out, np.asarray(im.convert("RGB")))


def test_jpeg_and_uppercase_extension(tmp_path):
    img = np.full((16, 16, 3), (180, 90, 140), dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "x.JPG", format="JPEG", quality=95)
    Image.fromarray(img).save(tmp_path / "x.jpeg", format="JPEG", quality=95)
    for name in ["x.JPG", "x.jpeg"]:
        out = read_image(str(tmp_path / name))
        assert out.shape == (16, 16, 3) and out.dtype == np.uint8
        assert np.abs(out.astype(int) - img).max() <= 3


def test_float_tiff(tmp_path):
    tifffile.imwrite(tmp_path / "f.tif", np.array([[0.0, 0.5, 1.0]], np.float32))
    np.testing.assert_array_equal(
        read_image(tmp_path / "f.tif")[0, :, 0], [0, 128, 255]
    )
    tifffile.imwrite(tmp_path / "bad.tif", np.array([[0.0, 3.0]], np.float32))
    with pytest.raises(ImageReadError, match="bad.tif"):
        read_image(tmp_path / "bad.tif")


def _assert_read_error(path, match):
    with pytest.raises(ImageReadError, match=match) as info:
        read_image(path)
    err = info.value
    assert isinstance(err, OSError) and isinstance(err, ValueError)
    assert os.fspath(path) in str(err)
    assert err.filename == os.fspath(path)


def test_errors_name_the_file(tmp_path):
    _assert_read_error(tmp_path / "missing.png", "does not exist")
    d = tmp_path / "folder.png"
    d.mkdir()
    _assert_read_error(d, "directory")
    (tmp_path / "notes.txt").write_text("hello")
    _assert_read_error(tmp_path / "notes.txt", "unsupported file extension")
    (tmp_path / "noext").write_text("hello")
    _assert_read_error(tmp_path / "noext", "unsupported file extension")
    (tmp_path / "text.jpg").write_text("this is not an image")
    _assert_read_error(tmp_path / "text.jpg", "corrupt or not a valid image")
    (tmp_path / "random.tif").write_bytes(os.urandom(200))
    _assert_read_error(tmp_path / "random.tif", "corrupt or not a valid image")
    (tmp_path / "empty.png").write_bytes(b"")
    _assert_read_error(tmp_path / "empty.png", "corrupt")


def test_truncated_jpeg(tmp_path):
    Image.fromarray(_rgb(64, 64)).save(tmp_path / "full.jpg", quality=90)
    data = (tmp_path / "full.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    _assert_read_error(tmp_path / "cut.jpg", "corrupt")


def test_read_image_rejects_non_paths():
    with pytest.raises(TypeError, match="file path"):
        read_image(np.zeros((2, 2, 3)))


def test_image_extensions_are_lowercase_with_dot():
    assert {".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp"} == set(IMAGE_EXTENSIONS)


def test_read_images_uniform_ragged_and_sized(tmp_path):
    paths = []
    for i, shape in enumerate([(4, 6), (4, 6), (6, 6)]):
        p = tmp_path / f"{i}.png"
        Image.fromarray(_rgb(*shape, seed=i)).save(p)
        paths.append(p)
    same = read_images(paths[:2])
    assert isinstance(same, np.ndarray) and same.shape == (2, 4, 6, 3)
    ragged = read_images(paths)
    assert isinstance(ragged, list)
    assert [im.shape for im in ragged] == [(4, 6, 3), (4, 6, 3), (6, 6, 3)]
    sized = read_images(paths, size=8)
    assert sized.shape == (3, 8, 8, 3) and sized.dtype == np.uint8
    # n_jobs gives the same result, in input order.
    np.testing.assert_array_equal(read_images(paths, size=8, n_jobs=2), sized)


def test_size_rule_pads_to_square_then_resizes(tmp_path):
    # A constant non-square image stays constant with reflect/edge padding;
    # constant padding adds white bands above and below.
    img = np.full((4, 8, 3), 60, dtype=np.uint8)
    Image.fromarray(img).save(tmp_path / "wide.png")
    out = read_images([tmp_path / "wide.png"], size=8)
    np.testing.assert_array_equal(out, 60)
    out = read_images([tmp_path / "wide.png"], size=8, pad_mode="constant")
    np.testing.assert_array_equal(out[0, 2:6], 60)
    np.testing.assert_array_equal(out[0, :2], 255)
    np.testing.assert_array_equal(out[0, 6:], 255)
    # Square at the right size: returned unchanged.
    img = _rgb(8, 8)
    Image.fromarray(img).save(tmp_path / "sq.png")
    np.testing.assert_array_equal(read_images([tmp_path / "sq.png"], size=8)[0], img)


def test_read_images_errors(tmp_path):
    with pytest.raises(TypeError, match="single path"):
        read_images(str(tmp_path / "a.png"))
    with pytest.raises(ValueError, match="empty"):
        read_images([])
    with pytest.raises(ValueError, match="size"):
        read_images(["a.png"], size=0)
    with pytest.raises(ValueError, match="pad_mode"):
        read_images(["a.png"], size=4, pad_mode="wrap")
    with pytest.raises(TypeError, match="file paths"):
        read_images([np.zeros((2, 2, 3))])
    Image.fromarray(_rgb()).save(tmp_path / "ok.png")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.raises(ImageReadError, match="bad.png"):
        read_images([tmp_path / "ok.png", tmp_path / "bad.png"])


@given(
    h=st.integers(1, 12),
    w=st.integers(1, 12),
    size=st.integers(1, 10),
    seed=st.integers(0, 2**16),
    ext=st.sampled_from([".png", ".tif", ".bmp"]),
)
def test_property_lossless_round_trip_and_size_contract(
    tmp_path_factory, h, w, size, seed, ext
):
    folder = tmp_path_factory.mktemp("prop")
    img = _rgb(h, w, seed)
    path = folder / f"im{ext}"
    Image.fromarray(img).save(path)
    np.testing.assert_array_equal(read_image(path), img)
    out = read_images([path, path], size=size)
    assert out.shape == (2, size, size, 3) and out.dtype == np.uint8
    assert out.min() >= img.min() and out.max() <= img.max()
