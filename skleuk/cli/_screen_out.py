"""The results of ``skleuk screen``: the output folder, what each file holds.

``--out`` is checked before any work (not inside an input folder, no input
inside it, earlier results only replaced with ``--force``, and then as a
whole); ``run.json`` says from the start that a run is under way and, at the
end, whether it completed; ``summary.html``/``summary.md`` are written when
the run ends (an interrupted run's say so at the top); overlays are written
beside their final name and moved into place, so a full disk leaves no
partial file.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time

from ._common import CLIError, _check_writable_folder, _inside

#: Result files of a run (``--force`` replaces them all, and the overlays).
RESULT_FILES = ("cells.csv", "smears.csv", "summary.html", "summary.md", "run.json")
OVERLAYS = "overlays"

_RULES = {
    "mean": "the mean of its cells' class probabilities",
    "max": "the highest cell probability of each class",
    "fraction": "the share of its cells voting for each class",
}


def check_out(args):
    """--out against the inputs and earlier results; creates nothing."""
    out = args.out
    if not out or not out.strip():
        raise CLIError("--out is empty; give an output folder.")
    if os.path.exists(out) and not os.path.isdir(out):
        raise CLIError(f"--out {out!r} exists and is not a folder.")
    for item in args.inputs:
        if os.path.isdir(item) and _inside(out, item):
            raise CLIError(
                f"--out {out!r} is inside the input folder {item!r}: the next "
                "run would screen its own overlays; choose a folder outside "
                "the inputs.")
        if os.path.exists(item) and _inside(item, out):
            raise CLIError(
                f"input {item!r} is inside --out {out!r}, whose results a "
                "run replaces; move the smears out of it.")
    if os.path.exists(out):
        overlays = os.path.join(out, OVERLAYS)
        if os.path.exists(overlays) and not os.path.isdir(overlays):
            raise CLIError(f"{overlays!r} exists and is not a folder; move it "
                           "away (the overlays are written there).")
        for name in RESULT_FILES:
            if os.path.isdir(os.path.join(out, name)):
                raise CLIError(f"{os.path.join(out, name)!r} is a folder; move "
                               "it away (a result file is written there).")
        taken = [p for p in (*RESULT_FILES, OVERLAYS)
                 if os.path.exists(os.path.join(out, p))]
        if taken and not args.force:
            raise CLIError(
                f"{os.path.join(out, taken[0])!r} already exists; use --force "
                f"to replace the screening results in {out!r}.")

        _check_writable_folder(out, "--out")
        return
    parent = os.path.dirname(os.path.abspath(out))
    while not os.path.exists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise CLIError(f"--out {out!r}: {parent!r} is a file, not a folder.")
    _check_writable_folder(parent, "--out")


def prepare_out(out, force):
    """Create --out; with ``force`` remove the earlier results (result files
    and overlay PNGs; other files stay). Returns the top-most folder
    created, or None."""
    created = None
    if not os.path.exists(out):
        head = os.path.abspath(out)
        while not os.path.exists(os.path.dirname(head)):
            head = os.path.dirname(head)
        os.makedirs(out)
        created = head
    elif force:
        for name in RESULT_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out, name))
        overlays = os.path.join(out, OVERLAYS)
        if os.path.isdir(overlays):
            for name in os.listdir(overlays):
                if name.lower().endswith((".png", ".png.part")):
                    with contextlib.suppress(FileNotFoundError):
                        os.remove(os.path.join(overlays, name))
            with contextlib.suppress(OSError):
                os.rmdir(overlays)  # only when nothing else is in it
    return created


def write_atomic(path, text):
    """Write ``text`` beside ``path`` and move it into place."""
    tmp = f"{path}.part"
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)


class LazyFile:
    """A text file created at its first write, as ``<path>.part``, and
    moved to ``path`` by :meth:`commit` (a summary written at the end of a
    run: nothing partial is left if that fails)."""

    def __init__(self, path):
        self.path = path
        self._f = None

    def write(self, text):
        if self._f is None:
            self._f = open(f"{self.path}.part", "w", encoding="utf-8")
        return self._f.write(text)

    def commit(self):
        if self._f is not None:
            self._f.close()
            os.replace(f"{self.path}.part", self.path)

    def discard(self):
        if self._f is not None:
            with contextlib.suppress(OSError):
                self._f.close()
            with contextlib.suppress(FileNotFoundError):
                os.remove(f"{self.path}.part")


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]")


def overlay_name(path, used):
    """A file name for ``path``'s overlay: its stem with control characters
    replaced, unique in the run."""
    stem = _UNSAFE.sub("_", os.path.splitext(os.path.basename(path))[0]) or "smear"
    name, k = f"{stem}.png", 1
    while name.lower() in used:
        k += 1
        name = f"{stem}_{k}.png"
    used.add(name.lower())
    return name


class Decision:
    """How the screener decides, in words and column names."""

    def __init__(self, screener, names, classes):
        from ..screening import UNFAMILIAR_NOTE

        self.unfamiliar_note = UNFAMILIAR_NOTE
        self.check = _familiarity_check(screener)
        self.names = list(names)
        self.classes = list(classes)
        self.healthy = screener.healthy_label_
        self.healthy_name = self.name(self.healthy)
        self.threshold = float(getattr(screener, "threshold_", 0.5))
        self.rule = screener.aggregation_
        others = [c for c in self.classes if c != self.healthy]
        self.positive = others[0] if len(self.classes) == 2 else None
        self.disease = (self.name(self.positive) if self.positive is not None
                        else f"not {self.healthy_name}")
        top_k = getattr(screener, "top_k", 3)
        self.rule_text = _RULES.get(
            self.rule, f"the mean of its {top_k} highest cell probabilities "
            "of each class")

    def name(self, label):
        return str(self.names[self.classes.index(label)])

    def status(self, res):
        if not res.found:
            return "referred"
        if res.get("unfamiliar"):
            return "unfamiliar"
        return "negative" if res.verdict == self.healthy else "positive"

    def unfamiliar_text(self, res):
        """The note of an unfamiliar smear (None for the others)."""
        if not (res.found and res.get("unfamiliar")):
            return None
        n = len(res.centres)
        k = int(round(res.unfamiliar_share * n))
        return (f"{self.unfamiliar_note}: {k} of {n} cell(s) look unlike the "
                "training cells (another laboratory, stain, camera or "
                "magnification?); the verdict may be confidently wrong")

    def familiarity_text(self):
        """How smears are marked unfamiliar, in a sentence (None without a
        check)."""
        if self.check is None:
            return None
        share = self.check.max_unfamiliar_fraction
        return (f"each smear's white cells are compared with the training "
                f"cells (colour, darkness, texture); a smear with more than "
                f"{share:.0%} unlike them is marked '{self.unfamiliar_note}'"
                ).replace("%", " %")

    def text(self):
        """The decision rule in a sentence."""
        if self.positive is not None:
            call = (f"called {self.disease} when P({self.disease}) ≥ "
                    f"{self.threshold:.2f}, else {self.healthy_name}")
        else:
            call = "given its most probable class"
        return (f"each white cell is classified; a smear's probabilities are "
                f"{self.rule_text}, and the smear is {call}; a smear without "
                "a white cell found is referred, not called healthy")

    def title(self, res, note=None):
        """The overlay's title: the verdict and what it was decided on."""
        source = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1],
                        os.path.basename(str(res.source)))
        if not res.found:
            return f"referred — {note or 'no white cell found'}\n{source}"
        verdict = self.name(res.verdict)
        n = len(res.centres)
        second = f"{source}: {res.blast_count} blast(s) of {n} cell(s)"
        if res.get("unfamiliar"):
            verdict = f"{self.unfamiliar_note} (model's call: {verdict})"
        if self.positive is not None:
            p = float(res.image_proba[self.classes.index(self.positive)])
            sign = "≥" if p >= self.threshold else "<"
            return (f"{verdict} — P({self.disease}) {p:.2f} {sign} "
                    f"{self.threshold:.2f}\n{second}")
        p = float(res.image_proba[self.classes.index(res.verdict)])
        return (f"{verdict} — P({verdict}) {p:.2f}, the highest of "
                f"{len(self.classes)} classes\n{second}")

    # ------------------------------------------------------------ csv rows

    def cell_header(self):
        return ["file", "cell", "row", "col", "row_min", "col_min", "row_max",
                "col_max", "border", "overlap", "p_blast", "label",
                *[f"p_{n}" for n in self.names]]

    def cell_rows(self, path, res):
        col = res.healthy_column
        for k in range(len(res.centres)):
            r, c = res.centres[k]
            P = res.probabilities[k]
            label = "non-blast"
            if int(P.argmax()) != col:
                label = ("blast" if self.positive is not None
                         else f"blast ({self.names[int(P.argmax())]})")
            yield [path, k, f"{r:.1f}", f"{c:.1f}",
                   *(f"{v:.0f}" for v in res.boxes[k]),
                   int(res.border[k]), int(res.overlap[k]),
                   f"{1.0 - P[col]:.6f}", label, *(f"{v:.6f}" for v in P)]

    def smear_header(self):
        extra = [] if self.positive is not None else [f"p_{self.disease}"]
        return ["file", "status", "verdict", "note", "n_cells", "blast_count",
                "blast_fraction", *[f"p_{n}" for n in self.names], *extra,
                f"cells_p_{self.disease}", f"field_p_{self.disease}", "overlay",
                "unfamiliar_share", "unfamiliarity"]

    def _p_disease(self, proba, res):
        if proba is None:
            return ""
        if self.positive is not None:
            return f"{proba[self.classes.index(self.positive)]:.6f}"
        return f"{1.0 - proba[res.healthy_column]:.6f}"

    def smear_row(self, path, res, note, overlay):
        found = res.found
        probs = ([f"{v:.6f}" for v in res.image_proba] if found
                 else [""] * len(self.names))
        extra = [] if self.positive is not None else [
            self._p_disease(res.image_proba if found else None, res)]
        return [path, self.status(res),
                self.name(res.verdict) if found else res.verdict, note or "",
                len(res.centres), res.blast_count,
                f"{res.blast_fraction:.4f}" if found else "", *probs, *extra,
                self._p_disease(res.cells_proba, res),
                self._p_disease(res.field_proba, res), overlay,
                *(_num(res.get(k), ".4f") for k in ("unfamiliar_share",
                                                    "unfamiliarity"))]


