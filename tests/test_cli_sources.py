"""Several --data folders: pooled sources, folds grouped by source."""

import json

import numpy as np
import pytest
from _cli_models import save_cells
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from skleuk import cli, load_model
from skleuk.cli import main
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import Resizer
from skleuk.preprocessing._reader import ImageReader


def _cells_model(args, *, reader):
    steps = [("reader", ImageReader(size=32))] if reader else []
    return Pipeline(steps + [("resize", Resizer(size=16)),
                             ("features", CellFeatureExtractor()),
                             ("clf", LogisticRegression())])


@pytest.fixture
def cheap(monkeypatch):
    monkeypatch.setattr(cli._model, "_build_pipeline", _cells_model)


@pytest.fixture(scope="module")
def labs(tmp_path_factory):
    root = tmp_path_factory.mktemp("labs")
    for k, lab in enumerate(("lab_a", "lab_b", "lab_c")):
        save_cells(root / lab, ["ALL", "healthy"], n=6, size=32, seed=k)
    save_cells(root / "normal_only", ["healthy"], n=5, size=32, seed=9)
    return root


def test_train_pools_the_sources(cheap, labs, tmp_path, capsys):
    out = tmp_path / "m.joblib"
    assert main(["train", "--data", str(labs / "lab_a"), "--data",
                 str(labs / "lab_b"), "--data", str(labs / "normal_only"),
                 "--out", str(out), "-q"]) == 0
    printed = capsys.readouterr().out
    assert "3 sources pooled" in printed and "29 images in all" in printed
    model = load_model(out, trusted=True)
    assert model["target_names"] == ["ALL", "healthy"]
    assert model["extra"]["sources"] == {"lab_a": 12, "lab_b": 12,
                                         "normal_only": 5}
    # the classes are matched by name: normal_only's one class is "healthy"
    pipe = model["estimator"]
    assert list(pipe.classes_) == [0, 1]


def test_evaluate_leaves_one_source_out(cheap, labs, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["evaluate", "--data", str(labs / "lab_a"), "--data",
                 str(labs / "lab_b"), "--data", str(labs / "lab_c"),
                 "--group-by", "source", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    printed = capsys.readouterr().out
    assert "folds grouped by source (leave one source out)" in printed
    report = json.loads((out / "report.json").read_text())
    assert len(report["folds"]) == 3  # --folds 5 capped at 3 sources
    paths = np.asarray(report["X_paths"])
    for fold in report["folds"]:
        test = paths[np.asarray(fold["test_index"])]
        labs_tested = {p.split("/")[-3] for p in test}
        assert len(labs_tested) == 1 and len(test) == 12


def test_group_by_source_needs_several_sources(cheap, labs, tmp_path, capsys):
    code = main(["evaluate", "--data", str(labs / "lab_a"), "--group-by",
                 "source", "--out", str(tmp_path / "r"), "-q"])
    assert code == 2
    assert "repeat --data" in capsys.readouterr().err


def test_screening_takes_one_data_folder(labs, tmp_path, capsys):
    code = main(["train", "--screening", "--data", str(labs / "lab_a"),
                 "--data", str(labs / "lab_b"), "--out", str(tmp_path / "m")])
    assert code == 2
    assert "--screening takes one --data" in capsys.readouterr().err


def test_out_inside_any_data_folder_is_refused(cheap, labs, capsys):
    code = main(["train", "--data", str(labs / "lab_a"), "--data",
                 str(labs / "lab_b"), "--out", str(labs / "lab_b" / "m.joblib")])
    assert code == 1
    assert "is inside --data" in capsys.readouterr().err
