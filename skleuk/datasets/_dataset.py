"""One entry point for a data folder: recognise its layout and load it."""

from __future__ import annotations

import warnings

from ..exceptions import AmbiguousDatasetError
from ._all_idb import _SUBSET_DIR_RE, load_all_idb
from ._base import check_folder
from ._cells import extract_cells
from ._folder import load_image_folder

__all__ = ["DATASET_KINDS", "load_dataset"]

#: The layouts :func:`load_dataset` reads, as its ``kind`` values.
DATASET_KINDS = ("auto", "folder", "all-idb2", "all-idb1")


def _as_class_folders(path):
    """The class-folder listing of ``path`` when that layout fits, else None.

    It fits when at least two class folders hold images and none is named
    like an ALL-IDB subset (``ALL_IDB1``, ``all-idb2``...): such a folder is
    a copy of ALL-IDB, not a class.
    """
    try:
        folder = load_image_folder(path, return_images=False)
    except (ValueError, OSError):
        return None
    if any(_SUBSET_DIR_RE.match(name) for name in folder.target_names):
        return None
    if sum(1 for n in folder.class_counts.values() if n) < 2:
        return None
    return folder


def _as_all_idb2(path):
    """The ALL_IDB2 listing of ``path`` when ImXXX_Y files are found, else None."""
    try:
        return load_all_idb(
            path, subset="ALL_IDB2", return_images=False, on_unexpected="ignore"
        )
    except (ValueError, OSError):
        return None


def _detect_kind(path):
    """``kind="auto"``: ALL_IDB2 or class folders, an error if both fit."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the real load warns, not the probe
        idb = _as_all_idb2(path)
        folder = _as_class_folders(path)
    if idb is not None and folder is not None:
        raise AmbiguousDatasetError(
            f"{path!r} fits two layouts: ALL_IDB2 ({len(idb.filenames)} files "
            f"named ImXXX_Y) and class folders ({len(folder.filenames)} images "
            f"in {len(folder.target_names)} folders: "
            f"{', '.join(folder.target_names)}); choose one with kind='all-idb2' "
            "or kind='folder'.",
            path=path,
            kinds=("all-idb2", "folder"),
        )
    if idb is None and folder is None and _holds_all_idb1(path):
        raise ValueError(
            f"{path!r} holds ALL_IDB1 smears, neither ALL_IDB2 crops nor class "
            "folders; pass kind='all-idb1' to cut single cells from the smears."
        )
    return "all-idb2" if idb is not None else "folder"


def _holds_all_idb1(path):
    """Whether ``path`` holds ALL_IDB1 smears (called when no ALL_IDB2 file
    was found, so the ImXXX_Y files found lie in ALL_IDB1 folders)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            load_all_idb(
                path, subset="ALL_IDB1", return_images=False, on_unexpected="ignore"
            )
        except (ValueError, OSError):
            return False
    return True


def load_dataset(path, kind="auto", *, return_X_y=False, **kwargs):
    """Load the data set in a folder, recognising its layout.

    One call for every layout skleuk reads, the one the ``skleuk`` command
    line uses for ``--data``/``--dataset``. ``kind`` chooses the loader:

    * ``"folder"``: one subfolder per class, read by
      :func:`~skleuk.datasets.load_image_folder`;
    * ``"all-idb2"``: an ALL_IDB2 copy (single-cell crops named
      ``ImXXX_Y``), read by :func:`~skleuk.datasets.load_all_idb`;
    * ``"all-idb1"``: an ALL_IDB1 copy (whole smears with ``.xyc`` blast
      annotations), from which :func:`~skleuk.datasets.extract_cells` cuts
      single-cell crops, grouped by smear (``groups``);
    * ``"auto"``: ``"all-idb2"`` when ``ImXXX_Y`` files are found,
      ``"folder"`` otherwise. A folder that fits both layouts (two or more
      class folders with images, and ``ImXXX_Y`` files) raises
      :class:`~skleuk.datasets.AmbiguousDatasetError` rather than guess:
      the two readings give different labels. Subfolders named like an
      ALL-IDB subset are never taken as classes. ``"auto"`` never chooses
      ``"all-idb1"``: cutting cells from smears is asked for explicitly (a
      folder holding only ALL_IDB1 smears raises a ``ValueError`` saying
      so).

    Parameters
    ----------
    path : str or path-like
        The folder holding the data set (for ALL-IDB, any folder above the
        images).
    kind : {"auto", "folder", "all-idb2", "all-idb1"}, default="auto"
        The layout, as above.
    return_X_y : bool, default=False
        Return ``(X, y)`` instead of a Bunch: the images (or, with
        ``return_images=False``, the file names) and the targets.
    **kwargs : dict
        Passed to the loader: :func:`~skleuk.datasets.load_image_folder`
        (``"folder"``), :func:`~skleuk.datasets.load_all_idb`
        (``"all-idb2"``) or :func:`~skleuk.datasets.extract_cells`
        (``"all-idb1"``), for example ``size=64`` or
        ``return_images=False``.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        The loader's Bunch (``target``, ``target_names``, ``DESCR``, and
        ``images`` and/or ``filenames``; ``groups`` for ``"all-idb1"``),
        plus ``kind``: the layout read, never ``"auto"``.
    (X, y) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    AmbiguousDatasetError
        With ``kind="auto"``, when the folder fits two layouts.
    ValueError
        For an unknown ``kind``, with ``kind="auto"`` for a folder that
        holds only ALL_IDB1 smears, and from the loaders (for example a
        malformed ``.xyc`` file).
    FileNotFoundError
        If ``path`` does not exist or holds no data set of the kind.
    NotADirectoryError
        If ``path`` is a file.

    See Also
    --------
    load_image_folder, load_all_idb, extract_cells : The loaders behind it.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.datasets import load_dataset
    >>> root = tempfile.mkdtemp()
    >>> for cls in ["ALL", "healthy"]:
    ...     os.makedirs(os.path.join(root, cls))
    ...     for i in range(2):
    ...         Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
    ...             os.path.join(root, cls, f"{i}.png"))
    >>> data = load_dataset(root)
    >>> data.kind, data.target_names, data.images.shape
    ('folder', ['ALL', 'healthy'], (4, 8, 8, 3))
    >>> X, y = load_dataset(root, "folder", return_X_y=True, return_images=False)
    >>> len(X), y.tolist()
    (4, [0, 0, 1, 1])
    """
    if not isinstance(kind, str) or kind not in DATASET_KINDS:
        raise ValueError(
            f"kind must be one of {', '.join(map(repr, DATASET_KINDS))}, got {kind!r}."
        )
    root = check_folder(
        path,
        name="path",
        what="Data folder",
        file_hint="Data path {root!r} is a file; pass the folder that holds the "
        "data set.",
    )
    if kind == "auto":
        kind = _detect_kind(root)
    if kind == "folder":
        bunch = load_image_folder(root, **kwargs)
    elif kind == "all-idb2":
        bunch = load_all_idb(root, subset="ALL_IDB2", **kwargs)
    else:
        smears = load_all_idb(root, subset="ALL_IDB1", return_images=False)
        bunch = extract_cells(smears, **kwargs)
    bunch.kind = kind
    if return_X_y:
        return bunch.get("images", bunch.get("filenames")), bunch.target
    return bunch
