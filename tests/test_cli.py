"""Tests of the ``skleuk`` command line, through its real entry point.

Most tests call :func:`skleuk.cli.main` in-process with a stand-in pipeline
(an image reader, flattening and a logistic regression, named like the real
pipeline's steps) so they take a second; the tests marked ``cnn`` below run
the real :func:`skleuk.make_pipeline` with tiny settings, and one test runs
the installed console script in a subprocess.
"""

import csv
import io
import json
import os
import shutil
import subprocess
import sys

import joblib
import numpy as np
import pytest
from PIL import Image
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skleuk import cli
from skleuk.cli import main
from skleuk.datasets import make_blood_smears
from skleuk.preprocessing import Resizer
from skleuk.preprocessing._reader import ImageReader


# ---------------------------------------------------------------------------
# stand-in pipeline
# ---------------------------------------------------------------------------
def _flatten(X):
    X = np.asarray(X, dtype=np.float32)
    return X.reshape(len(X), -1)


class TinyClassifier(ClassifierMixin, BaseEstimator):
    """Logistic regression with the CNN's grid-searched parameter names."""

    max_batch = 0  # largest batch ever predicted (class-level, for tests)

    def __init__(self, optimizer="adam", epochs=1):
        self.optimizer = optimizer
        self.epochs = epochs

    def fit(self, X, y):
        C = 1.0 if self.optimizer == "adam" else 0.01
        self.lr_ = LogisticRegression(C=C, max_iter=100 * self.epochs).fit(X, y)
        self.classes_ = self.lr_.classes_
        return self

    def predict_proba(self, X):
        TinyClassifier.max_batch = max(TinyClassifier.max_batch, len(X))
        return self.lr_.predict_proba(X)

    def predict(self, X):
        return self.classes_[self.predict_proba(X).argmax(1)]


def _stand_in(args, *, reader):
    steps = [("reader", ImageReader(size=16))] if reader else []
    steps += [
        ("resize", Resizer(size=16)),
        ("flatten", FunctionTransformer(_flatten)),
        ("cnn", TinyClassifier()),
    ]
    pipe = Pipeline(steps)
    if getattr(args, "epochs", None) is not None and not isinstance(args.epochs, list):
        pipe.set_params(cnn__epochs=args.epochs)
    if getattr(args, "optimizer", None) is not None:
        pipe.set_params(cnn__optimizer=args.optimizer)
    return pipe


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(cli._model, "_build_pipeline", _stand_in)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """healthy/ and ALL/ subfolders with 20 small PNG images each."""
    root = tmp_path_factory.mktemp("smears")
    data = make_blood_smears(n_samples=40, image_size=64, random_state=0)
    for name in data.target_names:
        os.makedirs(root / name)
    for i, (im, t) in enumerate(zip(data.images, data.target, strict=True)):
        Image.fromarray(im).save(root / data.target_names[t] / f"cell{i:03d}.png")
    return root


@pytest.fixture(scope="module")
def stand_in_model(image_folder, tmp_path_factory):
    """A model file trained by 'skleuk train' with the stand-in pipeline."""
    path = tmp_path_factory.mktemp("model") / "model.joblib"
    mp = pytest.MonkeyPatch()
    mp.setattr(cli._model, "_build_pipeline", _stand_in)
    try:
        assert main(["train", "--data", str(image_folder), "--out", str(path),
                     "-q"]) == 0
    finally:
        mp.undo()
    return path


def _one_line_error(err, *needles):
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("skleuk: error: "), err
    assert "Traceback" not in err
    for needle in needles:
        assert needle in lines[0], err


# ---------------------------------------------------------------------------
# help, version
# ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    "command",
    ["demo", "evaluate", "train", "grid-search", "predict", "version",
     "show-versions"],
)
def test_help_of_every_command(command, capsys):
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: skleuk {command}")
    assert "--debug" in out


def test_version_and_no_command(capsys):
    from skleuk import __version__

    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"skleuk {__version__}"
    assert main(["version"]) == 0
    assert capsys.readouterr().out.strip() == f"skleuk {__version__}"
    assert main([]) == 2
    assert "usage: skleuk" in capsys.readouterr().err
    assert main(["show-versions"]) == 0
    assert "scikit-learn" in capsys.readouterr().out


