"""``skleuk screen``: whole-smear screening of files and folders."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
import warnings

from ..utils._progress import progress_bar
from . import _model
from . import _screen_out as so
from ._common import CLIError, Terminated, _err
from ._data import _expand_inputs
from ._output import CsvWriter


def _load_screener(model_path, trust=False):
    """The model of a model file, its SmearScreener checked."""
    from ..screening import SmearScreener

    model = _model._load_for_command(model_path, trust)
    if not isinstance(model["estimator"], SmearScreener):
        raise CLIError(f"{model_path!r} is a cell classifier, not a screening "
                       "model; train one with 'skleuk train --screening'.")
    return model


def _progress_bar(args, total):
    return progress_bar(total, "screening", "smear", enabled=not args.quiet)


def _no_cell_note(path):
    """Why a smear without a white cell has none (blank, tiny, grey-level)."""
    from ..datasets import read_image
    from ..screening import referral_reason

    with contextlib.suppress(Exception):
        return referral_reason(read_image(path, reduce_to=512), n_cells=0)
    return None


class _Run:
    """One ``skleuk screen`` run: its files, counts and record."""

    def __init__(self, args, model, files):
        self.args = args
        self.out = args.out
        self.files = files
        self.screener = model["estimator"]
        self.decision = so.Decision(self.screener, model["target_names"],
                                    list(self.screener.classes_))
        self.record = so.run_record(args, model, self.decision, files)
        self.overlays = None if args.no_overlays else os.path.join(self.out,
                                                                   so.OVERLAYS)
        self.used = set()
        self.done = 0
        self.created = None
        self.opened = []

    # ------------------------------------------------------------- set-up

    def start(self):
        from ..screening import ScreeningSummaryWriter

        self.created = so.prepare_out(self.out, self.args.force)
        so.write_record(self.out, self.record)
        if self.overlays:
            os.makedirs(self.overlays, exist_ok=True)
            import matplotlib

            matplotlib.use("Agg")
        self.fc = self._open("cells.csv")
        self.fs = self._open("smears.csv")
        self.wc = CsvWriter(self.fc)
        self.ws = CsvWriter(self.fs)
        self.wc.writerow(self.decision.cell_header())
        self.ws.writerow(self.decision.smear_header())
        self.summaries = [so.LazyFile(os.path.join(self.out, f"summary.{e}"))
                          for e in ("html", "md")]
        d = self.decision
        header = so.summary_header(self.record, self.args)
        self.writers = [
            ScreeningSummaryWriter(
                f, format=kind, title=f"Screening summary: "
                f"{os.path.basename(self.args.model)}", class_names=d.names,
                classes=d.classes, healthy_label=d.healthy, header=header)
            for f, kind in zip(self.summaries, ("html", "markdown"), strict=True)]

    def _open(self, name):
        f = open(os.path.join(self.out, name), "w", newline="", encoding="utf-8")
        self.opened.append(f)
        return f

    # ---------------------------------------------------------- per smear

    def skip(self, path, exc):
        self.record["counts"]["skipped"] += 1
        self.record["skipped"].append({"file": path, "reason": str(exc)})
        for w in self.writers:
            w.add(source=path, error=str(exc))

    def smear(self, path, res):
        note = (self.decision.unfamiliar_text(res) if res.found
                else _no_cell_note(path))
        for row in self.decision.cell_rows(path, res):
            self.wc.writerow(row)
        overlay = self._overlay(path, res, note) if self.overlays else ""
        rel = os.path.relpath(overlay, self.out) if overlay else None
        self.ws.writerow(self.decision.smear_row(path, res, note, overlay))
        self.fc.flush()
        self.fs.flush()
        d = self.decision
        verdict = d.name(res.verdict) if res.found else res.verdict
        for w in self.writers:
            w.add(source=path, n_cells=len(res.centres),
                  blast_count=res.blast_count, blast_fraction=res.blast_fraction,
                  verdict=res.verdict, probability=res.probability,
                  overlay=rel, note=note, unfamiliar=res.get("unfamiliar"))
        counts = self.record["counts"]
        counts[d.status(res)] += 1
        self.record["verdicts"][verdict] = self.record["verdicts"].get(verdict, 0) + 1
        self.done += 1
        self.record["n_screened"] = self.done

    def _overlay(self, path, res, note):
        """Draw and save the overlay PNG (moved into place when complete)."""
        import matplotlib.pyplot as plt

        from ..plotting import plot_screening

        overlay = os.path.join(self.overlays, so.overlay_name(path, self.used))
        fig = plot_screening(res, title=self.decision.title(res, note))
        part = f"{overlay}.part"
        try:
            with warnings.catch_warnings():
                # A file name in a script the font lacks: drawn as boxes,
                # the summary lists the name.
                warnings.filterwarnings("ignore", "Glyph .* missing from font")
                fig.savefig(part, dpi=self.args.dpi, format="png")
            os.replace(part, overlay)
        finally:
            plt.close(fig)
            with contextlib.suppress(FileNotFoundError):
                os.remove(part)
        return overlay

    # ---------------------------------------------------------------- end

    def finish(self, status, reason=None):
        """Close the CSVs, write the summaries and run.json. After a failure
        before any smear was screened, remove what the run created instead."""
        for f in self.opened:
            with contextlib.suppress(OSError):
                f.close()
        total = len(self.files)
        incomplete = None
        if status != "complete":
            incomplete = (f"stopped after {self.done} of {total} smear(s): "
                          f"{reason}")
            self.record["incomplete"] = {"stopped_after": self.done,
                                         "of": total, "reason": reason}
        self.record.update(status=status,
                           finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        started = hasattr(self, "writers")
        if not started or (status == "failed" and self.done == 0
                           and self.record["counts"]["skipped"] == 0):
            self._remove_created()
            return
        try:
            for w, f in zip(self.writers, self.summaries, strict=True):
                w.close(incomplete=incomplete)
                f.commit()
            so.write_record(self.out, self.record)
        except OSError as exc:
            for f in self.summaries:
                f.discard()
            if status == "complete":  # say in run.json that it failed
                self.record.update(status="failed", incomplete={
                    "stopped_after": self.done, "of": total,
                    "reason": f"write error: {exc.strerror or exc}"})
                with contextlib.suppress(OSError):
                    so.write_record(self.out, self.record)
                raise

    def _remove_created(self):
        """Nothing was screened: leave no header-only files behind."""
        for f in getattr(self, "summaries", []):
            f.discard()
        if self.created is not None:
            shutil.rmtree(self.created, ignore_errors=True)
            return
        for name in so.RESULT_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(self.out, name))
        if self.overlays:
            with contextlib.suppress(OSError):
                os.rmdir(self.overlays)


def _write_error(exc, out, done, total):
    what = exc.strerror or str(exc)
    kept = (f"; the results of the {done} smear(s) screened are kept, marked "
            "incomplete" if done else "; nothing was kept")
    return CLIError(f"cannot write the screening results in {out!r}: "
                    f"{what.lower()} (stopped after {done} of {total} smear(s)"
                    f"{kept})")


def cmd_screen(args):
    """``skleuk screen``: find, classify and count the cells of smears."""
    from ..datasets import ImageReadError

    so.check_out(args)
    files = _expand_inputs(args.inputs)
    model = _load_screener(args.model, args.trust_model)
    run = _Run(args, model, files)
    bar = None
    try:
        run.start()
        bar = _progress_bar(args, len(files))
        for path in files:
            # One smear at a time: memory stays bounded for any count.
            try:
                res = run.screener.screen([path])[0]
            except (ImageReadError, ValueError, TypeError) as exc:
                if bar is not None:
                    bar.clear()
                _err(f"warning: skipped {path}: {exc}")
                run.skip(path, exc)
            else:
                run.smear(path, res)
            if bar is not None:
                bar.update(1)
    except KeyboardInterrupt as exc:
        if bar is not None:
            bar.close()
        run.finish("interrupted", "terminated (SIGTERM)" if isinstance(
            exc, Terminated) else "interrupted (Ctrl-C)")
        raise
    except OSError as exc:  # a write failed: a full disk, a lost folder
        if bar is not None:
            bar.close()
        run.finish("failed", f"write error: {exc.strerror or exc}")
        raise _write_error(exc, args.out, run.done, len(files)) from exc
    except BaseException as exc:
        if bar is not None:
            bar.close()
        run.finish("failed", f"{type(exc).__name__}: {exc}")
        raise
    if bar is not None:
        bar.close()
    try:
        run.finish("complete")
    except OSError as exc:
        raise CLIError(
            f"cannot write the summaries in {args.out!r}: "
            f"{(exc.strerror or str(exc)).lower()} (the {run.done} smear(s) "
            "screened are in smears.csv and cells.csv)") from exc
    counts = run.record["counts"]
    print(f"Screened {run.done} smear(s): {counts['positive']} positive, "
          f"{counts['negative']} negative, {counts['referred']} referred "
          f"(no white cell found)"
          + (f", {counts['unfamiliar']} unfamiliar (review: unlike the training "
             "smears)" if counts["unfamiliar"] else "")
          + ". Wrote cells.csv, smears.csv, summary.html, "
          "summary.md and run.json" + (" and overlays" if run.overlays else "")
          + f" to {args.out}.")
    if counts["skipped"]:
        _err(f"error: {counts['skipped']} of {len(files)} smear(s) could not be "
             "screened")
        return 1
    return 0
