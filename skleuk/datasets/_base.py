"""The flow every loader shares: check the arguments, find the image files,
read them, finish the Bunch.

One rule for hidden files (:func:`is_hidden`), one folder walker (the
symlink-following :func:`skleuk.utils._walk._walk_files`), one size and
padding check and one way to end a loader (``DESCR``, ``verbose``,
``return_X_y``). :func:`~skleuk.datasets.load_image_folder`,
:func:`~skleuk.datasets.load_all_idb` and
:func:`~skleuk.datasets.extract_cells` use them; a new loader should too.
"""

from __future__ import annotations

import hashlib
import os
from collections import Counter

import numpy as np

from ..utils._image_io import (
    _PAD_MODES,
    IMAGE_EXTENSIONS,
    _check_size,
    _is_hidden,
    _walk_files,
    _warn_skipped,
    read_images,
)

__all__ = []


def is_hidden(name):
    """Whether a file or folder name is left out of every data set.

    Dot files and folders (``.DS_Store``, ``.git``, the macOS ``._name.jpg``
    resource forks, which carry an image extension but are not images),
    ``__MACOSX`` (the forks' folder in archives made on a Mac) and
    ``__pycache__``. The same rule for every loader and for the command
    line.
    """
    return _is_hidden(name)


def is_image_file(path):
    """Whether ``path`` has one of :data:`IMAGE_EXTENSIONS` (any case)."""
    return os.path.splitext(str(path))[1].lower() in IMAGE_EXTENSIONS


def check_pad_mode(pad_mode):
    """Raise a ValueError unless ``pad_mode`` is one of ``PAD_MODES``."""
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}.")


def check_loader_params(size, pad_mode):
    """Validate the ``size`` and ``pad_mode`` every loader takes; return size."""
    size = _check_size(size)
    check_pad_mode(pad_mode)
    return size


def check_folder(path, *, name, what, file_hint):
    """The absolute path of an existing folder, else one clear error.

    ``name`` is the argument's name, ``what`` what the folder holds (for
    "... does not exist") and ``file_hint`` the message when it is a file.
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name} must be a folder path, got {type(path).__name__}.")
    root = os.path.abspath(os.fspath(path))
    if not os.path.exists(root):
        raise FileNotFoundError(f"{what} {root!r} does not exist.")
    if not os.path.isdir(root):
        raise NotADirectoryError(file_hint.format(root=root))
    return root


def list_files(root, *, warn=True, stacklevel=4):
    """Every regular, non-hidden file below ``root``, sorted.

    Symbolic links to files and folders are followed (a folder reached twice
    is walked once). FIFOs, devices, sockets and broken links are left out
    with one warning (``warn=True``) or returned apart.

    Returns
    -------
    files : list of str
    skipped : list of str
        The special files and broken links left out.
    n_hidden : int
        Hidden files left out (see :func:`is_hidden`).
    """
    files, skipped, n_hidden = _walk_files(root, is_hidden)
    if warn:
        _warn_skipped(skipped, root, stacklevel=stacklevel)
    return files, skipped, n_hidden


def subfolders(root):
    """The non-hidden subfolders of ``root`` (links followed), sorted."""
    return [
        d
        for d in sorted(os.listdir(root))
        if not is_hidden(d) and os.path.isdir(os.path.join(root, d))
    ]


def class_counts(target, target_names):
    """``{name: number of samples}`` for every class, empty ones included."""
    counts = Counter(np.asarray(target).tolist())
    return {name: counts.get(k, 0) for k, name in enumerate(target_names)}


def read_bunch_images(bunch, *, size, pad_mode, n_jobs):
    """Read ``bunch.filenames`` into ``bunch.images`` (the size rule of
    :func:`~skleuk.datasets.read_images`) and return them."""
    bunch.images = read_images(bunch.filenames, size, pad_mode=pad_mode, n_jobs=n_jobs)
    return bunch.images


def finish(bunch, *, title, text, verbose=False, return_X_y=False):
    """End a loader: ``DESCR`` (``title`` then what was found), the
    ``verbose`` summary, and the ``return_X_y`` tuple or the Bunch."""
    bunch.DESCR = title + text + "\n"
    if verbose:
        print(text)
    if return_X_y:
        return bunch.get("images", bunch.get("filenames")), bunch.target
    return bunch


def _digest(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def same_content(paths):
    """Whether the files ``paths`` hold the same bytes."""
    sizes = {os.path.getsize(p) for p in paths}
    if len(sizes) > 1:
        return False
    return len({_digest(p) for p in paths}) == 1


def depth(path):
    """How deep ``path`` lies (its number of separators): copies nearest the
    top are preferred."""
    return os.path.abspath(path).count(os.sep)


def few(items, k=3):
    """The first ``k`` items quoted, then "and N more": for messages."""
    items = [str(i) for i in items]
    text = ", ".join(repr(i) for i in items[:k])
    return text + (f" and {len(items) - k} more" if len(items) > k else "")
