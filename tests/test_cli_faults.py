"""The ``skleuk`` command with bad input and faults (issue 32).

Each test reproduces one reported case (its number in the issue's table
heads it) with tiny models: a pipeline of allow-listed types (skleuk's
reader and features, a logistic regression) for ``predict``, the cheap
screener of the screening tests for ``screen``.
"""

import csv
import io
import json
import os

import joblib
import numpy as np
import pytest
from _cli_models import (
    cell_model,
    positive_smear,
    save_cells,
    save_png,
    screening_model,
)
from PIL import Image
from test_cli import _one_line_error

import skleuk
from skleuk.cli import main

IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_non_root = pytest.mark.skipif(
    IS_ROOT or os.name == "nt", reason="root ignores file permissions")


_save_images = save_cells


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return save_cells(tmp_path_factory.mktemp("cells"), ["ALL", "healthy"])


@pytest.fixture(scope="module")
def safe_model(cells, tmp_path_factory):
    """A model file of allow-listed types only: loads without trust."""
    return cell_model(cells, tmp_path_factory.mktemp("model") / "cells.joblib")


@pytest.fixture(scope="module")
def smear_model(tmp_path_factory):
    return screening_model(tmp_path_factory.mktemp("model") / "screener.joblib")


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


def _rows(out, fmt):
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(out)))
    if fmt == "json":
        return json.loads(out)
    return [line.split("\t") for line in out.splitlines()]


# 1 ------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_screening_model_refers_a_smear_without_cells(smear_model, tmp_path, fmt,
                                                      capsys):
    white = save_png(np.full((96, 128, 3), 255, np.uint8), tmp_path / "white.png")
    empty = save_png(np.full((96, 128, 3), [230, 180, 190], np.uint8)
                     + np.random.default_rng(0).integers(0, 8, (96, 128, 3),
                                                         dtype=np.uint8),
                     tmp_path / "pink.png")
    pos = positive_smear(tmp_path / "pos.png")
    assert main(["predict", smear_model, white, empty, pos, "-q",
                 "--format", fmt]) == 0
    captured = capsys.readouterr()
    rows = _rows(captured.out, fmt)
    if fmt == "text":
        assert rows[0] == [white, "referred: blank image: every pixel is "
                           "(255, 255, 255)", ""]
        assert rows[1] == [empty, "referred: no white cell found", ""]
        assert rows[2][1] == "Malignant"
    elif fmt == "csv":
        assert [r["predicted_class"] for r in rows] == ["referred", "referred",
                                                        "Malignant"]
        assert rows[1]["note"] == "no white cell found"
        assert rows[1]["probability"] == rows[1]["p_Malignant"] == ""
        assert float(rows[2]["p_Malignant"]) > 0.5 and rows[2]["note"] == ""
    else:
        assert rows[1]["predicted_class"] == "referred"
        assert rows[1]["probability"] is None and "probabilities" not in rows[1]
        assert rows[1]["note"] == "no white cell found" and rows[2]["note"] is None
    assert "2 of 3 image(s) referred" in captured.err


