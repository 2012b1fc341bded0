"""The flow shared by the loaders (skleuk.datasets._base): one hidden-file
rule, one walker, one way to finish the Bunch."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image

from skleuk.datasets import load_all_idb, load_image_folder
from skleuk.datasets._base import finish, is_hidden
from skleuk.utils._image_io import _walk_files, find_image_files


def _save(path, value=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


@pytest.mark.parametrize(
    "name, hidden",
    [
        (".DS_Store", True),
        ("._Im001_1.tif", True),  # a macOS resource fork with an image extension
        (".cache", True),
        ("__MACOSX", True),
        ("__pycache__", True),
        ("Im001_1.tif", False),
        ("ALL_IDB2", False),
        ("_private_class", False),
        ("MACOSX", False),
    ],
)
def test_one_hidden_rule(name, hidden):
    assert is_hidden(name) is hidden


def test_the_walker_uses_the_same_rule_by_default(tmp_path):
    for name in ["a.jpg", ".b.jpg", "__pycache__/c.jpg", "__MACOSX/d.jpg"]:
        _save(str(tmp_path / name))
    files, skipped, n_hidden = _walk_files(tmp_path)
    assert [os.path.basename(f) for f in files] == ["a.jpg"]
    assert skipped == [] and n_hidden == 1  # ".b.jpg"; hidden folders not entered
    images, n_ignored, _ = find_image_files(tmp_path)
    assert images == files and n_ignored == 1


HIDDEN_PLACES = ["__pycache__", "__MACOSX", ".trash", "img/.hidden"]


@pytest.mark.parametrize("place", HIDDEN_PLACES)
def test_all_idb_skips_every_hidden_folder(tmp_path, place):
    # Before the loaders shared one rule, load_all_idb read __pycache__.
    img = tmp_path / "ALL_IDB2" / "img"
    _save(str(img / "Im001_1.tif"), 1)
    _save(str(img / "Im131_0.tif"), 2)
    _save(str(tmp_path / "ALL_IDB2" / place / "Im002_1.tif"), 3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a partial copy
        data = load_all_idb(tmp_path, return_images=False)
    assert [os.path.basename(f) for f in data.filenames] == [
        "Im001_1.tif",
        "Im131_0.tif",
    ]


@pytest.mark.parametrize("place", HIDDEN_PLACES)
def test_image_folder_skips_every_hidden_folder(tmp_path, place):
    _save(str(tmp_path / "all" / "a.png"), 1)
    _save(str(tmp_path / "hem" / "h.png"), 2)
    _save(str(tmp_path / "hem" / place / "x.png"), 3)
    if "/" not in place:
        _save(str(tmp_path / place / "y.png"), 4)  # never a class
    data = load_image_folder(tmp_path, return_images=False)
    assert data.target_names == ["all", "hem"]
    assert [os.path.basename(f) for f in data.filenames] == ["a.png", "h.png"]


def test_both_loaders_follow_a_linked_data_folder(tmp_path):
    # Data on another disk, linked into the project.
    real = tmp_path / "disk"
    _save(str(real / "ALL_IDB2" / "img" / "Im001_1.tif"))
    _save(str(real / "ALL_IDB2" / "img" / "Im131_0.tif"))
    _save(str(real / "classes" / "all" / "a.png"))
    _save(str(real / "classes" / "hem" / "h.png"))
    project = tmp_path / "project"
    project.mkdir()
    os.symlink(real / "ALL_IDB2", project / "ALL_IDB2")
    os.symlink(real / "classes" / "all", project / "all")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        idb = load_all_idb(project, return_images=False)
    assert len(idb.filenames) == 2
    folder = load_image_folder(project, classes=["all"], return_images=False)
    assert [os.path.basename(f) for f in folder.filenames] == ["a.png"]


def test_finish_sets_descr_and_returns(capsys):
    from sklearn.utils import Bunch

    bunch = Bunch(filenames=np.array(["a"]), target=np.array([0]))
    out = finish(bunch, title="T\n", text="found 1", verbose=True)
    assert out is bunch and bunch.DESCR == "T\nfound 1\n"
    assert capsys.readouterr().out == "found 1\n"
    X, y = finish(bunch, title="", text="", return_X_y=True)
    assert X is bunch.filenames and y is bunch.target
    bunch.images = np.zeros((1, 2, 2, 3))
    X, _ = finish(bunch, title="", text="", return_X_y=True)
    assert X is bunch.images
