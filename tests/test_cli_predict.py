"""``skleuk predict`` reads each file once: the image its check decoded goes
to the model when the model's reader would read the same arrays.

The outputs must be exactly those of the model reading the files itself
(the path kept for readers that resize while decoding and for large
images), referrals included.
"""

import csv
import io
import os

import numpy as np
import pytest
from _cli_models import save_cells, save_png
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

import skleuk
from skleuk.cli import _predict, main
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import ImageReader, Resizer


@pytest.fixture(scope="module")
def cells(tmp_path_factory):
    return save_cells(tmp_path_factory.mktemp("cells"), ["ALL", "healthy"], n=6)


def _model(cells, path, reader):
    files = sorted(str(p) for p in cells.glob("*/*.png"))
    y = [0 if os.sep + "ALL" + os.sep in f else 1 for f in files]
    pipe = Pipeline([("reader", reader), ("resize", Resizer(size=16)),
                     ("features", CellFeatureExtractor()),
                     ("clf", LogisticRegression())]).fit(np.array(files), y)
    return skleuk.save_model(pipe, path, target_names=["ALL", "healthy"])


@pytest.fixture(scope="module")
def full_model(cells, tmp_path_factory):
    """A model whose reader reads files at their own size (skleuk train's)."""
    return _model(cells, tmp_path_factory.mktemp("m") / "m.joblib", ImageReader())


@pytest.fixture(scope="module")
def inputs(cells, tmp_path_factory):
    """Cells of two sizes, and files every check refers or cannot read."""
    root = tmp_path_factory.mktemp("inputs")
    good = sorted(str(p) for p in cells.glob("*/*.png"))
    big = save_png(np.asarray(Image.open(good[0]).resize((96, 80))), root / "big.png")
    grey = np.repeat(np.asarray(Image.open(good[1]).convert("L"))[..., None], 3, -1)
    odd = {
        "white.png": np.full((64, 64, 3), 255, np.uint8),
        "dot.png": np.full((1, 1, 3), 90, np.uint8),
        "noise.png": np.random.default_rng(0).integers(0, 256, (64, 64, 3),
                                                       dtype=np.uint8),
        "grey.png": grey,
    }
    paths = [save_png(im, root / name) for name, im in odd.items()]
    broken = root / "broken.png"
    broken.write_bytes(b"not a png")
    return [*good[:5], big, *paths, str(broken), *good[5:]]


def _run(model, files, fmt, capsys, *extra):
    rc = main(["predict", model, *files, "-q", "--format", fmt,
               "--batch-size", "4", *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _spy(monkeypatch):
    """Count the batches the model got as decoded images."""
    calls = []
    real = _predict._as_reader_output

    def spy(reader, images):
        calls.append(len(images))
        return real(reader, images)

    monkeypatch.setattr(_predict, "_as_reader_output", spy)
    return calls


@pytest.mark.parametrize("fmt", ["text", "csv", "json"])
def test_decoded_images_give_the_same_output(full_model, inputs, fmt, capsys,
                                             monkeypatch):
    calls = _spy(monkeypatch)
    new = _run(full_model, inputs, fmt, capsys)
    assert calls and sum(calls) == len(inputs) - 5  # 4 referred, 1 unreadable
    # The model reading every file itself, as before.
    monkeypatch.setattr(_predict, "_reader_tail", lambda model: None)
    old = _run(full_model, inputs, fmt, capsys)
    assert new == old
    rc, out, err = new
    assert rc == 1 and "broken.png" in err
    assert f"4 of {len(inputs)} image(s) referred" in err
    if fmt == "csv":
        notes = {os.path.basename(r["file"]): r["note"]
                 for r in csv.DictReader(io.StringIO(out))}
        assert notes["white.png"] == "blank image: every pixel is (255, 255, 255)"
        assert notes["dot.png"].startswith("too small: 1x1 pixels")
        assert notes["noise.png"] == "no white cell found"
        assert "grey-level image" in notes["grey.png"]
        assert "broken.png" not in notes
        assert all(notes[os.path.basename(f)] == "" for f in inputs[:6])


def test_reader_that_resizes_reads_the_paths(cells, inputs, tmp_path, capsys,
                                            monkeypatch):
    """ImageReader(size=...) decodes at reduced resolution: never arrays."""
    model = _model(cells, tmp_path / "m.joblib", ImageReader(size=32))
    calls = _spy(monkeypatch)
    assert _run(model, inputs[:5], "csv", capsys)[0] == 0
    assert calls == []


def test_large_images_are_read_by_the_model(full_model, inputs, tmp_path, capsys,
                                            monkeypatch):
    """An image the check read reduced is not the file: the batch goes to the
    model as paths, with the same output as before."""
    big = np.asarray(Image.open(inputs[0]).resize((1100, 1100)))
    path = save_png(big, tmp_path / "large.png")
    files = [inputs[0], path]
    calls = _spy(monkeypatch)
    new = _run(full_model, files, "csv", capsys)
    assert calls == [] and new[0] == 0
    monkeypatch.setattr(_predict, "_reader_tail", lambda model: None)
    assert _run(full_model, files, "csv", capsys) == new


def test_no_image_check_reads_the_paths(full_model, inputs, capsys, monkeypatch):
    calls = _spy(monkeypatch)
    assert _run(full_model, inputs[:5], "csv", capsys, "--no-image-check")[0] == 0
    assert calls == []


def test_float_reader_gets_the_same_images(cells, inputs, tmp_path, capsys,
                                           monkeypatch):
    """ImageReader(dtype="float32"): the decoded images converted as it does."""
    model = _model(cells, tmp_path / "m.joblib", ImageReader(dtype="float32"))
    calls = _spy(monkeypatch)
    new = _run(model, inputs, "json", capsys)
    assert sum(calls) == len(inputs) - 5
    monkeypatch.setattr(_predict, "_reader_tail", lambda model: None)
    assert _run(model, inputs, "json", capsys) == new
