"""Rendering of a :class:`CrossValidationReport` as text, Markdown and HTML.

:func:`sections` lists the report's sections once, in order; the three
renderers (:func:`to_text`, :func:`to_markdown`, :func:`to_html`) only lay
them out. The numbers come from the report (``_report.py``); reading and
writing files is in ``_report_io.py``.
"""

from __future__ import annotations

import html as _html
import math
import os
from dataclasses import dataclass

import numpy as np

#: Validation metrics summarised by the report, in display order.
METRICS = (
    "accuracy",
    "sensitivity",
    "specificity",
    "precision",
    "f1",
    "roc_auc",
    "error_rate",
    "log_loss",
    "brier",
    "ece",
)

_METRIC_LABELS = {
    "accuracy": "Accuracy",
    "sensitivity": "Sensitivity (recall)",
    "specificity": "Specificity",
    "precision": "Precision",
    "f1": "F1-score",
    "roc_auc": "ROC AUC",
    "error_rate": "Error rate",
    "log_loss": "Log loss",
    "brier": "Brier score",
    "ece": "ECE (10 bins)",
}


def _fmt(v, digits=3):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "n/a"
    return f"{v:.{digits}f}"


def _fmt_pm(mean, std, digits=3):
    if math.isnan(mean):
        return "n/a"
    return f"{mean:.{digits}f} ± {std:.{digits}f}"


def _rel(path):
    return os.fspath(path).replace(os.sep, "/")


def calibration_lines(report):
    cal = report.calibration()
    if cal is None:
        return []
    return [
        f"Pooled out-of-fold: ECE {_fmt(cal['ece'])}, Brier score "
        f"{_fmt(cal['brier'])}; accuracy of the {cal['coverage']:.0%} most "
        f"confident cases {_fmt(cal['accuracy_at_coverage'])}"
    ]


def header_lines(report):
    counts = ", ".join(f"{n}: {c}" for n, c in report._class_counts())
    lines = [
        f"Data: {report.n_samples} samples, {report.n_classes} classes ({counts})",
    ]
    if report.pos_label_assumed:
        lines.append(
            f"Positive class: {report.pos_name} -- ASSUMED (the last class; no "
            "class is named like leukaemia or healthy). Sensitivity, specificity, "
            "precision, F1 and ROC AUC refer to it; choose it with "
            "pos_label=."
        )
    elif report.is_binary:
        lines.append(f"Positive class: {report.pos_name}")
    else:
        lines.append("Multi-class: macro averages, one-vs-rest ROC AUC")
    if report.info.get("protocol"):
        lines.append(f"Protocol: {report.info['protocol']}")
    if report.info.get("estimator"):
        lines.append(f"Estimator: {report.info['estimator']}")
    return lines


_FOLD_COLUMNS = (
    ("repeat", "Repeat"),
    ("fold", "Fold"),
    ("n_train", "Train n"),
    ("n_val", "Val n"),
    ("train_accuracy", "Train acc"),
    ("train_loss", "Train loss"),
    ("val_accuracy", "Val acc"),
    ("val_loss", "Val loss"),
    ("fit_time", "Fit time (s)"),
)


def fold_rows(report):
    """Header + rows of the fold table as strings (mean ± std last)."""
    cols = _FOLD_COLUMNS
    if report.n_repeats == 1:
        cols = cols[1:]
    rows = []
    for r in report.fold_table():
        cells = []
        for key, _ in cols:
            v = r[key]
            if key == "fit_time":
                cells.append(_fmt(v, 1))
            elif isinstance(v, float):
                cells.append(_fmt(v, 4))
            else:
                cells.append(str(v))
        rows.append(cells)
    summ = report.summary()
    mean_row = []
    for key, _ in cols:
        src = {"val_accuracy": "accuracy", "val_loss": "log_loss"}.get(key, key)
        if src in summ:
            d = 1 if key == "fit_time" else 4
            mean_row.append(_fmt_pm(summ[src]["mean"], summ[src]["std"], d))
        else:
            mean_row.append("")
    mean_row[0] = "mean ± std"
    rows.append(mean_row)
    return [c[1] for c in cols], rows


def metric_rows(report):
    summ = report.summary()
    rows = []
    for k in METRICS:
        v = report.fold_metrics[k]
        rows.append(
            [_METRIC_LABELS[k], _fmt_pm(summ[k]["mean"], summ[k]["std"]),
             _fmt(np.nanmin(v) if np.isfinite(v).any() else np.nan),
             _fmt(np.nanmax(v) if np.isfinite(v).any() else np.nan)]
        )
    return ["Metric", "Mean ± std", "Min", "Max"], rows


def confusion_rows(report):
    cm = report.confusion_matrix
    header = ["true \\ predicted"] + list(report.target_names)
    rows = [
        [name] + [str(int(v)) for v in cm[i]]
        for i, name in enumerate(report.target_names)
    ]
    return header, rows


def text_table(header, rows, align_first_left=True):
    widths = [
        max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)
    ]

    def line(cells):
        out = []
        for i, (c, w) in enumerate(zip(cells, widths, strict=True)):
            left = i == 0 and align_first_left
            out.append(f"{c:<{w}}" if left else f"{c:>{w}}")
        return "  ".join(out).rstrip()

    sep = "  ".join("-" * w for w in widths)
    return "\n".join([line(header), sep] + [line(r) for r in rows])


