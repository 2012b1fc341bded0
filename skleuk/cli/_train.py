"""``skleuk train``: fit the pipeline on a data set and save it."""

from __future__ import annotations

import time

from . import _data, _model
from ._common import CLIError, _check_out_file, _to_jsonable
from ._model import (
    THRESHOLD_FOLDS,
    _check_model_args,
    _fit_with_progress,
    _pipeline_settings,
    _with_operating_point,
    save_model,
)
from ._screen import cmd_train_screening


def cmd_train(args):
    """``skleuk train``: fit the pipeline on all images and save it."""
    if getattr(args, "screening", False):
        return cmd_train_screening(args)
    if getattr(args, "field_view", False):
        raise CLIError("--field-view needs --screening (it adds a whole-smear "
                       "view to the screener).", code=2)
    _check_out_file(args.out, args.force)
    _check_model_args(args)
    data = _data._load_data(args)
    pipe = _model._build_pipeline(args, reader=data.is_paths)
    settings = _pipeline_settings(pipe)
    print(f"Data: {data.description}", flush=True)
    print("Pipeline: " + ", ".join(f"{k} {v}" for k, v in settings.items()),
          flush=True)
    pipe = _with_operating_point(pipe, args, data.y, data.target_names)
    start = time.perf_counter()
    _fit_with_progress(pipe, data.X, data.y, args)
    elapsed = time.perf_counter() - start
    extra = {"data": data.description, "settings": _to_jsonable(settings),
             "fit_time_s": round(elapsed, 1)}
    if args.min_sensitivity is not None:
        extra["min_sensitivity"] = args.min_sensitivity
        extra["threshold"] = float(pipe.best_threshold_)
        print(f"Operating point: probability threshold {pipe.best_threshold_:.3f} "
              f"for sensitivity >= {args.min_sensitivity:g} "
              f"({THRESHOLD_FOLDS}-fold cross-validation)", flush=True)
    # Written beside the target and moved into place: a failed save leaves
    # an existing model file as it was (--force was checked before training).
    save_model(
        pipe, args.out, target_names=data.target_names,
        input_kind="paths" if data.is_paths else "images", extra=extra,
        overwrite=True,
    )
    print(f"Trained in {elapsed:.0f} s; model saved to {args.out}")
    return 0
