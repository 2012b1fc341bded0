"""The pipeline the commands train, and skleuk model files (save/load)."""

from __future__ import annotations

import os
import time

from . import _data
from ._common import (
    CLIError,
    _check_out_dir,
    _import_tensorflow,
    _out_dir,
    _silence_fd2,
)

MODEL_FORMAT = "skleuk-model"


MODEL_FORMAT_VERSION = 1


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


def save_model(estimator, path, *, target_names=None, input_kind="paths",
               extra=None):
    """Save a fitted estimator in the skleuk model file format.

    The file is a :mod:`joblib` pickle of a dict holding the estimator, its
    class names, what it takes as input and the skleuk version, so that
    ``skleuk predict`` can check it before use.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Usually a fitted :func:`skleuk.make_pipeline`.
    path : str or path-like
        Output file (``.joblib``). Overwritten if present.
    target_names : list of str, default=None
        Display names of ``estimator.classes_``.
    input_kind : {"paths", "images"}, default="paths"
        Whether the estimator takes file paths (it starts with an
        :class:`~skleuk.preprocessing.ImageReader`) or image arrays.
    extra : dict, default=None
        Anything else to record (training data, settings).

    Returns
    -------
    path : str

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> from skleuk.cli import load_model, save_model
    >>> clf = DummyClassifier().fit(np.zeros((4, 1)), [0, 1, 1, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> _ = save_model(clf, path, input_kind="images")
    >>> load_model(path)["target_names"]
    ['0', '1']
    """
    import joblib

    from .. import __version__

    classes = list(getattr(estimator, "classes_", []))
    if target_names is None:
        target_names = [str(c) for c in classes]
    envelope = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skleuk_version": __version__,
        "estimator": estimator,
        "classes": classes,
        "target_names": list(target_names),
        "input": input_kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "extra": dict(extra or {}),
    }
    joblib.dump(envelope, path, compress=3)
    return os.fspath(path)


def load_model(path):
    """Load and check a model file written by ``skleuk train``.

    Parameters
    ----------
    path : str or path-like
        The model file. **Loading unpickles it: only load files you trust.**

    Returns
    -------
    model : dict
        Keys ``estimator`` (the fitted pipeline), ``classes``,
        ``target_names``, ``input`` (``"paths"`` or ``"images"``),
        ``skleuk_version``, ``created``, ``extra``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    ValueError
        If the file is not a fitted skleuk model.

    Examples
    --------
    >>> from skleuk.cli import load_model
    >>> try:
    ...     load_model("no_such_model.joblib")
    ... except FileNotFoundError as exc:
    ...     print(exc)
    model file not found: 'no_such_model.joblib'
    """
    import pickle

    import joblib
    from sklearn.base import is_classifier
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder, not a skleuk model file")
    not_model = f"{path!r} is not a skleuk model (make one with 'skleuk train')"
    try:
        with _silence_fd2():
            model = joblib.load(path)
    except MemoryError:
        raise
    except Exception as exc:  # corrupt pickle or compressed stream (zlib.error)
        kind = type(exc).__name__
        if not isinstance(exc, pickle.UnpicklingError) and type(exc).__module__ in (
                "zlib", "lzma", "bz2", "_lzma", "_bz2"):
            kind = f"the compressed data is corrupt ({exc})"
        raise ValueError(f"{not_model}: {kind}") from exc
    if not isinstance(model, dict) or model.get("format") != MODEL_FORMAT:
        raise ValueError(not_model)
    if model.get("format_version", 0) > MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by a newer skleuk ({model.get('skleuk_version')}); "
            "upgrade skleuk to use it."
        )
    est = model.get("estimator")
    if est is None or not is_classifier(est):
        raise ValueError(f"{not_model}: it holds no classifier")
    try:
        check_is_fitted(est)
    except NotFittedError as exc:
        raise ValueError(f"{not_model}: the classifier is not fitted") from exc
    return model


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
    with _out_dir(args.out, args.force, data.folder_root) as out:
        return body(args, data, out, start)
