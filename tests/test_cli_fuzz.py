"""Fuzz and fault tests of the ``skleuk`` command (issue 32, item 4).

Hypothesis draws what the sixteen reported cases were made of -- hostile
file names, odd image shapes, modes and formats, the moment a run is
interrupted, the write that fails and how -- and each test states what
must hold whatever is drawn: one record per image, links that resolve, a
one-line error without a traceback or a raw ``[Errno]``, no partial file,
summaries and ``run.json`` that say how far the run got. Models are tiny
and of allow-listed types (``tests/_cli_models.py``); example counts are
small so the module runs in about half a minute.
"""

import csv
import errno
import io
import json
import os
import re
import shutil
import signal
from urllib.parse import unquote

import numpy as np
import pytest
from _cli_models import cell_model, positive_smear, save_cells, screening_model
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from skleuk.cli import _screen, _screen_out, main
from skleuk.screening import SmearScreener

pytestmark = pytest.mark.skipif(os.name == "nt", reason="POSIX file names")

FUZZ = settings(max_examples=6, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.function_scoped_fixture,
                                       HealthCheck.too_slow])


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("models")
    cells = save_cells(root / "cells", ["ALL", "healthy"])
    return {"cells": cell_model(cells, root / "cells.joblib"),
            "smears": screening_model(root / "screener.joblib"),
            "cell_image": str(next(cells.glob("ALL/*.png")))}


def _fresh(tmp_path, name):
    path = tmp_path / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir()
    return path


def _one_line_error(err):
    lines = [ln for ln in err.strip().splitlines() if ln.startswith("skleuk: error")]
    assert len(lines) == 1, err
    assert "Traceback" not in err and "[Errno" not in err, err
    return lines[0]


# ---------------------------------------------------------------- names

_CHARS = st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00")
_SPECIAL = st.sampled_from(list(" #?%&<>|*[]_-.'\"\\\n\t\r`~!$;:=+,()") +
                           ["血液", "é", "ß", "Ω", "😀", "\u200b", "\x7f"])
names = st.lists(st.one_of(_CHARS, _SPECIAL), min_size=1, max_size=12).map(
    "".join).filter(lambda s: s not in (".", "..") and len(s.encode()) < 200)


def _file_names(draw_names):
    """Distinct ``<name>.png`` file names (case-distinct on disk)."""
    seen, out = set(), []
    for n in draw_names:
        name = f"{n}.png"
        if name.lower() not in seen:
            seen.add(name.lower())
            out.append(name)
    return out


@FUZZ
@given(st.lists(names, min_size=1, max_size=4))
def test_predict_any_file_name_one_record_per_image(models, tmp_path, capsys,
                                                    drawn):
    folder = _fresh(tmp_path, "in")
    files = [str(folder / n) for n in _file_names(drawn)]
    for f in files:
        shutil.copy(models["cell_image"], f)
    for fmt in ("text", "csv", "json"):
        assert main(["predict", models["cells"], str(folder), "-q", "--format",
                     fmt]) == 0
        out = capsys.readouterr().out
        if fmt == "text":
            lines = out.splitlines()
            got = [json.loads(x) if x.startswith('"') else x
                   for x in (line.split("\t")[0] for line in lines)]
            assert all(line.count("\t") == 2 for line in lines)
        elif fmt == "csv":
            got = [r["file"] for r in csv.DictReader(io.StringIO(out))]
        else:
            got = [r["file"] for r in json.loads(out)]
        assert sorted(got) == sorted(files)


