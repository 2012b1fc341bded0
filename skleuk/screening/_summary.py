"""A screening report a lab can read, as HTML or Markdown.

Smears that need a look come first: positive smears, then smears referred
because no white cell was found; the others follow, then the files that
could not be screened and why. A header says what produced the verdicts
(model, classes, rule, threshold, versions, date, inputs), a legend says
how to read the overlays, and a run that stopped early says so at the top.

Rows are kept in temporary files until :meth:`ScreeningSummaryWriter.close`
writes the document, so a run over any number of smears holds one row in
memory at a time. File names are written as text (control characters
shown escaped, HTML and Markdown special characters escaped) and links are
percent-encoded, so any name -- spaces, ``#``, ``?``, ``%``, non-Latin
letters, newlines -- links to its overlay.
"""

from __future__ import annotations

import html
import math
import re
import shutil
import tempfile
from collections import Counter
from urllib.parse import quote

from sklearn.utils._param_validation import StrOptions, validate_params

from ._familiar import UNFAMILIAR_NOTE
from ._screener import NO_CELL_VERDICT

__all__ = ["ScreeningSummaryWriter", "screening_summary"]

#: How to read an overlay (the summary's legend).
LEGEND = (
    "Overlays: one box per white cell found, coloured by its probability of "
    "being a blast (blue 0, red 1) and labelled with it; solid: a whole "
    "cell, dashed: a cell cut by the image border, dotted: a cell split "
    "from touching ones. The title gives the smear's verdict and the "
    "probability it was decided on."
)

#: The legend of smears marked unfamiliar (only with a model that checks).
UNFAMILIAR_LEGEND = (
    "Unfamiliar — review: more than the model's share of this smear's white "
    "cells look unlike the cells it was trained on (colour, darkness, "
    "texture: another laboratory, stain, camera or magnification). The "
    "model's call is shown in the note but is not a verdict: models are "
    "often confidently wrong on smears unlike their training smears; look "
    "at the smear."
)

_REVIEW_NOTE = ("Smears called positive, smears referred because no white "
                "cell was found in them, and smears whose cells look unlike "
                "the training cells (unfamiliar), in the order they were "
                "screened.")

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _fmt(value, spec):
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


def _visible(text):
    """``text`` with control characters (a newline in a file name) written
    as escapes, so that every name stays on one line."""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text))


def _md(text):
    """Plain text for a Markdown table cell: nothing in it is markup."""
    text = _visible(text).replace("\\", "\\\\")
    text = html.escape(text, quote=False)  # & < >: no HTML, no entities
    return re.sub(r"([|*_`\[\]#~!])", r"\\\1", text)


def _url(path):
    """A relative path as a link target: every character that is not a
    path character percent-encoded (``#``, ``?``, ``%``, spaces, newlines,
    non-Latin letters)."""
    return quote(str(path).replace("\\", "/"), safe="/")


def _html(text):
    return html.escape(_visible(text))


