"""Reading smears and cutting the window around each white cell."""

from __future__ import annotations

import os

import numpy as np

from ..preprocessing import locate_white_cells
from ..utils._image_io import read_image
from ..utils._image_ops import _map_index, resize_images
from ..utils.validation import check_images


def _source_name(x, i):
    return os.fspath(x) if isinstance(x, (str, os.PathLike)) else f"X[{i}]"


def _load_smear(x, i):
    """One smear (h, w, 3), ``uint8`` when read from a file or given as
    ``uint8`` RGB, else float32; errors name the file or the index.

    A smear is not converted to float32 as a whole: the detector converts
    its copy, and the windows around the cells are converted when cut
    (:func:`_as_float32`, the same values) -- a 2592x1944 smear is 60 MB
    of float32."""
    if isinstance(x, (str, os.PathLike)):
        # As a batch of one (a view): a list would be stacked, a copy.
        return check_images(read_image(x)[None], input_name=repr(os.fspath(x)),
                            min_size=8, keep_uint8=True)[0]
    if isinstance(x, bytes):
        raise TypeError(f"X[{i}]: expected an image array or a file path, got bytes.")
    return check_images([x], input_name=f"X[{i}]", min_size=8, keep_uint8=True)[0]


def _as_float32(images):
    """Images from :func:`_load_smear` as float32, converted as
    :func:`~skleuk.utils.validation.check_images` converts ``uint8``."""
    if images.dtype != np.uint8:
        return images
    out = images.astype(np.float32)
    out *= np.float32(1.0 / 255.0)
    return out


def _window(image, centre, side):
    """``side`` x ``side`` window centred on ``centre``, reflected at borders.

    Only windows reaching past the border are padded (never the whole
    smear); the placement is that of :func:`skleuk.datasets.extract_cells`.
    """
    h, w = image.shape[:2]
    r0 = int(np.floor(centre[0] + 0.5)) - side // 2
    c0 = int(np.floor(centre[1] + 0.5)) - side // 2
    if r0 >= 0 and c0 >= 0 and r0 + side <= h and c0 + side <= w:
        return image[r0 : r0 + side, c0 : c0 + side]
    rows = _map_index(np.arange(r0, r0 + side), h, "reflect")
    cols = _map_index(np.arange(c0, c0 + side), w, "reflect")
    return image[rows[:, None], cols[None, :]]


def _smear_crops(image, locate_params, window, crop_scale, crop_size):
    """Located cells of one smear and their float32 crops, resized to
    ``crop_size`` (the window: ``window`` pixels, or ``crop_scale`` median
    cell diameters with ``window="auto"``)."""
    cells = locate_white_cells(image, **(locate_params or {}))
    if not len(cells.centres):
        return cells, np.empty((0, crop_size, crop_size, 3), np.float32)
    if window == "auto":
        side = max(4, int(round(crop_scale * 2 * np.median(cells.radii))))
    else:
        side = int(window)
    crops = _as_float32(np.stack([_window(image, c, side) for c in cells.centres]))
    if side != crop_size:
        crops = resize_images(crops, (crop_size, crop_size))
    return cells, np.asarray(crops, dtype=np.float32)


def _iter_smears(X, batch_size, cut, field):
    """Yield lists of (index, source, image shape, cells, field, crops).

    ``cut(image)`` gives a smear's cells and crops, ``field(image)`` its
    resized whole (or None); a batch holds ``batch_size`` smears.
    """
    if isinstance(X, (str, os.PathLike)) or (
        isinstance(X, np.ndarray) and X.dtype != object and X.ndim == 3
    ):
        raise TypeError(
            "X must be a list of smears (image arrays or file paths), not a "
            "single one: wrap it in a list."
        )
    X = list(X) if not isinstance(X, np.ndarray) or X.dtype == object else X
    batch = []
    for i, x in enumerate(X):
        image = _load_smear(x, i)
        cells, crops = cut(image)
        batch.append((i, _source_name(x, i), image.shape[:2], cells, field(image),
                      crops))
        if len(batch) == batch_size:
            yield batch
            batch = []
    if batch:
        yield batch


def _check_cells_per_class(classes, has, y):
    """Raise naming the classes none of whose training smears (``has``: has
    a white cell) holds a white cell: the cell model cannot learn them."""
    empty = [c for c in classes if not np.any(has & (y == c))]
    if empty:
        err = ValueError(
            "No white cell was found in the training smears of class(es) "
            f"{[c.item() if isinstance(c, np.generic) else c for c in empty]}"
            ": the cell model cannot learn them."
        )
        err.classes_without_cells = empty  # for the caller's words
        raise err
