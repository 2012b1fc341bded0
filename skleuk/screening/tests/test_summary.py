import io

import pytest
from sklearn.utils import Bunch

from skleuk.screening import NO_CELL_VERDICT, ScreeningSummaryWriter, screening_summary


def _result(source, n, blasts, verdict, p):
    return Bunch(source=source, centres=[[0, 0]] * n, blast_count=blasts,
                 blast_fraction=blasts / n if n else float("nan"),
                 verdict=verdict, probability=p)


RESULTS = [
    _result("a<1>.png", 4, 3, 1, 0.97),
    _result("b.png", 2, 0, 0, 0.1),
    _result("c.png", 0, 0, NO_CELL_VERDICT, float("nan")),
]


def test_markdown_rows_and_totals():
    text = screening_summary(RESULTS, format="markdown", classes=[0, 1],
                             class_names=["healthy", "ALL"])
    assert "| a<1>.png | 4 | 3 | 0.75 | ALL | 0.970 |" in text
    assert "| b.png | 2 | 0 | 0.00 | healthy | 0.100 |" in text
    # No cell: no fraction, no probability, not called healthy.
    assert f"| c.png | 0 | 0 |  | {NO_CELL_VERDICT} |  |" in text
    assert "3 smear(s); ALL: 1; healthy: 1; no white cell found: 1" in text
    assert "referred for review" in text


def test_html_escapes_and_links_overlays():
    text = screening_summary(RESULTS, overlays=["o/a.png", "o/b.png", "o/c.png"])
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    assert "a&lt;1&gt;.png" in text and "a<1>" not in text
    assert text.count('<img src="o/') == 3
    assert text.count("<tr><td>") == 3


def test_writer_streams_and_closes_once():
    out = io.StringIO()
    w = ScreeningSummaryWriter(out, format="markdown")
    w.add(source="x.png", error="cannot identify image file")
    first = out.getvalue()
    assert "not screened: cannot identify image file" in first
    w.close()
    w.close()
    assert out.getvalue().count("**Totals**") == 1
    assert "not screened: 1" in out.getvalue()


def test_bad_arguments():
    with pytest.raises(ValueError, match="format"):
        ScreeningSummaryWriter(io.StringIO(), format="pdf")
    with pytest.raises(ValueError, match="format"):
        screening_summary(RESULTS, format="pdf")
    with pytest.raises(ValueError, match="overlays has 1 paths for 3"):
        screening_summary(RESULTS, overlays=["a.png"])
