"""Reading smears and cutting the window around each white cell."""

from __future__ import annotations

import os

import numpy as np

from ..preprocessing._segmentation import _map_index
from ..utils._image_io import read_image
from ..utils.validation import check_images


def _source_name(x, i):
    return os.fspath(x) if isinstance(x, (str, os.PathLike)) else f"X[{i}]"


def _load_smear(x, i):
    """One smear as float32 (h, w, 3); errors name the file or the index."""
    if isinstance(x, (str, os.PathLike)):
        return check_images([read_image(x)], input_name=repr(os.fspath(x)), min_size=8)[
            0
        ]
    if isinstance(x, bytes):
        raise TypeError(f"X[{i}]: expected an image array or a file path, got bytes.")
    return check_images([x], input_name=f"X[{i}]", min_size=8)[0]


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
