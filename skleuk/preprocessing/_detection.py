"""White-blood-cell detection (localisation) from the stain colour.

Nuclei of white blood cells take up the basic (purple/blue) stain of a
Romanowsky-type smear (Wright, Giemsa, May-Grunwald-Giemsa, Leishman): they
absorb green light much more than blue. Red cells (eosin: salmon-pink), the
plasma and the empty slide do not. The localisation therefore works on one
stain-ratio feature,

.. math::

    f = \\frac{B - G}{B + G + 0.1},

which is high on nuclei, near zero on red cells and background, and -- being
a ratio -- insensitive to the overall brightness of the image. Per image, a
threshold is chosen by Otsu's method on the histogram of ``f``, but never
below the median of ``f`` plus ``min_contrast`` (an image without any
nucleus then yields no candidate instead of half of its pixels). The mask is
opened (removes specks), nucleus fragments closer than ``merge_distance``
are merged (the lobes of a neutrophil belong to one cell), and connected
components smaller than ``min_area`` (platelets, debris) are dropped.

Everything runs on a block-averaged copy (shorter side at least
``work_size`` pixels, smallest accepted nucleus at least about 8 pixels
across), for the whole batch at once: the colour feature, the
per-image Otsu thresholds (from one ``bincount`` of all images), the
morphology and the connected-component labelling (one
:func:`scipy.ndimage.label` call on the 3-D stack with a structuring element
that does not connect neighbouring images). Coordinates are mapped back to
the pixels of the input image.

The separation of touching cells and the public function
(``locate_white_cells``) live in ``_localise.py``, the cropping around one
cell per image (``WhiteCellCropper``) in ``_segmentation.py``.
"""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import ndimage
from sklearn.utils._param_validation import (
    Interval,
    RealNotInt,
    StrOptions,
)

__all__ = []

# Added to the denominator of the stain ratio so that near-black pixels
# (JPEG noise in dark regions) do not produce extreme ratios.
_RATIO_EPS = np.float32(0.1)
# Histogram of the feature for the per-image Otsu threshold and median.
_N_BINS = 512
_F_LO, _F_HI = -1.0, 1.0

# selection="central" only considers candidates with at least this fraction
# of the largest candidate's nucleus area (no platelet clump beats a cell).
_CENTRAL_MIN_REL_AREA = 0.25

# min_area="auto": this fraction of the image area, but at most this many
# pixels (BCCD/ALL-IDB magnification: nuclei of 2000-15000 px, platelets
# under 500 px); merge_distance="auto" alike, of the shorter side.
_AUTO_AREA_FRACTION, _AUTO_AREA_PIXELS = 0.005, 1000.0
_AUTO_MERGE_FRACTION, _AUTO_MERGE_PIXELS = 0.03, 15.0

# Constraints shared by locate_white_cells and WhiteCellCropper.
_DETECTION_CONSTRAINTS = {
    "min_area": [
        StrOptions({"auto"}),
        Interval(Integral, 1, None, closed="left"),
        Interval(RealNotInt, 0, 1, closed="left"),
    ],
    "merge_distance": [
        StrOptions({"auto"}),
        Interval(Integral, 0, None, closed="left"),
        Interval(RealNotInt, 0, 1, closed="left"),
    ],
    "work_size": [Interval(Integral, 8, None, closed="left"), None],
    "min_contrast": [Interval(Real, 0, 2, closed="left")],
}


# ---------------------------------------------------------------------------
# Batched detection
# ---------------------------------------------------------------------------


def _resolve_area(min_area, h, w):
    """``min_area`` in input pixels (a float is a fraction of ``h * w``)."""
    if isinstance(min_area, str):  # "auto"
        return min(_AUTO_AREA_FRACTION * h * w, _AUTO_AREA_PIXELS)
    if isinstance(min_area, Integral):
        return float(min_area)
    return float(min_area) * h * w


def _resolve_length(length, h, w):
    """A length in input pixels (a float is a fraction of ``min(h, w)``)."""
    if isinstance(length, str):  # "auto"
        return min(_AUTO_MERGE_FRACTION * min(h, w), _AUTO_MERGE_PIXELS)
    if isinstance(length, Integral):
        return float(length)
    return float(length) * min(h, w)


