"""The ``skleuk`` command with bad and unusual input (issue 15).

Each test reproduces one reported case: arguments and output paths are
checked before any work, failed runs leave nothing behind, nothing the user
saved is overwritten, and the positive class is explicit.
"""

import json
import os
import threading
import zlib

import numpy as np
import pytest
from PIL import Image
from test_cli import _one_line_error, _stand_in

from skleuk import cli
from skleuk.cli import main
from skleuk.datasets import make_blood_smears


@pytest.fixture
def stand_in(monkeypatch):
    monkeypatch.setattr(cli._model, "_build_pipeline", _stand_in)


def _class_folders(root, names, n=8, size=24, seed=0):
    """``root/<name>/`` with ``n`` small PNG images each."""
    data = make_blood_smears(n_samples=n * len(names), image_size=size,
                             random_state=seed)
    for k, name in enumerate(names):
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            im = data.images[k * n + i]
            if k % 2 == 1:  # make the classes separable for the stand-in
                im = (im // 2).astype(np.uint8)
            Image.fromarray(im).save(root / name / f"cell{i:03d}.png")
    return root


@pytest.fixture
def no_loading(monkeypatch):
    """Fail the test if the command gets as far as loading data."""

    def fail(args):
        raise AssertionError("the data was loaded before the arguments were checked")

    monkeypatch.setattr(cli._data, "_load_data", fail)


def _main_with_timeout(argv, timeout=60):
    out = {}
    t = threading.Thread(target=lambda: out.setdefault("rc", main(argv)),
                         daemon=True)
    t.start()
    t.join(timeout)
    if t.is_alive():
        pytest.fail(f"skleuk {' '.join(argv)} hangs")
    return out["rc"]


# 1 ------------------------------------------------------------------------
def test_grid_search_three_classes(stand_in, tmp_path, capsys):
    data = _class_folders(tmp_path / "three", ["a", "b", "c"], n=6)
    out = tmp_path / "gs"
    assert main(["grid-search", "--data", str(data), "--out", str(out),
                 "--optimizers", "adam", "--epochs", "1", "--folds", "2",
                 "-q"]) == 0, capsys.readouterr().err
    res = json.loads((out / "grid_search_results.json").read_text())
    assert 0 <= res["results"][0]["mean_roc_auc"] <= 1


# 2 ------------------------------------------------------------------------
def test_dataset_auto_never_mixes_layouts(stand_in, tmp_path, capsys):
    data = _class_folders(tmp_path / "d", ["Benign", "Early", "Pre"], n=4)
    os.rename(data / "Early" / "cell000.png", data / "Early" / "Im001_1.png")
    os.rename(data / "Pre" / "cell000.png", data / "Pre" / "Im002_0.png")
    assert main(["evaluate", "--data", str(data), "--folds", "2", "-q",
                 "--out", str(tmp_path / "r"), "--no-figures"]) == 1
    _one_line_error(capsys.readouterr().err, "two layouts", "ALL_IDB2 (2 files",
                    "12 images", "--dataset folder")
    assert not (tmp_path / "r").exists()
    assert main(["evaluate", "--data", str(data), "--dataset", "folder",
                 "--folds", "2", "-q", "--out", str(tmp_path / "r"),
                 "--no-figures"]) == 0
    assert "12 images" in capsys.readouterr().out


# 4 ------------------------------------------------------------------------
@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_symlinked_subfolders_counted_by_commands(stand_in, tmp_path, capsys):
    store = _class_folders(tmp_path / "store", ["p1", "p2"], n=4)
    data = tmp_path / "data"
    (data / "ALL").mkdir(parents=True)
    (data / "healthy").mkdir()
    os.symlink(store / "p1", data / "ALL" / "patient1")
    os.symlink(store / "p2", data / "healthy" / "patient2")
    assert main(["evaluate", "--data", str(data), "--folds", "2", "-q",
                 "--out", str(tmp_path / "r"), "--no-figures"]) == 0
    assert "8 images" in capsys.readouterr().out


# 5 ------------------------------------------------------------------------
def test_report_inside_class_folder_data_refused(stand_in, tmp_path, capsys):
    data = _class_folders(tmp_path / "d", ["ALL", "healthy"], n=4)
    assert main(["evaluate", "--data", str(data), "--out", str(data / "report"),
                 "--folds", "2", "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "inside --data")
    assert not (data / "report").exists()


# 6 ------------------------------------------------------------------------
def test_positive_class_option_and_assumed_headline(stand_in, tmp_path, capsys):
    data = _class_folders(tmp_path / "d", ["lymphoid", "myeloid"], n=6)
    out = tmp_path / "r1"
    assert main(["evaluate", "--data", str(data), "--folds", "2", "-q",
                 "--out", str(out), "--no-figures"]) == 0
    text = capsys.readouterr().out
    title = next(line for line in text.splitlines()
                 if line.startswith("Cross-validation report"))
    assert "positive class 'myeloid' ASSUMED" in title
    # The library's text names pos_label=; the command line adds its option.
    assert "with pos_label=." in text and "with --positive-class" in text
    assert json.loads((out / "report.json").read_text())["pos_label"] == 1
    out = tmp_path / "r2"
    assert main(["evaluate", "--data", str(data), "--folds", "2", "-q",
                 "--out", str(out), "--no-figures",
                 "--positive-class", "lymphoid"]) == 0
    text = capsys.readouterr().out
    assert "ASSUMED" not in text and "Positive class: lymphoid" in text
    assert json.loads((out / "report.json").read_text())["pos_label"] == 0
    assert main(["evaluate", "--data", str(data), "--out", str(tmp_path / "r3"),
                 "--positive-class", "blast", "-q"]) == 2
    _one_line_error(capsys.readouterr().err, "'blast'", "lymphoid, myeloid")
    assert not (tmp_path / "r3").exists()


# 7 ------------------------------------------------------------------------
@pytest.mark.parametrize("out", ["", "  "])
def test_train_empty_out_before_loading(stand_in, no_loading, tmp_path, out,
                                        capsys):
    assert main(["train", "--data", str(tmp_path), "--out", out, "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "--out is empty")


@pytest.mark.skipif(not os.path.exists("/proc/version"), reason="Linux /proc")
def test_train_unwritable_out_before_loading(stand_in, no_loading, tmp_path,
                                             capsys):
    assert main(["train", "--data", str(tmp_path), "--out", "/proc/version",
                 "--force", "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "cannot write")


def test_evaluate_out_under_a_file_before_loading(stand_in, no_loading, tmp_path,
                                                  capsys):
    blocker = tmp_path / "file.txt"
    blocker.write_text("mine")
    for command in ("evaluate", "grid-search"):
        assert main([command, "--data", str(tmp_path), "-q",
                     "--out", str(blocker / "report")]) == 1
        _one_line_error(capsys.readouterr().err, "is a file, not a folder")
    assert blocker.read_text() == "mine"


def test_bad_model_arguments_before_loading(no_loading, tmp_path, capsys):
    # The paper network needs 19 px: refused before any data is read.
    assert main(["evaluate", "--data", str(tmp_path), "--image-size", "16",
                 "--architecture", "paper", "--out", str(tmp_path / "r"),
                 "-q"]) == 2
    _one_line_error(capsys.readouterr().err, "--image-size 16", "at least 19")
    assert not (tmp_path / "r").exists()
    assert main(["train", "--data", str(tmp_path), "--random-state", "-5"]) == 2
    assert "--random-state" in capsys.readouterr().err


# failed runs remove the folders they created -------------------------------
def test_failed_run_removes_created_output(stand_in, tmp_path, monkeypatch,
                                           capsys):
    data = _class_folders(tmp_path / "d", ["ALL", "healthy"], n=4)

    def boom(*args, **kwargs):
        raise ValueError("training failed")

    monkeypatch.setattr(cli._evaluate, "_run_evaluation", boom)
    out = tmp_path / "new" / "deeper" / "report"
    assert main(["evaluate", "--data", str(data), "--out", str(out), "-q"]) == 1
    assert not (tmp_path / "new").exists()
    # An existing folder (with the user's own file) is left alone.
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "notes.txt").write_text("mine")
    assert main(["evaluate", "--data", str(data), "--out", str(keep), "-q",
                 "--force"]) == 1
    assert (keep / "notes.txt").read_text() == "mine"


def test_force_no_figures_removes_stale_figures(stand_in, tmp_path, capsys):
    data = _class_folders(tmp_path / "d", ["ALL", "healthy"], n=4)
    out = tmp_path / "r"
    out.mkdir()
    (out / "roc_curve.png").write_bytes(b"old figure")
    (out / "notes.txt").write_text("mine")
    assert main(["evaluate", "--data", str(data), "--out", str(out), "-q",
                 "--folds", "2", "--force", "--no-figures"]) == 0
    assert not (out / "roc_curve.png").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "report.txt").exists()


# 8 ------------------------------------------------------------------------
def test_corrupt_compressed_model(tmp_path, capsys):
    from test_cli import TinyClassifier  # noqa: F401 - a picklable classifier

    path = tmp_path / "model.joblib"
    cli.save_model(TinyClassifier().fit(np.eye(4), [0, 1, 0, 1]), path,
                   input_kind="images")
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2: len(raw) // 2 + 64] = b"\x00" * 64
    path.write_bytes(bytes(raw))
    with pytest.raises(ValueError, match="model.joblib") as info:
        cli.load_model(path)
    assert not isinstance(info.value, zlib.error)
    image = tmp_path / "x.png"
    Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(image)
    assert main(["predict", str(path), str(image), "-q"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, "model.joblib", "not a skleuk model")
    assert "error: error" not in err


# 9 ------------------------------------------------------------------------
@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_predict_fifo_does_not_hang(tmp_path, capsys):
    from test_cli import TinyClassifier

    from skleuk.preprocessing._reader import ImageReader

    model = tmp_path / "m.joblib"
    pipe = _stand_in(type("A", (), {})(), reader=True)
    X = np.array([str(_save_png(tmp_path / f"{i}.png", i * 60)) for i in range(4)])
    pipe.fit(X, [0, 1, 0, 1])
    assert isinstance(pipe.steps[0][1], ImageReader)
    assert isinstance(pipe.steps[-1][1], TinyClassifier)
    cli.save_model(pipe, model)
    folder = tmp_path / "in"
    folder.mkdir()
    os.mkfifo(folder / "cell.png")
    _save_png(folder / "ok.png", 10)
    assert _main_with_timeout(["predict", str(model), str(folder / "cell.png"),
                               "-q", "--trust-model"]) == 1
    assert "FIFO" in capsys.readouterr().err
    assert _main_with_timeout(["predict", str(model), str(folder), "-q",
                               "--trust-model"]) == 0
    captured = capsys.readouterr()
    assert "ok.png" in captured.out and "cell.png" not in captured.out
    assert "not regular files" in captured.err


def _save_png(path, value):
    Image.fromarray(np.full((16, 16, 3), value, np.uint8)).save(path)
    return path


# 10 (smaller) ---------------------------------------------------------------
def test_help_shows_the_default_image_size(capsys):
    from skleuk._pipeline import DEFAULT_IMAGE_SIZE

    assert main(["evaluate", "--help"]) == 0
    out = capsys.readouterr().out
    assert "skleuk._pipeline" not in out
    assert f"recipe's, {DEFAULT_IMAGE_SIZE} for the default one)" in " ".join(
        out.split()
    )