# 9 ------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="newlines in file names")
def test_text_output_keeps_one_record_per_line(safe_model, cells, tmp_path, capsys):
    import shutil

    odd = tmp_path / "two\nlines\tand tab.png"
    shutil.copy(next(cells.glob("ALL/*.png")), odd)
    assert main(["predict", safe_model, str(odd), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    name, label, prob = lines[0].split("\t")
    assert json.loads(name) == str(odd) and label in ("ALL", "healthy")
    # CSV and JSON quote by themselves.
    assert main(["predict", safe_model, str(odd), "-q", "--format", "csv"]) == 0
    assert _rows(capsys.readouterr().out, "csv")[0]["file"] == str(odd)


# 14 -----------------------------------------------------------------------
def test_cell_model_refers_images_that_are_no_smear(safe_model, cells, tmp_path,
                                                   capsys):
    rng = np.random.default_rng(0)
    good = str(next(cells.glob("ALL/*.png")))
    grey = np.repeat(np.asarray(Image.open(good).convert("L"))[..., None], 3, -1)
    odd = {
        "white.png": np.full((64, 64, 3), 255, np.uint8),
        "black.png": np.zeros((64, 64, 3), np.uint8),
        "dot.png": np.full((1, 1, 3), 90, np.uint8),
        "noise.png": rng.integers(0, 256, (64, 64, 3), dtype=np.uint8),
        "grey.png": grey,
    }
    paths = [save_png(im, tmp_path / name) for name, im in odd.items()]
    assert main(["predict", safe_model, good, *paths, "-q", "--format",
                 "csv"]) == 0
    rows = {os.path.basename(r["file"]): r for r in
            _rows(capsys.readouterr().out, "csv")}
    assert rows[os.path.basename(good)]["predicted_class"] in ("ALL", "healthy")
    notes = {name: rows[name]["note"] for name in odd}
    assert notes["white.png"] == "blank image: every pixel is (255, 255, 255)"
    assert notes["black.png"] == "blank image: every pixel is (0, 0, 0)"
    assert notes["dot.png"].startswith("too small: 1x1 pixels")
    assert notes["noise.png"] == "no white cell found"
    assert "grey-level image: the white-cell detector needs colour" in notes["grey.png"]
    assert all(rows[name]["predicted_class"] == "referred" for name in odd)
    assert all(rows[name]["p_ALL"] == "" for name in odd)
    # --no-image-check classifies them all.
    assert main(["predict", safe_model, *paths, "-q", "--format", "csv",
                 "--no-image-check"]) == 0
    rows = _rows(capsys.readouterr().out, "csv")
    assert {r["predicted_class"] for r in rows} <= {"ALL", "healthy"}


@pytest.fixture
def feature_cells(monkeypatch):
    """train --screening with a cheap cell model of allow-listed types."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    from skleuk import cli
    from skleuk.feature_extraction import CellFeatureExtractor

    monkeypatch.setattr(cli._model, "_build_pipeline", lambda args, reader: (
        make_pipeline(CellFeatureExtractor(), LogisticRegression(C=10.0))))


def _smear_folders(root, per_class=4, empty_class=None):
    """Benign/ and Malignant/ smears; ``empty_class``'s hold no white cell."""
    from skleuk.screening.tests._data import make_field, make_fields

    X, y = make_fields(n_per_class=per_class)
    for k, name in enumerate(["Benign", "Malignant"]):
        os.makedirs(root / name, exist_ok=True)
        for i, x in enumerate(x for x, t in zip(X, y, strict=True) if t == k):
            if name == empty_class:
                x = make_field([], red_cells=4, seed=i)
            save_png(x, root / name / f"s{i}.png")
    return root


# 11 -----------------------------------------------------------------------
def test_train_screening_names_the_class_and_an_option_that_exists(
        feature_cells, tmp_path, capsys):
    data = _smear_folders(tmp_path / "d", empty_class="Malignant")
    out = tmp_path / "m.joblib"
    for aggregation in ([], ["--aggregation", "mean"]):
        assert main(["train", "--screening", "--data", str(data), "--out",
                     str(out), "-q", *aggregation]) == 1
        _one_line_error(capsys.readouterr().err, "'Malignant'",
                        "no white cell was found", "colour")
        assert not out.exists()
    # Smears enough, but only one of a class with a white cell.
    for f in sorted((data / "Malignant").iterdir())[1:]:
        f.unlink()
    from skleuk.screening.tests._data import make_field

    for i in range(3):
        save_png(make_field([(40, 40, 1)], seed=i), data / "Malignant" / f"c{i}.png")
    for f in sorted((data / "Malignant").glob("c*.png"))[1:]:
        save_png(make_field([], red_cells=3, seed=9), f)
    assert main(["train", "--screening", "--data", str(data), "--out",
                 str(out), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "'Malignant' has 1",
                    "in which a white cell is found", "--aggregation mean")
    # One smear a class: the automatic rule is refused before training, and
    # the option the message names works.
    one = _smear_folders(tmp_path / "one", per_class=1)
    assert main(["train", "--screening", "--data", str(one), "--out", str(out),
                 "-q"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, "'Benign' has 1", "--aggregation mean")
    assert "fixed aggregation instead" not in err
    assert main(["train", "--screening", "--data", str(one), "--out", str(out),
                 "-q", "--aggregation", "mean"]) == 0
    text = capsys.readouterr().out
    assert "no quality estimate" in text
    assert skleuk.load_model(out).estimator.aggregation_ == "mean"
    assert main(["train", "--data", str(one), "--out", str(tmp_path / "x"),
                 "--aggregation", "max"]) == 2
    assert "--aggregation needs --screening" in capsys.readouterr().err


def test_train_screening_prints_the_inner_cv_estimate(feature_cells, tmp_path,
                                                      capsys):
    data = _smear_folders(tmp_path / "d", per_class=4)
    out = tmp_path / "m.joblib"
    assert main(["train", "--screening", "--data", str(data), "--out", str(out),
                 "-q"]) == 0
    text = capsys.readouterr().out
    model = skleuk.load_model(out)
    s = model.estimator
    score = s.cv_results_[s.aggregation_]["balanced_accuracy"]
    assert (f"Inner 3-fold cross-validation over 8 training smears chose "
            f"aggregation {s.aggregation_} with threshold {s.threshold_:.3f}: "
            f"balanced accuracy {score:.3f}") in text
    assert model.extra["inner_cv"]["value"] == round(score, 4)
    assert model.extra["inner_cv"]["n_splits"] == 3


# 12 -----------------------------------------------------------------------
def test_folds_error_names_the_class(stand_in, tmp_path, capsys):
    data = save_cells(tmp_path / "d", ["ALL", "healthy"], n=4, size=24)
    for f in sorted((data / "ALL").iterdir())[1:]:
        f.unlink()
    for command in ("evaluate", "grid-search"):
        assert main([command, "--data", str(data), "--folds", "2", "-q",
                     "--out", str(tmp_path / command)]) == 1
        err = capsys.readouterr().err
        _one_line_error(err, "--folds 2", "'ALL' has 1 image")
        assert "np.int64" not in err
        assert not (tmp_path / command).exists()


# 15 -----------------------------------------------------------------------
def test_model_file_inside_the_data_is_refused(stand_in, feature_cells, tmp_path,
                                               capsys):
    data = save_cells(tmp_path / "good", ["Benign", "ALL"], n=3, size=24)
    inside = data / "Benign" / "x.jpg"
    for extra in ([], ["--screening"]):
        assert main(["train", "--data", str(data), "--out", str(inside), "-q",
                     *extra]) == 1
        _one_line_error(capsys.readouterr().err, "inside --data")
        assert not inside.exists()
    os.symlink(data / "ALL", tmp_path / "link")
    assert main(["train", "--data", str(data), "--out",
                 str(tmp_path / "link" / "m.joblib"), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "inside --data")


# minor --------------------------------------------------------------------
def test_a_nan_label_names_y():
    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears

    data = make_blood_smears(n_samples=8, image_size=16, random_state=0)
    y = data.target.astype(float)
    y[0] = np.nan
    with pytest.raises(ValueError, match="y contains NaN"):
        make_pipeline(image_size=16, architecture="light", cnn__epochs=1,
                      cnn__verbose=0).fit(data.images, y)