def report_title(report):
    n = report.n_folds // max(report.n_repeats, 1)
    rep = f" x {report.n_repeats} repeats" if report.n_repeats > 1 else ""
    title = f"Cross-validation report ({n} folds{rep})"
    if report.pos_label_assumed:
        title += f" -- positive class {report.pos_name!r} ASSUMED, not given"
    return title


def md_table(header, rows):
    def esc(c):
        return str(c).replace("|", "\\|")

    lines = ["| " + " | ".join(esc(h) for h in header) + " |"]
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(header) - 1)) + "|")
    lines += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def class_report_rows(report):
    rep = report.classification_report(output_dict=True)
    header = ["Class", "Accuracy", "Precision", "Sensitivity", "Specificity",
              "F1-score", "Error rate", "Support"]
    keys = ["accuracy", "precision", "sensitivity", "specificity", "f1-score",
            "error-rate"]
    rows = []
    for name in [*report.target_names, "macro avg", "weighted avg"]:
        r = rep[name]
        rows.append([name] + [_fmt(r[k]) for k in keys] + [str(r["support"])])
    return header, rows


def html_table(header, rows):
    esc = _html.escape
    out = ["<table>", "<thead><tr>"]
    out += [f"<th>{esc(str(h))}</th>" for h in header]
    out.append("</tr></thead><tbody>")
    for r in rows:
        out.append(
            "<tr>"
            + "".join(
                f"<td>{esc(str(c))}</td>" if i else f"<th>{esc(str(c))}</th>"
                for i, c in enumerate(r)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


@dataclass(frozen=True)
class Section:
    """One section of a rendered report.

    ``title`` heads it in Markdown and HTML, ``text_title`` in plain text.
    A section has a ``table`` (``(header, rows)`` of strings) or ``lines``
    of prose (``title`` None; left out of the plain text when empty);
    ``text``, when given, replaces the table in plain text.
    """

    title: str | None = None
    text_title: str | None = None
    table: tuple | None = None
    text: str | None = None
    lines: tuple = ()


def sections(report):
    """The sections of ``report``, in the order every renderer shows them.

    Parameters
    ----------
    report : CrossValidationReport
        The report.

    Returns
    -------
    list of Section
    """
    n = report.n_folds
    return [
        Section(
            "Per-fold accuracy and loss (Table 4.2)",
            "Per-fold accuracy and loss (Table 4.2)",
            table=fold_rows(report),
        ),
        Section(
            f"Validation metrics over {n} folds",
            f"Validation metrics over {n} folds (mean ± std)",
            table=metric_rows(report),
        ),
        Section(lines=tuple(calibration_lines(report))),
        Section(
            "Pooled out-of-fold confusion matrix",
            "Pooled out-of-fold confusion matrix (rows: true class)",
            table=confusion_rows(report),
        ),
        Section(
            "Per-class report (Table 4.3)",
            "Per-class report, pooled out-of-fold (Table 4.3)",
            table=class_report_rows(report),
            text=report.classification_report(),
        ),
    ]


def to_text(report):
    """Render ``report`` as plain text (what ``str(report)`` gives)."""
    title = report_title(report)
    parts = [title, "=" * len(title), *header_lines(report)]
    for section in sections(report):
        if section.title is None:
            parts += ["", *section.lines] if section.lines else []
            continue
        parts += ["", section.text_title, ""]
        parts.append(
            section.text if section.text is not None else text_table(*section.table)
        )
    return "\n".join(parts) + "\n"


def to_markdown(report, figures=None):
    """Render ``report`` as Markdown; ``figures`` maps names to image paths."""
    parts = [f"# {report_title(report)}", ""]
    parts += [f"- {line}" for line in header_lines(report)]
    for section in sections(report):
        if section.title is None:
            parts += ["", *section.lines]
            continue
        parts += ["", f"## {section.title}", ""]
        parts.append(md_table(*section.table))
    if figures:
        parts += ["", "## Figures", ""]
        for name, path in figures.items():
            parts += [f"![{name}]({_rel(path)})", ""]
    return "\n".join(parts).rstrip() + "\n"


def html_body(report, figures=None):
    """The HTML of ``report`` without the page around it (for notebooks)."""
    esc = _html.escape
    parts = [f"<h1>{esc(report_title(report))}</h1>", "<ul>"]
    parts += [f"<li>{esc(line)}</li>" for line in header_lines(report)]
    parts.append("</ul>")
    for section in sections(report):
        if section.title is None:
            parts += [f"<p>{esc(line)}</p>" for line in section.lines]
            continue
        parts.append(f"<h2>{esc(section.title)}</h2>")
        parts.append(html_table(*section.table))
    if figures:
        parts.append("<h2>Figures</h2>")
        for name, path in figures.items():
            parts.append(
                f'<figure><img src="{esc(_rel(path))}" alt="{esc(name)}">'
                f"<figcaption>{esc(name)}</figcaption></figure>"
            )
    return "\n".join(parts)


_STYLE = (
    "body{font-family:sans-serif;max-width:60em;margin:2em auto;}"
    "table{border-collapse:collapse;margin:1em 0;}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right;}"
    "thead th{background:#eee;}tbody th{text-align:left;}"
    "img{max-width:100%;}"
)


def to_html(report, figures=None):
    """Render ``report`` as a standalone HTML page."""
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{_html.escape(report_title(report))}</title>"
        f"<style>{_STYLE}</style></head><body>\n"
        + html_body(report, figures)
        + "\n</body></html>\n"
    )
