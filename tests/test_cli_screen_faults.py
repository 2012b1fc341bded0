"""``skleuk screen`` under faults and with hostile names (issue 32 #4-#8,
#10 and the minor cases), and the report's links.

The screening model is of allow-listed types only (no ``--trust-model``)
and screens a 96x128 smear in well under a second.
"""

import csv
import errno
import json
import os
import re
import signal
from urllib.parse import unquote

import numpy as np
import pytest
from _cli_models import negative_smear, positive_smear, save_png, screening_model
from test_cli import _one_line_error

from skleuk.cli import _screen, main
from skleuk.screening import SmearScreener


@pytest.fixture(scope="module")
def model(tmp_path_factory):
    return screening_model(tmp_path_factory.mktemp("model") / "screener.joblib")


def _smears(folder, n=4):
    os.makedirs(folder, exist_ok=True)
    return [(positive_smear if i % 2 == 0 else negative_smear)(folder / f"s{i}.png")
            for i in range(n)]


def _read(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _links(page):
    return re.findall(r'(?:href|src)="([^"]*)"', page)


# 4 ------------------------------------------------------------------------
@pytest.mark.parametrize("how", ["ctrl-c", "sigterm"])
def test_an_interrupted_run_says_incomplete(model, tmp_path, monkeypatch, how,
                                            capsys):
    files = _smears(tmp_path / "in", n=5)
    real = SmearScreener.screen
    calls = []

    def screen(self, X):
        calls.append(X)
        if len(calls) == 3:
            if how == "ctrl-c":
                raise KeyboardInterrupt
            os.kill(os.getpid(), signal.SIGTERM)  # handled as Terminated
        return real(self, X)

    monkeypatch.setattr(SmearScreener, "screen", screen)
    out = tmp_path / "out"
    previous = signal.getsignal(signal.SIGTERM)
    rc = main(["screen", model, str(tmp_path / "in"), "--out", str(out), "-q"])
    assert rc == (130 if how == "ctrl-c" else 143)
    assert capsys.readouterr().err.strip().endswith(
        "interrupted" if how == "ctrl-c" else "terminated")
    reason = "interrupted (Ctrl-C)" if how == "ctrl-c" else "terminated (SIGTERM)"
    for name in ("summary.html", "summary.md"):
        text = (out / name).read_text(encoding="utf-8")
        assert f"INCOMPLETE: stopped after 2 of 5 smear(s): {reason}" in text
        assert text.index("INCOMPLETE") < text.index("Review first")
    record = json.loads((out / "run.json").read_text())
    assert record["status"] == "interrupted"
    assert record["incomplete"] == {"stopped_after": 2, "of": 5, "reason": reason}
    assert [r["file"] for r in _read(out / "smears.csv")] == files[:2]
    assert not list(out.rglob("*.part"))
    # SIGTERM's handler is the previous one again.
    assert signal.getsignal(signal.SIGTERM) == previous


def test_a_killed_run_is_not_finalised(model, tmp_path, monkeypatch, capsys):
    """What a hard kill leaves: run.json says running, no summary."""
    _smears(tmp_path / "in", n=2)

    def killed(self, path, res):
        raise SystemExit(137)  # stands in for SIGKILL: no cleanup code runs

    monkeypatch.setattr(_screen._Run, "smear", killed)
    monkeypatch.setattr(_screen._Run, "finish", lambda self, *a, **k: None)
    with pytest.raises(SystemExit):
        main(["screen", model, str(tmp_path / "in"), "--out", str(tmp_path / "o"),
              "-q"])
    assert json.loads((tmp_path / "o" / "run.json").read_text())["status"] == "running"
    assert not (tmp_path / "o" / "summary.html").exists()


# 5 and 15 (screen) --------------------------------------------------------
def test_out_inside_an_input_folder_is_refused(model, tmp_path, capsys):
    _smears(tmp_path / "in", n=2)
    assert main(["screen", model, str(tmp_path / "in"), "--out",
                 str(tmp_path / "in" / "res"), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "inside the input folder")
    assert not (tmp_path / "in" / "res").exists()
    # The other way round: --force would replace the input.
    out = tmp_path / "res"
    assert main(["screen", model, str(tmp_path / "in"), "--out", str(out),
                 "-q"]) == 0
    capsys.readouterr()
    assert main(["screen", model, str(out / "overlays"), "--out", str(out),
                 "--force", "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "is inside --out")
    assert len(os.listdir(out / "overlays")) == 2


# 6 ------------------------------------------------------------------------
def test_force_replaces_earlier_results_as_a_whole(model, tmp_path, capsys):
    files = _smears(tmp_path / "in", n=4)
    out = tmp_path / "out"
    assert main(["screen", model, str(tmp_path / "in"), "--out", str(out),
                 "-q"]) == 0
    (out / "notes.txt").write_text("mine")
    assert len(os.listdir(out / "overlays")) == 4
    assert main(["screen", model, files[0], "--out", str(out), "-q"]) == 1
    _one_line_error(capsys.readouterr().err, "already exists", "--force")
    assert main(["screen", model, files[0], "--out", str(out), "-q",
                 "--force"]) == 0
    assert os.listdir(out / "overlays") == ["s0.png"]
    assert len(_read(out / "smears.csv")) == 1
    assert (out / "notes.txt").read_text() == "mine"
    # Without overlays, none of the earlier ones stays beside the new CSVs.
    (out / "overlays" / "mine.txt").write_text("mine too")
    assert main(["screen", model, files[1], "--out", str(out), "-q", "--force",
                 "--no-overlays"]) == 0
    assert os.listdir(out / "overlays") == ["mine.txt"]
    assert "overlays/" not in (out / "summary.html").read_text()


# 7, 8 ---------------------------------------------------------------------
HOSTILE = ["血液 space#?.png", "100%.png", "a b#c?d=e&f.png", "<img src=x>.png",
           "pipe|star*[x]_.png", "new\nline.png", "tab\tname.png", "quote\"'.png"]


@pytest.mark.skipif(os.name == "nt", reason="these characters in file names")
def test_every_link_of_the_summary_resolves(model, tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in HOSTILE:
        positive_smear(folder / name)
    (folder / "dup").mkdir()
    positive_smear(folder / "dup" / "100%.png")  # same name in another folder
    out = tmp_path / "out"
    assert main(["screen", model, str(folder), "--out", str(out), "-q"]) == 0
    page = (out / "summary.html").read_text(encoding="utf-8")
    links = _links(page)
    assert len(links) == 2 * (len(HOSTILE) + 1)
    for link in links:
        assert not re.search(r"[\s#?\"'<>]", link), link
        assert (out / unquote(link)).is_file(), link
    # Names are shown, escaped, each on one line.
    assert "&lt;img src=x&gt;.png" in page and "<img src=x>" not in page
    assert "new\\nline.png" in page and "tab\\tname.png" in page
    md = (out / "summary.md").read_text(encoding="utf-8")
    rows = [line for line in md.splitlines() if line.startswith("| [")]
    assert len(rows) == len(HOSTILE) + 1
    for row in rows:
        assert row.count(" | ") == 6, row  # seven cells, none split
        target = re.search(r"\]\(<([^>]*)>\)", row).group(1)
        assert (out / unquote(target)).is_file(), row
    assert "<img" not in md


# 10 -----------------------------------------------------------------------
@pytest.mark.parametrize("dpi", ["100000", "0", "5"])
def test_dpi_is_checked_up_front(model, tmp_path, dpi, capsys):
    smear = positive_smear(tmp_path / "s.png")
    assert main(["screen", model, smear, "--out", str(tmp_path / "o"), "--dpi",
                 dpi]) == 2
    assert "--dpi" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_a_run_that_fails_at_once_leaves_nothing_that_blocks_a_rerun(
        model, tmp_path, monkeypatch, capsys):
    smear = positive_smear(tmp_path / "s.png")

    def out_of_memory(*args, **kwargs):
        raise MemoryError

    monkeypatch.setattr(_screen._Run, "_overlay", out_of_memory)
    out = tmp_path / "o"
    assert main(["screen", model, smear, "--out", str(out), "-q"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, "out of memory", "--no-overlays", "--dpi")
    assert "--image-size" not in err
    assert not out.exists()
    existing = tmp_path / "kept"
    existing.mkdir()
    (existing / "notes.txt").write_text("mine")
    assert main(["screen", model, smear, "--out", str(existing), "-q"]) == 1
    assert os.listdir(existing) == ["notes.txt"]
    monkeypatch.undo()
    assert main(["screen", model, smear, "--out", str(out), "-q"]) == 0


# minor: full disk, unwritable --out, raw errno messages --------------------
def _full_after(monkeypatch, n):
    """The n-th overlay written finds the disk full (a partial file)."""
    import matplotlib.figure

    real = matplotlib.figure.Figure.savefig
    count = []

    def savefig(self, fname, *args, **kwargs):
        count.append(fname)
        if len(count) == n:
            with open(fname, "wb") as f:
                f.write(b"\x89PN")
            raise OSError(errno.ENOSPC, "No space left on device")
        return real(self, fname, *args, **kwargs)

    monkeypatch.setattr(matplotlib.figure.Figure, "savefig", savefig)


def test_a_full_disk_stops_cleanly(model, tmp_path, monkeypatch, capsys):
    files = _smears(tmp_path / "in", n=3)
    _full_after(monkeypatch, 2)
    out = tmp_path / "out"
    assert main(["screen", model, str(tmp_path / "in"), "--out", str(out),
                 "-q"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, "no space left on device", "stopped after 1 of 3",
                    "marked incomplete")
    assert "Errno" not in err
    assert not list(out.rglob("*.part"))
    assert os.listdir(out / "overlays") == ["s0.png"]
    assert [r["file"] for r in _read(out / "smears.csv")] == files[:1]
    assert "INCOMPLETE: stopped after 1 of 3" in (out / "summary.md").read_text()
    assert json.loads((out / "run.json").read_text())["status"] == "failed"
    # Full at the first smear: nothing is left.
    monkeypatch.undo()
    _full_after(monkeypatch, 1)
    assert main(["screen", model, files[0], "--out", str(tmp_path / "o2"),
                 "-q"]) == 1
    assert not (tmp_path / "o2").exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("o2")]


@pytest.mark.skipif(not os.path.isdir("/sys"), reason="Linux /sys")
def test_unwritable_out_is_refused_before_any_work(model, tmp_path, monkeypatch,
                                                   capsys):
    def fail(*args, **kwargs):
        raise AssertionError("the model was loaded before --out was checked")

    monkeypatch.setattr(_screen, "_load_screener", fail)
    smear = positive_smear(tmp_path / "s.png")
    assert main(["screen", model, smear, "--out", "/sys/skleuk-results"]) == 1
    err = capsys.readouterr().err
    _one_line_error(err, "cannot write in folder '/sys'")
    assert "Errno" not in err
    (tmp_path / "o").mkdir()
    (tmp_path / "o" / "overlays").write_text("a file")
    assert main(["screen", model, smear, "--out", str(tmp_path / "o")]) == 1
    _one_line_error(capsys.readouterr().err, "overlays", "not a folder")
    assert main(["screen", model, smear, "--out", str(tmp_path / "s.png")]) == 1
    _one_line_error(capsys.readouterr().err, "not a folder")


def test_overlay_title_legend_and_labels(model, tmp_path, capsys):
    """The overlay says what decided: verdict, P(disease) against the
    threshold; labels stay inside the image (checked on the figure)."""
    import matplotlib

    matplotlib.use("Agg")
    from skleuk import load_model
    from skleuk.cli._screen_out import Decision
    from skleuk.plotting import plot_screening
    from skleuk.screening.tests._data import make_field

    s = load_model(model).estimator
    d = Decision(s, ["Benign", "Malignant"], list(s.classes_))
    top = save_png(make_field([(3, 60, 1), (50, 20, 0)]), tmp_path / "edge.png")
    res = s.screen([top])[0]
    title = d.title(res)
    p = float(res.image_proba[1])
    sign = "≥" if p >= s.threshold_ else "<"
    assert title.startswith(f"{d.name(res.verdict)} — P(Malignant) {p:.2f} {sign} "
                            f"{s.threshold_:.2f}\nedge.png: ")
    fig = plot_screening(res, title=title)
    ax = fig.axes[0]
    fig.canvas.draw()
    box = ax.get_window_extent()
    for text in ax.texts:
        extent = text.get_window_extent()
        assert box.y0 - 1 <= extent.y0 and extent.y1 <= box.y1 + 1, text.get_text()
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["whole cell", "cut by the border", "split from touching cells"]
    assert fig.axes[1].get_ylabel() == "P(blast)"
    white = save_png(np.full((64, 64, 3), 255, np.uint8), tmp_path / "w.png")
    res = s.screen([white])[0]
    assert d.title(res, "blank image") == "referred — blank image\nw.png"


@pytest.mark.skipif(os.name == "nt", reason="symlinks")
def test_a_link_to_the_parent_is_not_followed(model, tmp_path, capsys):
    smears = tmp_path / "in"
    _smears(smears, n=2)
    positive_smear(tmp_path / "beside.png")  # above the input: not screened
    os.symlink("..", smears / "up")
    out = tmp_path / "out"
    assert main(["screen", model, str(smears), "--out", str(out), "-q"]) == 0
    assert "Did not follow 1 symbolic link" in capsys.readouterr().err
    assert [os.path.basename(r["file"]) for r in _read(out / "smears.csv")] == [
        "s0.png", "s1.png"]


@pytest.mark.skipif(not __import__("shutil").which("chromium"),
                    reason="needs the chromium browser")
def test_summary_renders_in_a_headless_browser(model, tmp_path, capsys):
    """The page a lab opens: rendered by Chromium, its thumbnails loaded
    (the positive row's red and the overlays' colours are on screen)."""
    import subprocess

    from PIL import Image

    folder = tmp_path / "in"
    folder.mkdir()
    positive_smear(folder / "a b#c?.png")
    negative_smear(folder / "血液.png")
    out = tmp_path / "out"
    assert main(["screen", model, str(folder), "--out", str(out), "-q"]) == 0
    shot = tmp_path / "shot.png"
    subprocess.run(
        ["chromium", "--headless", "--no-sandbox", "--disable-gpu",
         "--disable-background-networking", "--hide-scrollbars",
         "--window-size=1000,900", f"--screenshot={shot}",
         (out / "summary.html").as_uri()],
        capture_output=True, timeout=120, check=True)
    pixels = np.asarray(Image.open(shot).convert("RGB")).reshape(-1, 3).astype(int)
    row_red = np.all(np.abs(pixels - [0xfd, 0xe0, 0xdc]) <= 2, axis=1).mean()
    smear_pink = np.all(np.abs(pixels - [230, 178, 191]) <= 25, axis=1).mean()
    assert row_red > 0.01  # the positive row is highlighted
    assert smear_pink > 0.005  # the overlay thumbnails were loaded
