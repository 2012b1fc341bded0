"""The ``skleuk`` command with bad input and faults (issue 32).

Each test reproduces one reported case (its number in the issue's table
heads it) with tiny models: a pipeline of allow-listed types (skleuk's
reader and features, a logistic regression) for ``predict``, the cheap
screener of the screening tests for ``screen``.
"""

import os

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from test_cli import _one_line_error

import skleuk
from skleuk.cli import main
from skleuk.datasets import make_blood_smears
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import Resizer
from skleuk.preprocessing._reader import ImageReader

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(
    IS_ROOT or os.name == "nt", reason="root ignores file permissions")


def _save_images(root, names, n=6, size=64, seed=0):
    """``root/<name>/`` with ``n`` synthetic cell images each."""
    data = make_blood_smears(n_samples=n * len(names), image_size=size,
                             random_state=seed)
    for k, name in enumerate(names):
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            Image.fromarray(data.images[k * n + i]).save(root / name / f"c{i}.png")
    return root


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return _save_images(tmp_path_factory.mktemp("cells"), ["ALL", "healthy"])


@pytest.fixture(scope="module")
def safe_model(cells, tmp_path_factory):
    """A model file of allow-listed types only: loads without trust."""
    files = sorted(str(p) for p in cells.glob("*/*.png"))
    y = [0 if "/ALL/" in f else 1 for f in files]
    pipe = Pipeline([("reader", ImageReader(size=32)), ("resize", Resizer(size=16)),
                     ("features", CellFeatureExtractor()),
                     ("clf", LogisticRegression())]).fit(np.array(files), y)
    path = tmp_path_factory.mktemp("model") / "cells.joblib"
    return skleuk.save_model(pipe, path, target_names=["ALL", "healthy"])


class _RunsCode:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# 2 ------------------------------------------------------------------------
def test_a_model_file_that_runs_a_command_is_refused(cells, tmp_path, capsys):
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.joblib"
    joblib.dump(_RunsCode(marker), evil)
    image = str(next(cells.glob("ALL/*.png")))
    for command in (["predict", str(evil), image],
                    ["screen", str(evil), image, "--out", str(tmp_path / "o")]):
        assert main([*command, "-q"]) == 1
        _one_line_error(capsys.readouterr().err, "refusing to load", "evil.joblib",
                        f"{os.system.__module__}.system", "--trust-model")
        assert not marker.exists()
    assert not (tmp_path / "o").exists()


def test_allow_listed_model_loads_and_others_need_trust(safe_model, cells,
                                                        tmp_path, capsys):
    assert main(["predict", safe_model, str(cells), "-q"]) == 0
    assert len(capsys.readouterr().out.splitlines()) == 12
    from test_cli import _stand_in

    own = tmp_path / "own.joblib"
    pipe = _stand_in(None, reader=True).fit(
        np.array(sorted(str(p) for p in cells.glob("*/*.png"))), [0] * 6 + [1] * 6)
    skleuk.save_model(pipe, own)
    assert main(["predict", str(own), str(cells), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "test_cli.TinyClassifier",
                    "--trust-model")
    assert main(["predict", str(own), str(cells), "-q", "--trust-model"]) == 0


# 13 -----------------------------------------------------------------------
def test_unreadable_model_file_says_permission_denied(safe_model, cells,
                                                      monkeypatch, capsys):
    from skleuk.utils import _safe_pickle

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied", safe_model)

    monkeypatch.setattr(_safe_pickle, "open", denied, raising=False)
    assert main(["predict", safe_model, str(cells), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "permission denied", "cells.joblib")


@needs_non_root
def test_mode_000_model_file(safe_model, cells, tmp_path, capsys):
    import shutil

    model = tmp_path / "m.joblib"
    shutil.copy(safe_model, model)
    os.chmod(model, 0)
    try:
        assert main(["predict", str(model), str(cells), "-q"]) == 1
        _one_line_error(capsys.readouterr().err, "permission denied")
    finally:
        os.chmod(model, 0o600)


@pytest.fixture
def stand_in(monkeypatch):
    from test_cli import _stand_in

    from skleuk import cli

    monkeypatch.setattr(cli._model, "_build_pipeline", _stand_in)


def _deny(monkeypatch, folder):
    """Listing ``folder`` fails as for a mode-000 folder (root ignores modes)."""
    real = os.scandir
    target = os.path.realpath(folder)

    def scandir(path="."):
        if os.path.realpath(path) == target:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)


# 3 ------------------------------------------------------------------------
def test_unreadable_class_folder_is_named(stand_in, safe_model, tmp_path,
                                          monkeypatch, capsys):
    data = _save_images(tmp_path / "d", ["ALL", "healthy", "other"], n=4, size=24)
    os.makedirs(data / "healthy" / "locked")
    _deny(monkeypatch, data / "healthy" / "locked")
    out = tmp_path / "m.joblib"
    assert main(["train", "--data", str(data), "--out", str(out), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "cannot read folder",
                    "locked", "permission denied")
    assert not out.exists()
    assert main(["predict", safe_model, str(data), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "locked", "permission denied")


@needs_non_root
def test_mode_000_class_folder(stand_in, tmp_path, capsys):
    data = _save_images(tmp_path / "d", ["ALL", "healthy", "other"], n=4, size=24)
    os.chmod(data / "other", 0)
    try:
        assert main(["train", "--data", str(data), "--out",
                     str(tmp_path / "m.joblib"), "-q"]) == 1
        _one_line_error(capsys.readouterr().err, "other", "permission denied")
    finally:
        os.chmod(data / "other", 0o700)


# 13 (images) --------------------------------------------------------------
def test_unreadable_image_says_permission_denied(safe_model, cells, tmp_path,
                                                 monkeypatch, capsys):
    from PIL import Image as PILImage

    locked = tmp_path / "locked.png"
    Image.fromarray(np.zeros((64, 64, 3), np.uint8)).save(locked)
    real = PILImage.open

    def open_(fp, *args, **kwargs):
        if os.fspath(fp) == str(locked):
            raise PermissionError(13, "Permission denied", str(locked))
        return real(fp, *args, **kwargs)

    monkeypatch.setattr(PILImage, "open", open_)
    image = str(next(cells.glob("ALL/*.png")))
    assert main(["predict", safe_model, image, str(locked), "-q"]) == 1
    captured = capsys.readouterr()
    assert "locked.png" in captured.err and "permission denied" in captured.err
    assert "corrupt" not in captured.err
    assert image in captured.out


# 16 -----------------------------------------------------------------------
def test_tiny_training_image_is_named(stand_in, tmp_path, capsys):
    data = _save_images(tmp_path / "d", ["ALL", "healthy"], n=4, size=24)
    Image.fromarray(np.zeros((1, 1, 3), np.uint8)).save(data / "ALL" / "dot.png")
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "m.joblib"),
                 "-q"]) == 0
    err = capsys.readouterr().err
    assert "dot.png" in err and "1x1" in err and "image 0" not in err
