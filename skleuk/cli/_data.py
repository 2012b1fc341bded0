"""Data for the commands: the data set behind ``--data``, the positive class."""

from __future__ import annotations

import os

from ._common import CLIError


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

    from ..datasets import extract_cells, load_all_idb, load_image_folder

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

    from ..datasets import load_all_idb, load_image_folder

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
    from ..model_selection._report import POSITIVE_CLASS_NAMES

    for k, name in enumerate(target_names):
        if str(name).strip().lower() in POSITIVE_CLASS_NAMES:
            return k
    return None


def _expand_inputs(inputs):
    """Image files named on the command line, folders walked recursively."""
    from ..datasets import IMAGE_EXTENSIONS
    from ..utils._image_io import _walk_files, _warn_skipped

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


_HEALTHY_NAMES = ("healthy", "benign", "normal", "negative", "0")


def _healthy_index(target_names):
    """The healthy class: the one named like it, else the first."""
    for k, name in enumerate(target_names):
        if str(name).lower() in _HEALTHY_NAMES:
            return k
    return 0
