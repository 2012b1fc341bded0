"""``skleuk train``: fit the pipeline on a data set and save it."""

from __future__ import annotations

import os
import time

from . import _data, _model
from ._common import CLIError, _check_out_file, _to_jsonable
from ._data import _healthy_index
from ._model import (
    THRESHOLD_FOLDS,
    _check_model_args,
    _fit_with_progress,
    _pipeline_settings,
    _with_operating_point,
    save_model,
)


def cmd_train(args):
    """``skleuk train``: fit the pipeline on all images and save it."""
    if getattr(args, "screening", False):
        if len(_data.data_paths(args)) > 1:
            raise CLIError("--screening takes one --data folder of smears "
                           "(pooling sources is for cell models).", code=2)
        args.data = _data.data_paths(args)[0]
        return cmd_train_screening(args)
    if getattr(args, "field_view", False):
        raise CLIError("--field-view needs --screening (it adds a whole-smear "
                       "view to the screener).", code=2)
    if getattr(args, "aggregation", None) is not None:
        raise CLIError("--aggregation needs --screening (it is the screener's "
                       "rule from cells to a smear).", code=2)
    _check_out_file(args.out, args.force, data=args.data)
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
    if data.sources is not None:
        import numpy as np

        names, counts = np.unique(data.sources, return_counts=True)
        extra["sources"] = {str(n): int(k) for n, k in zip(names, counts,
                                                            strict=True)}
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


def _screener_data(args):
    """--data of ``train --screening``: the smears' paths, labels and class
    names, checked against the aggregation rule's needs."""
    import numpy as np

    from ..datasets import load_image_folder

    if args.dataset not in ("auto", "folder"):
        raise CLIError(f"--screening reads one subfolder per class of whole "
                       f"smears; --dataset {args.dataset} is not supported "
                       "with it.", code=2)
    path = args.data
    if not os.path.isdir(path):
        raise CLIError(f"--data: no such folder: {path!r}")
    bunch = load_image_folder(path, return_images=False)
    y = np.asarray(bunch.target)
    names = list(bunch.target_names)
    if len(np.unique(y)) < 2:
        raise CLIError(f"--data: found only one class in {path!r}.")
    few = [f"{n!r} has {int(np.sum(y == k))}" for k, n in enumerate(names)
           if np.sum(y == k) < 2]
    if few and (args.aggregation or "auto") == "auto":
        raise CLIError(
            f"--screening: choosing the aggregation rule (--aggregation auto) "
            f"needs at least 2 smears in every class; class {', '.join(few)}. "
            "Add smears, or pass a fixed rule: --aggregation mean (or top_k, "
            "max, fraction).")
    return list(bunch.filenames), y, names


def _fit_screener(screener, files, y, names):
    """Fit, with the screener's data errors in the command's words."""
    try:
        screener.fit(files, y)
    except ValueError as exc:
        short = getattr(exc, "smears_with_cells", None)
        if short is not None:
            which = ", ".join(f"{names[int(k)]!r} has {n}" for k, n in short.items())
            raise CLIError(
                "--screening: choosing the aggregation rule (--aggregation "
                "auto) needs at least 2 training smears in which a white cell "
                f"is found, in every class; class {which}. Add smears, or "
                "pass a fixed rule: --aggregation mean (or top_k, max, "
                "fraction).") from exc
        empty = getattr(exc, "classes_without_cells", None)
        if empty is not None:
            which = ", ".join(repr(names[int(k)]) for k in empty)
            raise CLIError(
                f"--screening: no white cell was found in any smear of class "
                f"{which}, so the cell model cannot learn it (the detector "
                "needs colour smears: grey-level images hold no white cell "
                "it can find).") from exc
        raise


def _quality_line(screener):
    """What the inner cross-validation that chose the rule scored."""
    res = (screener.cv_results_ or {}).get(screener.aggregation_)
    if not res:
        return None, (f"Aggregation {screener.aggregation_} (fixed by "
                      "--aggregation): no inner cross-validation, no quality "
                      "estimate.")
    estimate = {"metric": "balanced_accuracy",
                "value": round(res["balanced_accuracy"], 4),
                "n_splits": res.get("n_splits"), "n_smears": res.get("n_smears")}
    folds = f"{res['n_splits']}-fold " if res.get("n_splits") else ""
    return estimate, (
        f"Inner {folds}cross-validation over {res.get('n_smears', '?')} training "
        f"smears chose aggregation {screener.aggregation_} with threshold "
        f"{screener.threshold_:.3f}: balanced accuracy "
        f"{res['balanced_accuracy']:.3f} (optimistic: these folds also chose "
        "the rule; judge a model on smears it never saw).")


def cmd_train_screening(args):
    """``skleuk train --screening``: fit a SmearScreener on labelled smears."""
    import numpy as np

    from ..screening import SmearScreener

    _check_out_file(args.out, args.force, data=args.data)
    files, y, names = _screener_data(args)
    healthy = _healthy_index(names)
    cells = _model._build_pipeline(args, reader=False)
    field = None
    if args.field_view:  # the same pipeline on the whole smear, never cropped
        field = _model._build_pipeline(args, reader=False)
        if "crop" in field.named_steps:
            field.set_params(crop="passthrough")
        if "familiarity" in field.named_steps:  # smears are judged on cells
            field.set_params(familiarity="passthrough")
    screener = SmearScreener(cells, healthy_label=healthy, field_model=field,
                             aggregation=args.aggregation or "auto",
                             random_state=args.random_state)
    counts = ", ".join(f"{n}: {int(np.sum(y == k))}" for k, n in enumerate(names))
    print(f"Data: smears with image-level labels at {args.data} -- {len(y)} "
          f"smears ({counts}); healthy class: {names[healthy]}", flush=True)
    start = time.perf_counter()
    _fit_screener(screener, files, y, names)
    elapsed = time.perf_counter() - start
    estimate, line = _quality_line(screener)
    extra = {"data": f"smears at {args.data}", "fit_time_s": round(elapsed, 1),
             "aggregation": screener.aggregation_,
             "threshold": float(screener.threshold_),
             "n_cells": screener.n_cells_fit_, "n_smears": len(y),
             "healthy_class": names[healthy],
             "familiarity": "familiarity" in cells.named_steps}
    if estimate is not None:
        extra["inner_cv"] = estimate
    save_model(screener, args.out, target_names=names, input_kind="smears",
               extra=extra, overwrite=True)
    view = " and the whole smears" if field is not None else ""
    print(line)
    print(f"Trained on {screener.n_cells_fit_} cells{view} in {elapsed:.0f} s "
          f"(aggregation {screener.aggregation_}); model saved to {args.out}")
    return 0
