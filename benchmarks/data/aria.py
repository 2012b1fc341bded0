"""Aria et al.'s B-ALL smear fields: load, normalise, cut cells, groups.

The folder holds the class folders ``Benign`` (hematogones), ``Early``,
``Pre`` and ``Pro`` (B-ALL) of 224x224 JPEG fields (3,256 images, Taleqani
Hospital, research licence: never commit it). Other folders (``Normal``,
from another source) are ignored.

In this collection colour alone nearly separates the classes (they were
photographed in different sessions), so :func:`normalise` maps every field,
on its own, onto the colour distribution of a fixed external reference (the
BCCD photographs) and cuts the border (scale bar, labels) before any model
sees it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

CLASSES = ("Benign", "Early", "Pre", "Pro")
BENIGN = "Benign"
BORDER = 24  # pixels cut from each side of a field (scale bar, labels)
CELL_WINDOW = 64  # side of the window cut around each white cell


def files(path, per_class=None, random_state=0):
    """JPEG paths and class names, ``per_class`` of each drawn with a seed.

    ``per_class`` is one number for every class, or ``{class: number}``.
    """
    path = Path(path)
    rng = np.random.default_rng(random_state)
    paths, labels = [], []
    for name in CLASSES:
        found = sorted(p for p in (path / name).glob("*") if p.suffix.lower() == ".jpg")
        if not found:
            raise FileNotFoundError(
                f"no {name}/*.jpg under {path}: not the Aria folder")
        n = per_class.get(name) if isinstance(per_class, dict) else per_class
        if n is not None and n < len(found):
            keep = np.sort(rng.choice(len(found), n, replace=False))
            found = [found[i] for i in keep]
        paths += found
        labels += [name] * len(found)
    return paths, np.array(labels)


def load(path, per_class=None, random_state=0):
    """Fields as uint8 ``(n, 224, 224, 3)``, their labels and duplicate groups.

    The groups (:func:`skleuk.model_selection.find_duplicate_groups`) keep
    near-duplicate fields in one fold.
    """
    from skleuk.datasets import read_image
    from skleuk.model_selection import find_duplicate_groups

    paths, y = files(path, per_class, random_state)
    X = np.stack([read_image(p) for p in paths])
    return X, y, find_duplicate_groups(X)


def normalise(X, reference):
    """Map every field onto the reference's colours; cut the border."""
    from skleuk.preprocessing import ColorNormalizer

    norm = ColorNormalizer(method="histogram", reference=reference).fit(X[:1])
    out = np.empty_like(X)
    for i in range(0, len(X), 256):
        out[i : i + 256] = np.rint(norm.transform(X[i : i + 256]) * 255)
    return out[:, BORDER:-BORDER, BORDER:-BORDER]


def cut_cells(X, max_cells=3):
    """Windows centred on the white cells of each field, largest first.

    Beyond the field's border the window is reflect-padded, as
    :class:`~skleuk.screening.SmearScreener` cuts it. Returns the windows
    and, for each, the index of its field (the cross-validation group and
    the label it inherits).
    """
    from skleuk.preprocessing import locate_white_cells

    half = CELL_WINDOW // 2
    padded = np.pad(X, ((0, 0), (half, half), (half, half), (0, 0)), mode="reflect")
    cells, source = [], []
    for i, image in enumerate(X):
        cells_found = locate_white_cells(image, split=False)
        centres, areas = cells_found.centres, cells_found.nucleus_areas
        for k in np.argsort(areas)[::-1][:max_cells]:
            r, c = (np.asarray(centres[k]) + 0.5).astype(int)
            cells.append(padded[i, r : r + CELL_WINDOW, c : c + CELL_WINDOW])
            source.append(i)
    return np.stack(cells), np.array(source)


def binary(y):
    """``Benign`` against ``Malignant`` (the three B-ALL classes)."""
    return np.where(np.asarray(y) == BENIGN, BENIGN, "Malignant")


def tasks(path, reference, per_class=80, max_cells=3, random_state=0):
    """The four tasks, as a :class:`~sklearn.utils.Bunch`.

    ``tasks``: ``{name: (X, y, groups)}`` -- ``cell-*``: the white-cell
    windows, each with its field's label, grouped by field (and
    duplicates); ``field-*``: the normalised fields; binary: Benign against
    the rest; 4-class: the four folders. Also ``info`` (sizes), ``raw`` (the
    fields before normalisation), ``y`` (their 4-class labels) and
    ``source`` (the field of every cell window).
    """
    from sklearn.utils import Bunch

    X_raw, y, groups = load(path, per_class, random_state)
    X = normalise(X_raw, reference)
    cells, source = cut_cells(X, max_cells)
    out = {
        "cell-binary": (cells, binary(y[source]), groups[source]),
        "cell-4class": (cells, y[source], groups[source]),
        "field-binary": (X, binary(y), groups),
        "field-4class": (X, y, groups),
    }
    info = {"n_fields": len(X), "n_cells": len(cells), "per_class": per_class,
            "max_cells": max_cells,
            "duplicates_grouped": int(len(groups) - len(np.unique(groups)))}
    return Bunch(tasks=out, info=info, raw=X_raw, y=y, source=source)
