"""Shared output of the commands: reports, figure names, prediction tables."""

from __future__ import annotations

import csv
import io
import json
import re


def _print_report(report):
    print(report.to_text())


#: Figure files a report folder may hold (CrossValidationReport.save_figures).
_FIGURE_FILES = ("confusion_matrix.png", "roc_curve.png", "learning_curves.png",
                 "misclassified.png")

#: What the class column holds for an image that gets no class.
REFERRED = "referred"

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _text_field(text):
    """A field of a tab-separated line: as it is, or -- when it holds a tab,
    newline or other control character -- a JSON string (quoted, escaped),
    so that one record is always one line."""
    text = str(text)
    return json.dumps(text, ensure_ascii=False) if _CONTROL.search(text) else text


class CsvWriter:
    """``csv.writer`` with ``\n`` line ends that still quotes a field
    holding a carriage return (the csv module quotes only the characters of
    its line terminator), so a file name with ``\r`` stays one field."""

    def __init__(self, stream):
        self.stream = stream
        self._buf = io.StringIO()
        self._csv = csv.writer(self._buf, lineterminator="\r\n")

    def writerow(self, row):
        self._buf.seek(0)
        self._buf.truncate()
        self._csv.writerow(row)
        self.stream.write(self._buf.getvalue()[:-2] + "\n")


class _Writer:
    """Streams prediction rows as text, CSV or JSON.

    A referred image (``note`` given, no class) has ``referred`` as its
    class, no probabilities, and the reason in ``note``.
    """

    def __init__(self, fmt, target_names, stream):
        self.fmt = fmt
        self.names = target_names
        self.stream = stream
        self.n = 0
        if fmt == "csv":
            self.csv = CsvWriter(stream)
            self.csv.writerow(["file", "predicted_class", "probability",
                               *[f"p_{n}" for n in target_names], "note"])
        elif fmt == "json":
            stream.write("[")

    def write(self, path, pred_name, prob, probas, note=None):
        if note is not None:
            pred_name, prob, probas = REFERRED, None, None
        if self.fmt == "text":
            p = "" if prob is None else f"{prob:.4f}"
            label = pred_name if note is None else f"{REFERRED}: {note}"
            self.stream.write(f"{_text_field(path)}\t{_text_field(label)}\t{p}\n")
        elif self.fmt == "csv":
            self.csv.writerow([path, pred_name,
                               "" if prob is None else f"{prob:.6f}",
                               *(["" for _ in self.names] if probas is None
                                 else [f"{v:.6f}" for v in probas]),
                               note or ""])
        else:
            rec = {"file": path, "predicted_class": pred_name, "probability": prob}
            if probas is not None:
                rec["probabilities"] = {
                    n: float(v) for n, v in zip(self.names, probas, strict=True)
                }
            rec["note"] = note
            self.stream.write(("," if self.n else "") + "\n " + json.dumps(rec))
        self.n += 1
        self.stream.flush()

    def close(self):
        if self.fmt == "json":
            self.stream.write("\n]\n" if self.n else "]\n")
        self.stream.flush()
