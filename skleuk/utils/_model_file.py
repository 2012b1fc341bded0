"""The skleuk model file: a fitted estimator with what it needs to be used.

A model file is a :mod:`joblib` file holding one dict (the *envelope*):
the estimator, its class names, what it takes as input, the skleuk version
and date that wrote it, and free-form metadata. ``skleuk train`` writes it,
``skleuk predict``/``screen`` read it; in Python :func:`save_model` and
:func:`load_model` do the same.

:func:`load_model` reads the file through an allow-list of types
(``skleuk/utils/_safe_pickle.py``): a file holding anything but
scikit-learn, NumPy, Keras and skleuk types is refused before any of its
code runs, unless the caller trusts it.
"""

from __future__ import annotations

import contextlib
import os
import time

__all__ = ["MODEL_FORMAT", "MODEL_FORMAT_VERSION", "load_model", "save_model"]

#: The ``format`` key of every envelope.
MODEL_FORMAT = "skleuk-model"

#: Version of the envelope's layout; a newer file is refused by an older
#: skleuk.
MODEL_FORMAT_VERSION = 1

_INPUT_KINDS = ("paths", "images", "smears")


def save_model(estimator, path, *, target_names=None, input_kind="paths",
               extra=None, overwrite=False):
    """Save a fitted estimator as a skleuk model file.

    The file is a :mod:`joblib` file (compressed) of a dict holding the
    estimator, its class names, what it takes as input, the skleuk version
    and the date, so that :func:`load_model` and ``skleuk predict`` can
    check it before use. It is written beside ``path`` and moved into
    place: a failed save (a full disk) leaves no partial file and an
    existing file as it was.

    Parameters
    ----------
    estimator : fitted classifier or Pipeline
        Usually a fitted :func:`skleuk.make_pipeline` or
        :class:`skleuk.screening.SmearScreener`.
    path : str or path-like
        Output file (``.joblib``).
    target_names : list of str, default=None
        Display names of ``estimator.classes_`` (default: the classes as
        strings).
    input_kind : {"paths", "images", "smears"}, default="paths"
        What the estimator takes: file paths (it starts with an
        :class:`~skleuk.preprocessing.ImageReader`), image arrays, or whole
        smears (a :class:`~skleuk.screening.SmearScreener`).
    extra : dict, default=None
        Anything else to record (training data, settings, scores); plain
        Python values.
    overwrite : bool, default=False
        Replace an existing file. By default an existing ``path`` is an
        error: nothing saved is overwritten without being asked.

    Returns
    -------
    path : str

    Raises
    ------
    FileExistsError
        If ``path`` exists and ``overwrite`` is False.

    See Also
    --------
    load_model : Read the file back, without running code from it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn.dummy import DummyClassifier
    >>> import skleuk
    >>> clf = DummyClassifier().fit(np.zeros((4, 1)), [0, 1, 1, 1])
    >>> path = os.path.join(tempfile.mkdtemp(), "model.joblib")
    >>> _ = skleuk.save_model(clf, path, input_kind="images")
    >>> skleuk.load_model(path).target_names
    ['0', '1']
    """
    import joblib

    from .._version import __version__

    path = os.fspath(path)
    if input_kind not in _INPUT_KINDS:
        raise ValueError(
            f"input_kind must be one of {_INPUT_KINDS}, got {input_kind!r}.")
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(
            f"{path!r} already exists; pass overwrite=True to replace it.")
    classes = list(getattr(estimator, "classes_", []))
    if target_names is None:
        target_names = [str(c) for c in classes]
    envelope = {
        "format": MODEL_FORMAT,
        "format_version": MODEL_FORMAT_VERSION,
        "skleuk_version": __version__,
        "estimator": estimator,
        "classes": classes,
        "target_names": [str(n) for n in target_names],
        "input": input_kind,
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "extra": dict(extra or {}),
    }
    folder = os.path.dirname(os.path.abspath(path))
    tmp = os.path.join(folder, f".{os.path.basename(path)}.part{os.getpid()}")
    try:
        joblib.dump(envelope, tmp, compress=3)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
    return path


def _not_model(path):
    return f"{path!r} is not a skleuk model (make one with 'skleuk train')"