def _familiarity_check(screener):
    """The familiarity check of the screener's cell model, or None."""
    from sklearn.pipeline import Pipeline

    model = getattr(screener, "cell_model_", None)
    if isinstance(model, Pipeline):
        for _, step in model.steps:
            if hasattr(step, "unfamiliarity") and hasattr(
                    step, "max_unfamiliar_fraction"):
                return step
    return None


def _num(value, spec):
    """A number for a CSV cell; empty for None and NaN."""
    if value is None or value != value:
        return ""
    return format(float(value), spec)


def run_record(args, model, decision, files):
    """The facts of ``run.json`` known at the start of a run."""
    from .._version import __version__

    extra = model.get("extra", {})
    return {
        "status": "running",
        "skleuk_version": __version__,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "finished": None,
        "model": {
            "file": os.path.abspath(args.model),
            "created": model.get("created"),
            "skleuk_version": model.get("skleuk_version"),
            "classes": decision.names,
            "healthy_class": decision.healthy_name,
            "positive_class": (decision.disease if decision.positive is not None
                               else None),
            "rule": decision.rule,
            "threshold": (decision.threshold if decision.positive is not None
                          else None),
            "decision": decision.text(),
            "inner_cv": extra.get("inner_cv"),
            "familiarity": decision.familiarity_text(),
            "trained_on": extra.get("data"),
        },
        "inputs": [os.path.abspath(p) for p in args.inputs],
        "n_files": len(files),
        "n_screened": 0,
        "counts": {"positive": 0, "negative": 0, "referred": 0,
                   "unfamiliar": 0, "skipped": 0},
        "verdicts": {},
        "skipped": [],
        "incomplete": None,
        "outputs": {"cells": "cells.csv", "smears": "smears.csv",
                    "summary": ["summary.html", "summary.md"],
                    "overlays": None if args.no_overlays else OVERLAYS + "/"},
    }