def _downscale_factor(h, w, work_size, min_area_px):
    """Integer block size of the working copy.

    At most ``min(h, w) // work_size`` (the working copy's shorter side stays
    at least ``work_size``), and at most ``sqrt(min_area) / 8`` so that the
    smallest nucleus accepted still spans about 8 working pixels across.
    """
    if work_size is None:
        return 1
    factor = min(min(h, w) // int(work_size), int(np.sqrt(min_area_px) / 8.0))
    return max(1, factor)


def _stain_feature(X, factor):
    """Block-averaged stain ratio ``(B - G) / (B + G + eps)``.

    Returns the feature ``(n, hs, ws)`` and the ``(row, col)`` offset of the
    first input pixel used (the remainder of the block grid is split evenly
    between both sides, so that flipping an image flips the result).
    """
    n, h, w, _ = X.shape
    hs, ws = h // factor, w // factor
    r0, c0 = (h - hs * factor) // 2, (w - ws * factor) // 2
    X = X[:, r0 : r0 + hs * factor, c0 : c0 + ws * factor]
    # uint8 input: each value converted as check_images converts it, so the
    # sums are those of the float32 images, bit for bit.
    scale = np.float32(1.0 / 255.0) if X.dtype == np.uint8 else None
    # Block sums as strided slices (much faster than a 6-D reshape + mean).
    G = np.zeros((n, hs, ws), dtype=np.float32)
    B = np.zeros((n, hs, ws), dtype=np.float32)
    tmp = None if scale is None else np.empty((n, hs, ws), dtype=np.float32)
    for i in range(factor):
        rows = X[:, i::factor]
        for j in range(factor):
            if scale is None:
                G += rows[:, :, j::factor, 1]
                B += rows[:, :, j::factor, 2]
            else:
                G += np.multiply(rows[:, :, j::factor, 1], scale, out=tmp)
                B += np.multiply(rows[:, :, j::factor, 2], scale, out=tmp)
    # The ratio is scale-free: block sums need no division by factor**2,
    # but the epsilon must be scaled alike.
    F = (B - G) / (B + G + _RATIO_EPS * factor * factor)
    return F, (r0, c0)


def _otsu_and_median(F):
    """Per-image Otsu threshold and median of ``F`` (n, hs, ws), vectorised."""
    n = F.shape[0]
    scale = _N_BINS / (_F_HI - _F_LO)
    bins = ((F - _F_LO) * scale).astype(np.intp)
    np.clip(bins, 0, _N_BINS - 1, out=bins)
    bins += (np.arange(n, dtype=np.intp) * _N_BINS)[:, None, None]
    hist = np.bincount(bins.ravel(), minlength=n * _N_BINS).reshape(n, _N_BINS)
    hist = hist.astype(np.float64)
    centers = _F_LO + (np.arange(_N_BINS) + 0.5) / scale
    total = hist.sum(axis=1, keepdims=True)
    p = hist / total
    omega = np.cumsum(p, axis=1)
    mu = np.cumsum(p * centers, axis=1)
    mu_t = mu[:, -1:]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu_t * omega - mu) ** 2 / (omega * (1.0 - omega))
    between = np.nan_to_num(between, nan=-1.0, posinf=-1.0, neginf=-1.0)
    otsu = centers[np.argmax(between, axis=1)]
    median = centers[np.argmax(omega >= 0.5, axis=1)]
    return otsu, median


def _square_morphology(mask, size, operation):
    """Binary opening or closing of ``mask`` by a box of ``size``.

    The same result as ``ndimage.binary_opening``/``binary_closing`` with
    ``structure=np.ones(size, bool)`` (outside the image counts as
    background), computed with separable minimum and maximum filters:
    several times faster for the boxes used here.
    """
    box = {"size": size, "mode": "constant", "cval": 0}
    if operation == "opening":
        return ndimage.maximum_filter(ndimage.minimum_filter(mask, **box), **box)
    return ndimage.minimum_filter(ndimage.maximum_filter(mask, **box), **box)