def _read_envelope(path, trusted):
    """The unpickled content of ``path``; ValueError for anything that is
    not a readable joblib file (UntrustedTypeError passes through)."""
    import pickle

    from ._safe_pickle import UntrustedTypeError, load_joblib

    try:
        return load_joblib(path, trusted=trusted)
    except (MemoryError, UntrustedTypeError):
        raise
    except PermissionError as exc:
        raise PermissionError(
            f"cannot read model file {path!r}: permission denied") from exc
    except Exception as exc:  # corrupt pickle or compressed stream (zlib.error)
        kind = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        if not isinstance(exc, pickle.UnpicklingError) and type(exc).__module__ in (
                "zlib", "lzma", "bz2", "_lzma", "_bz2"):
            kind = f"the compressed data is corrupt ({exc})"
        raise ValueError(f"{_not_model(path)}: {kind.splitlines()[0]}") from exc


def _is_classifier(est):
    from sklearn.base import is_classifier

    try:
        return is_classifier(est)
    except Exception:  # not an estimator at all (sklearn >= 1.6 raises)
        return False


def load_model(path, *, trusted=False):
    """Load and check a skleuk model file, without running code from it.

    The file is read through an allow-list of types: scikit-learn
    estimators and their helpers, NumPy arrays, Keras networks as Keras
    saves them (loaded with ``safe_mode=True``) and skleuk's estimators.
    A file holding anything else -- a function or class of another module,
    ``os.system`` in a hostile file -- is refused **before** any of it is
    imported or run, with the names it holds; load it with ``trusted`` only
    if you trust where it came from.

    Parameters
    ----------
    path : str or path-like
        The model file (from :func:`save_model` or ``skleuk train``).
    trusted : bool or list of str, default=False
        ``False``: the allow-list only. A list of ``"module.name"``
        strings: allow those functions or classes too (e.g. your own
        transformer). ``True``: trust the file completely; it is loaded
        with :func:`joblib.load`, which runs whatever the file says.

    Returns
    -------
    model : :class:`~sklearn.utils.Bunch`
        Keys (also attributes) ``estimator`` (the fitted estimator),
        ``classes``, ``target_names``, ``input`` (``"paths"``,
        ``"images"`` or ``"smears"``), ``skleuk_version``, ``created``,
        ``extra``.

    Raises
    ------
    FileNotFoundError
        If there is no such file.
    PermissionError
        If the file cannot be read (the message says "permission denied").
    skleuk.exceptions.UntrustedModelError
        If the file holds a type that is not allowed (a
        :class:`ValueError`; ``types`` lists them).
    ValueError
        If the file is not a fitted skleuk model.

    See Also
    --------
    save_model : Write a model file.

    Notes
    -----
    Only skleuk model files are read this way. ``joblib.load`` of a model
    you saved with ``joblib.dump`` works as it always has, and runs any
    code the file holds: only load files you trust (:ref:`persistence`).

    Examples
    --------
    >>> import skleuk
    >>> try:
    ...     skleuk.load_model("no_such_model.joblib")
    ... except FileNotFoundError as exc:
    ...     print(exc)
    model file not found: 'no_such_model.joblib'
    """
    from sklearn.exceptions import NotFittedError
    from sklearn.utils import Bunch
    from sklearn.utils.validation import check_is_fitted

    from ..exceptions import UntrustedModelError
    from ._safe_pickle import UntrustedTypeError

    path = os.fspath(path)
    if not os.path.lexists(path):
        raise FileNotFoundError(f"model file not found: {path!r}")
    if os.path.isdir(path):
        raise ValueError(f"{path!r} is a folder, not a skleuk model file")
    if not os.path.exists(path):
        raise FileNotFoundError(f"model file not found: {path!r} (a broken link)")
    try:
        model = _read_envelope(path, trusted)
    except UntrustedTypeError as exc:
        raise UntrustedModelError(exc.types, path) from None
    if not isinstance(model, dict) or model.get("format") != MODEL_FORMAT:
        raise ValueError(_not_model(path))
    if model.get("format_version", 0) > MODEL_FORMAT_VERSION:
        raise ValueError(
            f"{path!r} was written by a newer skleuk "
            f"({model.get('skleuk_version')}); upgrade skleuk to use it."
        )
    est = model.get("estimator")
    if est is None or not _is_classifier(est):
        raise ValueError(f"{_not_model(path)}: it holds no classifier")
    try:
        check_is_fitted(est)
    except NotFittedError as exc:
        raise ValueError(f"{_not_model(path)}: the classifier is not fitted") from exc
    model.setdefault("classes", list(getattr(est, "classes_", [])))
    model.setdefault("target_names", [str(c) for c in model["classes"]])
    model.setdefault("input", "paths")
    model.setdefault("extra", {})
    return Bunch(**model)
