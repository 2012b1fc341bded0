"""Loader for image folders with one subfolder per class."""

from __future__ import annotations

import os
import warnings

import numpy as np
from sklearn.utils import Bunch

from ..utils._image_io import IMAGE_EXTENSIONS, _warn_skipped, find_image_files
from ._base import (
    check_folder,
    check_loader_params,
    class_counts,
    finish,
    is_hidden,
    is_image_file,
    read_bunch_images,
    subfolders,
)

__all__ = ["load_image_folder"]

_TITLE = (
    "Image folder data set\n---------------------\n\n"
    "Images stored as root/<class name>/<files>; the target is the index "
    "of the class folder in target_names.\n\n"
)


def _class_names(root, subdirs, loose, classes):
    """The class folders to load, in target order."""
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
        return subdirs
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
    return class_names


def _collect(root, class_names):
    """Files and targets of every class folder, and the ignored-file count."""
    filenames, target, empty, skipped = [], [], [], []
    n_ignored = 0
    for k, name in enumerate(class_names):
        files, ignored, special = find_image_files(os.path.join(root, name))
        n_ignored += ignored
        skipped += special
        if not files:
            empty.append(name)
        filenames.extend(files)
        target.extend([k] * len(files))
    _warn_skipped(skipped, root, stacklevel=4)
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
            stacklevel=3,
        )
    return np.array(filenames), np.array(target, dtype=np.int64), n_ignored


def _warn_if_splits(root, class_names):
    """Warn when every class folder holds the same subfolders (data splits)."""
    if len(class_names) < 2:
        return
    inner = [frozenset(subfolders(os.path.join(root, n))) for n in class_names]
    if inner[0] and len(inner[0]) > 1 and all(s == inner[0] for s in inner):
        warnings.warn(
            f"Every subfolder of {root!r} ({class_names}) holds the same "
            f"subfolders {sorted(inner[0])}: they look like data splits, not "
            "classes. Point root at one split (for example .../fold_0) so "
            "that its subfolders are the classes.",
            UserWarning,
            stacklevel=3,
        )


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
    size = check_loader_params(size, pad_mode)
    root = check_folder(
        root,
        name="root",
        what="Image folder",
        file_hint="Image folder {root!r} is a file, not a folder: give the folder "
        "holding one subfolder per class.",
    )
    subdirs = subfolders(root)
    loose = [
        f
        for f in sorted(os.listdir(root))
        if not is_hidden(f)
        and os.path.isfile(os.path.join(root, f))
        and is_image_file(f)
    ]
    class_names = _class_names(root, subdirs, loose, classes)
    filenames, target, n_ignored = _collect(root, class_names)
    if classes is None:
        _warn_if_splits(root, class_names)

    counts = class_counts(target, class_names)
    bunch = Bunch(
        filenames=filenames,
        target=target,
        target_names=list(class_names),
        class_counts=counts,
        n_ignored_files=n_ignored,
    )
    text = (
        f"Image folder {root!r}: {len(filenames)} images in {len(class_names)} "
        "classes ("
        + ", ".join(f"{k}: {v}" for k, v in counts.items())
        + f"); {n_ignored} non-image file(s) ignored."
    )
    if loose:
        text += f" {len(loose)} image file(s) directly in root were ignored."
    other = [d for d in subdirs if d not in class_names]
    if other:
        text += f" Subfolders not loaded: {other}."
    if return_images:
        read_bunch_images(bunch, size=size, pad_mode=pad_mode, n_jobs=n_jobs)
        if size:
            text += f" Padded to square ({pad_mode}) and resized to {size}x{size}."
    return finish(
        bunch, title=_TITLE, text=text, verbose=verbose, return_X_y=return_X_y
    )
