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
