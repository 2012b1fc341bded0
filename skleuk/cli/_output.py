"""Shared output of the commands: reports, figure names, prediction tables."""

from __future__ import annotations

import csv
import json


def _print_report(report):
    print(report.to_text())


#: Figure files a report folder may hold (CrossValidationReport.save_figures).
_FIGURE_FILES = ("confusion_matrix.png", "roc_curve.png", "learning_curves.png",
                 "misclassified.png")


class _Writer:
    """Streams prediction rows as text, CSV or JSON."""

    def __init__(self, fmt, target_names, stream):
        self.fmt = fmt
        self.names = target_names
        self.stream = stream
        self.n = 0
        if fmt == "csv":
            self.csv = csv.writer(stream, lineterminator="\n")
            self.csv.writerow(["file", "predicted_class", "probability",
                               *[f"p_{n}" for n in target_names]])
        elif fmt == "json":
            stream.write("[")

    def write(self, path, pred_name, prob, probas):
        if self.fmt == "text":
            p = "" if prob is None else f"{prob:.4f}"
            self.stream.write(f"{path}\t{pred_name}\t{p}\n")
        elif self.fmt == "csv":
            self.csv.writerow([path, pred_name,
                               "" if prob is None else f"{prob:.6f}",
                               *(["" for _ in self.names] if probas is None
                                 else [f"{v:.6f}" for v in probas])])
        else:
            rec = {"file": path, "predicted_class": pred_name, "probability": prob}
            if probas is not None:
                rec["probabilities"] = {
                    n: float(v) for n, v in zip(self.names, probas, strict=True)
                }
            self.stream.write(("," if self.n else "") + "\n " + json.dumps(rec))
        self.n += 1
        self.stream.flush()

    def close(self):
        if self.fmt == "json":
            self.stream.write("\n]\n" if self.n else "]\n")
        self.stream.flush()
