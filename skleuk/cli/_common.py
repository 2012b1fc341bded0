"""Shared helpers of the command line.

Errors, one-line warnings, argument types and output folders.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import sys

PROG = "skleuk"


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


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the command is, so that it stops as on Ctrl-C
    (an interrupted ``screen`` marks its results incomplete)."""


@contextlib.contextmanager
def _terminate_as_interrupt():
    """Turn SIGTERM into :class:`Terminated` while a command runs (main
    thread only; the previous handler is restored)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _err(msg):
    """Print ``skleuk: msg`` as one line: control characters (a newline in
    a file name) are written escaped (``\\n``)."""
    import re

    msg = re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(msg))
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


def _n_jobs(text):
    """A joblib ``n_jobs``: a positive integer, or -1 for every core."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1 and value != -1:
        raise argparse.ArgumentTypeError(
            f"expected a positive integer or -1 (every core), got {text!r}"
        )
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


def _dpi(text):
    value = _positive_int(text)
    if not 10 <= value <= 600:
        raise argparse.ArgumentTypeError(
            f"expected a resolution from 10 to 600 dots per inch, got {text}")
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


def _folders(data):
    """``data`` (None, a folder, or a list of folders: --data repeated) as
    a list."""
    if data is None:
        return []
    return [data] if isinstance(data, (str, os.PathLike)) else list(data)


def _check_out_dir(path, force, data=None):
    """Check --out (a report folder) before any work: the path, the
    overwrite rule, writability and, with ``data`` (class folders), that it is
    not inside the data, where its files would become images of a class on
    the next run. Creates nothing."""
    if not path or not path.strip():
        raise CLIError("--out is empty; give an output folder.")
    for folder in _folders(data):
        if os.path.isdir(folder) and _inside(path, folder):
            raise CLIError(
                f"--out {path!r} is inside --data {folder!r}: the report's files "
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


def _inside(path, folder):
    """Whether ``path`` is ``folder`` or lies below it (links resolved)."""
    path = os.path.realpath(path)
    folder = os.path.realpath(folder).rstrip(os.sep)
    return path == folder or path.startswith(folder + os.sep)


def _check_out_file(path, force, data=None):
    """Check --out (a file) before any work; with ``data`` (a folder of
    images), refuse a file inside it, where it would be read as data."""
    if not path or not path.strip():
        raise CLIError("--out is empty; give a file name such as model.joblib.")
    for folder in _folders(data):
        if os.path.isdir(folder) and _inside(path, folder):
            raise CLIError(
                f"--out {path!r} is inside --data {folder!r}: the model file "
                "would sit among the training images; choose a file outside "
                "the data.")
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


def _probability(text):
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not 0 < value <= 1:
        raise argparse.ArgumentTypeError(f"must be a number in (0, 1], not {text!r}")
    return value


def _to_jsonable(d):
    return {str(k): (v if isinstance(v, (int, float, str, bool, type(None)))
                     else str(v)) for k, v in d.items()}