def summary_header(record, args):
    """The facts at the top of the summaries."""
    m = record["model"]
    classes = ", ".join(f"{c} (healthy)" if c == m["healthy_class"] else c
                        for c in m["classes"])
    header = {
        "Model": f"{os.path.basename(args.model)} -- trained {m['created']} "
                 f"with skleuk {m['skleuk_version']}",
        "Classes": classes,
        "Decision": m["decision"],
    }
    if m.get("threshold") is not None:
        header["Threshold"] = (f"P({m['positive_class']}) ≥ {m['threshold']:.2f} "
                               f"(rule: {m['rule']})")
    cv = m.get("inner_cv")
    if cv:
        header["Training estimate"] = (
            f"balanced accuracy {cv['value']:.3f} by inner {cv.get('n_splits')}"
            f"-fold cross-validation over {cv.get('n_smears')} training smears "
            "(optimistic: the same folds chose the rule)")
    if m.get("familiarity"):
        header["Familiarity"] = m["familiarity"]
    inputs = record["inputs"]
    header["Run"] = (f"{record['started']} with skleuk "
                     f"{record['skleuk_version']}")
    header["Inputs"] = (", ".join(inputs[:5])
                        + (f" and {len(inputs) - 5} more" if len(inputs) > 5 else "")
                        + f" -- {record['n_files']} image file(s)")
    return header


def write_record(out, record):
    write_atomic(os.path.join(out, "run.json"),
                 json.dumps(record, indent=2, ensure_ascii=False) + "\n")