@FUZZ
@given(st.lists(names, min_size=1, max_size=3))
def test_screen_any_file_name_links_resolve(models, tmp_path, capsys, drawn):
    folder = _fresh(tmp_path, "in")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    files = [str(folder / n) for n in _file_names(drawn)]
    for f in files:
        positive_smear(f)
    assert main(["screen", models["smears"], str(folder), "--out", str(out),
                 "-q"]) == 0
    page = (out / "summary.html").read_text(encoding="utf-8")
    links = re.findall(r'(?:href|src)="([^"]*)"', page)
    assert len(links) == 2 * len(files)
    for link in links:
        assert not re.search(r"[\s#?\"'<>]", link)
        assert (out / unquote(link)).is_file()
    md = (out / "summary.md").read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if line.startswith("| [")]
    assert len(rows) == len(files)
    assert all(row.count(" | ") == 6 for row in rows)
    with open(out / "smears.csv", newline="", encoding="utf-8") as f:
        assert sorted(r["file"] for r in csv.DictReader(f)) == sorted(files)
    assert json.loads((out / "run.json").read_text())["status"] == "complete"


# ----------------------------------------------------- image shapes, modes

def _image(draw):
    h = draw(st.integers(1, 80))
    w = draw(st.integers(1, 80))
    mode = draw(st.sampled_from(["L", "RGB", "RGBA", "LA", "P", "1", "I;16", "F",
                                 "CMYK"]))
    fmt = draw(st.sampled_from(["png", "tif", "bmp", "jpg"]))
    kind = draw(st.sampled_from(["noise", "flat", "cell"]))
    return h, w, mode, fmt, kind


@st.composite
def images(draw):
    return _image(draw)


def _write_image(path, h, w, mode, kind, cell):
    rng = np.random.default_rng(h * 100 + w)
    if kind == "cell":
        rgb = np.asarray(Image.fromarray(cell).resize((w, h)))
    elif kind == "flat":
        rgb = np.full((h, w, 3), 200, np.uint8)
    else:
        rgb = rng.integers(0, 256, (h, w, 3), dtype=np.uint8)
    im = Image.fromarray(rgb)
    if mode in ("I;16", "F"):
        im = Image.fromarray((rgb[..., 0].astype(np.float32) / 255)
                             if mode == "F" else rgb[..., 0].astype(np.uint16) * 257)
    else:
        im = im.convert(mode)
    try:
        im.save(path)
    except (OSError, ValueError, KeyError):
        return False  # a mode the format cannot hold
    return True


@FUZZ
@given(st.lists(images(), min_size=1, max_size=4))
def test_predict_and_screen_any_image(models, tmp_path, capsys, drawn):
    folder = _fresh(tmp_path, "in")
    cell = np.asarray(Image.open(models["cell_image"]).convert("RGB"))
    files = []
    for k, (h, w, mode, fmt, kind) in enumerate(drawn):
        path = folder / f"{k}.{fmt}"
        if _write_image(path, h, w, mode, kind, cell):
            files.append(str(path))
    if not files:
        return
    rc = main(["predict", models["cells"], str(folder), "-q", "--format", "csv"])
    captured = capsys.readouterr()
    rows = list(csv.DictReader(io.StringIO(captured.out)))
    skipped = re.findall(r"warning: skipped (\S+):", captured.err)
    assert sorted([r["file"] for r in rows] + skipped) == sorted(files)
    assert rc == (1 if skipped else 0)
    assert "Traceback" not in captured.err
    for r in rows:  # a class with its probability, or referred with a reason
        assert (r["predicted_class"] in ("ALL", "healthy") and r["probability"]) or (
            r["predicted_class"] == "referred" and r["note"])
        if min(Image.open(r["file"]).size) < 16:
            assert r["note"].startswith("too small")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    rc = main(["screen", models["smears"], str(folder), "--out", str(out), "-q",
               "--no-overlays"])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "complete"
    assert record["n_screened"] + record["counts"]["skipped"] == len(files)
    assert rc == (1 if record["counts"]["skipped"] else 0)


# ------------------------------------------------------------- interrupts

