import io
import re
from urllib.parse import unquote

import pytest
from sklearn.utils import Bunch

from skleuk.screening import NO_CELL_VERDICT, ScreeningSummaryWriter, screening_summary


def _result(source, n, blasts, verdict, p):
    return Bunch(source=source, centres=[[0, 0]] * n, blast_count=blasts,
                 blast_fraction=blasts / n if n else float("nan"),
                 verdict=verdict, probability=p)


RESULTS = [
    _result("b.png", 2, 0, 0, 0.1),
    _result("a<1>.png", 4, 3, 1, 0.97),
    _result("c.png", 0, 0, NO_CELL_VERDICT, float("nan")),
]
NAMES = {"classes": [0, 1], "class_names": ["healthy", "ALL"], "healthy_label": 0}


def test_markdown_positive_and_referred_first_then_the_others():
    text = screening_summary(RESULTS, format="markdown", **NAMES)
    review = text.index("## Review first")
    other = text.index("## Other smears")
    a = text.index("| a&lt;1&gt;.png | 4 | 3 | 0.75 | **ALL** | 0.970 |  |")
    c = text.index(f"| c.png | 0 | 0 |  | **{NO_CELL_VERDICT}** |  |  |")
    b = text.index("| b.png | 2 | 0 | 0.00 | healthy | 0.100 |  |")
    assert review < a < c < other < b  # input order within a group
    head = "| smear | cells | blasts | blast fraction | verdict | P(ALL) | note |"
    assert head in text
    assert "3 smear(s) screened; ALL: 1; healthy: 1; no white cell found: 1" in text
    assert "referred for review" in text and "dashed: a cell cut by" in text


def test_without_a_healthy_label_only_referred_smears_come_first():
    text = screening_summary(RESULTS, format="markdown", classes=[0, 1],
                             class_names=["healthy", "ALL"])
    assert text.index("| b.png") > text.index("## Other smears")
    assert text.index("| c.png") < text.index("## Other smears")
    assert "P(not healthy)" in text


def test_html_escapes_and_encodes_links():
    names = ["a b#1?.png", "x%20y.png", "血液.png", "new\nline.png"]
    results = [_result(n, 1, 0, 0, 0.2) for n in names]
    text = screening_summary(results, overlays=[f"o/{n}" for n in names], **NAMES)
    assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")
    links = re.findall(r'(?:href|src)="([^"]*)"', text)
    assert len(links) == 8
    assert sorted({unquote(link) for link in links}) == sorted(f"o/{n}" for n in names)
    assert all(" " not in link and "#" not in link and "?" not in link
               and "\n" not in link for link in links)
    assert "new\\nline.png" in text  # the name shown on one line
    hostile = screening_summary([_result("<img src=x onerror=alert(1)>.png", 1, 0,
                                         0, 0.1)], **NAMES)
    assert "<img src=x" not in hostile and "&lt;img src=x" in hostile


def test_markdown_escapes_names():
    text = screening_summary([_result("a|b*[c]_\n<img>.png", 1, 0, 0, 0.1)],
                             format="markdown", overlays=["o/a|b.png"], **NAMES)
    row = next(line for line in text.splitlines() if line.startswith("| [a"))
    assert row.count(" | ") == 6  # one row of 7 cells: | escaped, no newline
    assert r"a\|b\*\[c\]\_\\n&lt;img&gt;.png" in row
    assert "(<o/a%7Cb.png>)" in row


def test_header_skipped_files_and_incomplete_run():
    out = io.StringIO()
    w = ScreeningSummaryWriter(out, format="markdown", header={"Model": "m.joblib",
                                                               "Rule": "mean"},
                               **NAMES)
    w.add(source="x.png", error="cannot identify image file")
    w.add(source="y.png", n_cells=1, blast_count=1, blast_fraction=1.0,
          verdict=1, probability=0.9)
    assert out.getvalue() == ""  # written by close()
    w.close(incomplete="stopped after 1 of 9 smear(s): interrupted (Ctrl-C)")
    w.close()
    text = out.getvalue()
    assert text.count("**Totals**") == 1
    assert text.index("INCOMPLETE: stopped after 1 of 9") < text.index("- **Model**")
    assert "- **Rule**: mean" in text
    skipped = text.index("## Skipped files")
    assert text.index("| x.png | cannot identify image file |") > skipped
    assert "not screened: 1" in text and "INCOMPLETE (stopped after 1 of 9" in text


def test_bad_arguments():
    with pytest.raises(ValueError, match="format"):
        ScreeningSummaryWriter(io.StringIO(), format="pdf")
    with pytest.raises(ValueError, match="format"):
        screening_summary(RESULTS, format="pdf")
    with pytest.raises(ValueError, match="overlays has 1 paths for 3"):
        screening_summary(RESULTS, overlays=["a.png"])
