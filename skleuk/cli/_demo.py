"""``skleuk demo``: evaluate the pipeline on synthetic smears."""

from __future__ import annotations

import os
import time

from . import _evaluate, _model
from ._common import _out_dir
from ._model import _check_model_args, _pipeline_settings
from ._output import _print_report


def cmd_demo(args):
    """``skleuk demo``: the default pipeline on synthetic smears."""
    start = time.perf_counter()
    _check_model_args(args)
    with _out_dir(args.out, args.force) as out:
        return _demo(args, out, start)


def _demo(args, out, start):
    # Drawn at twice the CNN's input size, like a cell-centred crop that the
    # pipeline resizes (ALL-IDB2's 257 px crops).
    from .. import DEFAULT_IMAGE_SIZE
    from ..datasets import make_blood_smears

    side = 2 * (args.image_size or DEFAULT_IMAGE_SIZE)
    data = make_blood_smears(
        n_samples=args.n_samples, image_size=side, random_state=args.random_state,
    )
    pipe = _model._build_pipeline(args, reader=False)
    settings = _pipeline_settings(pipe)
    used = ", ".join(f"{k} {v}" for k, v in settings.items())
    print(
        f"skleuk demo: {args.n_samples} synthetic blood smear images "
        f"({side}x{side} px, classes "
        f"{', '.join(data.target_names)}), default pipeline ({used}), "
        f"{args.folds}-fold stratified cross-validation"
        + (f" x {args.repeats} repeats" if args.repeats > 1 else "")
        + ".",
        flush=True,
    )
    report, written = _evaluate._run_evaluation(
        args, pipe, data.images, data.target, data.target_names, None, out
    )
    _print_report(report)
    elapsed = time.perf_counter() - start
    print(f"Wrote {len(written)} files to {out}/ "
          f"({', '.join(sorted(os.path.basename(p) for p in written.values()))}).")
    print(f"Done in {elapsed:.0f} s.")
    return 0
