"""Tests for load_dataset: one entry point that recognises the layout."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from skleuk.datasets import DATASET_KINDS, AmbiguousDatasetError, load_dataset
from skleuk.exceptions import AmbiguousDatasetError as FromExceptions


def _save(path, value=0, shape=(8, 8)):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((*shape, 3), value, np.uint8)).save(path)


def _class_folders(root, names=("ALL", "healthy"), n=2):
    for k, name in enumerate(names):
        for i in range(n):
            _save(os.path.join(root, name, f"cell{i}.png"), 10 * k + i)
    return root


def _idb2(root, entries=((1, 1), (2, 1), (131, 0))):
    for num, lab in entries:
        _save(os.path.join(root, "ALL_IDB2", "img", f"Im{num:03d}_{lab}.tif"), num)
    return root


def _quiet(*args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # partial ALL-IDB copies
        return load_dataset(*args, **kwargs)


def test_auto_reads_class_folders(tmp_path):
    data = load_dataset(_class_folders(tmp_path))
    assert data.kind == "folder"
    assert data.target_names == ["ALL", "healthy"]
    assert data.target.tolist() == [0, 0, 1, 1]
    assert data.images.shape == (4, 8, 8, 3)
    assert "Image folder" in data.DESCR


def test_auto_reads_all_idb2_and_never_takes_subset_folders_as_classes(tmp_path):
    _idb2(tmp_path)
    # A second subset beside it: the parent holds ALL_IDB1 and ALL_IDB2 folders,
    # which are two "class folders" with images, yet not classes.
    _save(str(tmp_path / "ALL_IDB1" / "im" / "Im001_1.jpg"))
    data = _quiet(tmp_path, return_images=False)
    assert data.kind == "all-idb2"
    assert [os.path.basename(f) for f in data.filenames] == [
        "Im001_1.tif",
        "Im002_1.tif",
        "Im131_0.tif",
    ]
    assert data.target.tolist() == [1, 1, 0] and "images" not in data


def test_auto_refuses_a_folder_that_fits_two_layouts(tmp_path):
    _class_folders(tmp_path, ("Benign", "Early", "Pre"))
    os.rename(tmp_path / "Early" / "cell0.png", tmp_path / "Early" / "Im001_1.png")
    with pytest.raises(AmbiguousDatasetError, match="two layouts") as info:
        load_dataset(tmp_path, return_images=False)
    message = str(info.value)
    assert "ALL_IDB2 (1 files" in message and "6 images in 3 folders" in message
    assert "kind='all-idb2' or kind='folder'" in message
    assert info.value.kinds == ("all-idb2", "folder")
    assert info.value.path == str(tmp_path)
    assert (
        isinstance(info.value, ValueError) and FromExceptions is AmbiguousDatasetError
    )
    # Either reading, when asked for explicitly.
    assert len(load_dataset(tmp_path, "folder", return_images=False).target) == 6
    idb = _quiet(tmp_path, "all-idb2", return_images=False, on_unexpected="ignore")
    assert idb.kind == "all-idb2" and idb.target.tolist() == [1]


def test_all_idb1_cuts_cells_grouped_by_smear(tmp_path):
    for num, lab, cents in [(1, 1, [(20, 15)]), (2, 1, [(10, 12), (30, 20)])]:
        _save(
            str(tmp_path / "ALL_IDB1" / "im" / f"Im{num:03d}_{lab}.jpg"),
            num,
            shape=(30, 40),
        )
        xyc = tmp_path / "ALL_IDB1" / "xyc" / f"Im{num:03d}_{lab}.xyc"
        xyc.parent.mkdir(parents=True, exist_ok=True)
        xyc.write_text("".join(f"{x}\t{y}\n" for x, y in cents))
    data = _quiet(tmp_path, "all-idb1", crop_size=8, negatives="none")
    assert data.kind == "all-idb1"
    assert data.images.shape == (3, 8, 8, 3)
    assert data.groups.tolist() == [0, 1, 1] and data.target.tolist() == [1, 1, 1]


def test_kwargs_reach_the_loader_and_return_X_y(tmp_path):
    _class_folders(tmp_path)
    X, y = load_dataset(tmp_path, "folder", size=4, return_X_y=True)
    assert X.shape == (4, 4, 4, 3) and y.tolist() == [0, 0, 1, 1]
    X, y = load_dataset(tmp_path, return_X_y=True, return_images=False)
    assert X.dtype.kind == "U" and len(X) == 4
    with pytest.raises(TypeError, match="unexpected keyword"):
        load_dataset(tmp_path, "folder", subset="ALL_IDB2")


@pytest.mark.parametrize("kind", ["ALL_IDB2", "", None, "idb", 2])
def test_unknown_kind(tmp_path, kind):
    with pytest.raises(ValueError, match="kind must be one of 'auto'"):
        load_dataset(tmp_path, kind)


def test_bad_paths(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_dataset(tmp_path / "missing")
    (tmp_path / "f.png").write_bytes(b"")
    with pytest.raises(NotADirectoryError, match="is a file"):
        load_dataset(tmp_path / "f.png")
    with pytest.raises(TypeError, match="folder path"):
        load_dataset(3)
    # Neither layout: the class-folder loader's own error.
    with pytest.raises(FileNotFoundError, match="No class subfolders"):
        load_dataset(tmp_path)


def test_kinds_constant_lists_every_kind(tmp_path):
    assert DATASET_KINDS[0] == "auto"
    assert set(DATASET_KINDS) == {"auto", "folder", "all-idb2", "all-idb1"}


def test_auto_points_all_idb1_smears_to_their_kind(tmp_path):
    # Only ALL_IDB1: reading its folder as one "class" would be silently
    # wrong; auto says which kind to ask for.
    _save(str(tmp_path / "ALL_IDB1" / "im" / "Im001_1.jpg"))
    _save(str(tmp_path / "ALL_IDB1" / "im" / "Im060_0.jpg"))
    with pytest.raises(ValueError, match="ALL_IDB1 smears.*kind='all-idb1'"):
        load_dataset(tmp_path)
