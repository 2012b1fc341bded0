"""skleuk train --familiarity and the warning of skleuk predict."""

import argparse
import csv
import json

import numpy as np
import pytest
from _cli_models import save_cells, save_png
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

import skleuk
from skleuk import cli
from skleuk.cli import main
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import FamiliarityCheck, Resizer
from skleuk.preprocessing._reader import ImageReader
from skleuk.screening.tests._data import flatten, make_fields


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return save_cells(tmp_path_factory.mktemp("cells"), ["ALL", "healthy"], n=20)


@pytest.fixture(scope="module")
def familiar_model(cells, tmp_path_factory):
    files = sorted(str(p) for p in cells.glob("*/*.png"))
    y = [0 if "/ALL/" in f else 1 for f in files]
    pipe = Pipeline(
        [
            ("reader", ImageReader(size=32)),
            ("familiarity", FamiliarityCheck()),
            ("resize", Resizer(size=16)),
            ("features", CellFeatureExtractor()),
            ("clf", LogisticRegression()),
        ]
    ).fit(np.array(files), y)
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    return skleuk.save_model(pipe, path, target_names=["ALL", "healthy"])


def test_predict_is_quiet_on_images_like_the_training_ones(
    familiar_model, cells, capsys
):
    assert main(["predict", str(familiar_model), str(cells / "ALL"), "-q"]) == 0
    assert "look unlike" not in capsys.readouterr().err


def test_predict_warns_once_on_another_laboratory(
    familiar_model, cells, tmp_path, capsys
):
    other = tmp_path / "other"
    other.mkdir()
    for i, f in enumerate(sorted((cells / "healthy").glob("*.png"))[:8]):
        image = np.asarray(Image.open(f).convert("RGB"))
        Image.fromarray(image[..., ::-1]).save(other / f"x{i}.png")  # other stain
    assert (
        main(["predict", str(familiar_model), str(other), "-q", "--no-image-check"])
        == 0
    )
    err = capsys.readouterr().err
    assert err.count("look unlike the model's training images") == 1
    assert " of 8 image(s)" in err
    assert "Traceback" not in err


def test_train_familiarity_puts_the_check_after_the_reader():
    from skleuk.cli._model import _build_pipeline

    args = argparse.Namespace(familiarity=True, epochs=1)
    names = [name for name, _ in _build_pipeline(args, reader=True).steps]
    assert names[:2] == ["reader", "familiarity"]
    names = [name for name, _ in _build_pipeline(args, reader=False).steps]
    assert names[0] == "familiarity"
    args = argparse.Namespace(familiarity=False, epochs=1)
    assert "familiarity" not in dict(_build_pipeline(args, reader=False).steps)


def _familiar_cells(args, reader):
    """A cheap cell model with a FamiliarityCheck when --familiarity is given."""
    steps = [("flat", FunctionTransformer(flatten)),
             ("lr", LogisticRegression(C=10.0))]
    if args.familiarity:
        steps.insert(0, ("familiarity", FamiliarityCheck()))
    return Pipeline(steps)


def _smear_folder(tmp_path, n_per_class):
    """A ``data/{healthy,ALL}/*.png`` folder of synthetic smears."""
    X, y = make_fields(n_per_class=n_per_class)
    data = tmp_path / "data"
    for label, name in ((0, "healthy"), (1, "ALL")):
        (data / name).mkdir(parents=True)
        for i, x in enumerate(x for x, t in zip(X, y, strict=True) if t == label):
            save_png(x, data / name / f"s{i}.png")
    return data


def test_screen_marks_smears_unlike_the_training_smears(tmp_path, monkeypatch,
                                                        capsys):
    monkeypatch.setattr(cli._model, "_build_pipeline", _familiar_cells)
    data = _smear_folder(tmp_path, 6)
    model = tmp_path / "m.joblib"
    assert main(["train", "--screening", "--familiarity", "--aggregation",
                 "mean", "--data", str(data), "--out", str(model), "-q"]) == 0
    smears = tmp_path / "in"
    smears.mkdir()
    test, _ = make_fields(n_per_class=2, seed=5)
    like = save_png(test[0], smears / "like.png")
    other = save_png(test[3][..., ::-1], smears / "other.png")  # other stain
    out = tmp_path / "out"
    assert main(["screen", str(model), "--trust-model", str(smears), "--out",
                 str(out), "-q", "--no-overlays"]) == 0
    printed = capsys.readouterr().out
    assert "1 unfamiliar (review" in printed
    with open(out / "smears.csv", newline="") as f:
        rows = {r["file"]: r for r in csv.DictReader(f)}
    assert rows[other]["status"] == "unfamiliar"
    n = rows[other]["n_cells"]
    assert rows[other]["note"].startswith(
        f"unfamiliar — review: {n} of {n} cell(s) look unlike the training")
    assert rows[other]["verdict"] in ("ALL", "healthy")  # the model's call, kept
    assert float(rows[other]["unfamiliar_share"]) == 1.0
    assert float(rows[other]["unfamiliarity"]) > 10
    assert rows[like]["status"] in ("positive", "negative")
    assert float(rows[like]["unfamiliar_share"]) == 0.0 and rows[like]["note"] == ""
    record = json.loads((out / "run.json").read_text())
    assert record["counts"]["unfamiliar"] == 1
    assert "25 %" in record["model"]["familiarity"]
    md = (out / "summary.md").read_text()
    assert md.index("Review first") < md.index("other.png") < md.index("Other smears")
    assert "**Familiarity**" in md and "Unfamiliar — review: more than" in md


def test_screen_without_a_familiarity_check_leaves_the_columns_empty(
        tmp_path, monkeypatch):
    monkeypatch.setattr(cli._model, "_build_pipeline", _familiar_cells)
    data = _smear_folder(tmp_path, 3)
    model = tmp_path / "m.joblib"
    assert main(["train", "--screening", "--aggregation", "mean", "--data",
                 str(data), "--out", str(model), "-q"]) == 0
    out = tmp_path / "out"
    first = make_fields(n_per_class=3)[0][0]  # a training smear
    smear = save_png(first[..., ::-1], tmp_path / "other.png")
    assert main(["screen", str(model), "--trust-model", smear, "--out",
                 str(out), "-q", "--no-overlays"]) == 0
    with open(out / "smears.csv", newline="") as f:
        row = next(csv.DictReader(f))
    assert row["status"] != "unfamiliar" and row["unfamiliar_share"] == ""
    record = json.loads((out / "run.json").read_text())
    assert record["model"]["familiarity"] is None
