"""A per-smear summary of a screening run, as HTML or Markdown."""

from __future__ import annotations

import html
import math
from collections import Counter

from sklearn.utils._param_validation import StrOptions, validate_params

from ._screener import NO_CELL_VERDICT

__all__ = ["ScreeningSummaryWriter", "screening_summary"]

_COLUMNS = ("smear", "cells", "blasts", "blast fraction", "verdict", "P(not healthy)")


def _fmt(value, spec):
    return (
        ""
        if value is None or (isinstance(value, float) and math.isnan(value))
        else format(value, spec)
    )


class ScreeningSummaryWriter:
    """Write a screening summary one smear at a time (bounded memory).

    The text is written to ``stream`` as rows arrive, so a run over
    thousands of smears never holds more than one row; :meth:`close` writes
    the totals (smears per verdict, smears without a white cell, smears
    that could not be read). :func:`screening_summary` is the one-call form
    for a list of :meth:`SmearScreener.screen` results.

    Parameters
    ----------
    stream : file-like
        Open text stream to write to.
    format : {"html", "markdown"}, default="html"
        Output format. HTML shows each overlay as a linked thumbnail.
    title : str, default="Screening summary"
        Heading of the page.
    class_names : sequence of str or None, default=None
        Display names of the screener's ``classes_`` (e.g. a model file's
        ``target_names``); verdicts are shown as given when None.
    classes : sequence or None, default=None
        The screener's ``classes_``, to map verdicts onto ``class_names``.

    Examples
    --------
    >>> import io
    >>> from skleuk.screening import ScreeningSummaryWriter
    >>> out = io.StringIO()
    >>> w = ScreeningSummaryWriter(out, format="markdown")
    >>> w.add(source="a.png", n_cells=3, blast_count=1, blast_fraction=1 / 3,
    ...       verdict="ALL", probability=0.9)
    >>> w.close()
    >>> print(out.getvalue().splitlines()[4])
    | a.png | 3 | 1 | 0.33 | ALL | 0.900 |
    """

    def __init__(
        self,
        stream,
        *,
        format="html",
        title="Screening summary",
        class_names=None,
        classes=None,
    ):
        if format not in ("html", "markdown"):
            raise ValueError(f"format must be 'html' or 'markdown', got {format!r}.")
        self.stream = stream
        self.format = format
        self.title = title
        self._names = (
            dict(zip(list(classes), list(class_names), strict=True))
            if classes is not None and class_names is not None
            else {}
        )
        self._verdicts = Counter()
        self._failed = 0
        self._n = 0
        self._closed = False
        if format == "html":
            t = html.escape(title)
            stream.write(
                '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
                f"<title>{t}</title><style>body{{font-family:sans-serif}}"
                "table{border-collapse:collapse}td,th{border:1px solid #ccc;"
                "padding:4px 8px;text-align:right}td:first-child,"
                "td:nth-child(6){text-align:left}</style></head><body>\n"
                f"<h1>{t}</h1>\n<table>\n<tr><th>overlay</th>"
                + "".join(f"<th>{html.escape(c)}</th>" for c in _COLUMNS)
                + "</tr>\n"
            )
        else:
            stream.write(
                f"# {title}\n\n| "
                + " | ".join(_COLUMNS)
                + " |\n|"
                + "---|" * len(_COLUMNS)
                + "\n"
            )

    def _verdict_name(self, verdict):
        return str(self._names.get(verdict, verdict))

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
    ):
        """Write one smear's row.

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
            Path of the overlay figure (linked relative to the summary when
            it is written to a file in the same folder tree).
        error : str or None
            Why the smear could not be screened (the row then says so).
        """
        self._n += 1
        if error is not None:
            self._failed += 1
            cells = ["", "", "", f"not screened: {error}", ""]
        else:
            name = self._verdict_name(verdict)
            self._verdicts[name] += 1
            cells = [
                _fmt(n_cells, "d"),
                _fmt(blast_count, "d"),
                _fmt(blast_fraction, ".2f"),
                name,
                _fmt(probability, ".3f"),
            ]
        src = str(source)
        if self.format == "html":
            thumb = ""
            if overlay:
                link = html.escape(overlay)
                thumb = (
                    f'<a href="{link}"><img src="{link}" width="200" alt="overlay"></a>'
                )
            self.stream.write(
                f"<tr><td>{thumb}</td><td>{html.escape(src)}</td>"
                + "".join(f"<td>{html.escape(c)}</td>" for c in cells)
                + "</tr>\n"
            )
        else:
            src = f"[{src}]({overlay})" if overlay else src
            self.stream.write("| " + " | ".join([src, *cells]) + " |\n")

    def close(self):
        """Write the totals and end the document (the stream stays open)."""
        if self._closed:
            return
        self._closed = True
        totals = [f"{self._n} smear(s)"] + [
            f"{name}: {n}" for name, n in sorted(self._verdicts.items())
        ]
        if self._failed:
            totals.append(f"not screened: {self._failed}")
        no_cell = self._verdicts.get(NO_CELL_VERDICT, 0)
        note = (
            f"{no_cell} smear(s) had no white cell: they are referred for "
            "review, not called healthy."
            if no_cell
            else ""
        )
        if self.format == "html":
            self.stream.write(
                "</table>\n<p><b>Totals</b>: "
                + html.escape("; ".join(totals))
                + "</p>\n"
                + (f"<p>{html.escape(note)}</p>\n" if note else "")
                + "<p>Research software, not a medical device.</p></body></html>\n"
            )
        else:
            self.stream.write(
                "\n**Totals**: "
                + "; ".join(totals)
                + "\n"
                + (f"\n{note}\n" if note else "")
                + "\nResearch software, not a medical device.\n"
            )


@validate_params(
    {
        "results": ["array-like"],
        "format": [StrOptions({"html", "markdown"})],
        "overlays": [list, None],
        "class_names": ["array-like", None],
        "classes": ["array-like", None],
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
    title="Screening summary",
):
    """A per-smear summary of screening results, as HTML or Markdown text.

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
    ...                          class_names=["healthy", "ALL"])
    >>> "| s1.png | 4 | 3 | 0.75 | ALL | 0.970 |" in text
    True
    """
    import io

    if overlays is not None and len(overlays) != len(results):
        raise ValueError(
            f"overlays has {len(overlays)} paths for {len(results)} results."
        )
    out = io.StringIO()
    writer = ScreeningSummaryWriter(
        out, format=format, title=title, class_names=class_names, classes=classes
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
        )
    writer.close()
    return out.getvalue()
