"""``skleuk screen`` and ``skleuk train --screening`` (whole smears)."""

import csv
import json
import os

import numpy as np
import pytest
from PIL import Image

from skleuk import cli
from skleuk.cli import load_model, main, save_model
from skleuk.screening import SmearScreener
from skleuk.screening.tests._data import cheap_cell_model, make_field, make_fields


def _save(image, path):
    Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path)
    return str(path)


@pytest.fixture(scope="module")
def smear_folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("smears")
    X, y = make_fields(n_per_class=6)
    for k, name in enumerate(["ALL", "healthy"]):  # healthy is not first
        os.makedirs(root / name)
        label = 1 - k
        for i, x in enumerate(x for x, t in zip(X, y, strict=True) if t == label):
            _save(x, root / name / f"s{i}.png")
    return root


@pytest.fixture
def cheap_cells(monkeypatch):
    monkeypatch.setattr(
        cli._model, "_build_pipeline", lambda args, reader: cheap_cell_model()
    )


@pytest.fixture(scope="module")
def screening_model(tmp_path_factory):
    X, y = make_fields(n_per_class=6)
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12, window=40)
    s.fit(X, y)
    path = tmp_path_factory.mktemp("model") / "screener.joblib"
    save_model(s, path, target_names=["healthy", "ALL"], input_kind="smears")
    return str(path)


def _read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_train_screening(cheap_cells, smear_folder, tmp_path, capsys):
    out = tmp_path / "m.joblib"
    assert main(["train", "--screening", "--data", str(smear_folder),
                 "--out", str(out)]) == 0
    model = load_model(out, trusted=True)
    s = model["estimator"]
    assert isinstance(s, SmearScreener) and model["input"] == "smears"
    assert model["target_names"] == ["ALL", "healthy"]
    assert s.healthy_label_ == 1  # found by name, not position
    assert "healthy class: healthy" in capsys.readouterr().out
    # Refuses to overwrite.
    assert main(["train", "--screening", "--data", str(smear_folder),
                 "--out", str(out)]) == 1
    assert main(["train", "--screening", "--data", str(smear_folder),
                 "--dataset", "all-idb2", "--out", str(tmp_path / "x")]) == 2
    assert "--dataset all-idb2 is not supported" in capsys.readouterr().err
    assert s.field_model_ is None


def test_train_screening_with_a_field_view(cheap_cells, smear_folder, tmp_path,
                                           capsys):
    out = tmp_path / "m.joblib"
    assert main(["train", "--screening", "--field-view", "--data",
                 str(smear_folder), "--out", str(out)]) == 0
    s = load_model(out, trusted=True)["estimator"]
    assert s.field_model_ is not None and s.field_weight == 0.5
    assert "cells and the whole smears" in capsys.readouterr().out
    smear = _save(make_field([(25, 30, 1), (70, 64, 1), (30, 100, 0)]),
                  tmp_path / "a.png")
    res = s.screen([smear])[0]
    assert res.field_proba.shape == (2,)
    # smears.csv gives each view's blast probability; the verdict's is
    # their half-and-half mix.
    assert main(["screen", str(out), "--trust-model", smear, "--out",
                 str(tmp_path / "o"), "-q", "--no-overlays"]) == 0
    row = _read(tmp_path / "o" / "smears.csv")[0]
    cells, field = float(row["cells_p_ALL"]), float(row["field_p_ALL"])
    assert abs(field - (1 - res.field_proba[res.healthy_column])) < 1e-6
    assert abs(float(row["p_ALL"]) - (cells + field) / 2) < 2e-6
    # Only with --screening.
    assert main(["train", "--field-view", "--data", str(smear_folder),
                 "--out", str(tmp_path / "x")]) == 2
    assert "--field-view needs --screening" in capsys.readouterr().err


