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
        self.sources = None  # with several --data: each image's source


_DESCRIPTIONS = {
    "all-idb2": "ALL_IDB2 at {path}",
    "all-idb1": "cells cut from ALL_IDB1 smears at {path} (grouped by source smear)",
    "folder": "class folders at {path}",
}


def data_paths(args):
    """The ``--data`` folders, as a list (the option may be repeated)."""
    paths = args.data
    return [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)


def _load_data(args):
    """``--data``/``--dataset``: :func:`skleuk.datasets.load_dataset`, with
    file names (not images) for ALL_IDB2 and class folders; several
    ``--data`` folders are pooled, each a source (``--group-by source``)."""
    paths = data_paths(args)
    if len(paths) == 1:
        data = _load_one(args, paths[0])
    else:
        data = _pool([_load_one(args, p, check=False) for p in paths], paths)
    if getattr(args, "group_by", None) == "source":
        _group_by_source(args, data)
    data.pos_label = _positive_class(args, data.target_names)
    return data


def _source_names(paths):
    """A short, unique name per --data folder (its base name)."""
    names = []
    for p in paths:
        base = os.path.basename(os.path.normpath(p)) or os.path.normpath(p)
        name, k = base, 1
        while name in names:
            k += 1
            name = f"{base}-{k}"
        names.append(name)
    return names


def _pool(parts, paths):
    """Several sources as one data set: the classes matched by name, the
    groups kept within each source (prefixed with it)."""
    import numpy as np

    names = _source_names(paths)
    kinds = {p.is_paths for p in parts}
    if len(kinds) > 1:
        raise CLIError("--data: the folders hold different kinds of data (file "
                       "lists and cells cut from smears); pool folders of one "
                       "layout (--dataset).")
    # The classes matched by name: a source may lack some (a laboratory
    # of normal cells only).
    classes = list(dict.fromkeys(n for p in parts for n in p.target_names))
    ys, groups = [], []
    for part, name in zip(parts, names, strict=True):
        order = [classes.index(n) for n in part.target_names]
        ys.append(np.asarray(order)[part.y])
        groups.append([f"{name}:{g}" for g in part.groups]
                      if part.groups is not None
                      else [f"{name}:#{i}" for i in range(len(part.y))])
    X = (np.concatenate([p.X for p in parts]) if parts[0].is_paths
         else [x for p in parts for x in p.X])
    if not parts[0].is_paths and len({np.shape(x) for x in X}) == 1:
        X = np.stack(X)
    y = np.concatenate(ys)
    has_groups = any(p.groups is not None for p in parts)
    data = _Data(X, y, classes,
                 groups=np.concatenate(groups) if has_groups else None,
                 is_paths=parts[0].is_paths)
    data.sources = np.concatenate(
        [[n] * len(p.y) for p, n in zip(parts, names, strict=True)])
    data.folder_root = [p.folder_root for p in parts if p.folder_root]
    counts = ", ".join(f"{name}: {int(np.sum(y == k))}"
                       for k, name in enumerate(classes))
    data.description = (
        f"{len(parts)} sources pooled -- "
        + "; ".join(f"{n}: {p.description}" for n, p in
                    zip(names, parts, strict=True))
        + f" -- {len(y)} images in all ({counts})")
    if len(np.unique(y)) < 2:
        raise CLIError(f"--data: found only one class in all ({counts}).")
    return data


def _group_by_source(args, data):
    """--group-by source: each source kept whole in one fold (with as many
    folds as sources, at most --folds: leave one source out)."""
    import numpy as np

    if data.sources is None:
        raise CLIError("--group-by source needs several sources: repeat --data "
                       "(--data LAB_A --data LAB_B).", code=2)
    n = len(np.unique(data.sources))
    data.groups = data.sources
    folds = getattr(args, "folds", None)
    if folds is not None and folds > n:
        args.folds = n
    if folds is not None:
        kind = ("leave one source out" if args.folds == n
                else f"{args.folds} folds of whole sources")
        data.description += f"; folds grouped by source ({kind})"


def _load_one(args, path, check=True):
    """One ``--data`` folder (``check``: refuse a single class)."""
    import numpy as np

    from ..datasets import load_dataset

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
    if check and len(np.unique(data.y)) < 2:
        raise CLIError(f"--data: found only one class in {path!r} ({counts}).")
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
