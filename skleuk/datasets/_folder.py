"""Loader for image folders with one subfolder per class."""

from __future__ import annotations

import os
import warnings
from collections import Counter

import numpy as np
from sklearn.utils import Bunch

from ..utils._image_io import (
    _PAD_MODES,
    IMAGE_EXTENSIONS,
    _check_size,
    _walk_files,
    _warn_skipped,
    read_images,
)

__all__ = ["load_image_folder"]


def _hidden(name):
    # Dot files include macOS "._name.jpg" resource forks, which carry an
    # image extension but are not images.
    return name.startswith(".") or name in ("__MACOSX", "__pycache__")


def _collect(folder):
    """Image files below ``folder`` (recursive, sorted, symlinks followed),
    the count of ignored non-image files and the skipped special files."""
    files, skipped, n_hidden = _walk_files(folder, _hidden)
    images = [f for f in files if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS]
    return images, len(files) - len(images) + n_hidden, skipped


def load_image_folder(
    root,
    *,
    return_images=True,
    size=None,
    classes=None,
    return_X_y=False,
    pad_mode="reflect",
    n_jobs=None,
    verbose=False,
):
    """Load images stored with one subfolder per class.

    Works for any data set laid out as ``root/<class name>/<images>``, for
    example C-NMC (``fold_0/all/``, ``fold_0/hem/``) or the B-ALL data set
    (``Benign/``, ``Early/``, ``Pre/``, ``Pro/``). Files inside a class folder
    are found recursively, so ``root/all/patient_7/img.bmp`` belongs to class
    ``all``; symbolic links to files and folders are followed (a folder
    reached twice, as in a link cycle, is read once). Files with an
    extension other than :data:`~skleuk.datasets.IMAGE_EXTENSIONS` (and
    hidden files such as macOS ``._*`` forks) are ignored and counted;
    FIFOs, devices, sockets and broken links are skipped with a warning and
    counted too.

    Parameters
    ----------
    root : str or path-like
        The folder whose immediate subfolders are the classes.
    return_images : bool, default=True
        Read the images; ``False`` returns only ``filenames``.
    size : int or None, default=None
        ``None`` keeps each image's size (a list of arrays if they differ).
        An int pads each image to a square (``pad_mode``) and resizes it to
        ``size x size`` with anti-aliasing, as
        :func:`~skleuk.datasets.read_images`.
    classes : sequence of str or None, default=None
        Class folder names to load, in the order that defines the target
        values (``classes[k]`` gets target ``k``). Other subfolders are
        ignored. ``None``: every non-hidden subfolder, in sorted order.
    return_X_y : bool, default=False
        Return ``(images, target)`` (or ``(filenames, target)``) instead of a
        Bunch.
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        Padding used with ``size``.
    n_jobs : int or None, default=None
        Threads used to read the files.
    verbose : bool, default=False
        Print a one-line summary.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with:

        images : ndarray of shape (n, h, w, 3) or list of ndarray, uint8
            Only with ``return_images=True``.
        filenames : ndarray of str, shape (n,)
            Absolute paths, grouped by class, sorted within a class.
        target : ndarray of int, shape (n,)
            Index of the class in ``target_names``.
        target_names : list of str
            Class folder names (sorted, or as given in ``classes``).
        class_counts : dict
            Number of images per class name.
        n_ignored_files : int
            Files skipped because they are not images (including FIFOs,
            devices, sockets and broken links).
        DESCR : str
            What was found.

    (images, target) or (filenames, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    NotADirectoryError
        If ``root`` is a file.
    FileNotFoundError
        If ``root`` does not exist, has no class subfolders, a name in
        ``classes`` has no folder, or no image is found at all.
    ImageReadError
        If an image file is corrupt (the message names it).

    Warns
    -----
    UserWarning
        For a class folder without images (the class keeps its target value
        and has no samples), and when the subfolders look like data splits
        (each holding the same set of subfolders, such as C-NMC's
        ``fold_0/all``, ``fold_1/all``) rather than classes.

    See Also
    --------
    load_all_idb : The ALL-IDB loader, which reads labels from file names.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.datasets import load_image_folder
    >>> root = tempfile.mkdtemp()
    >>> for cls, n in [("hem", 2), ("all", 1)]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i in range(n):
    ...         Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
    ...             os.path.join(root, cls, f"{i}.bmp"))
    >>> data = load_image_folder(root)
    >>> data.target_names, data.target.tolist(), data.images.shape
    (['all', 'hem'], [0, 1, 1], (3, 8, 8, 3))
    """
    size = _check_size(size)
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}.")
    if not isinstance(root, (str, os.PathLike)):
        raise TypeError(f"root must be a folder path, got {type(root).__name__}.")
    root = os.path.abspath(os.fspath(root))
    if os.path.exists(root) and not os.path.isdir(root):
        raise NotADirectoryError(
            f"Image folder {root!r} is a file, not a folder: give the folder "
            "holding one subfolder per class."
        )
    if not os.path.isdir(root):
        raise FileNotFoundError(f"Image folder {root!r} does not exist.")
    entries = sorted(os.listdir(root))
    subdirs = [
        d for d in entries if not _hidden(d) and os.path.isdir(os.path.join(root, d))
    ]
    loose = [
        f
        for f in entries
        if not _hidden(f)
        and os.path.isfile(os.path.join(root, f))
        and os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
    ]
    if classes is None:
        if not subdirs:
            hint = (
                f" It holds {len(loose)} image file(s) directly; move them into "
                "one subfolder per class."
                if loose
                else ""
            )
            raise FileNotFoundError(
                f"No class subfolders in {root!r}: expected root/<class name>/"
                f"<image files>.{hint}"
            )
        class_names = subdirs
    else:
        if isinstance(classes, str):
            raise TypeError("classes must be a list of folder names, not a string.")
        class_names = [str(c) for c in classes]
        if not class_names or len(set(class_names)) != len(class_names):
            raise ValueError(
                f"classes must be a non-empty list of distinct names, got {classes!r}."
            )
        missing = [c for c in class_names if c not in subdirs]
        if missing:
            raise FileNotFoundError(
                f"No folder for class(es) {missing} in {root!r}; subfolders found: "
                f"{subdirs}."
            )

    filenames, target = [], []
    n_ignored = 0
    empty = []
    skipped = []
    for k, name in enumerate(class_names):
        files, ignored, special = _collect(os.path.join(root, name))
        n_ignored += ignored
        skipped += special
        if not files:
            empty.append(name)
        filenames.extend(files)
        target.extend([k] * len(files))
    _warn_skipped(skipped, root)
    n_ignored += len(skipped)
    if not filenames:
        raise FileNotFoundError(
            f"No image files ({', '.join(IMAGE_EXTENSIONS)}) found in the class "
            f"folders {class_names} of {root!r}."
        )
    if empty:
        warnings.warn(
            f"Class folder(s) {empty} in {root!r} contain no images; these classes "
            "keep their target value but have no samples.",
            UserWarning,
            stacklevel=2,
        )
    if classes is None and len(class_names) > 1:
        inner = []
        for name in class_names:
            sub = os.path.join(root, name)
            inner.append(
                frozenset(
                    d
                    for d in os.listdir(sub)
                    if not _hidden(d) and os.path.isdir(os.path.join(sub, d))
                )
            )
        if inner[0] and len(inner[0]) > 1 and all(s == inner[0] for s in inner):
            warnings.warn(
                f"Every subfolder of {root!r} ({class_names}) holds the same "
                f"subfolders {sorted(inner[0])}: they look like data splits, not "
                "classes. Point root at one split (for example .../fold_0) so "
                "that its subfolders are the classes.",
                UserWarning,
                stacklevel=2,
            )

    filenames = np.array(filenames)
    target = np.array(target, dtype=np.int64)
    counts = Counter(target.tolist())
    class_counts = {name: counts.get(k, 0) for k, name in enumerate(class_names)}
    bunch = Bunch(
        filenames=filenames,
        target=target,
        target_names=list(class_names),
        class_counts=class_counts,
        n_ignored_files=n_ignored,
    )
    text = (
        f"Image folder {root!r}: {len(filenames)} images in {len(class_names)} "
        "classes ("
        + ", ".join(f"{k}: {v}" for k, v in class_counts.items())
        + f"); {n_ignored} non-image file(s) ignored."
    )
    if loose:
        text += f" {len(loose)} image file(s) directly in root were ignored."
    other = [d for d in subdirs if d not in class_names]
    if other:
        text += f" Subfolders not loaded: {other}."
    if return_images:
        bunch.images = read_images(filenames, size, pad_mode=pad_mode, n_jobs=n_jobs)
        if size:
            text += f" Padded to square ({pad_mode}) and resized to {size}x{size}."
    bunch.DESCR = (
        "Image folder data set\n---------------------\n\n"
        "Images stored as root/<class name>/<files>; the target is the index "
        "of the class folder in target_names.\n\n" + text + "\n"
    )
    if verbose:
        print(text)
    if return_X_y:
        return (bunch.images if return_images else filenames), target
    return bunch
