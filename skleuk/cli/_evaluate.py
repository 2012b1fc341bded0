"""``skleuk evaluate``: cross-validate the pipeline on a data set."""

from __future__ import annotations

import contextlib
import os
import time

from . import _model
from ._data import _pos_label
from ._model import (
    THRESHOLD_FOLDS,
    _pipeline_settings,
    _with_operating_point,
)
from ._output import _FIGURE_FILES, _print_report


def _run_evaluation(args, pipe, X, y, target_names, groups, out_dir,
                    group_duplicates=False, pos_label=None):
    from ..model_selection import evaluate

    pos = pos_label if pos_label is not None else _pos_label(target_names)
    report = evaluate(
        pipe,
        X,
        y,
        cv=args.folds,
        groups=groups,
        group_duplicates=group_duplicates,
        n_repeats=args.repeats,
        random_state=args.random_state,
        pos_label=pos,
        target_names=target_names,
        progress=not args.quiet,
        n_jobs=getattr(args, "n_jobs", 1),
        error_score="raise",  # as grid-search: a failed fit is an error
    )
    if args.force:
        # Figures of an earlier run must not sit beside the new report.
        for name in _FIGURE_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out_dir, name))
    written = report.save(out_dir, X=X, figures=not args.no_figures,
                          overwrite=True)
    return report, written


def cmd_evaluate(args):
    """``skleuk evaluate``: cross-validate the pipeline on your images."""
    return _model._run_on_data(args, _evaluate)


def _evaluate(args, data, out, start):
    pipe = _model._build_pipeline(args, reader=data.is_paths)
    settings = ", ".join(f"{k} {v}" for k, v in _pipeline_settings(pipe).items())
    print(f"Data: {data.description}", flush=True)
    print(f"Pipeline: {settings}", flush=True)
    pipe = _with_operating_point(pipe, args, data.y, data.target_names)
    if args.min_sensitivity is not None:
        print(f"Operating point: threshold for sensitivity >= "
              f"{args.min_sensitivity:g}, chosen by {THRESHOLD_FOLDS}-fold "
              "cross-validation inside each training fold (nested)", flush=True)
    report, written = _run_evaluation(
        args, pipe, data.X, data.y, data.target_names, data.groups, out,
        group_duplicates=args.group_duplicates, pos_label=data.pos_label,
    )
    _print_report(report)
    if report.pos_label_assumed:
        print("Choose the positive class with --positive-class.")
    print(f"Wrote {len(written)} files to {out}/. Done in "
          f"{time.perf_counter() - start:.0f} s.")
    return 0
