"""Tests for load_image_folder."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from skleuk.datasets import ImageReadError, load_image_folder


def _save(path, value, shape=(8, 8), fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((*shape, 3), value, dtype=np.uint8)).save(path, format=fmt)


def test_cnmc_layout_two_classes(tmp_path):
    root = tmp_path / "fold_0"
    for i in range(3):
        _save(str(root / "hem" / f"h{i}.bmp"), 100 + i)
    for i in range(2):
        _save(str(root / "all" / f"a{i}.bmp"), 10 + i)
    data = load_image_folder(root)
    assert data.target_names == ["all", "hem"]
    np.testing.assert_array_equal(data.target, [0, 0, 1, 1, 1])
    assert data.class_counts == {"all": 2, "hem": 3}
    assert data.images.shape == (5, 8, 8, 3) and data.images.dtype == np.uint8
    np.testing.assert_array_equal(data.images[:, 0, 0, 0], [10, 11, 100, 101, 102])
    assert [os.path.basename(f) for f in data.filenames] == [
        "a0.bmp",
        "a1.bmp",
        "h0.bmp",
        "h1.bmp",
        "h2.bmp",
    ]
    assert "5 images in 2 classes (all: 2, hem: 3)" in data.DESCR


def test_multiclass_order_and_classes_parameter(tmp_path):
    names = ["Benign", "Early", "Pre", "Pro"]
    for k, name in enumerate(names):
        _save(str(tmp_path / name / f"{name}_1.jpg"), 40 * k, fmt="JPEG")
    data = load_image_folder(tmp_path, return_images=False)
    assert data.target_names == names
    np.testing.assert_array_equal(data.target, [0, 1, 2, 3])
    data = load_image_folder(tmp_path, classes=["Pro", "Benign"], return_images=False)
    assert data.target_names == ["Pro", "Benign"]
    np.testing.assert_array_equal(data.target, [0, 1])
    assert all(
        os.path.basename(os.path.dirname(f)) in ("Pro", "Benign")
        for f in data.filenames
    )
    assert "Subfolders not loaded: ['Early', 'Pre']" in data.DESCR
    with pytest.raises(FileNotFoundError, match=r"\['Late'\]"):
        load_image_folder(tmp_path, classes=["Pro", "Late"])
    with pytest.raises(ValueError, match="distinct"):
        load_image_folder(tmp_path, classes=["Pro", "Pro"])
    with pytest.raises(TypeError, match="list of folder names"):
        load_image_folder(tmp_path, classes="Pro")


def test_nested_files_found_and_non_images_counted(tmp_path):
    _save(str(tmp_path / "a" / "patient1" / "deep" / "x.png"), 1)
    _save(str(tmp_path / "a" / "y.PNG"), 2)
    _save(str(tmp_path / "b" / "z.tif"), 3)
    (tmp_path / "a" / "notes.txt").write_text("x")
    (tmp_path / "b" / "labels.csv").write_text("x")
    (tmp_path / "b" / "._z.tif").write_bytes(b"\0\0")  # macOS fork: ignored
    (tmp_path / ".hidden").mkdir()
    data = load_image_folder(tmp_path)
    assert data.target_names == ["a", "b"]
    assert len(data.filenames) == 3
    assert data.n_ignored_files == 3
    assert "3 non-image file(s) ignored" in data.DESCR


def test_empty_class_warns_and_keeps_its_index(tmp_path):
    _save(str(tmp_path / "all" / "1.png"), 1)
    (tmp_path / "hem").mkdir()
    (tmp_path / "zzz").mkdir()
    _save(str(tmp_path / "zzz" / "2.png"), 2)
    with pytest.warns(UserWarning, match=r"\['hem'\].*no images"):
        data = load_image_folder(tmp_path)
    assert data.target_names == ["all", "hem", "zzz"]
    np.testing.assert_array_equal(data.target, [0, 2])
    assert data.class_counts == {"all": 1, "hem": 0, "zzz": 1}


def test_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_image_folder(tmp_path / "nope")
    with pytest.raises(FileNotFoundError, match="No class subfolders"):
        load_image_folder(tmp_path)
    _save(str(tmp_path / "loose.png"), 1)
    with pytest.raises(FileNotFoundError, match="1 image file.*directly"):
        load_image_folder(tmp_path)
    (tmp_path / "empty_a").mkdir()
    (tmp_path / "empty_b").mkdir()
    with pytest.raises(FileNotFoundError, match="No image files"):
        load_image_folder(tmp_path)
    with pytest.raises(ValueError, match="size"):
        load_image_folder(tmp_path, size=0)
    with pytest.raises(TypeError):
        load_image_folder(None)


def test_corrupt_file_named(tmp_path):
    _save(str(tmp_path / "a" / "ok.png"), 1)
    (tmp_path / "a" / "bad.png").write_bytes(b"garbage")
    with pytest.raises(ImageReadError, match="bad.png"):
        load_image_folder(tmp_path)


def test_mixed_sizes_list_or_size_rule(tmp_path):
    _save(str(tmp_path / "a" / "1.png"), 50, shape=(8, 8))
    _save(str(tmp_path / "b" / "2.png"), 60, shape=(6, 10))
    data = load_image_folder(tmp_path)
    assert isinstance(data.images, list)
    assert [im.shape for im in data.images] == [(8, 8, 3), (6, 10, 3)]
    X, y = load_image_folder(tmp_path, size=5, return_X_y=True)
    assert X.shape == (2, 5, 5, 3) and X.dtype == np.uint8
    np.testing.assert_array_equal(X[1], 60)  # reflect padding of a flat image
    np.testing.assert_array_equal(y, [0, 1])
    f, y = load_image_folder(tmp_path, return_images=False, return_X_y=True)
    assert len(f) == 2


def test_split_folders_warn(tmp_path):
    for fold in ["fold_0", "fold_1"]:
        for cls in ["all", "hem"]:
            _save(str(tmp_path / fold / cls / "1.bmp"), 1)
    with pytest.warns(UserWarning, match="look like data splits"):
        data = load_image_folder(tmp_path, return_images=False)
    assert data.target_names == ["fold_0", "fold_1"]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_image_folder(tmp_path / "fold_0", return_images=False)
    assert data.target_names == ["all", "hem"]


def test_verbose(tmp_path, capsys):
    _save(str(tmp_path / "a" / "1.png"), 1)
    load_image_folder(tmp_path, verbose=True)
    assert "1 images in 1 classes" in capsys.readouterr().out
