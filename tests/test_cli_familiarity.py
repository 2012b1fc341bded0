"""skleuk train --familiarity and the warning of skleuk predict."""

import argparse

import numpy as np
import pytest
from _cli_models import save_cells
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import skleuk
from skleuk.cli import main
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import FamiliarityCheck, Resizer
from skleuk.preprocessing._reader import ImageReader


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


def test_train_familiarity_is_refused_with_screening(cells, tmp_path, capsys):
    code = main(
        [
            "train",
            "--data",
            str(cells),
            "--out",
            str(tmp_path / "m.joblib"),
            "--screening",
            "--familiarity",
        ]
    )
    assert code == 2
    assert "--familiarity" in capsys.readouterr().err
