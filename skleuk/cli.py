"""The ``skleuk`` command: demo, evaluate, train, grid-search, predict, screen.

Run ``skleuk --help`` (or ``skleuk <command> --help``) for the options.
Every command exits with 0 on success, 1 when the data or a file is wrong
(missing path, unreadable image, not a skleuk model, output already
there) and 2 on a usage error, printing one line ``skleuk: error: ...``
to stderr; ``--debug`` shows the Python traceback instead.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import json
import os
import sys
import time
import traceback

__all__ = ["main"]

PROG = "skleuk"
MODEL_FORMAT = "skleuk-model"
MODEL_FORMAT_VERSION = 1

# The default pipeline as it is, on an ALL-IDB2-sized synthetic set (its
# cost: docs, Performance).
DEMO_DEFAULTS = {
    "n_samples": 260,
    "image_size": None,
    "epochs": None,
    "folds": 5,
}


class CLIError(Exception):
    """A user-facing error: printed as one line, exit status ``code``."""

    def __init__(self, message, code=1):
        super().__init__(message)
        self.code = code


# ---------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------
def _err(msg):
    print(f"{PROG}: {msg}", file=sys.stderr)


@contextlib.contextmanager
def _one_line_warnings():
    """Show each warning once, as one line ``skleuk: warning: ...``.

    Messages that differ only in their numbers (e.g. per-fold counts) are
    shown once.
    """
    import re
    import warnings

    seen = set()

    def show(message, category, filename, lineno, file=None, line=None):
        text = str(message).strip().splitlines()[0] if str(message).strip() else ""
        key = (category, re.sub(r"[0-9.]+", "#", text))
        if key in seen:
            return
        seen.add(key)
        _err(f"warning: {category.__name__}: {text}")

    with warnings.catch_warnings():
        # User-facing warnings every time (deduplicated above); deprecation
        # warnings of the libraries stay hidden, as by default.
        warnings.simplefilter("always", UserWarning)
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _silence_fd2():
    """Silence C-level writes to stderr (TensorFlow's start-up log lines)."""
    try:
        fd = sys.stderr.fileno()
    except (AttributeError, OSError, io.UnsupportedOperation):
        yield
        return
    sys.stderr.flush()
    saved = os.dup(fd)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
        yield
    finally:
        sys.stderr.flush()
        os.dup2(saved, fd)
        os.close(saved)
        os.close(devnull)


def _import_tensorflow():
    """Import TensorFlow quietly (it logs to stderr on import)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" in sys.modules:
        return
    with _silence_fd2():
        try:
            import tensorflow  # noqa: F401
        except ImportError as exc:
            raise CLIError(
                f"TensorFlow could not be imported ({exc}); install skleuk's "
                "dependencies (pip install skleuk)."
            ) from exc


def _positive_int(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer, got {text!r}"
        ) from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _folds_int(text):
    value = _positive_int(text)
    if value < 2:
        raise argparse.ArgumentTypeError(f"need at least 2 folds, got {text!r}")
    return value


def _seed(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a non-negative integer, got {text!r}"
        ) from None
    if not 0 <= value < 2**32:
        raise argparse.ArgumentTypeError(
            f"expected an integer from 0 to 2**32 - 1, got {text!r}"
        )
    return value


def _image_size(text):
    value = _positive_int(text)
    if value < 16:
        raise argparse.ArgumentTypeError(f"image size must be at least 16, got {text}")
    return value


def _check_writable_folder(folder, what):
    """Raise CLIError unless a file can be created in ``folder``."""
    import tempfile

    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        raise CLIError(
            f"{what}: cannot write in folder {folder!r} ({exc.strerror or exc})."
        ) from exc


def _check_out_dir(path, force, data=None):
    """Check --out (a report folder) before any work: the path, the
    overwrite rule, writability and, with ``data`` (class folders), that it is
    not inside the data, where its files would become images of a class on
    the next run. Creates nothing."""
    if not path or not path.strip():
        raise CLIError("--out is empty; give an output folder.")
    if data is not None and os.path.isdir(data):
        out_abs = os.path.realpath(path)
        data_abs = os.path.realpath(data)
        if out_abs == data_abs or out_abs.startswith(data_abs.rstrip(os.sep) + os.sep):
            raise CLIError(
                f"--out {path!r} is inside --data {data!r}: the report's files "
                "would be read as data on the next run; choose a folder outside "
                "the data."
            )
    if os.path.exists(path):
        if not os.path.isdir(path):
            raise CLIError(f"output path {path!r} exists and is not a folder.")
        if os.listdir(path) and not force:
            raise CLIError(
                f"output folder {path!r} already exists and is not empty; "
                "use --force to overwrite its reports."
            )
        _check_writable_folder(path, "--out")
        return
    parent = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):  # the folder would be created with parents
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise CLIError(f"--out {path!r}: {parent!r} is a file, not a folder.")
    _check_writable_folder(parent, "--out")


@contextlib.contextmanager
def _out_dir(path, force, data=None):
    """Create the report folder for a command; remove it again if the
    command fails and the folder did not exist before."""
    import shutil

    _check_out_dir(path, force, data)
    created = None
    if not os.path.exists(path):
        # Remember the top-most folder created, to remove it on failure.
        head = os.path.abspath(path)
        while not os.path.exists(os.path.dirname(head)):
            head = os.path.dirname(head)
        os.makedirs(path)
        created = head
    try:
        yield path
    except BaseException:
        if created is not None:
            shutil.rmtree(created, ignore_errors=True)
        raise


def _prepare_out_dir(path, force):
    """Create the output folder; refuse a non-empty one without --force."""
    _check_out_dir(path, force)
    os.makedirs(path, exist_ok=True)
    return path


def _check_out_file(path, force):
    if not path or not path.strip():
        raise CLIError("--out is empty; give a file name such as model.joblib.")
    if os.path.isdir(path):
        raise CLIError(f"{path!r} is a folder; give a file name such as model.joblib.")
    if os.path.exists(path) and not force:
        raise CLIError(f"{path!r} already exists; use --force to overwrite it.")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise CLIError(f"folder {parent!r} does not exist.")
    if os.path.exists(path) and (
        not os.path.isfile(path) or not os.access(path, os.W_OK)
    ):
        raise CLIError(f"--out {path!r} cannot be overwritten (not a writable file).")
    _check_writable_folder(parent, "--out")


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
    from .neural_network._architectures import (
        _min_input_size,
        resolve_architecture,
    )

    minimum = _min_input_size(resolve_architecture(arch))
    if size < minimum:
        raise CLIError(
            f"--image-size {size} is too small for the {arch} network, which "
            f"needs at least {minimum} pixels.",
            code=2,
        )


# ---------------------------------------------------------------------------
# data
# ---------------------------------------------------------------------------
class _Data:
    """What a command trains or evaluates on."""

    def __init__(self, X, y, target_names, groups=None, is_paths=False,
                 description=""):
        self.X = X
        self.y = y
        self.target_names = list(target_names)
        self.groups = groups
        self.is_paths = is_paths
        self.description = description
        self.pos_label = None
        self.folder_root = None  # --data, when its subfolders are the classes


def _load_data(args):
    import numpy as np

    from .datasets import extract_cells, load_all_idb, load_image_folder

    path = args.data
    if not os.path.exists(path):
        raise CLIError(f"--data: no such file or folder: {path!r}")
    if not os.path.isdir(path):
        raise CLIError(f"--data: {path!r} is not a folder")
    dataset = args.dataset
    bunch = None
    if dataset == "auto":
        dataset, bunch = _detect_layout(path)
    if dataset == "all-idb2":
        if bunch is None:
            bunch = load_all_idb(path, subset="ALL_IDB2", return_images=False)
        data = _Data(np.asarray(bunch.filenames), np.asarray(bunch.target),
                     bunch.target_names, is_paths=True,
                     description=f"ALL_IDB2 at {path}")
    elif dataset == "all-idb1":
        smears = load_all_idb(path, subset="ALL_IDB1", return_images=False)
        cells = extract_cells(smears, random_state=args.random_state)
        data = _Data(cells.images, np.asarray(cells.target), cells.target_names,
                     groups=np.asarray(cells.groups),
                     description=f"cells cut from ALL_IDB1 smears at {path} "
                     "(grouped by source smear)")
    else:
        bunch = load_image_folder(path, return_images=False)
        data = _Data(np.asarray(bunch.filenames), np.asarray(bunch.target),
                     bunch.target_names, is_paths=True,
                     description=f"class folders at {path}")
        data.folder_root = path
    counts = ", ".join(
        f"{name}: {int(np.sum(data.y == k))}"
        for k, name in enumerate(data.target_names)
    )
    data.description += f" -- {len(data.y)} images ({counts})"
    if len(np.unique(data.y)) < 2:
        raise CLIError(f"--data: found only one class in {path!r} ({counts}).")
    data.pos_label = _positive_class(args, data.target_names)
    return data


def _detect_layout(path):
    """``--dataset auto``: ALL_IDB2 or class folders, never a mix.

    Returns ``(dataset, bunch)`` where bunch is the ALL_IDB2 listing when
    that layout was chosen. Both layouts fitting is an error naming both.
    """
    import re
    import warnings

    from .datasets import load_all_idb, load_image_folder

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            idb = load_all_idb(path, subset="ALL_IDB2", return_images=False,
                               on_unexpected="ignore")
        except (ValueError, OSError):
            idb = None
        try:
            folder = load_image_folder(path, return_images=False)
        except (ValueError, OSError):
            folder = None
    if folder is not None:
        named_like_idb = [
            n for n in folder.target_names
            if re.fullmatch(r"all[\s_-]*idb[\s_-]*[12]", n, re.IGNORECASE)
        ]
        n_classes = sum(1 for c in folder.class_counts.values() if c)
        if named_like_idb or n_classes < 2:
            folder = None  # an ALL-IDB copy, or not a class-folder data set
    if idb is not None and folder is not None:
        raise CLIError(
            f"--data {path!r} fits two layouts: ALL_IDB2 ({len(idb.filenames)} "
            f"files named ImXXX_Y) and class folders ({len(folder.filenames)} "
            f"images in {len(folder.target_names)} folders: "
            f"{', '.join(folder.target_names)}); choose one with --dataset "
            "all-idb2 or --dataset folder."
        )
    if idb is not None:
        return "all-idb2", None
    return "folder", None


def _positive_class(args, target_names):
    """The index of --positive-class in target_names, else inferred or None."""
    name = getattr(args, "positive_class", None)
    if name is None:
        return _pos_label(target_names)
    names = [str(n) for n in target_names]
    if name in names:
        return names.index(name)
    lower = [n.lower() for n in names]
    if lower.count(name.lower()) == 1:
        return lower.index(name.lower())
    raise CLIError(
        f"--positive-class {name!r} is not one of the classes "
        f"({', '.join(names)}).",
        code=2,
    )


def _pos_label(target_names):
    """The positive class: the one named like leukemia, else None (unknown)."""
    from .model_selection._report import POSITIVE_CLASS_NAMES

    for k, name in enumerate(target_names):
        if str(name).strip().lower() in POSITIVE_CLASS_NAMES:
            return k
    return None


# ---------------------------------------------------------------------------
# the pipeline
# ---------------------------------------------------------------------------
def _build_pipeline(args, *, reader):
    """skleuk.make_pipeline() with the command-line overrides."""
    _import_tensorflow()
    from . import make_pipeline

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
    ):
        value = getattr(args, option, None)
        if value is not None and not isinstance(value, list):
            kwargs[param] = value
    return make_pipeline(**kwargs)


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], not {text!r}")
    return value


#: Internal folds that choose the threshold of --min-sensitivity.
THRESHOLD_FOLDS = 3


def _with_operating_point(pipe, args, y, target_names):
    """Wrap the pipeline to reach --min-sensitivity (unchanged without it)."""
    target = getattr(args, "min_sensitivity", None)
    if target is None:
        return pipe
    import numpy as np

    from .model_selection import tune_threshold

    labels = np.unique(y)
    if len(labels) != 2:
        raise CLIError(
            f"--min-sensitivity needs two classes; the data has {len(labels)} "
            f"({', '.join(map(str, target_names))})"
        )
    pos = _pos_label(target_names)
    pos_label = labels[-1] if pos is None else labels[pos]
    return tune_threshold(pipe, min_sensitivity=target,
                          pos_label=pos_label.item(), cv=THRESHOLD_FOLDS)


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


# ---------------------------------------------------------------------------
# model files
# ---------------------------------------------------------------------------
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

    from ._version import __version__

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


# ---------------------------------------------------------------------------
# commands
# ---------------------------------------------------------------------------
def _print_report(report):
    print(report.to_text())


#: Figure files a report folder may hold (CrossValidationReport.save_figures).
_FIGURE_FILES = ("confusion_matrix.png", "roc_curve.png", "learning_curves.png",
                 "misclassified.png")


def _run_evaluation(args, pipe, X, y, target_names, groups, out_dir,
                    group_duplicates=False, pos_label=None):
    from .model_selection._evaluate import evaluate

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
    )
    if args.force:
        # Figures of an earlier run must not sit beside the new report.
        for name in _FIGURE_FILES:
            with contextlib.suppress(FileNotFoundError):
                os.remove(os.path.join(out_dir, name))
    written = report.save(out_dir, X=X, figures=not args.no_figures,
                          overwrite=True)
    return report, written


def cmd_demo(args):
    """``skleuk demo``: the default pipeline on synthetic smears."""
    start = time.perf_counter()
    _check_model_args(args)
    with _out_dir(args.out, args.force) as out:
        return _demo(args, out, start)


def _demo(args, out, start):
    # Drawn at twice the CNN's input size: the pipeline crops the white cell
    # and resizes the crop, as it does with real smears.
    from ._pipeline import DEFAULT_IMAGE_SIZE
    from .datasets import make_blood_smears

    side = 2 * (args.image_size or DEFAULT_IMAGE_SIZE)
    data = make_blood_smears(
        n_samples=args.n_samples, image_size=side, random_state=args.random_state,
    )
    pipe = _build_pipeline(args, reader=False)
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
    report, written = _run_evaluation(
        args, pipe, data.images, data.target, data.target_names, None, out
    )
    _print_report(report)
    elapsed = time.perf_counter() - start
    print(f"Wrote {len(written)} files to {out}/ "
          f"({', '.join(sorted(os.path.basename(p) for p in written.values()))}).")
    print(f"Done in {elapsed:.0f} s.")
    return 0


def cmd_evaluate(args):
    """``skleuk evaluate``: cross-validate the pipeline on your images."""
    start = time.perf_counter()
    _check_model_args(args)
    _check_out_dir(args.out, args.force)
    data = _load_data(args)
    with _out_dir(args.out, args.force, data.folder_root) as out:
        return _evaluate(args, data, out, start)


def _evaluate(args, data, out, start):
    pipe = _build_pipeline(args, reader=data.is_paths)
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
    print(f"Wrote {len(written)} files to {out}/. Done in "
          f"{time.perf_counter() - start:.0f} s.")
    return 0


def _fit_with_progress(pipe, X, y, args, desc="training"):
    from .model_selection._evaluate import _epoch_progress

    with _epoch_progress(pipe, not args.quiet, desc):
        pipe.fit(X, y)
    return pipe


def cmd_train(args):
    """``skleuk train``: fit the pipeline on all images and save it."""
    if getattr(args, "screening", False):
        return cmd_train_screening(args)
    _check_out_file(args.out, args.force)
    _check_model_args(args)
    data = _load_data(args)
    pipe = _build_pipeline(args, reader=data.is_paths)
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
    # an existing model file as it was.
    tmp = f"{args.out}.part{os.getpid()}"
    try:
        save_model(
            pipe, tmp, target_names=data.target_names,
            input_kind="paths" if data.is_paths else "images", extra=extra,
        )
        os.replace(tmp, args.out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    print(f"Trained in {elapsed:.0f} s; model saved to {args.out}")
    return 0


def _to_jsonable(d):
    return {str(k): (v if isinstance(v, (int, float, str, bool, type(None)))
                     else str(v)) for k, v in d.items()}


def cmd_grid_search(args):
    """``skleuk grid-search``: optimizer x epochs with cross-validation."""
    start = time.perf_counter()
    _check_model_args(args)
    _check_out_dir(args.out, args.force)
    data = _load_data(args)
    with _out_dir(args.out, args.force, data.folder_root) as out:
        return _grid_search(args, data, out, start)


def _grid_search(args, data, out, start):
    from sklearn.model_selection import (
        GridSearchCV,
        StratifiedGroupKFold,
        StratifiedKFold,
    )

    from .metrics import get_scorers
    from .model_selection._evaluate import _duplicate_groups, _merge_groups

    pipe = _build_pipeline(args, reader=data.is_paths)
    param_grid = {"cnn__optimizer": list(args.optimizers),
                  "cnn__epochs": list(args.epochs)}
    groups = data.groups
    if args.group_duplicates:
        groups = _merge_groups(groups, _duplicate_groups(data.X))
    if groups is not None:
        cv = StratifiedGroupKFold(args.folds, shuffle=True,
                                  random_state=args.random_state)
    else:
        cv = StratifiedKFold(args.folds, shuffle=True, random_state=args.random_state)
    if len(data.target_names) > 2:
        # Multi-class: macro averages and one-vs-rest ROC AUC, as evaluate.
        scorers = get_scorers(average="macro")
    else:
        pos_label = data.pos_label
        if pos_label is None:
            pos_label = len(data.target_names) - 1
            _err(f"warning: no class is named like leukaemia; the positive class "
                 f"is assumed to be {data.target_names[pos_label]!r} (choose it "
                 "with --positive-class)")
        scorers = get_scorers(pos_label=pos_label)
    chosen = {k: scorers[k] for k in ("accuracy", "roc_auc", "sensitivity",
                                       "specificity")}
    n_candidates = len(args.optimizers) * len(args.epochs)
    print(f"Data: {data.description}", flush=True)
    print(f"Grid: optimizer {args.optimizers} x epochs {args.epochs} = "
          f"{n_candidates} candidates x {args.folds} folds", flush=True)

    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        from .model_selection._evaluate import _bar_kwargs

        bar = tqdm(total=n_candidates * args.folds, desc="grid search",
                   unit="fit", **_bar_kwargs())

    def scoring(estimator, X, y):
        scores = {k: s(estimator, X, y) for k, s in chosen.items()}
        if bar is not None:
            bar.set_postfix(acc=f"{scores['accuracy']:.3f}", refresh=False)
            bar.update(1)
        return scores

    search = GridSearchCV(pipe, param_grid, scoring=scoring, refit="accuracy",
                          cv=cv, error_score="raise")
    try:
        search.fit(data.X, data.y, groups=groups)
    finally:
        if bar is not None:
            bar.close()

    res = search.cv_results_
    rows = []
    for i, params in enumerate(res["params"]):
        row = {"optimizer": params["cnn__optimizer"], "epochs": params["cnn__epochs"]}
        for k in chosen:
            row[f"mean_{k}"] = float(res[f"mean_test_{k}"][i])
            row[f"std_{k}"] = float(res[f"std_test_{k}"][i])
        row["rank_accuracy"] = int(res["rank_test_accuracy"][i])
        row["mean_fit_time_s"] = float(res["mean_fit_time"][i])
        rows.append(row)
    rows.sort(key=lambda r: (r["rank_accuracy"], -r["mean_roc_auc"]))
    csv_path = os.path.join(out, "grid_search_results.csv")
    with open(csv_path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    best = search.best_params_
    json_path = os.path.join(out, "grid_search_results.json")
    with open(json_path, "w", encoding="utf-8") as fh:
        json.dump(
            {"data": data.description, "folds": args.folds,
             "scoring": list(chosen), "refit": "accuracy",
             "best_params": {"optimizer": best["cnn__optimizer"],
                             "epochs": best["cnn__epochs"]},
             "results": rows},
            fh, indent=1,
        )
    model_path = os.path.join(out, "best_model.joblib")
    best_est = search.best_estimator_
    save_model(best_est, model_path, target_names=data.target_names,
               input_kind="paths" if data.is_paths else "images",
               extra={"data": data.description,
                      "grid_search": {"optimizer": best["cnn__optimizer"],
                                      "epochs": best["cnn__epochs"]}})

    header = ["optimizer", "epochs", "accuracy", "ROC AUC", "sensitivity",
              "specificity", "rank"]
    lines = []
    for r in rows:
        lines.append([
            str(r["optimizer"]), str(r["epochs"]),
            f"{r['mean_accuracy']:.3f} ± {r['std_accuracy']:.3f}",
            f"{r['mean_roc_auc']:.3f} ± {r['std_roc_auc']:.3f}",
            f"{r['mean_sensitivity']:.3f} ± {r['std_sensitivity']:.3f}",
            f"{r['mean_specificity']:.3f} ± {r['std_specificity']:.3f}",
            str(r["rank_accuracy"]),
        ])
    widths = [max(len(x) for x in col) for col in zip(header, *lines, strict=True)]
    print("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    for line in lines:
        print("  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)))
    print(f"Best: optimizer {best['cnn__optimizer']}, epochs {best['cnn__epochs']} "
          f"(accuracy {search.best_score_:.3f}); refitted on all images.")
    print(f"Wrote {csv_path}, {json_path} and {model_path}. Done in "
          f"{time.perf_counter() - start:.0f} s.")
    return 0


def _expand_inputs(inputs):
    """Image files named on the command line, folders walked recursively."""
    from .datasets import IMAGE_EXTENSIONS
    from .utils._image_io import _walk_files, _warn_skipped

    files = []
    for item in inputs:
        if os.path.isdir(item):
            # The loaders' walker: symlinks followed (cycle guard), FIFOs,
            # devices and sockets skipped with a warning.
            regular, skipped, _ = _walk_files(item)
            _warn_skipped(skipped, item)
            found = [f for f in regular
                     if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
            if not found:
                raise CLIError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) "
                               f"in folder {item!r}")
            files += sorted(found)
        elif os.path.exists(item):
            files.append(item)
        else:
            raise CLIError(f"no such file or folder: {item!r}")
    return files


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


def _predict_batch(model, paths):
    """(pred_index, prob, probas) per path; raises ImageReadError on bad files."""
    import numpy as np

    est = model["estimator"]
    if model["input"] == "paths":
        X = np.asarray(paths, dtype=object)
    else:
        from .datasets import read_images

        size = model["extra"].get("image_size")
        X = read_images(paths, size=size)
    classes = list(model["classes"])
    if hasattr(est, "predict_proba"):
        proba = np.asarray(est.predict_proba(X), dtype=float)
        est_classes = list(getattr(est, "classes_", classes))
        idx = proba.argmax(axis=1)
        if hasattr(est, "best_threshold_") or hasattr(est, "threshold"):
            # A tuned operating point (--min-sensitivity): predict() decides.
            idx = np.array([est_classes.index(lab) for lab in est.predict(X)])
        pred = [classes.index(est_classes[i]) for i in idx]
        return [(p, float(proba[j, i]), proba[j]) for j, (p, i)
                in enumerate(zip(pred, idx, strict=True))]
    labels = est.predict(X)
    return [(classes.index(lab), None, None) for lab in labels]


def cmd_predict(args):
    """``skleuk predict``: classify images with a saved model."""
    from .datasets import ImageReadError

    files = _expand_inputs(args.inputs)
    _import_tensorflow()
    try:
        model = load_model(args.model)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from exc
    names = model["target_names"]
    writer = _Writer(args.format, names, sys.stdout)
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        from .model_selection._evaluate import _bar_kwargs

        bar = tqdm(total=len(files), desc="predicting", unit="image",
                   **_bar_kwargs())
    failed = 0
    try:
        for start in range(0, len(files), args.batch_size):
            batch = files[start:start + args.batch_size]
            try:
                results = list(zip(batch, _predict_batch(model, batch), strict=True))
            except ImageReadError:
                # Find the unreadable file(s); predict the others one by one.
                results = []
                for path in batch:
                    try:
                        results.append((path, _predict_batch(model, [path])[0]))
                    except ImageReadError as exc:
                        failed += 1
                        if bar is not None:
                            bar.clear()
                        _err(f"warning: skipped {path}: {exc}")
            for path, (k, prob, probas) in results:
                writer.write(path, names[k], prob, probas)
            if bar is not None:
                bar.update(len(batch))
    finally:
        writer.close()
        if bar is not None:
            bar.close()
    if failed:
        _err(f"error: {failed} of {len(files)} image(s) could not be read")
        return 1
    return 0


# ---------------------------------------------------------------------------
# whole-smear screening (skleuk screen, skleuk train --screening)
# ---------------------------------------------------------------------------
_HEALTHY_NAMES = ("healthy", "benign", "normal", "negative", "0")


def _healthy_index(target_names):
    """The healthy class: the one named like it, else the first."""
    for k, name in enumerate(target_names):
        if str(name).lower() in _HEALTHY_NAMES:
            return k
    return 0


def cmd_train_screening(args):
    """``skleuk train --screening``: fit a SmearScreener on labelled smears."""
    import numpy as np

    from .datasets import load_image_folder
    from .screening import SmearScreener

    _check_out_file(args.out, args.force)
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
    healthy = _healthy_index(names)
    cells = _build_pipeline(args, reader=False)
    screener = SmearScreener(cells, healthy_label=healthy,
                             random_state=args.random_state)
    counts = ", ".join(f"{n}: {int(np.sum(y == k))}" for k, n in enumerate(names))
    print(f"Data: smears with image-level labels at {path} -- {len(y)} smears "
          f"({counts}); healthy class: {names[healthy]}", flush=True)
    start = time.perf_counter()
    screener.fit(list(bunch.filenames), y)
    elapsed = time.perf_counter() - start
    save_model(
        screener, args.out, target_names=names, input_kind="smears",
        extra={"data": f"smears at {path}", "fit_time_s": round(elapsed, 1),
               "aggregation": screener.aggregation_,
               "threshold": float(screener.threshold_),
               "n_cells": screener.n_cells_fit_},
    )
    print(f"Trained on {screener.n_cells_fit_} cells in {elapsed:.0f} s "
          f"(aggregation {screener.aggregation_}); model saved to {args.out}")
    return 0


def _overlay_name(path, used):
    stem = os.path.splitext(os.path.basename(path))[0]
    name, k = f"{stem}.png", 1
    while name in used:
        k += 1
        name = f"{stem}_{k}.png"
    used.add(name)
    return name


def cmd_screen(args):
    """``skleuk screen``: find, classify and count the cells of smears."""
    from .datasets import ImageReadError
    from .screening import SmearScreener

    files = _expand_inputs(args.inputs)
    try:
        model = load_model(args.model)
    except FileNotFoundError as exc:
        raise CLIError(str(exc)) from exc
    screener = model["estimator"]
    if not isinstance(screener, SmearScreener):
        raise CLIError(f"{args.model!r} is a cell classifier, not a screening "
                       "model; train one with 'skleuk train --screening'.")
    names = model["target_names"]
    classes = list(screener.classes_)
    cells_csv = os.path.join(args.out, "cells.csv")
    smears_csv = os.path.join(args.out, "smears.csv")
    if os.path.isdir(args.out) and not args.force:
        taken = [p for p in (cells_csv, smears_csv, os.path.join(args.out, "overlays"))
                 if os.path.exists(p)]
        if taken:
            raise CLIError(f"{taken[0]!r} already exists; use --force to "
                           "overwrite the screening results in "
                           f"{args.out!r}.")
    os.makedirs(args.out, exist_ok=True)
    overlays = None if args.no_overlays else os.path.join(args.out, "overlays")
    if overlays:
        os.makedirs(overlays, exist_ok=True)
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        from .plotting import plot_screening
    bar = None
    if not args.quiet:
        from tqdm.auto import tqdm

        from .model_selection._evaluate import _bar_kwargs

        bar = tqdm(total=len(files), desc="screening", unit="smear",
                   **_bar_kwargs())
    failed, used = 0, set()
    with open(cells_csv, "w", newline="") as fc, \
            open(smears_csv, "w", newline="") as fs:
        wc = csv.writer(fc, lineterminator="\n")
        ws = csv.writer(fs, lineterminator="\n")
        wc.writerow(["file", "cell", "row", "col", "row_min", "col_min",
                     "row_max", "col_max", "border", "overlap", "probability",
                     "class"])
        ws.writerow(["file", "n_cells", "blast_count", "blast_fraction",
                     "verdict", "probability", "overlay"])
        try:
            for path in files:
                # One smear at a time: memory stays bounded for any count.
                try:
                    res = screener.screen([path])[0]
                except (ImageReadError, ValueError, TypeError) as exc:
                    failed += 1
                    if bar is not None:
                        bar.clear()
                    _err(f"warning: skipped {path}: {exc}")
                    if bar is not None:
                        bar.update(1)
                    continue
                p_blast = 1.0 - res.probabilities[:, res.healthy_column]
                for k in range(len(res.centres)):
                    r, c = res.centres[k]
                    wc.writerow([path, k, f"{r:.1f}", f"{c:.1f}",
                                 *(f"{v:.0f}" for v in res.boxes[k]),
                                 int(res.border[k]), int(res.overlap[k]),
                                 f"{p_blast[k]:.6f}",
                                 names[int(res.probabilities[k].argmax())]])
                verdict = (names[classes.index(res.verdict)] if res.found
                           else res.verdict)
                overlay = ""
                if overlays:
                    overlay = os.path.join(overlays, _overlay_name(path, used))
                    shown = dict(res)
                    shown["verdict"] = verdict
                    fig = plot_screening(shown)
                    fig.savefig(overlay, dpi=args.dpi)
                    plt.close(fig)
                ws.writerow([path, len(res.centres), res.blast_count,
                             "" if not res.found else f"{res.blast_fraction:.4f}",
                             verdict,
                             "" if not res.found else f"{res.probability:.6f}",
                             overlay])
                fc.flush()
                fs.flush()
                if bar is not None:
                    bar.update(1)
        finally:
            if bar is not None:
                bar.close()
    print(f"Wrote {cells_csv} and {smears_csv}"
          + (f" and overlays in {overlays}" if overlays else "") + ".")
    if failed:
        _err(f"error: {failed} of {len(files)} smear(s) could not be screened")
        return 1
    return 0


def cmd_version(args):
    """``skleuk version``."""
    from ._version import __version__

    print(f"skleuk {__version__}")
    return 0


def cmd_show_versions(args):
    """``skleuk show-versions``: versions of Python and the dependencies."""
    from .utils import show_versions

    show_versions()
    return 0


# ---------------------------------------------------------------------------
# argument parser
# ---------------------------------------------------------------------------
def _add_common(p):
    p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="show the Python traceback of errors")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="no progress bars")


def _add_model_options(p, *, grid=False, demo=False):
    from ._pipeline import DEFAULT_IMAGE_SIZE

    g = p.add_argument_group("model (defaults: those of skleuk.make_pipeline)")
    if not grid:
        g.add_argument("--optimizer", choices=["adam", "sgd"], default=None,
                       help="optimizer of the CNN")
        g.add_argument(
            "--epochs", type=_positive_int, metavar="N",
            default=DEMO_DEFAULTS["epochs"] if demo else None,
            help="training epochs (default: the recipe's)",
        )
    g.add_argument("--recipe", choices=["default", "paper"], default=None,
                   help="the pipeline's recipe: 'default' (chosen on real "
                   "smears) or 'paper' (Alkhouli & Joshi's system as "
                   "published; see skleuk.make_pipeline)")
    g.add_argument("--architecture", choices=["paper", "light"], default=None,
                   help="CNN architecture (default: the recipe's)")
    g.add_argument(
        "--image-size", type=_image_size, metavar="S",
        default=DEMO_DEFAULTS["image_size"] if demo else None,
        help="side of the square images the CNN sees, in pixels, at least 19 for "
        f"the paper network (default: the recipe's, {DEFAULT_IMAGE_SIZE} for "
        "the default one)"
        + ("; the synthetic smears are drawn at twice this size" if demo else ""),
    )
    g.add_argument("--batch-size", type=_positive_int, default=None, metavar="N",
                   help="training mini-batch size")
    g.add_argument("--random-state", type=_seed, default=0, metavar="SEED",
                   help="seed of the folds and of the network (default: 0)")


def _add_operating_point_option(p):
    p.add_argument(
        "--min-sensitivity", type=_probability, default=None, metavar="S",
        help="two classes only: move the decision threshold so that the "
        "sensitivity (recall of the disease class) reaches S, e.g. 0.98; the "
        f"threshold is chosen by {THRESHOLD_FOLDS}-fold cross-validation on the "
        "training images only (in 'evaluate', inside each training fold) and "
        "may miss S on new images (default: threshold 0.5)")


def _add_data_options(p):
    g = p.add_argument_group("data")
    g.add_argument("--data", required=True, metavar="PATH",
                   help="folder with the images: ALL-IDB (any level above "
                   "ALL_IDB1/ALL_IDB2) or one subfolder per class")
    g.add_argument("--dataset", default="auto",
                   choices=["auto", "all-idb2", "all-idb1", "folder"],
                   help="layout of --data: all-idb2 single-cell crops, all-idb1 "
                   "smears (cells are cut out and grouped by smear), folder: "
                   "one subfolder per class; auto: ALL_IDB2 if found, else folder, "
                   "an error if both fit (default: auto)")


def _add_cv_options(p):
    g = p.add_argument_group("cross-validation")
    g.add_argument("--positive-class", default=None, metavar="NAME",
                   help="class whose sensitivity, specificity and ROC AUC are "
                   "reported (two classes; default: the class named like "
                   "leukaemia -- ALL, blast, leukemia -- else the last one, "
                   "marked ASSUMED in the report)")
    g.add_argument("--folds", type=_folds_int, default=5, metavar="K",
                   help="number of folds (default: 5)")
    g.add_argument("--group-duplicates", action="store_true",
                   help="keep near-duplicate images in the same fold")
    return g


def build_parser():
    """Build the ``skleuk`` argument parser.

    Returns
    -------
    parser : argparse.ArgumentParser

    Examples
    --------
    >>> from skleuk.cli import build_parser
    >>> args = build_parser().parse_args(["demo", "--epochs", "2"])
    >>> args.command, args.epochs
    ('demo', 2)
    """
    from ._version import __version__
    from .utils._image_io import DEFAULT_MAX_IMAGE_PIXELS

    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Detect Acute Lymphoblastic Leukemia in blood smear images "
        "with a lightweight CNN (Alkhouli & Joshi), scikit-learn style.",
        epilog="Start with 'skleuk demo'. Run 'skleuk COMMAND --help' for the "
        "options of a command.",
    )
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name, func, help_, description=None):
        p = sub.add_parser(name, help=help_, description=description or help_,
)
        p.set_defaults(func=func)
        _add_common(p)
        return p

    p = add("demo", cmd_demo,
            "cross-validate the default pipeline on built-in synthetic smears",
            "Generate synthetic blood smear images, cross-validate the default "
            "pipeline (skleuk.make_pipeline) on them and write the report "
            "(text, Markdown, HTML, JSON) and figures to --out. By default: 260 "
            "images and the pipeline's own defaults (about five minutes on 2 CPU "
            "cores).")
    p.add_argument("--out", default="skleuk-demo", metavar="DIR",
                   help="output folder (default: skleuk-demo)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    p.add_argument("--n-samples", type=_positive_int, metavar="N",
                   default=DEMO_DEFAULTS["n_samples"],
                   help="number of images (default: %(default)s)")
    p.add_argument("--folds", type=_folds_int, default=DEMO_DEFAULTS["folds"],
                   metavar="K", help="number of folds (default: %(default)s)")
    p.add_argument("--repeats", type=_positive_int, default=1, metavar="N",
                   help="repetitions of the cross-validation (default: 1)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    _add_model_options(p, demo=True)

    p = add("evaluate", cmd_evaluate,
            "cross-validate the pipeline on your images and write a report",
            "Cross-validate the default pipeline on a local copy of ALL-IDB or a "
            "class-per-folder image tree; write the report and figures to --out.")
    _add_data_options(p)
    g = _add_cv_options(p)
    g.add_argument("--repeats", type=_positive_int, default=1, metavar="N",
                   help="repetitions of the cross-validation, reshuffled "
                   "(default: 1)")
    p.add_argument("--out", default="skleuk-report", metavar="DIR",
                   help="output folder (default: skleuk-report)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    p.add_argument("--no-figures", action="store_true", help="skip the figures")
    _add_model_options(p)
    _add_operating_point_option(p)

    p = add("train", cmd_train,
            "fit the pipeline on all your images and save the model",
            "Fit the default pipeline on all images of --data and save it to "
            "--out for 'skleuk predict'.")
    _add_data_options(p)
    p.add_argument("--out", default="skleuk-model.joblib", metavar="FILE",
                   help="model file to write (default: skleuk-model.joblib)")
    p.add_argument("--force", action="store_true",
                   help="overwrite an existing model file")
    p.add_argument("--screening", action="store_true",
                   help="fit a whole-smear screener (skleuk.screening."
                   "SmearScreener) for 'skleuk screen': --data holds one "
                   "subfolder per class of whole smears (image-level labels); "
                   "every white cell inherits its smear's label")
    _add_model_options(p)
    _add_operating_point_option(p)

    p = add("grid-search", cmd_grid_search,
            "choose optimizer and epochs by cross-validated grid search",
            "Grid-search the optimizer and the number of epochs with "
            "(grouped) stratified cross-validation, scoring accuracy, ROC AUC, "
            "sensitivity and specificity; refit the best (by accuracy) on all "
            "images. Writes grid_search_results.csv/.json and best_model.joblib "
            "to --out.")
    _add_data_options(p)
    _add_cv_options(p)
    g = p.add_argument_group("grid")
    g.add_argument("--optimizers", nargs="+", choices=["adam", "sgd"],
                   default=["sgd", "adam"], metavar="OPT",
                   help="optimizers to try, among adam and sgd (default: sgd adam)")
    g.add_argument("--epochs", nargs="+", type=_positive_int, default=[10, 30],
                   metavar="N", help="numbers of epochs to try (default: 10 30)")
    p.add_argument("--out", default="skleuk-grid-search", metavar="DIR",
                   help="output folder (default: skleuk-grid-search)")
    p.add_argument("--force", action="store_true",
                   help="write into an existing, non-empty --out (its report "
                   "files and figures are replaced, other files kept)")
    _add_model_options(p, grid=True)

    p = add("predict", cmd_predict,
            "classify images with a saved model",
            "Print one line per image: file, predicted class and its "
            "probability. Folders are searched recursively (symbolic links "
            "followed). Images are read --batch-size at a time, so any number "
            "of images fits in memory; an image over the pixel limit "
            f"({DEFAULT_MAX_IMAGE_PIXELS:,}, environment variable "
            "SKLEUK_MAX_IMAGE_PIXELS) is skipped with a warning before it is "
            "decoded. "
            "The model file is unpickled: only use model files you trust.")
    p.add_argument("model", help="model file from 'skleuk train'")
    p.add_argument("inputs", nargs="+", metavar="IMAGE_OR_FOLDER",
                   help="image files or folders")
    p.add_argument("--format", choices=["text", "csv", "json"], default="text",
                   help="output format; text is tab-separated (default: text)")
    p.add_argument("--batch-size", type=_positive_int, default=32, metavar="N",
                   help="images read and classified at a time (default: 32)")

    p = add("screen", cmd_screen,
            "find, classify and count every white cell of whole smears",
            "Screen whole smears with a model from 'skleuk train --screening': "
            "every white cell is located and classified. Writes to --out "
            "cells.csv (file, cell, row, col, box, border/overlap flags, "
            "blast probability, class), smears.csv (cell and blast counts, "
            "verdict and its probability; 'no white cell found' when none) and "
            "one overlay PNG per smear in overlays/. Folders are searched "
            "recursively; smears are screened one at a time, so any number "
            "fits in memory. Only use model files you trust.")
    p.add_argument("model", help="model file from 'skleuk train --screening'")
    p.add_argument("inputs", nargs="+", metavar="SMEAR_OR_FOLDER",
                   help="smear image files or folders")
    p.add_argument("--out", default="skleuk-screening", metavar="DIR",
                   help="output folder (default: skleuk-screening)")
    p.add_argument("--force", action="store_true",
                   help="overwrite earlier screening results in --out")
    p.add_argument("--no-overlays", action="store_true",
                   help="skip the overlay PNGs")
    p.add_argument("--dpi", type=_positive_int, default=100, metavar="N",
                   help="resolution of the overlays (default: 100)")

    p = add("version", cmd_version, "print the skleuk version")
    p = add("show-versions", cmd_show_versions,
            "print the versions of Python and of skleuk's dependencies "
            "(for bug reports)")
    return parser


def main(argv=None):
    """Run the ``skleuk`` command.

    Parameters
    ----------
    argv : list of str, default=None
        The arguments (default: ``sys.argv[1:]``).

    Returns
    -------
    status : int
        0 on success, 1 for a data or file error, 2 for a usage error.

    Examples
    --------
    >>> from skleuk.cli import main
    >>> main(["version"])  # doctest: +ELLIPSIS
    skleuk ...
    0
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version or a usage error
        return int(exc.code or 0) if not isinstance(exc.code, str) else 2
    debug = getattr(args, "debug", False)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    try:
        with _one_line_warnings():
            return int(args.func(args) or 0)
    except CLIError as exc:
        if debug:
            traceback.print_exc()
        _err(f"error: {exc}")
        return exc.code
    except KeyboardInterrupt:
        _err("interrupted")
        return 130
    except BrokenPipeError:  # e.g. 'skleuk predict ... | head'
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")
        return 1
    except MemoryError:
        if debug:
            traceback.print_exc()
        _err("error: out of memory; use fewer or smaller images (--image-size)")
        return 1
    except Exception as exc:  # one line for the user
        if debug:
            traceback.print_exc()
        known = isinstance(exc, (ValueError, OSError, TypeError))
        prefix = "" if known else f"{type(exc).__name__}: "
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else (
            type(exc).__name__)
        hint = "" if debug else " (run with --debug for details)"
        _err(f"error: {prefix}{message}{hint}")
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