def test_screen_writes_cells_smears_and_overlays(screening_model, tmp_path, capsys):
    smears = tmp_path / "in"
    os.makedirs(smears / "sub")
    a = _save(make_field([(25, 30, 1), (70, 64, 1), (30, 100, 0)]), smears / "a.png")
    b = _save(make_field([(40, 40, 0)]), smears / "sub" / "b.png")
    e = _save(make_field([], red_cells=5), smears / "sub" / "empty.png")
    out = tmp_path / "out"
    assert main(["screen", screening_model, "--trust-model", str(smears),
                 "--out", str(out), "-q"]) == 0
    cells = _read(out / "cells.csv")
    assert [r["file"] for r in cells] == [a, a, a, b]
    assert list(cells[0]) == ["file", "cell", "row", "col", "row_min", "col_min",
                              "row_max", "col_max", "border", "overlap",
                              "p_blast", "label", "p_healthy", "p_ALL"]
    assert [r["label"] for r in cells] == ["blast", "blast", "non-blast",
                                           "non-blast"]
    assert all(r["p_blast"] == r["p_ALL"] for r in cells)
    smears_rows = {r["file"]: r for r in _read(out / "smears.csv")}
    assert smears_rows[a]["verdict"] == "ALL" and smears_rows[a]["blast_count"] == "2"
    assert smears_rows[a]["status"] == "positive"
    assert smears_rows[b]["verdict"] == "healthy"
    assert smears_rows[b]["status"] == "negative"
    assert smears_rows[e]["verdict"] == "no white cell found"
    assert smears_rows[e]["status"] == "referred"
    assert smears_rows[e]["n_cells"] == "0" and smears_rows[e]["p_ALL"] == ""
    # Without a field view the cells are the whole probability, and there
    # is no field column; a smear without cells has neither.
    assert smears_rows[a]["cells_p_ALL"] == smears_rows[a]["p_ALL"]
    assert smears_rows[a]["field_p_ALL"] == ""
    assert smears_rows[e]["cells_p_ALL"] == ""
    pngs = sorted(os.listdir(out / "overlays"))
    assert pngs == ["a.png", "b.png", "empty.png"]
    # Summaries: positive and referred first, overlays linked relative to
    # the output folder.
    page = (out / "summary.html").read_text()
    assert page.count('<img src="overlays/') == 3
    order = [page.index(k) for k in ("overlays/a.png", "overlays/empty.png",
                                     "Other smears", "overlays/b.png")]
    assert order == sorted(order)
    assert "no white cell found: 1" in page and "referred for review" in page
    md = (out / "summary.md").read_text()
    esc = a.replace("_", r"\_")  # Markdown: names are text, _ escaped
    assert f"| [{esc}](<overlays/a.png>) | 3 | 2 | 0.67 | **ALL** |" in md
    assert json.loads((out / "run.json").read_text())["status"] == "complete"
    # No overwrite without --force; --force overwrites.
    assert main(["screen", screening_model, "--trust-model", a, "--out",
                 str(out), "-q"]) == 1
    assert "--force" in capsys.readouterr().err
    assert main(["screen", screening_model, "--trust-model", a, "--out",
                 str(out), "-q",
                 "--force", "--no-overlays"]) == 0
    assert len(_read(out / "smears.csv")) == 1


def test_screen_bad_files_are_named_and_skipped(screening_model, tmp_path, capsys):
    good = _save(make_field([(40, 40, 0)]), tmp_path / "good.png")
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"not a jpeg")
    status = main(["screen", screening_model, "--trust-model", good, str(bad),
                   "--out", str(tmp_path / "o"), "-q", "--no-overlays"])
    err = capsys.readouterr().err
    assert status == 1
    assert "skipped" in err and "bad.jpg" in err
    assert len(_read(tmp_path / "o" / "smears.csv")) == 1
    md = (tmp_path / "o" / "summary.md").read_text()
    esc = str(bad).replace("_", r"\_")
    assert md.index(f"| {esc} | Cannot read image file") > md.index("## Skipped")
    assert "not screened: 1" in md
    record = json.loads((tmp_path / "o" / "run.json").read_text())
    assert record["skipped"][0]["file"] == str(bad)


def test_screen_refuses_a_cell_model(tmp_path, capsys):
    from sklearn.dummy import DummyClassifier

    path = tmp_path / "cells.joblib"
    save_model(DummyClassifier().fit(np.zeros((2, 1)), [0, 1]), path,
               input_kind="images")
    smear = _save(make_field([(40, 40, 0)]), tmp_path / "s.png")
    assert main(["screen", str(path), smear, "--out", str(tmp_path / "o")]) == 1
    assert "train --screening" in capsys.readouterr().err


def test_screen_help_mentions_outputs(capsys):
    assert main(["screen", "--help"]) == 0
    text = capsys.readouterr().out
    assert "cells.csv" in text and "summary.html" in text and "--force" in text


def test_screen_three_classes(tmp_path, capsys):
    """More than two classes: every class's probability, the most probable
    class decides, blasts are labelled with their class."""
    from _cli_models import screener

    X, y = [], []
    for label, kinds in ((0, [0, 0, 0]), (1, [1, 1, 0]), (2, [2, 2, 0])):
        for seed in range(4):
            X.append(make_field([(25, 30, kinds[0]), (70, 64, kinds[1]),
                                 (30, 100, kinds[2])], seed=seed + 10 * label))
            y.append(label)
    s = screener(aggregation="mean").fit(X, np.array(y))
    model = tmp_path / "three.joblib"
    save_model(s, model, target_names=["Benign", "Early", "Pre"],
               input_kind="smears")
    smear = _save(make_field([(25, 30, 2), (70, 64, 2), (30, 100, 0)], seed=99),
                  tmp_path / "pre.png")
    out = tmp_path / "o"
    assert main(["screen", str(model), smear, "--out", str(out), "-q"]) == 0
    row = _read(out / "smears.csv")[0]
    assert {"p_Benign", "p_Early", "p_Pre", "p_not Benign",
            "cells_p_not Benign"} <= set(row)
    probs = {k: float(row[f"p_{k}"]) for k in ("Benign", "Early", "Pre")}
    assert row["verdict"] == max(probs, key=probs.get)
    assert abs(float(row["p_not Benign"]) - (1 - probs["Benign"])) < 1e-5
    labels = {r["label"] for r in _read(out / "cells.csv")}
    assert labels <= {"non-blast", "blast (Early)", "blast (Pre)"}
    record = json.loads((out / "run.json").read_text())
    assert record["model"]["threshold"] is None
    assert "most probable class" in record["model"]["decision"]
    md = (out / "summary.md").read_text()
    assert "P(not Benign)" in md and "Threshold" not in md