class ScreeningSummaryWriter:
    """Write a screening report one smear at a time (bounded memory).

    Rows are sorted into three groups as they arrive -- smears to review
    first (a verdict other than ``healthy_label``, referred because no
    white cell was found, or marked ``unfamiliar``), the other smears, and
    the files that could not be screened -- and kept in temporary files;
    :meth:`close` writes the document: a header of facts (``header``), a
    notice if the run was incomplete, the three groups, the totals and a
    legend.
    :func:`screening_summary` is the one-call form for a list of
    :meth:`SmearScreener.screen` results.

    Parameters
    ----------
    stream : file-like
        Open text stream written by :meth:`close`.
    format : {"html", "markdown"}, default="html"
        Output format. HTML shows each overlay as a linked thumbnail.
    title : str, default="Screening summary"
        Heading of the page.
    class_names : sequence of str or None, default=None
        Display names of the screener's ``classes_`` (e.g. a model file's
        ``target_names``); verdicts are shown as given when None.
    classes : sequence or None, default=None
        The screener's ``classes_``, to map verdicts onto ``class_names``.
    healthy_label : object or None, default=None
        The screener's ``healthy_label_``: smears with another verdict are
        listed first, as positive. None: no smear is called positive (only
        referred smears come first).
    header : dict or None, default=None
        Facts shown at the top, in order (``{"Model": "screener.joblib",
        "Rule": "...", ...}``); values are shown as text.

    Examples
    --------
    >>> import io
    >>> from skleuk.screening import ScreeningSummaryWriter
    >>> out = io.StringIO()
    >>> w = ScreeningSummaryWriter(out, format="markdown", classes=[0, 1],
    ...                            class_names=["healthy", "ALL"],
    ...                            healthy_label=0)
    >>> w.add(source="a.png", n_cells=3, blast_count=1, blast_fraction=1 / 3,
    ...       verdict=1, probability=0.9)
    >>> w.close()
    >>> "| a.png | 3 | 1 | 0.33 | **ALL** | 0.900 |  |" in out.getvalue()
    True
    """

    def __init__(
        self,
        stream,
        *,
        format="html",
        title="Screening summary",
        class_names=None,
        classes=None,
        healthy_label=None,
        header=None,
    ):
        if format not in ("html", "markdown"):
            raise ValueError(f"format must be 'html' or 'markdown', got {format!r}.")
        self.stream = stream
        self.format = format
        self.title = title
        self.header = dict(header or {})
        self._names = (
            dict(zip(list(classes), list(class_names), strict=True))
            if classes is not None and class_names is not None
            else {}
        )
        self._healthy = healthy_label
        positive = [c for c in (classes if classes is not None else [])
                    if healthy_label is not None and c != healthy_label]
        self._p_column = (
            f"P({self._verdict_name(positive[0])})" if len(positive) == 1
            else f"P(not {self._verdict_name(healthy_label)})"
            if healthy_label is not None else "P(not healthy)"
        )
        self._verdicts = Counter()
        self._groups = {g: tempfile.TemporaryFile("w+", encoding="utf-8")
                        for g in ("review", "other", "skipped")}
        self._counts = Counter()
        self._closed = False

    def _verdict_name(self, verdict):
        return str(self._names.get(verdict, verdict))

    def _group(self, verdict):
        if verdict == NO_CELL_VERDICT:
            return "review", "referred"
        if self._healthy is None:
            return "other", "screened"
        return ("other", "negative") if verdict == self._healthy else (
            "review", "positive")

    def add(
        self,
        *,
        source,
        n_cells=None,
        blast_count=None,
        blast_fraction=None,
        verdict=None,
        probability=None,
        overlay=None,
        error=None,
        note=None,
        unfamiliar=None,
    ):
        """Add one smear's row.

        Parameters
        ----------
        source : str
            The smear's name or path.
        n_cells, blast_count : int or None
            Cells found, and cells classified as blasts.
        blast_fraction, probability : float or None
            Fraction of blasts; probability of not being healthy (NaN or
            None when no white cell was found).
        verdict : object
            The smear's class, or :data:`NO_CELL_VERDICT`.
        overlay : str or None
            Path of the overlay figure, relative to the summary's folder.
        error : str or None
            Why the smear could not be screened: it is listed under the
            skipped files.
        note : str or None
            A remark shown with the row (e.g. why it was referred).
        unfamiliar : bool or None, default=None
            True: the smear's cells look unlike the training cells
            (:meth:`SmearScreener.screen`'s ``unfamiliar``); it is listed
            first with the verdict ``"unfamiliar — review"`` and the
            model's call in the note, never as a verdict.
        """
        src = str(source)
        if error is not None:
            self._counts["skipped"] += 1
            line = (f"<tr><td>{_html(src)}</td><td>{_html(error)}</td></tr>\n"
                    if self.format == "html" else
                    f"| {_md(src)} | {_md(error)} |\n")
            self._groups["skipped"].write(line)
            return
        group, status = self._group(verdict)
        name = self._verdict_name(verdict)
        if unfamiliar and verdict != NO_CELL_VERDICT:
            call = f"model's call: {name}" + (
                f" ({self._p_column} {_fmt(probability, '.3f')})"
                if probability is not None else "")
            note = f"{call}; {note}" if note else call
            group, status, name = "review", "unfamiliar", UNFAMILIAR_NOTE
        self._counts[status] += 1
        self._verdicts[name] += 1
        cells = [
            _fmt(n_cells, "d"),
            _fmt(blast_count, "d"),
            _fmt(blast_fraction, ".2f"),
            name,
            _fmt(probability, ".3f"),
            note or "",
        ]
        if self.format == "html":
            thumb = ""
            if overlay:
                link = html.escape(_url(overlay))
                thumb = (f'<a href="{link}"><img src="{link}" width="200" '
                         f'alt="overlay" loading="lazy"></a>')
            cls = f' class="{status}"' if group == "review" else ""
            tds = "".join(
                f"<td><b>{_html(c)}</b></td>" if k == 3 and group == "review"
                else f"<td>{_html(c)}</td>" for k, c in enumerate(cells))
            line = f"<tr{cls}><td>{thumb}</td><td>{_html(src)}</td>{tds}</tr>\n"
        else:
            text = _md(src)
            src_cell = f"[{text}](<{_url(overlay)}>)" if overlay else text
            cells[3] = f"**{_md(name)}**" if group == "review" else _md(name)
            cells[5] = _md(cells[5])
            line = "| " + " | ".join([src_cell, *cells]) + " |\n"
        self._groups[group].write(line)

    # ------------------------------------------------------------- document

    def _columns(self):
        return ("smear", "cells", "blasts", "blast fraction", "verdict",
                self._p_column, "note")

    def _table(self, group, heading, empty, note=None):
        f = self._groups[group]
        f.seek(0)
        md = self.format == "markdown"
        out = self.stream
        if md:
            out.write(f"\n## {heading}\n\n" + (f"{note}\n\n" if note else ""))
        else:
            out.write(f"<h2>{html.escape(heading)}</h2>\n")
            if note:
                out.write(f'<p class="legend">{html.escape(note)} (red rows: '
                          "positive; yellow rows: referred; violet rows: "
                          "unfamiliar)</p>\n")
        if not f.read(1):
            out.write(f"{empty}\n" if md else f"<p>{html.escape(empty)}</p>\n")
            return
        f.seek(0)
        if group == "skipped":
            cols = ("file", "why")
        else:
            cols = self._columns()
        if md:
            out.write("| " + " | ".join(cols) + " |\n|" + "---|" * len(cols) + "\n")
        else:
            out.write("<table>\n<tr>" + ("" if group == "skipped" else
                                         "<th>overlay</th>")
                      + "".join(f"<th>{html.escape(c)}</th>" for c in cols)
                      + "</tr>\n")
        shutil.copyfileobj(f, out)
        if not md:
            out.write("</table>\n")

    def _header(self, incomplete):
        md = self.format == "markdown"
        out = self.stream
        t = self.title
        if md:
            out.write(f"# {_md(t)}\n\n")
            if incomplete:
                out.write(f"> **INCOMPLETE: {_md(incomplete)}**\n\n")
            for key, value in self.header.items():
                out.write(f"- **{_md(key)}**: {_md(value)}\n")
            return
        out.write(
            '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f"<title>{html.escape(t)}</title><style>"
            "body{font-family:sans-serif;margin:1.5em;max-width:80em}"
            "table{border-collapse:collapse;margin-bottom:1em}"
            "td,th{border:1px solid #ccc;padding:4px 8px;text-align:right;"
            "vertical-align:middle}th{text-align:left}td:first-child,td:nth-child(2),td:nth-child(6),"
            "td:nth-child(8){text-align:left;overflow-wrap:anywhere}"
            "tr.positive{background:#fde0dc}tr.referred{background:#fff4c2}"
            "tr.unfamiliar{background:#e3dcf5}"
            "dl{display:grid;grid-template-columns:max-content auto;gap:2px 1em}"
            "dt{font-weight:bold}dd{margin:0;overflow-wrap:anywhere}"
            ".incomplete{border:3px solid #c00;background:#fee;padding:.5em 1em;"
            "font-weight:bold}.legend{color:#444}</style></head><body>\n"
            f"<h1>{html.escape(t)}</h1>\n"
        )
        if incomplete:
            out.write(f'<p class="incomplete">INCOMPLETE: {_html(incomplete)}</p>\n')
        if self.header:
            out.write("<dl>\n" + "".join(
                f"<dt>{_html(k)}</dt><dd>{_html(v)}</dd>\n"
                for k, v in self.header.items()) + "</dl>\n")

    def close(self, *, incomplete=None):
        """Write the document (the stream stays open); only the first call
        writes.

        Parameters
        ----------
        incomplete : str or None, default=None
            Why the run stopped early (e.g. ``"stopped after 28 of 3000
            smears: interrupted"``): shown at the top and with the totals.
        """
        if self._closed:
            return
        self._closed = True
        self._header(incomplete)
        n = sum(self._verdicts.values())
        self._table("review", "Review first: positive, referred and unfamiliar "
                    "smears",
                    "None.", _REVIEW_NOTE)
        self._table("other", "Other smears", "None.")
        self._table("skipped", "Skipped files (not screened)", "None.")
        totals = [f"{n} smear(s) screened"] + [
            f"{name}: {k}" for name, k in sorted(self._verdicts.items())
        ]
        if self._counts["skipped"]:
            totals.append(f"not screened: {self._counts['skipped']}")
        if incomplete:
            totals.append(f"INCOMPLETE ({incomplete})")
        notes = []
        if self._counts["referred"]:
            notes.append(f"{self._counts['referred']} smear(s) had no white cell "
                         "found: they are referred for review, not called "
                         "healthy.")
        if self._counts["unfamiliar"]:
            notes.append(UNFAMILIAR_LEGEND)
        notes += [LEGEND, "Research software, not a medical device."]
        if self.format == "html":
            self.stream.write(
                "<p><b>Totals</b>: " + _html("; ".join(totals)) + "</p>\n"
                + "".join(f'<p class="legend">{html.escape(t)}</p>\n' for t in notes)
                + "</body></html>\n"
            )
        else:
            self.stream.write("\n**Totals**: " + _md("; ".join(totals)) + "\n"
                              + "".join(f"\n{_md(t)}\n" for t in notes))
        for f in self._groups.values():
            f.close()


