"""Image reading and folder walking under faults (issue 32): unreadable
files and folders, links above the root, tiny images named, Pillow's limit
in skleuk's words."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from skleuk.exceptions import ImageReadError
from skleuk.utils import _image_io
from skleuk.utils._image_io import read_image, read_images
from skleuk.utils._walk import _walk_files

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(
    IS_ROOT or os.name == "nt", reason="root ignores file permissions")


def _png(path, size=(8, 8)):
    Image.fromarray(np.full((*size, 3), 120, np.uint8)).save(path)
    return str(path)


def _deny(monkeypatch, folder):
    """Make listing ``folder`` fail as it would for a mode-000 folder."""
    real = os.scandir
    target = os.path.realpath(folder)

    def scandir(path="."):
        if os.path.realpath(path) == target:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


def test_an_unreadable_folder_is_an_error_naming_it(tmp_path, monkeypatch):
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        _png(tmp_path / name / "x.png")
    _deny(monkeypatch, tmp_path / "b")
    with pytest.raises(PermissionError,
                       match="cannot read folder .*b.*permission denied"):
        _walk_files(str(tmp_path))


@needs_non_root
def test_mode_000_folder(tmp_path):
    (tmp_path / "b").mkdir()
    _png(tmp_path / "b" / "x.png")
    os.chmod(tmp_path / "b", 0)
    try:
        with pytest.raises(PermissionError, match="permission denied"):
            _walk_files(str(tmp_path))
    finally:
        os.chmod(tmp_path / "b", 0o700)


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_a_link_above_the_root_is_not_followed(tmp_path):
    root = tmp_path / "data"
    (root / "sub").mkdir(parents=True)
    _png(root / "sub" / "in.png")
    _png(tmp_path / "outside.png")  # beside the root: must not be found
    os.symlink("..", root / "sub" / "up")          # -> data
    os.symlink("../..", root / "sub" / "upup")     # -> above data
    other = tmp_path / "elsewhere"                 # a link sideways: followed
    other.mkdir()
    _png(other / "linked.png")
    os.symlink(other, root / "patient")
    with pytest.warns(UserWarning, match="Did not follow 2 symbolic link"):
        files, _, _ = _walk_files(str(root))
    assert sorted(os.path.basename(f) for f in files) == ["in.png", "linked.png"]


def test_unreadable_image_says_permission_denied(tmp_path, monkeypatch):
    path = _png(tmp_path / "x.png")
    from PIL import Image as PILImage

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", path)

    monkeypatch.setattr(PILImage, "open", denied)
    with pytest.raises(ImageReadError, match="x.png.*permission denied"):
        read_image(path)


@needs_non_root
def test_mode_000_image(tmp_path):
    path = _png(tmp_path / "x.png")
    os.chmod(path, 0)
    try:
        with pytest.raises(ImageReadError, match="permission denied"):
            read_image(path)
    finally:
        os.chmod(path, 0o600)


def test_tiny_images_are_named_once(tmp_path):
    paths = [_png(tmp_path / "ok.png", (32, 32)), _png(tmp_path / "one.png", (1, 1)),
             _png(tmp_path / "two.png", (2, 1))]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_images(paths, size=32)
    tiny = [str(w.message) for w in caught if "enlarged" in str(w.message)]
    assert len(tiny) == 1
    assert "2 image file(s)" in tiny[0] and "one.png" in tiny[0] and "1x1" in tiny[0]


def test_pillow_bomb_limit_in_skleuks_words(tmp_path, monkeypatch):
    path = _png(tmp_path / "big.png", (40, 40))
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 700)  # 1,600 > 2 x 700
    with pytest.raises(ImageReadError, match=r"1,600 pixels, over the limit of 1,000"):
        read_image(path, max_pixels=1000)
    # With skleuk's limit raised above Pillow's, Pillow's is named.
    with pytest.raises(ImageReadError, match="Pillow's decompression-bomb limit"):
        read_image(path, max_pixels=10_000)
    assert _image_io.DEFAULT_MAX_IMAGE_PIXELS == 50_000_000
