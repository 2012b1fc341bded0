"""Every white cell of a smear: centres, boxes, radii and quality flags."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import ndimage
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..preprocessing._detection import (
    _DETECTION_CONSTRAINTS,
    _detect,
    _resolve_area,
)
from ..utils.validation import check_images

__all__ = ["locate_white_cells"]

# A region is split into several cells when its nucleus mask has two or more
# distance-transform peaks at least this fraction of the region's equivalent
# radius deep (two touching round nuclei: 0.71; the thin lobes of one
# neutrophil nucleus: about 0.3) and this many peak depths apart.
_SPLIT_DEPTH = 0.65
_SPLIT_SEPARATION = 1.5
# A cell is flagged "border" when its nucleus touches the image edge or its
# centre lies closer to an edge than this fraction of the cell radius.
_BORDER_FRACTION = 0.5  # of the nucleus radius


def _split_region(nucleus):
    """Watershed labels of one region's nucleus mask, or None (one cell)."""
    from skimage.feature import peak_local_max
    from skimage.segmentation import watershed

    filled = ndimage.binary_fill_holes(nucleus)
    dist = ndimage.distance_transform_edt(np.pad(filled, 1))[1:-1, 1:-1]
    eq_radius = np.sqrt(filled.sum() / np.pi)
    depth = _SPLIT_DEPTH * eq_radius
    if dist.max() < depth or depth < 2:
        return None
    peaks = peak_local_max(
        dist,
        min_distance=max(1, int(_SPLIT_SEPARATION * depth / 2)),
        threshold_abs=depth,
        exclude_border=False,
        labels=filled.astype(np.int32),
    )
    if len(peaks) < 2:
        return None
    markers = np.zeros(filled.shape, dtype=np.int32)
    markers[tuple(peaks.T)] = np.arange(1, len(peaks) + 1)
    return watershed(-dist, markers, mask=filled)


