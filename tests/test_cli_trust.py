"""``--min-sensitivity`` of ``skleuk train`` and ``skleuk evaluate``."""

import csv
import io
import json

import pytest
from PIL import Image
from sklearn.model_selection import TunedThresholdClassifierCV
from test_cli import _one_line_error, _stand_in

from skleuk import cli
from skleuk.cli import main
from skleuk.datasets import make_blood_smears


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(cli._model, "_build_pipeline", _stand_in)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("smears")
    data = make_blood_smears(n_samples=40, image_size=64, random_state=0,
                             class_sep=0.3)
    for name in data.target_names:
        (root / name).mkdir()
    for i, (im, t) in enumerate(zip(data.images, data.target, strict=True)):
        Image.fromarray(im).save(root / data.target_names[t] / f"c{i:03d}.png")
    return root


def test_train_with_min_sensitivity_saves_the_tuned_threshold(
    stand_in, folder, tmp_path, capsys
):
    model = tmp_path / "m.joblib"
    assert main(["train", "--data", str(folder), "--out", str(model), "-q",
                 "--min-sensitivity", "1.0"]) == 0
    out = capsys.readouterr().out
    assert "Operating point: probability threshold" in out
    saved = cli.load_model(model, trusted=True)
    est = saved["estimator"]
    assert isinstance(est, TunedThresholdClassifierCV)
    assert saved["extra"]["min_sensitivity"] == 1.0
    assert saved["extra"]["threshold"] == pytest.approx(est.best_threshold_)
    # 'skleuk predict' applies the threshold, not the argmax
    assert main(["predict", str(model), str(folder), "--format", "csv", "-q",
                 "--trust-model"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    files = [r[0] for r in rows]
    pred = [r[1] for r in rows]
    expected = est.predict(files)
    names = saved["target_names"]
    assert pred == [names[list(saved["classes"]).index(e)] for e in expected]


def test_evaluate_with_min_sensitivity_is_nested(stand_in, folder, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["evaluate", "--data", str(folder), "--folds", "2", "--out",
                 str(out), "-q", "--no-figures", "--min-sensitivity", "0.9"]) == 0
    text = capsys.readouterr().out
    assert "inside each training fold (nested)" in text
    assert "TunedThresholdClassifierCV" in text
    report = json.loads((out / "report.json").read_text())
    assert report["calibration"]["ece"] is not None


@pytest.mark.parametrize("value", ["0", "1.5", "abc"])
def test_min_sensitivity_must_be_a_probability(value, folder, capsys):
    assert main(["train", "--data", str(folder), "--min-sensitivity", value]) != 0
    assert "--min-sensitivity: must be a number in (0, 1]" in capsys.readouterr().err


def test_min_sensitivity_needs_two_classes(stand_in, tmp_path, capsys):
    for name in ("a", "b", "c"):
        (tmp_path / "d" / name).mkdir(parents=True)
        for i in range(3):
            Image.new("RGB", (16, 16), (40 * i, 0, 0)).save(
                tmp_path / "d" / name / f"{i}.png")
    assert main(["train", "--data", str(tmp_path / "d"), "--out",
                 str(tmp_path / "m.joblib"), "-q", "--min-sensitivity", "0.9"]) == 1
    _one_line_error(capsys.readouterr().err, "--min-sensitivity needs two classes")