def _detect(X, *, min_area, merge_distance, work_size, min_contrast):
    """Nucleus candidates of every image of a 4-D batch of one size.

    Returns a dict with, per candidate (only those of at least ``min_area``):
    ``image`` (k,) image index, ``centroid`` (k, 2) in input pixels,
    ``area`` (k,) in input pixels, ``label`` (k,) label id in ``labels``;
    and the working-resolution arrays ``labels`` (n, hs, ws) (merged
    regions), ``nucleus`` (n, hs, ws) bool, ``factor``, ``offset``.
    """
    n, h, w, _ = X.shape
    min_area_px = _resolve_area(min_area, h, w)
    factor = _downscale_factor(h, w, work_size, min_area_px)
    F, offset = _stain_feature(X, factor)
    otsu, median = _otsu_and_median(F)
    threshold = np.maximum(otsu, median + min_contrast).astype(np.float32)
    raw = F > threshold[:, None, None]
    # Structuring elements never connect two images of the stack. The
    # opening drops isolated specks; the pixels it trims from the outline of
    # a kept nucleus are given back below (``raw & labels``).
    mask = raw
    if min(F.shape[1:]) >= 3:
        mask = _square_morphology(raw, (1, 3, 3), "opening")
    radius = int(np.ceil(_resolve_length(merge_distance, h, w) / (2.0 * factor)))
    grown = mask
    if radius > 0:
        grown = ndimage.maximum_filter(mask, size=(1, 2 * radius + 1, 2 * radius + 1))
    structure = np.zeros((3, 3, 3), dtype=bool)
    structure[1] = True
    labels, n_labels = ndimage.label(grown, structure=structure)
    mask = raw & (labels > 0)
    result = {
        "labels": labels,
        "nucleus": mask,
        "factor": factor,
        "offset": offset,
        "image": np.empty(0, dtype=np.intp),
        "centroid": np.empty((0, 2)),
        "area": np.empty(0),
        "label": np.empty(0, dtype=np.intp),
    }
    if n_labels == 0:
        return result
    # Area, image and centroid of the nucleus pixels of each merged region
    # (not of the grown region), by bincount over the nucleus pixels only.
    img, rr, cc = np.nonzero(mask)
    lab = labels[img, rr, cc]
    counts = np.bincount(lab, minlength=n_labels + 1)
    area = counts.astype(np.float64)
    keep = (area * factor * factor >= min_area_px) & (area > 0)
    keep[0] = False
    index = np.flatnonzero(keep)
    if index.size == 0:
        return result
    area = area[index]
    sums = np.stack(
        [
            np.bincount(lab, weights=v, minlength=n_labels + 1)[index]
            for v in (img, rr, cc)
        ],
        axis=1,
    )
    com = sums / area[:, None]
    centroid = com[:, 1:] * factor + (factor - 1) / 2.0 + np.asarray(offset)
    result.update(
        image=np.rint(com[:, 0]).astype(np.intp),
        centroid=centroid,
        area=area * factor * factor,
        label=index,
    )
    return result


def _select(det, n, shape, selection):
    """Index (into the candidates) of the selected cell per image, or -1."""
    h, w = shape
    chosen = np.full(n, -1, dtype=np.intp)
    if det["image"].size == 0:
        return chosen
    if selection == "largest":
        score = -det["area"]
    else:  # central, among candidates not much smaller than the largest
        largest = np.zeros(n)
        np.maximum.at(largest, det["image"], det["area"])
        centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
        score = ((det["centroid"] - centre) ** 2).sum(axis=1)
        small = det["area"] < _CENTRAL_MIN_REL_AREA * largest[det["image"]]
        score[small] = np.inf
    order = np.lexsort((score, det["image"]))
    images, first = np.unique(det["image"][order], return_index=True)
    chosen[images] = order[first]
    return chosen


def _locate_batch(X, params):
    """Centres (n, 2), found (n,), detection and selection of a 4-D batch."""
    n, h, w, _ = X.shape
    det = _detect(
        X,
        min_area=params["min_area"],
        merge_distance=params["merge_distance"],
        work_size=params["work_size"],
        min_contrast=params["min_contrast"],
    )
    chosen = _select(det, n, (h, w), params["selection"])
    found = chosen >= 0
    centers = np.empty((n, 2), dtype=np.float64)
    centers[:, 0] = (h - 1) / 2.0
    centers[:, 1] = (w - 1) / 2.0
    centers[found] = det["centroid"][chosen[found]]
    return centers, found, det, chosen