@validate_params(
    {
        "image": ["array-like"],
        **_DETECTION_CONSTRAINTS,
        "cell_scale": [Interval(Real, 1, None, closed="left")],
        "split": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def locate_white_cells(
    image,
    *,
    min_area="auto",
    merge_distance="auto",
    work_size=128,
    min_contrast=0.1,
    cell_scale=1.45,
    split=True,
):
    """Locate every white blood cell of a smear image.

    Builds on :func:`skleuk.preprocessing.find_white_cells` (stain-ratio
    nucleus segmentation with a per-image threshold, fragments of one
    lobed nucleus merged, platelets dropped) and adds, per cell, what a
    whole-smear workflow needs:

    * a **radius** and a **box** sized from the cell's own nucleus area
      (``cell_scale`` times its equivalent radius), so crops follow the
      magnification of each image instead of a fixed pixel size;
    * **splitting** of touching cells: a region whose filled nucleus mask has
      two or more deep distance-transform peaks (each at least 0.65 of the
      region's equivalent radius, as two touching round nuclei have, which
      the thin lobes of one neutrophil nucleus do not) is cut by a watershed
      into one cell per peak, flagged ``overlap``;
    * a **border** flag for cells cut by the image edge (nucleus touching the
      edge, or centre closer to it than half the cell radius).

    Parameters
    ----------
    image : array-like of shape (height, width, 3)
        One RGB smear image of any size, ``uint8`` or float in ``[0, 1]``.
    min_area : "auto", int or float, default="auto"
        Smallest nucleus area of a white cell: pixels (int), fraction of the
        image area (float), or ``"auto"`` (0.5 % of the image, at most 1000
        pixels). See :func:`~skleuk.preprocessing.find_white_cells`.
    merge_distance : "auto", int or float, default="auto"
        Nucleus fragments closer than this are one cell (see
        :func:`~skleuk.preprocessing.find_white_cells`).
    work_size : int or None, default=128
        Shorter side of the block-averaged working copy (``None``: full
        resolution).
    min_contrast : float, default=0.1
        Minimum margin of the nucleus threshold over the image median of the
        stain ratio.
    cell_scale : float, default=1.45
        Cell radius divided by the equivalent radius of its nucleus. 1.45 is
        the median over the 175 white cells of the BCCD photographs that
        were matched to their annotated box (5-95 %: 1.22-1.77).
    split : bool, default=True
        Split touching cells as described above (``False``: keep them as one
        candidate; the ``overlap`` flag then stays False).

    Returns
    -------
    cells : :class:`~sklearn.utils.Bunch`
        With, for the ``n_cells`` cells found, sorted by decreasing nucleus
        area:

        centres : ndarray of shape (n_cells, 2)
            ``(row, col)`` of the nucleus centroid, in pixels of ``image``.
        radii : ndarray of shape (n_cells,)
            Estimated cell radius in pixels.
        boxes : ndarray of shape (n_cells, 4)
            ``(row_min, col_min, row_max, col_max)``: centre +- radius,
            clipped to the image.
        nucleus_areas : ndarray of shape (n_cells,)
            Nucleus area in pixels.
        border : ndarray of bool, shape (n_cells,)
            The cell is cut by the image edge.
        overlap : ndarray of bool, shape (n_cells,)
            The cell was split from a region of touching cells.
        shape : tuple
            ``(height, width)`` of the image.

    See Also
    --------
    skleuk.preprocessing.find_white_cells : The nucleus candidates used here.
    localisation_report : Measure the cells found against annotations.
    SmearScreener : Classify every cell found and give a verdict per smear.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.screening import locate_white_cells
    >>> rr, cc = np.mgrid[:120, :160]
    >>> image = np.empty((120, 160, 3))
    >>> image[:] = [0.9, 0.7, 0.75]                      # pink background
    >>> for r, c in [(40, 40), (80, 120)]:
    ...     image[(rr - r) ** 2 + (cc - c) ** 2 <= 10 ** 2] = [0.45, 0.25, 0.65]
    >>> cells = locate_white_cells(image)
    >>> cells.centres.round()
    array([[ 40.,  40.],
           [ 80., 120.]])
    >>> cells.border.tolist(), cells.overlap.tolist()
    ([False, False], [False, False])
    """
    X = check_images([image], input_name="image")
    _, h, w, _ = X.shape
    det = _detect(
        X,
        min_area=min_area,
        merge_distance=merge_distance,
        work_size=work_size,
        min_contrast=min_contrast,
    )
    factor, (r0, c0) = det["factor"], det["offset"]
    labels, nucleus = det["labels"][0], det["nucleus"][0]
    centroid = list(det["centroid"])
    area = list(det["area"])
    overlap = [False] * len(area)
    on_edge = np.zeros(len(area), dtype=bool)
    if len(area):
        edge = np.zeros(nucleus.shape, dtype=bool)
        edge[[0, -1], :] = edge[:, [0, -1]] = True
        touching = np.unique(labels[edge & nucleus])
        on_edge = np.isin(det["label"], touching)
    on_edge = list(on_edge)
    if split and len(area):
        slices = ndimage.find_objects(labels)
        min_px = _resolve_area(min_area, h, w)
        for k, lab in enumerate(list(det["label"])):
            sl = slices[lab - 1]
            sub = nucleus[sl] & (labels[sl] == lab)
            parts = _split_region(sub)
            if parts is None:
                continue
            n_parts = int(parts.max())
            counts = np.bincount(parts.ravel(), minlength=n_parts + 1)[1:]
            rr, cc = np.nonzero(parts)
            lab_px = parts[rr, cc]
            sr = np.bincount(lab_px, weights=rr, minlength=n_parts + 1)[1:]
            sc = np.bincount(lab_px, weights=cc, minlength=n_parts + 1)[1:]
            new = []
            for j in range(n_parts):
                a = counts[j] * factor * factor
                if counts[j] == 0 or a < min_px:
                    continue
                rc = np.array([sr[j], sc[j]]) / counts[j] + [sl[0].start, sl[1].start]
                new.append((rc * factor + (factor - 1) / 2.0 + [r0, c0], a))
            if len(new) < 2:
                continue
            centroid[k], area[k] = new[0]
            overlap[k] = True
            for rc, a in new[1:]:
                centroid.append(rc)
                area.append(a)
                overlap.append(True)
                on_edge.append(on_edge[k])
    centres = np.asarray(centroid, dtype=np.float64).reshape(-1, 2)
    areas = np.asarray(area, dtype=np.float64)
    order = np.argsort(-areas, kind="stable")
    centres, areas = centres[order], areas[order]
    radii = cell_scale * np.sqrt(areas / np.pi)
    near = np.minimum(
        np.minimum(centres[:, 0], h - 1 - centres[:, 0]),
        np.minimum(centres[:, 1], w - 1 - centres[:, 1]),
    ) < _BORDER_FRACTION * np.sqrt(areas / np.pi)
    border = np.asarray(on_edge, dtype=bool)[order] | near
    boxes = np.c_[
        np.clip(centres[:, 0] - radii, 0, h - 1),
        np.clip(centres[:, 1] - radii, 0, w - 1),
        np.clip(centres[:, 0] + radii, 0, h - 1),
        np.clip(centres[:, 1] + radii, 0, w - 1),
    ]
    return Bunch(
        centres=centres,
        radii=radii,
        boxes=boxes,
        nucleus_areas=areas,
        border=border,
        overlap=np.asarray(overlap, dtype=bool)[order],
        shape=(h, w),
    )