@FUZZ
@given(st.integers(0, 4), st.sampled_from(["ctrl-c", "sigterm"]))
def test_interrupted_anywhere_says_how_far(models, tmp_path, monkeypatch, capsys,
                                           stop_at, how):
    folder = _fresh(tmp_path, "in")
    for k in range(4):
        positive_smear(folder / f"s{k}.png")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    real = SmearScreener.screen
    calls = []

    def screen(self, X):
        calls.append(X)
        if len(calls) == stop_at + 1:
            if how == "ctrl-c":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)
        return real(self, X)

    monkeypatch.setattr(SmearScreener, "screen", screen)
    rc = main(["screen", models["smears"], str(folder), "--out", str(out), "-q"])
    monkeypatch.undo()
    capsys.readouterr()
    record = json.loads((out / "run.json").read_text())
    if stop_at >= 4:  # never interrupted
        assert rc == 0 and record["status"] == "complete"
        return
    assert rc == (130 if how == "ctrl-c" else 143)
    assert record["status"] == "interrupted"
    assert record["incomplete"]["stopped_after"] == stop_at
    with open(out / "smears.csv", newline="", encoding="utf-8") as f:
        assert len(list(csv.DictReader(f))) == stop_at
    text = (out / "summary.md").read_text(encoding="utf-8")
    assert f"INCOMPLETE: stopped after {stop_at} of 4 smear(s)" in text
    assert not list(out.rglob("*.part"))
    assert len(os.listdir(out / "overlays")) == stop_at


# --------------------------------------------- read-only and full folders

class _Faults:
    """Make the ``fail_at``-th write of a screening run fail with ``code``
    (a full disk, a read-only file system, a permission refused)."""

    def __init__(self, fail_at, code):
        self.fail_at, self.code, self.n = fail_at, code, 0

    def tick(self):
        self.n += 1
        if self.n == self.fail_at:
            raise OSError(self.code, os.strerror(self.code))


@FUZZ
@given(st.integers(1, 16), st.sampled_from([errno.ENOSPC, errno.EROFS,
                                            errno.EACCES]))
def test_a_failing_write_anywhere_fails_cleanly(models, tmp_path, monkeypatch,
                                                capsys, fail_at, code):
    import matplotlib.figure

    folder = _fresh(tmp_path, "in")
    for k in range(3):
        positive_smear(folder / f"s{k}.png")
    out = tmp_path / "out"
    shutil.rmtree(out, ignore_errors=True)
    faults = _Faults(fail_at, code)

    real_open = _screen._Run._open

    def open_(self, name):
        f = real_open(self, name)
        write = f.write

        def failing(text):
            faults.tick()
            return write(text)

        f.write = failing
        return f

    real_savefig = matplotlib.figure.Figure.savefig
    real_record = _screen_out.write_record
    real_lazy = _screen_out.LazyFile.write

    def savefig(fig, fname, *args, **kwargs):
        faults.tick()
        return real_savefig(fig, fname, *args, **kwargs)

    def record(*args):
        faults.tick()
        return real_record(*args)

    def lazy(self, text):
        faults.tick()
        return real_lazy(self, text)

    monkeypatch.setattr(_screen._Run, "_open", open_)
    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)
    monkeypatch.setattr(_screen_out, "write_record", record)
    monkeypatch.setattr(_screen_out.LazyFile, "write", lazy)
    rc = main(["screen", models["smears"], str(folder), "--out", str(out), "-q"])
    monkeypatch.undo()
    err = capsys.readouterr().err
    if faults.n < fail_at:  # the run made fewer writes: it completed
        assert rc == 0
        return
    assert rc == 1
    line = _one_line_error(err)
    assert os.strerror(code).lower() in line
    if not out.exists():
        return  # failed before its first smear: nothing left behind
    assert not list(out.rglob("*.part"))
    for p in out.rglob("*"):
        assert p.is_dir() or p.stat().st_size > 0, p
    if (out / "run.json").exists():
        record = json.loads((out / "run.json").read_text())
        assert record["status"] in ("failed", "running")
    for name in ("summary.md", "summary.html"):
        if (out / name).exists():
            assert "INCOMPLETE" in (out / name).read_text(encoding="utf-8")
