"""``skleuk screen``: whole-smear screening of files and folders."""

from __future__ import annotations

import csv
import os

from . import _model
from ._common import CLIError, _err
from ._data import _expand_inputs


def _overlay_name(path, used):
    stem = os.path.splitext(os.path.basename(path))[0]
    name, k = f"{stem}.png", 1
    while name in used:
        k += 1
        name = f"{stem}_{k}.png"
    used.add(name)
    return name


def _load_screener(model_path, trust=False):
    """The SmearScreener of a model file, its class names and classes."""
    from ..screening import SmearScreener

    model = _model._load_for_command(model_path, trust)
    screener = model["estimator"]
    if not isinstance(screener, SmearScreener):
        raise CLIError(f"{model_path!r} is a cell classifier, not a screening "
                       "model; train one with 'skleuk train --screening'.")
    return screener, model["target_names"], list(screener.classes_)


def _output_paths(args):
    """cells.csv, smears.csv and the summaries in --out, which is created;
    earlier results there are only overwritten with --force."""
    cells_csv = os.path.join(args.out, "cells.csv")
    smears_csv = os.path.join(args.out, "smears.csv")
    summaries = [os.path.join(args.out, f"summary.{ext}") for ext in ("html", "md")]
    if os.path.isdir(args.out) and not args.force:
        taken = [p for p in (cells_csv, smears_csv, *summaries,
                             os.path.join(args.out, "overlays"))
                 if os.path.exists(p)]
        if taken:
            raise CLIError(f"{taken[0]!r} already exists; use --force to "
                           "overwrite the screening results in "
                           f"{args.out!r}.")
    os.makedirs(args.out, exist_ok=True)
    return cells_csv, smears_csv, summaries


def _prepare_overlays(args):
    """The overlays folder (created, Agg backend set), or None."""
    if args.no_overlays:
        return None
    overlays = os.path.join(args.out, "overlays")
    os.makedirs(overlays, exist_ok=True)
    import matplotlib

    matplotlib.use("Agg")
    return overlays


def _progress_bar(args, total):
    if args.quiet:
        return None
    from tqdm.auto import tqdm

    from ..model_selection._evaluate import _bar_kwargs

    return tqdm(total=total, desc="screening", unit="smear", **_bar_kwargs())


def _report_skipped(path, exc, sums, bar):
    """Warn about a smear that could not be screened; list it in the summaries."""
    if bar is not None:
        bar.clear()
    _err(f"warning: skipped {path}: {exc}")
    for w in sums:
        w.add(source=path, error=str(exc))
    if bar is not None:
        bar.update(1)


def _write_cells(wc, path, res, names):
    """One cells.csv row per located cell of a screened smear."""
    p_blast = 1.0 - res.probabilities[:, res.healthy_column]
    for k in range(len(res.centres)):
        r, c = res.centres[k]
        wc.writerow([path, k, f"{r:.1f}", f"{c:.1f}",
                     *(f"{v:.0f}" for v in res.boxes[k]),
                     int(res.border[k]), int(res.overlap[k]),
                     f"{p_blast[k]:.6f}",
                     names[int(res.probabilities[k].argmax())]])


def _save_overlay(res, verdict, path, overlays, used, dpi):
    """Draw and save the overlay PNG of a smear; return its path."""
    import matplotlib.pyplot as plt

    from ..plotting import plot_screening

    overlay = os.path.join(overlays, _overlay_name(path, used))
    shown = dict(res)
    shown["verdict"] = verdict
    fig = plot_screening(shown)
    fig.savefig(overlay, dpi=dpi)
    plt.close(fig)
    return overlay


def _write_smear(ws, sums, path, res, verdict, overlay, out):
    """The smear's summary rows and its smears.csv row."""
    for w in sums:
        w.add(source=path, n_cells=len(res.centres),
              blast_count=res.blast_count,
              blast_fraction=res.blast_fraction, verdict=verdict,
              probability=res.probability,
              overlay=os.path.relpath(overlay, out).replace(
                  os.sep, "/") if overlay else None)
    ws.writerow([path, len(res.centres), res.blast_count,
                 "" if not res.found else f"{res.blast_fraction:.4f}",
                 verdict,
                 "" if not res.found else f"{res.probability:.6f}",
                 overlay,
                 _blast_probability(res.cells_proba, res),
                 _blast_probability(res.field_proba, res)])


def _blast_probability(proba, res):
    """One view's probability of not being healthy ("" without that view:
    no cells, or no field model)."""
    if proba is None:
        return ""
    return f"{1.0 - proba[res.healthy_column]:.6f}"


def cmd_screen(args):
    """``skleuk screen``: find, classify and count the cells of smears."""
    from ..datasets import ImageReadError
    from ..screening import ScreeningSummaryWriter

    files = _expand_inputs(args.inputs)
    screener, names, classes = _load_screener(args.model, args.trust_model)
    cells_csv, smears_csv, summaries = _output_paths(args)
    overlays = _prepare_overlays(args)
    bar = _progress_bar(args, len(files))
    failed, used = 0, set()
    with open(cells_csv, "w", newline="") as fc, \
            open(smears_csv, "w", newline="") as fs, \
            open(summaries[0], "w", encoding="utf-8") as fh, \
            open(summaries[1], "w", encoding="utf-8") as fm:
        title = f"Screening summary: {os.path.basename(args.model)}"
        sums = [ScreeningSummaryWriter(f, format=kind, title=title,
                                       class_names=names, classes=classes)
                for f, kind in ((fh, "html"), (fm, "markdown"))]
        wc = csv.writer(fc, lineterminator="\n")
        ws = csv.writer(fs, lineterminator="\n")
        wc.writerow(["file", "cell", "row", "col", "row_min", "col_min",
                     "row_max", "col_max", "border", "overlap", "probability",
                     "class"])
        ws.writerow(["file", "n_cells", "blast_count", "blast_fraction",
                     "verdict", "probability", "overlay", "cells_probability",
                     "field_probability"])
        try:
            for path in files:
                # One smear at a time: memory stays bounded for any count.
                try:
                    res = screener.screen([path])[0]
                except (ImageReadError, ValueError, TypeError) as exc:
                    failed += 1
                    _report_skipped(path, exc, sums, bar)
                    continue
                _write_cells(wc, path, res, names)
                verdict = (names[classes.index(res.verdict)] if res.found
                           else res.verdict)
                overlay = ""
                if overlays:
                    overlay = _save_overlay(res, verdict, path, overlays, used,
                                            args.dpi)
                _write_smear(ws, sums, path, res, verdict, overlay, args.out)
                fc.flush()
                fs.flush()
                if bar is not None:
                    bar.update(1)
        finally:
            for w in sums:
                w.close()
            if bar is not None:
                bar.close()
    print(f"Wrote {cells_csv}, {smears_csv}, {summaries[0]} and {summaries[1]}"
          + (f" and overlays in {overlays}" if overlays else "") + ".")
    if failed:
        _err(f"error: {failed} of {len(files)} smear(s) could not be screened")
        return 1
    return 0
