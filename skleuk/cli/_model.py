"""The pipeline the commands train; model files (the format lives in
``skleuk/utils/_model_file.py``: :func:`skleuk.save_model`,
:func:`skleuk.load_model`)."""

from __future__ import annotations

import time

from ..exceptions import UntrustedModelError
from ..utils._model_file import (
    MODEL_FORMAT,
    MODEL_FORMAT_VERSION,
    load_model,
    save_model,
)
from . import _data
from ._common import (
    CLIError,
    _check_out_dir,
    _import_tensorflow,
    _out_dir,
    _silence_fd2,
)

__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "load_model", "save_model"]


def _check_model_args(args):
    """Check the model options against each other before loading any data:
    --image-size against the smallest input the architecture accepts."""
    size = getattr(args, "image_size", None)
    if size is None:
        return
    # The pipeline the command will build, with the same options.
    arch = _build_pipeline(args, reader=False).get_params().get("cnn__architecture")
    if not isinstance(arch, str):
        return
    import re

    from ..neural_network import build_lightweight_cnn

    try:  # the library's own check of the input size (no training)
        build_lightweight_cnn((size, size, 3), 2, architecture=arch)
    except ValueError as exc:
        found = re.search(r"at least (\d+)", str(exc))
        needs = f"at least {found.group(1)} pixels" if found else str(exc)
        raise CLIError(
            f"--image-size {size} is too small for the {arch} network, which "
            f"needs {needs}.",
            code=2,
        ) from None


def _build_pipeline(args, *, reader):
    """skleuk.make_pipeline() with the command-line overrides."""
    _import_tensorflow()
    from .. import make_pipeline

    kwargs = {"reader": bool(reader), "cnn__verbose": 0}
    if getattr(args, "recipe", None) is not None:
        kwargs["recipe"] = args.recipe
    if getattr(args, "image_size", None) is not None:
        kwargs["image_size"] = args.image_size
    if getattr(args, "architecture", None) is not None:
        kwargs["architecture"] = args.architecture
    for option, param in (
        ("optimizer", "cnn__optimizer"),
        ("epochs", "cnn__epochs"),
        ("batch_size", "cnn__batch_size"),
        ("random_state", "cnn__random_state"),
        ("tta", "cnn__tta"),
    ):
        value = getattr(args, option, None)
        if value is not None and not isinstance(value, list):
            kwargs[param] = value
    if getattr(args, "familiarity", False):
        kwargs["familiarity"] = True
    if getattr(args, "stain", None) is not None:
        kwargs["stain"] = args.stain
    return make_pipeline(**kwargs)


#: Internal folds that choose the threshold of --min-sensitivity.
THRESHOLD_FOLDS = 3


def _with_operating_point(pipe, args, y, target_names):
    """Wrap the pipeline to reach --min-sensitivity (unchanged without it)."""
    target = getattr(args, "min_sensitivity", None)
    if target is None:
        return pipe
    import numpy as np

    from ..model_selection import tune_threshold

    labels = np.unique(y)
    if len(labels) != 2:
        raise CLIError(
            f"--min-sensitivity needs two classes; the data has {len(labels)} "
            f"({', '.join(map(str, target_names))})"
        )
    # --positive-class, else the class_roles rule (the last class assumed).
    pos = _data._roles(target_names, _data._positive_class(args, target_names))
    return tune_threshold(pipe, min_sensitivity=target,
                          pos_label=labels[pos.pos_label].item(),
                          cv=THRESHOLD_FOLDS)


def _pipeline_settings(pipe):
    params = pipe.get_params()
    keys = {
        "architecture": "cnn__architecture",
        "optimizer": "cnn__optimizer",
        "epochs": "cnn__epochs",
        "batch size": "cnn__batch_size",
        "image size": "resize__size",
    }
    return {k: params[v] for k, v in keys.items() if v in params}


def _load_for_command(path, trust=False):
    """:func:`skleuk.load_model` for a command: its errors as one line,
    ``--trust-model`` named as the way to trust a refused file."""
    try:
        with _silence_fd2():  # TensorFlow's start-up lines
            return load_model(path, trusted=bool(trust))
    except UntrustedModelError as exc:
        raise CLIError(
            f"refusing to load model file {path!r}: it holds "
            f"{', '.join(exc.types)}, which skleuk does not load without your "
            "trust (only scikit-learn, NumPy, Keras and skleuk types are "
            "loaded by default); loading it could run code. If you trust "
            "the file, pass --trust-model."
        ) from None
    except (FileNotFoundError, PermissionError) as exc:
        raise CLIError(str(exc)) from exc


def _fit_with_progress(pipe, X, y, args, desc="training"):
    from ..utils._progress import epoch_progress

    with epoch_progress(pipe, desc, enabled=not args.quiet):
        pipe.fit(X, y)
    return pipe


def _run_on_data(args, body):
    """Check the model arguments and ``--out``, load the data, then run
    ``body(args, data, out, start)`` inside the output folder (removed again
    if the run fails and created it)."""
    start = time.perf_counter()
    _check_model_args(args)
    _check_out_dir(args.out, args.force)
    data = _data._load_data(args)
    _data._check_folds(args, data)
    with _out_dir(args.out, args.force, data.folder_root) as out:
        return body(args, data, out, start)
