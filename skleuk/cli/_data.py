"""Data for the commands: the data set behind ``--data``, the positive class."""

from __future__ import annotations

import os
import re

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


_DESCRIPTIONS = {
    "all-idb2": "ALL_IDB2 at {path}",
    "all-idb1": "cells cut from ALL_IDB1 smears at {path} (grouped by source smear)",
    "folder": "class folders at {path}",
}


def _load_data(args):
    """``--data``/``--dataset``: :func:`skleuk.datasets.load_dataset`, with
    file names (not images) for ALL_IDB2 and class folders."""
    import numpy as np

    from ..datasets import load_dataset

    path = args.data
    if not os.path.exists(path):
        raise CLIError(f"--data: no such file or folder: {path!r}")
    if not os.path.isdir(path):
        raise CLIError(f"--data: {path!r} is not a folder")
    if args.dataset == "all-idb1":
        kwargs = {"random_state": args.random_state}
    else:  # ALL_IDB2 and class folders: file names, read by the pipeline
        kwargs = {"return_images": False}
    try:
        bunch = load_dataset(path, args.dataset, **kwargs)
    except ValueError as exc:
        if "kind='" not in str(exc):
            raise
        # The library names its argument (kind='folder'); say --dataset folder.
        message = re.sub(r"kind='([\w-]+)'", r"--dataset \1", str(exc))
        raise CLIError(f"--data {message}") from None
    is_paths = "images" not in bunch
    data = _Data(
        np.asarray(bunch.filenames) if is_paths else bunch.images,
        np.asarray(bunch.target),
        bunch.target_names,
        groups=np.asarray(bunch.groups) if "groups" in bunch else None,
        is_paths=is_paths,
        description=_DESCRIPTIONS[bunch.kind].format(path=path),
    )
    if bunch.kind == "folder":
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


def _check_folds(args, data):
    """--folds against the class sizes: every class needs an image in every
    fold; the error names the class (not its index)."""
    import numpy as np

    folds = getattr(args, "folds", None)
    if folds is None:
        return
    small = [(name, int(np.sum(data.y == k)))
             for k, name in enumerate(data.target_names)
             if np.sum(data.y == k) < folds]
    if small:
        which = ", ".join(f"{name!r} has {n} image(s)" for name, n in small)
        raise CLIError(
            f"--folds {folds}: class {which}; every class needs at least one "
            "image per fold: add images, or use fewer folds (at least 2).")


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


def _roles(target_names, pos_label=None):
    """:func:`skleuk.metrics.class_roles` of the classes ``0..k-1``."""
    from ..metrics import class_roles

    return class_roles(range(len(target_names)), target_names, pos_label=pos_label)


def _pos_label(target_names):
    """Index in ``target_names`` of the positive class, else None.

    :func:`skleuk.metrics.class_roles` decides (a class named like
    leukaemia, or the other class of one named healthy); None means "no
    name says it": the callers then take the last class, which the report
    marks as assumed.
    """
    roles = _roles(target_names)
    return None if roles.assumed else roles.pos_label


def _expand_inputs(inputs):
    """Image files named on the command line, folders walked recursively."""
    from ..datasets import IMAGE_EXTENSIONS
    from ..utils._image_io import _warn_skipped, find_image_files

    files = []
    for item in inputs:
        if os.path.isdir(item):
            # The loaders' walk and hidden-file rule: symlinks followed
            # (cycle guard), FIFOs, devices and sockets skipped with a warning.
            found, _, skipped = find_image_files(item)
            _warn_skipped(skipped, item)
            if not found:
                raise CLIError(f"no image files ({', '.join(IMAGE_EXTENSIONS)}) "
                               f"in folder {item!r}")
            files += sorted(found)
        elif os.path.exists(item):
            files.append(item)
        else:
            raise CLIError(f"no such file or folder: {item!r}")
    return files


def _healthy_index(target_names):
    """Index of the healthy class (:func:`skleuk.metrics.class_roles`)."""
    return _roles(target_names).healthy_label