@validate_params(
    {
        "results": ["array-like"],
        "format": [StrOptions({"html", "markdown"})],
        "overlays": [list, None],
        "class_names": ["array-like", None],
        "classes": ["array-like", None],
        "healthy_label": "no_validation",
        "header": [dict, None],
        "title": [str],
    },
    prefer_skip_nested_validation=True,
)
def screening_summary(
    results,
    *,
    format="html",
    overlays=None,
    class_names=None,
    classes=None,
    healthy_label=None,
    header=None,
    title="Screening summary",
):
    """A screening report of screening results, as HTML or Markdown text.

    Parameters
    ----------
    results : list of Bunch
        What :meth:`SmearScreener.screen` returns.
    format : {"html", "markdown"}, default="html"
        Output format.
    overlays : list of str or None, default=None
        One overlay figure path per result (e.g. saved from
        :func:`skleuk.plotting.plot_screening`), linked from each row.
    class_names : array-like of str or None, default=None
        Display names of ``classes``.
    classes : array-like or None, default=None
        The screener's ``classes_``.
    healthy_label : object or None, default=None
        The screener's ``healthy_label_``: other verdicts are listed first.
    header : dict or None, default=None
        Facts shown at the top (model, rule, date...).
    title : str, default="Screening summary"
        Heading of the page.

    Returns
    -------
    text : str
        The document.

    Examples
    --------
    >>> from sklearn.utils import Bunch
    >>> from skleuk.screening import screening_summary
    >>> r = Bunch(source="s1.png", centres=[[5, 5]] * 4, blast_count=3,
    ...           blast_fraction=0.75, verdict=1, probability=0.97)
    >>> text = screening_summary([r], format="markdown", classes=[0, 1],
    ...                          class_names=["healthy", "ALL"], healthy_label=0)
    >>> "| s1.png | 4 | 3 | 0.75 | **ALL** | 0.970 |  |" in text
    True
    """
    import io

    if overlays is not None and len(overlays) != len(results):
        raise ValueError(
            f"overlays has {len(overlays)} paths for {len(results)} results."
        )
    out = io.StringIO()
    writer = ScreeningSummaryWriter(
        out, format=format, title=title, class_names=class_names,
        classes=classes, healthy_label=healthy_label, header=header,
    )
    for k, r in enumerate(results):
        writer.add(
            source=r["source"],
            n_cells=len(r["centres"]),
            blast_count=r["blast_count"],
            blast_fraction=r["blast_fraction"],
            verdict=r["verdict"],
            probability=r["probability"],
            overlay=None if overlays is None else overlays[k],
            unfamiliar=r.get("unfamiliar"),
        )
    writer.close()
    return out.getvalue()
