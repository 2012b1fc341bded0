"""--data/--dataset: the command line calls skleuk.datasets.load_dataset and
says --dataset where the library says kind=."""

import os
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from skleuk.cli._common import CLIError
from skleuk.cli._data import _load_data


def _save(path, value=0):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)


def _args(path, dataset="auto"):
    return SimpleNamespace(
        data=str(path), dataset=dataset, random_state=0, positive_class=None
    )


def test_class_folders_give_file_names(tmp_path):
    for cls in ["ALL", "healthy"]:
        for i in range(2):
            _save(str(tmp_path / cls / f"{i}.png"), i)
    data = _load_data(_args(tmp_path))
    assert data.is_paths and len(data.X) == 4 and data.folder_root == str(tmp_path)
    assert data.target_names == ["ALL", "healthy"] and data.pos_label == 0
    assert data.description.startswith(f"class folders at {tmp_path} -- 4 images")


def test_library_kind_becomes_dataset_option(tmp_path):
    _save(str(tmp_path / "ALL_IDB1" / "im" / "Im001_1.jpg"))
    with pytest.raises(CLIError, match="pass --dataset all-idb1 to cut") as info:
        _load_data(_args(tmp_path))
    assert "kind=" not in str(info.value)