def test_usage_errors_exit_2(capsys):
    assert main(["demo", "--folds", "1"]) == 2
    assert "need at least 2 folds" in capsys.readouterr().err
    assert main(["train"]) == 2  # --data is required
    assert "--data" in capsys.readouterr().err
    assert main(["predict", "--format", "xml", "m", "x"]) == 2
    assert main(["bogus"]) == 2


# ---------------------------------------------------------------------------
# demo / evaluate
# ---------------------------------------------------------------------------
def test_demo_with_stand_in(stand_in, tmp_path, capsys):
    out = tmp_path / "demo"
    args = ["demo", "--out", str(out), "--n-samples", "30", "--image-size", "16",
            "--epochs", "1", "--folds", "2", "-q"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "30 synthetic blood smear images" in captured.out
    assert "Cross-validation report (2 folds)" in captured.out
    assert "Table 4.3" in captured.out
    for name in ("report.txt", "report.md", "report.html", "report.json",
                 "confusion_matrix.png", "roc_curve.png", "misclassified.png"):
        assert (out / name).stat().st_size > 0, name
    report = json.loads((out / "report.json").read_text())
    assert len(report["folds"]) == 2
    # An existing report is not overwritten without --force...
    before = (out / "report.txt").read_text()
    assert main(args) == 1
    _one_line_error(capsys.readouterr().err, "already exists", "--force")
    assert (out / "report.txt").read_text() == before
    # ...and is with it.
    assert main([*args, "--force", "--no-figures"]) == 0


def test_evaluate_folder_with_stand_in(stand_in, image_folder, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["evaluate", "--data", str(image_folder), "--folds", "2",
                 "--repeats", "2", "--out", str(out), "-q", "--no-figures"]) == 0
    text = capsys.readouterr().out
    assert "class folders" in text and "40 images" in text
    assert "Cross-validation report (2 folds x 2 repeats)" in text
    assert "Positive class: ALL" in text
    report = json.loads((out / "report.json").read_text())
    assert report["X_paths"][0].endswith(".png")


def test_evaluate_all_idb2_layout(stand_in, tmp_path, capsys):
    """--dataset auto finds ALL_IDB2 files (ImXXX_Y.tif) and their labels."""
    img = tmp_path / "ALL_IDB2" / "img"
    img.mkdir(parents=True)
    data = make_blood_smears(n_samples=12, image_size=24, random_state=1)
    for i, (im, t) in enumerate(zip(data.images, data.target, strict=True)):
        Image.fromarray(im).save(img / f"Im{i + 1:03d}_{t}.tif")
    out = tmp_path / "rep"
    assert main(["evaluate", "--data", str(tmp_path), "--folds", "2",
                 "--out", str(out), "-q", "--no-figures"]) == 0
    captured = capsys.readouterr()
    assert "ALL_IDB2" in captured.out and "12 images" in captured.out
    assert "Traceback" not in captured.err


def test_evaluate_group_duplicates(stand_in, image_folder, tmp_path, capsys):
    out = tmp_path / "rep"
    assert main(["evaluate", "--data", str(image_folder), "--folds", "2",
                 "--group-duplicates", "--out", str(out), "-q",
                 "--no-figures"]) == 0
    assert "near-duplicate" in capsys.readouterr().out


def test_evaluate_data_errors(stand_in, tmp_path, capsys):
    assert main(["evaluate", "--data", str(tmp_path / "nope"), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "no such file or folder")
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "a").mkdir()
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(tmp_path / "only/a/x.png")
    assert main(["evaluate", "--data", str(tmp_path / "only"), "-q",
                 "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys.readouterr().err)


# ---------------------------------------------------------------------------
# train / predict
# ---------------------------------------------------------------------------
def test_train_refuses_overwrite(stand_in_model, image_folder, capsys):
    before = stand_in_model.read_bytes()
    assert main(["train", "--data", str(image_folder), "--out",
                 str(stand_in_model), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "already exists", "--force")
    assert stand_in_model.read_bytes() == before


def test_model_file_content(stand_in_model, image_folder):
    model = cli.load_model(stand_in_model, trusted=True)
    assert model["target_names"] == ["ALL", "healthy"]
    assert model["input"] == "paths"
    files = np.array(sorted(str(p) for p in image_folder.glob("*/*.png"))[:2])
    assert model["estimator"].predict_proba(files).shape == (2, 2)


@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_predict_formats(stand_in_model, image_folder, fmt, capsys):
    assert main(["predict", str(stand_in_model), str(image_folder),
                 "--format", fmt, "-q", "--trust-model"]) == 0
    out = capsys.readouterr().out
    if fmt == "text":
        rows = [line.split("\t") for line in out.strip().splitlines()]
    elif fmt == "csv":
        rows = list(csv.reader(io.StringIO(out)))
        assert rows[0][:3] == ["file", "predicted_class", "probability"]
        assert rows[0][3:] == ["p_ALL", "p_healthy", "note"]
        rows = rows[1:]
    else:
        records = json.loads(out)
        rows = [[r["file"], r["predicted_class"], r["probability"]] for r in records]
        assert set(records[0]["probabilities"]) == {"ALL", "healthy"}
    assert len(rows) == 40
    files = [r[0] for r in rows]
    assert files == sorted(files)  # folder order: ALL/ then healthy/
    correct = sum(r[1] == os.path.basename(os.path.dirname(r[0])) for r in rows)
    assert correct >= 30  # the stand-in learns brightness/colour well enough
    assert all(0.5 <= float(r[2]) <= 1.0 for r in rows)


def test_predict_streams_in_batches(stand_in_model, image_folder, capsys):
    TinyClassifier.max_batch = 0
    files = sorted(str(p) for p in image_folder.glob("*/*.png"))[:10]
    assert main(["predict", str(stand_in_model), *files, "--batch-size", "3",
                 "-q", "--trust-model"]) == 0
    assert len(capsys.readouterr().out.strip().splitlines()) == 10
    assert TinyClassifier.max_batch == 3


def test_predict_skips_unreadable_image(stand_in_model, image_folder, tmp_path,
                                        capsys):
    folder = tmp_path / "mixed"
    folder.mkdir()
    for p in sorted(image_folder.glob("ALL/*.png"))[:3]:
        shutil.copy(p, folder / p.name)
    (folder / "broken.png").write_bytes(b"not a png")
    assert main(["predict", str(stand_in_model), str(folder), "-q",
                 "--trust-model"]) == 1
    captured = capsys.readouterr()
    assert len(captured.out.strip().splitlines()) == 3
    assert "broken.png" not in captured.out
    assert "skipped" in captured.err and "broken.png" in captured.err
    assert "Traceback" not in captured.err


def test_predict_errors(stand_in_model, image_folder, tmp_path, capsys):
    image = str(next(image_folder.glob("ALL/*.png")))
    # Missing model file.
    assert main(["predict", str(tmp_path / "none.joblib"), image]) == 1
    _one_line_error(capsys.readouterr().err, "model file not found")
    # A text file is not a model.
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["predict", str(text), image]) == 1
    _one_line_error(capsys.readouterr().err, "not a skleuk model")
    # A joblib file holding something else.
    other = tmp_path / "other.joblib"
    joblib.dump({"weights": [1, 2]}, other)
    assert main(["predict", str(other), image]) == 1
    _one_line_error(capsys.readouterr().err, "not a skleuk model")
    # An unfitted classifier.
    unfitted = tmp_path / "unfitted.joblib"
    joblib.dump({"format": cli.MODEL_FORMAT, "format_version": 1,
                 "estimator": LogisticRegression()}, unfitted)
    assert main(["predict", str(unfitted), image]) == 1
    _one_line_error(capsys.readouterr().err, "not fitted")
    # A folder as model.
    assert main(["predict", str(tmp_path), image]) == 1
    _one_line_error(capsys.readouterr().err, "not a skleuk model")
    # Missing image, folder without images.
    assert main(["predict", str(stand_in_model), str(tmp_path / "x.png"),
                 "--trust-model"]) == 1
    _one_line_error(capsys.readouterr().err, "no such file or folder")
    empty = tmp_path / "empty"
    empty.mkdir()
    assert main(["predict", str(stand_in_model), str(empty),
                 "--trust-model"]) == 1
    _one_line_error(capsys.readouterr().err, "no image files")


def test_debug_shows_traceback(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert main(["predict", "--debug", str(text), str(text)]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert err.strip().splitlines()[-1].startswith("skleuk: error:")


# ---------------------------------------------------------------------------
# grid search
# ---------------------------------------------------------------------------
def test_grid_search_with_stand_in(stand_in, image_folder, tmp_path, capsys):
    out = tmp_path / "gs"
    assert main(["grid-search", "--data", str(image_folder), "--folds", "2",
                 "--optimizers", "sgd", "adam", "--epochs", "1", "2",
                 "--out", str(out), "-q"]) == 0
    text = capsys.readouterr().out
    assert "4 candidates x 2 folds" in text
    assert "Best: optimizer" in text
    rows = list(csv.DictReader(open(out / "grid_search_results.csv")))
    assert len(rows) == 4
    assert {r["optimizer"] for r in rows} == {"sgd", "adam"}
    assert {"mean_accuracy", "mean_roc_auc", "std_accuracy"} <= set(rows[0])
    results = json.loads((out / "grid_search_results.json").read_text())
    best = cli.load_model(out / "best_model.joblib", trusted=True)
    assert best["estimator"].get_params()["cnn__optimizer"] == (
        results["best_params"]["optimizer"]
    )
    assert main(["grid-search", "--data", str(image_folder), "--out",
                 str(out), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "already exists")


def test_n_jobs_reaches_evaluate_and_grid_search_with_the_same_results(
    stand_in, image_folder, tmp_path, capsys, monkeypatch
):
    # Threads instead of processes: the stand-in lives in this test module.
    import sklearn.model_selection._search as search_module

    import skleuk.model_selection

    seen = []
    real_evaluate = skleuk.model_selection.evaluate

    def spy(*args, **kwargs):
        seen.append(kwargs.get("n_jobs"))
        return real_evaluate(*args, **kwargs)

    monkeypatch.setattr(skleuk.model_selection, "evaluate", spy)
    reports = []
    with joblib.parallel_config(backend="threading"):
        for n_jobs in ("1", "2"):
            out = tmp_path / f"rep{n_jobs}"
            assert main(["evaluate", "--data", str(image_folder), "--folds", "2",
                         "--n-jobs", n_jobs, "--out", str(out), "-q",
                         "--no-figures"]) == 0
            reports.append(json.loads((out / "report.json").read_text()))
    assert seen == [1, 2]
    scores = [{k: v for k, v in r["summary"].items() if not k.endswith("_time")}
              for r in reports]
    assert scores[0] == scores[1] and "accuracy" in scores[0]

    searches = []
    real_fit = search_module.GridSearchCV.fit

    def grid_spy(self, *args, **kwargs):
        searches.append(self.n_jobs)
        return real_fit(self, *args, **kwargs)

    monkeypatch.setattr(search_module.GridSearchCV, "fit", grid_spy)
    rows = []
    with joblib.parallel_config(backend="threading"):
        for n_jobs in ("1", "-1"):
            out = tmp_path / f"gs{n_jobs}"
            assert main(["grid-search", "--data", str(image_folder), "--folds", "2",
                         "--optimizers", "sgd", "adam", "--epochs", "1",
                         "--n-jobs", n_jobs, "--out", str(out), "-q"]) == 0
            rows.append(list(csv.DictReader(open(out / "grid_search_results.csv"))))
    assert searches == [1, -1]
    keys = ("optimizer", "mean_accuracy", "mean_roc_auc")
    assert [[r[k] for k in keys] for r in rows[0]] == [
        [r[k] for k in keys] for r in rows[1]
    ]


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_n_jobs_must_be_positive_or_minus_one(bad, capsys):
    assert main(["evaluate", "--n-jobs", bad]) == 2
    assert "positive integer or -1" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# the real CNN pipeline, tiny settings
# ---------------------------------------------------------------------------
def _has_make_pipeline():
    try:
        from skleuk import make_pipeline  # noqa: F401
    except (ImportError, AttributeError):
        return False
    return True


needs_pipeline = pytest.mark.skipif(
    not _has_make_pipeline(), reason="skleuk.make_pipeline not available yet"
)

# Plain SGD: a Keras fit with Adam traces twice as long; the CLI paths are the
# point here.
TINY = ["--image-size", "16", "--epochs", "1", "--architecture", "light",
        "--optimizer", "sgd"]


@needs_pipeline
def test_demo_real_pipeline(tmp_path, capsys):
    out = tmp_path / "demo"
    assert main(["demo", "--out", str(out), "--n-samples", "24", "--folds", "2",
                 *TINY]) == 0
    captured = capsys.readouterr()
    text = captured.out
    assert "Cross-validation report (2 folds)" in text
    # Progress bars (stderr): one per fold and one per epoch.
    assert "cross-validation" in captured.err
    assert "fold 1" in captured.err and "epoch" in captured.err
    report = json.loads((out / "report.json").read_text())
    # Per-epoch history of the Keras classifier is in the report.
    assert len(report["folds"][0]["history"]["loss"]) == 1
    assert (out / "learning_curves.png").exists()


@needs_pipeline
def test_train_predict_real_pipeline(image_folder, tmp_path, capsys):
    model = tmp_path / "cnn.joblib"
    # With progress bars: the epoch callback must not end up in the model.
    assert main(["train", "--data", str(image_folder), "--out", str(model),
                 *TINY]) == 0
    assert "model saved" in capsys.readouterr().out
    cnn = cli.load_model(model)["estimator"][-1]
    assert "fit__callbacks" not in cnn.get_params()
    assert main(["predict", str(model), str(image_folder / "ALL"),
                 "--format", "csv", "-q"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
    assert len(rows) == 20
    assert {r[1] for r in rows} <= {"ALL", "healthy"}


# ---------------------------------------------------------------------------
# the installed console script
# ---------------------------------------------------------------------------
def _console_script():
    exe = shutil.which("skleuk", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("the skleuk console script is not installed")
    return exe


def test_console_script_subprocess(tmp_path):
    exe = _console_script()
    res = subprocess.run([exe, "--version"], capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0
    assert res.stdout.startswith("skleuk ")
    bogus = tmp_path / "model.joblib"
    bogus.write_text("definitely not a model")
    image = tmp_path / "cell.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    res = subprocess.run([exe, "predict", str(bogus), str(image)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 1
    assert res.stdout == ""
    _one_line_error(res.stderr, "not a skleuk model")


@needs_pipeline
@pytest.mark.parametrize("flags, tta", [([], True), (["--no-tta"], False),
                                        (["--tta"], True)])
def test_model_options_reach_the_pipeline(flags, tta):
    from skleuk.cli._model import _build_pipeline
    from skleuk.cli._parser import build_parser

    args = build_parser().parse_args(
        ["train", "--data", "d", "--out", "m.joblib", "--architecture", "wide",
         *flags])
    params = _build_pipeline(args, reader=True).get_params()
    assert params["cnn__tta"] is tta
    assert params["cnn__architecture"] == "wide"
    paper = build_parser().parse_args(
        ["train", "--data", "d", "--out", "m.joblib", "--recipe", "paper"])
    assert _build_pipeline(paper, reader=True).get_params()["cnn__tta"] is False


@needs_pipeline
def test_predict_switches_test_time_augmentation(image_folder, stand_in_model,
                                                 tmp_path, capsys):
    model = tmp_path / "cnn.joblib"
    assert main(["train", "--data", str(image_folder), "--out", str(model), "-q",
                 *TINY]) == 0
    assert cli.load_model(model)["estimator"].get_params()["cnn__tta"] is True
    capsys.readouterr()

    def probabilities(*flags):
        assert main(["predict", str(model), str(image_folder / "ALL"),
                     "--format", "csv", "-q", *flags]) == 0
        rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))[1:]
        return np.array([float(r[2]) for r in rows])

    with_tta, without = probabilities(), probabilities("--no-tta")
    assert np.array_equal(probabilities("--tta"), with_tta)
    assert not np.allclose(with_tta, without)
    # The saved file is not changed.
    assert cli.load_model(model)["estimator"].get_params()["cnn__tta"] is True
    # A model without a network says so.
    assert main(["predict", str(stand_in_model), str(image_folder / "ALL"),
                 "--no-tta", "-q", "--trust-model"]) == 2
    assert "no network with test-time augmentation" in capsys.readouterr().err
