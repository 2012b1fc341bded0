"""Every white cell of a smear, touching cells separated one by one.

The nucleus candidates come from the stain-ratio segmentation of
``_detection.py`` (per-image threshold, fragments of one lobed nucleus
merged over ``merge_distance``, platelets dropped). Touching and
overlapping cells form one candidate there; they are separated here, at
the smear's own cell scale:

1. the Euclidean distance transform ``d`` of the (hole-filled) nucleus mask
   peaks once per round nucleus;
2. the smear's single-nucleus area ``a0 = pi r0**2`` is the median area of
   its *round* candidates (area at most 1.4 ``pi max(d)**2``: one round
   nucleus; a lobed nucleus or a cluster is not round), so ``r0`` follows
   the magnification of the image;
3. the nucleus outline is smoothed by a closing of ``0.12 r0`` (a pale,
   grainy nucleus has a ragged outline whose distance transform has
   spurious peaks) and ``d`` is taken again;
4. markers are the local maxima of ``d`` at least ``0.5 r0`` deep and about
   ``1.3 r0`` apart, kept when an h-maxima transform (``h = 0.2 r0``) finds
   a saddle between them (two ends of a C-shaped nucleus are one cell; the
   thin lobes of a neutrophil are too shallow to count); a candidate never
   gets more markers than ``1.5`` times its area over ``a0`` (rounded up):
   its area checks its number of instances (maxima closer than ``0.65 r0``
   to a deeper one are the same peak); with ``lobed=True``, where the nucleus
   mask smoothed by a Gaussian of ``0.55 r0`` has more peaks in a candidate
   (the lobes of one granulocyte give one), its peaks are the markers and
   the watershed follows that density there;
5. a watershed of ``-d`` from the markers
   (:func:`skimage.segmentation.watershed`) within the nucleus closed over
   the merge gap gives each cell its own nucleus pixels: centre, area,
   radius, box, mask.

Everything but the h-maxima check of candidates with several deep peaks
runs once per image on the block-averaged working copy; coordinates are
mapped back to the input pixels.
"""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy import ndimage
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ..utils.validation import check_images
from ._detection import (
    _DETECTION_CONSTRAINTS,
    _detect,
    _resolve_length,
    _square_morphology,
)

__all__ = ["locate_white_cells"]

# Separation (see _markers): a candidate is round when its area is at most
# _ROUND * pi * deepest**2; peaks are local maxima at least _MIN_DEPTH * r0
# deep and _SEPARATION * r0 apart, peaks closer than about 2 * _PLATEAU * r0
# being one; peaks at least _DEEP * r0 deep, above a saddle _H * r0 lower,
# are cells; at most _MOST * area / (pi r0**2). Chosen on composed images of
# real PBC/DeepAPL cells (another draw than bench_touching's) with the BCCD
# figures kept.
_MIN_DEPTH = 0.4
_SEPARATION = 1.3
_DEEP = 0.5
_PLATEAU = 0.65
_ROUND = 1.4
_H = 0.2
_MOST = 1.5
# The nucleus outline is smoothed by a closing of _SMOOTH * r0 before its
# distance transform is taken for the markers.
_SMOOTH = 0.12
# Lobed nuclei (see _markers): the filled nucleus mask smoothed by a
# Gaussian of _DENSITY_SIGMA * r0 peaks once per cell, its lobes included;
# peaks at least _DENSITY_MIN high and about _DENSITY_SEPARATION * r0 apart,
# at most one per _DENSITY_AREA * a0 of the candidate's nucleus area. Chosen
# on the same draw as the constants above.
_DENSITY_SIGMA = 0.55
_DENSITY_SEPARATION = 1.0
_DENSITY_MIN = 0.25
_DENSITY_AREA = 0.6
# A cell is flagged "border" when its nucleus touches the image edge or its
# centre lies closer to an edge than this fraction of its nucleus radius.
_BORDER_FRACTION = 0.5


def _empty(h, w, return_labels):
    cells = Bunch(
        centres=np.empty((0, 2)),
        radii=np.empty(0),
        boxes=np.empty((0, 4)),
        nucleus_areas=np.empty(0),
        border=np.empty(0, dtype=bool),
        overlap=np.empty(0, dtype=bool),
        cell_scale=float("nan"),
        shape=(h, w),
    )
    if return_labels:
        cells["labels"] = np.zeros((h, w), dtype=np.int32)
    return cells


def _distance(mask):
    """Euclidean distance to the background (the image edge is background)."""
    return ndimage.distance_transform_edt(np.pad(mask, 1))[1:-1, 1:-1]


def _fill_holes(mask):
    """``mask`` with its holes (background not reaching the edge) filled."""
    bg, n_bg = ndimage.label(~mask)
    if n_bg < 2:
        return mask
    hole = np.ones(n_bg + 1, dtype=bool)
    hole[np.r_[bg[0], bg[-1], bg[:, 0], bg[:, -1]]] = False
    return mask | hole[bg]


def _region_stats(dist, regions, n_regions):
    """Area, deepest distance and its position of each region (1..k)."""
    rr, cc = np.nonzero(regions)
    lab = regions[rr, cc]
    d = dist[rr, cc]
    area = np.bincount(lab, minlength=n_regions + 1).astype(np.float64)
    deepest = np.zeros(n_regions + 1, dtype=dist.dtype)
    np.maximum.at(deepest, lab, d)
    at_top = np.flatnonzero(d == deepest[lab])
    first = at_top[np.unique(lab[at_top], return_index=True)[1]]
    top = np.zeros((n_regions + 1, 2), dtype=np.intp)
    top[lab[first]] = np.c_[rr[first], cc[first]]
    return area, deepest, top


def _markers(dist, regions, n_regions, split, density=None):
    """Markers (int32, 0 = none), single-nucleus radius (work px), density use.

    The smear's single-nucleus area ``a0 = pi r0**2`` is the median area of
    its round candidates (area at most ``_ROUND * pi * deepest**2``), or of
    all candidates when none is round. A
    candidate holds one cell per peak of the nucleus distance transform at
    least ``_DEEP * r0`` deep (local maxima ``_SEPARATION * r0`` apart,
    separated by a saddle at least ``_H * r0`` below them), but at least
    one and at most ``ceil(_MOST * area / (pi r0**2))`` -- or, where the
    ``density`` (the nucleus mask smoothed at the cell scale) has more peaks
    than that, one per density peak, at most ``area / (_DENSITY_AREA * a0)``.
    ``use_density[k]``: candidate ``k`` got the density's markers.
    """
    area, deepest, top = _region_stats(dist, regions, n_regions)
    area, deepest, top = area[1:], deepest[1:], top[1:]
    # The smear's single-nucleus area: the median area of its round
    # candidates (a lobed nucleus or a cluster is not round).
    round_ = area <= _ROUND * np.pi * deepest.astype(np.float64) ** 2
    a0 = float(np.median(area[round_] if round_.any() else area))
    r0 = float(np.sqrt(a0 / np.pi))
    markers = np.zeros(dist.shape, dtype=np.int32)
    index = np.arange(1, n_regions + 1, dtype=np.int32)
    # The area bounds the number of cells of a candidate.
    most = np.maximum(1, np.ceil(_MOST * area / a0)).astype(np.intp)
    if not split or r0 < 2.0 or not (most > 1).any():
        markers[top[:, 0], top[:, 1]] = index
        return markers, r0, np.zeros(n_regions + 1, dtype=bool)
    size = 2 * max(1, int(round(_SEPARATION * r0 / 2.0))) + 1
    peaks = (dist == ndimage.maximum_filter(dist, size=size)) & (
        dist >= _MIN_DEPTH * r0
    )
    peaks &= regions > 0
    pr, pc = np.nonzero(peaks)
    pr = np.r_[top[:, 0], pr]
    pc = np.r_[top[:, 1], pc]
    # Plateaus give several equal maxima side by side: one per blob.
    grown = np.zeros(dist.shape, dtype=bool)
    grown[pr, pc] = True
    grow = max(1, int(round(_PLATEAU * r0)))
    grown = ndimage.maximum_filter(grown, size=2 * grow + 1)
    grown &= regions > 0
    blobs, _ = ndimage.label(grown)
    key = blobs[pr, pc].astype(np.int64) * (n_regions + 1) + regions[pr, pc]
    _, first = np.unique(key, return_index=True)
    pr, pc = pr[first], pc[first]
    depth = dist[pr, pc].astype(np.float64)
    region = regions[pr, pc]
    n_deep = np.bincount(
        region, weights=depth >= _DEEP * r0, minlength=n_regions + 1
    )[1:]
    cap = np.maximum(1, np.minimum(n_deep, most)).astype(np.intp)
    # A candidate with several deep peaks is checked with h-maxima: peaks
    # that no saddle at least _H * r0 deep separates (the two ends of a
    # C-shaped nucleus, a plateau) are one cell.
    from skimage.morphology import h_maxima

    slices = ndimage.find_objects(regions)
    keep_r, keep_c = [top[:, 0]], [top[:, 1]]
    for k in np.flatnonzero(cap > 1):
        sl = slices[k]
        inside = regions[sl] == k + 1
        sub = np.where(inside, dist[sl], 0)
        hm, n_hm = ndimage.label(h_maxima(sub, _H * r0) & inside, np.ones((3, 3)))
        if n_hm < 2:
            continue
        at = np.asarray(ndimage.maximum_position(sub, hm, np.arange(1, n_hm + 1)))
        d = sub[at[:, 0], at[:, 1]]
        ok = d >= _DEEP * r0
        ok[np.argmax(d)] = True
        at = at[ok][np.argsort(-d[ok], kind="stable")]
        # Maxima closer than _PLATEAU * r0 to a deeper one are the same
        # peak (a ridge of equal distances): keep the deepest.
        near = np.hypot(*(at[:, None] - at[None]).transpose(2, 0, 1)) < _PLATEAU * r0
        keep = np.ones(len(at), dtype=bool)
        for i in range(1, len(at)):
            keep[i] = not (near[i, :i] & keep[:i]).any()
        at = at[keep][: cap[k]]
        at = at[1:]  # the deepest is the region's top, already a marker
        keep_r.append(at[:, 0] + sl[0].start)
        keep_c.append(at[:, 1] + sl[1].start)
    pr, pc = np.concatenate(keep_r), np.concatenate(keep_c)
    # A lobed nucleus has no deep distance peak per cell: where the density
    # finds more cells than the distance transform, its peaks are the markers
    # (and the watershed runs on the density there).
    use_density = np.zeros(n_regions + 1, dtype=bool)
    if density is not None:
        qr, qc = _density_peaks(density, regions, r0)
        q_region = regions[qr, qc]
        n_density = np.bincount(q_region, minlength=n_regions + 1)[1:]
        n_density = np.minimum(n_density, np.floor(area / (_DENSITY_AREA * a0)))
        have = np.bincount(regions[pr, pc], minlength=n_regions + 1)[1:]
        use_density[1:] = (n_density > have) & (most > 1)
        if use_density.any():
            keep = ~use_density[regions[pr, pc]]
            sel = use_density[q_region]
            qr, qc, q_region = qr[sel], qc[sel], q_region[sel]
            # The highest peaks of each candidate, at most n_density.
            order = np.lexsort((-density[qr, qc], q_region))
            qr, qc, q_region = qr[order], qc[order], q_region[order]
            rank = np.arange(q_region.size) - np.searchsorted(q_region, q_region)
            ok = rank < n_density[q_region - 1]
            pr, pc = np.r_[pr[keep], qr[ok]], np.r_[pc[keep], qc[ok]]
    markers[pr, pc] = np.arange(1, pr.size + 1, dtype=np.int32)
    return markers, r0, use_density


def _density_peaks(density, regions, r0):
    """Local maxima of the density at least ``_DENSITY_MIN`` high, in candidates.

    Equal maxima side by side (a plateau) are one peak.
    """
    size = 2 * max(1, int(round(_DENSITY_SEPARATION * r0 / 2.0))) + 1
    peaks = density == ndimage.maximum_filter(density, size=size)
    peaks &= (density >= _DENSITY_MIN) & (regions > 0)
    blobs, n_blobs = ndimage.label(peaks, np.ones((3, 3)))
    if n_blobs == 0:
        return np.empty(0, dtype=np.intp), np.empty(0, dtype=np.intp)
    at = ndimage.find_objects(blobs)
    qr = np.array([sl[0].start for sl in at], dtype=np.intp)
    qc = np.array([sl[1].start for sl in at], dtype=np.intp)
    ok = blobs[qr, qc] == np.arange(1, n_blobs + 1)
    # A blob's bounding-box corner may lie outside it: take its first pixel.
    if not ok.all():
        rr, cc = np.nonzero(blobs)
        _, first = np.unique(blobs[rr, cc], return_index=True)
        qr, qc = rr[first], cc[first]
    return qr, qc


@validate_params(
    {
        "image": ["array-like"],
        **_DETECTION_CONSTRAINTS,
        "cell_scale": [Interval(Real, 1, None, closed="left")],
        "split": ["boolean"],
        "lobed": ["boolean"],
        "return_labels": ["boolean"],
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
    lobed=False,
    return_labels=False,
):
    """Locate every white blood cell of a smear image, one by one.

    White-cell nuclei are segmented from the stain colour: a per-image Otsu
    threshold on the stain ratio ``(B - G) / (B + G + 0.1)`` (high on the
    purple/blue nuclear stain of a Romanowsky-type smear, near zero on red
    cells and background), never below the image median plus
    ``min_contrast``. Fragments closer than ``merge_distance`` are one cell
    (the lobes of a neutrophil nucleus) and candidates smaller than
    ``min_area`` (platelets, debris) are dropped.

    Touching and overlapping cells are then **separated**: the distance
    transform of the (closed, filled) nucleus mask peaks once per round
    nucleus; its peaks, taken at the smear's own cell scale (the median
    single-nucleus radius of this image, so it follows the magnification),
    are the markers of a watershed that gives each cell its own nucleus
    pixels. A cluster never gets more cells than its area allows at that
    scale. Each cell has its own centre, radius, box and (with
    ``return_labels``) mask.

    Parameters
    ----------
    image : array-like of shape (height, width, 3)
        One RGB smear image of any size, ``uint8`` or float in ``[0, 1]``
        (grayscale and RGBA are accepted as by
        :func:`~skleuk.utils.validation.check_images`).
    min_area : "auto", int or float, default="auto"
        Smallest nucleus area of a white cell. An int is a number of input
        pixels; a float in ``[0, 1)`` a fraction of the image area.
        ``"auto"``: 0.5 % of the image area, but at most 1000 pixels. That
        suits single-cell crops and whole fields at BCCD/ALL-IDB
        magnification (640x480 to 2592x1944, nuclei of 2000-15000 pixels,
        platelets under 500). At a very different magnification, pass
        pixels.
    merge_distance : "auto", int or float, default="auto"
        Nucleus fragments separated by less than this gap belong to the same
        cell. An int is in input pixels; a float in ``[0, 1)`` a fraction of
        the shorter image side; ``0`` disables merging. ``"auto"``: 3 % of
        the shorter side, but at most 15 pixels.
    work_size : int or None, default=128
        Segmentation runs on a copy block-averaged by an integer factor of at
        most ``min(height, width) // work_size`` (the copy's shorter side
        stays at least ``work_size`` pixels) and at most
        ``sqrt(min_area) / 8`` (the smallest accepted nucleus stays about 8
        working pixels across). ``None`` works at full resolution.
    min_contrast : float, default=0.1
        The threshold on the stain ratio is at least the image median plus
        this margin. It is what makes an image without any stained nucleus
        (or an image holding nothing but nucleus) come out empty.
    cell_scale : float, default=1.45
        Cell radius divided by the equivalent radius of its nucleus. 1.45 is
        the median over the 175 white cells of the BCCD photographs that
        were matched to their annotated box (5-95 %: 1.22-1.77).
    split : bool, default=True
        Separate touching and overlapping cells as described above
        (``False``: one cell per merged nucleus candidate).
    lobed : bool, default=False
        Also separate touching cells whose nuclei are **lobed** (neutrophils,
        eosinophils): their distance transform has no deep peak per cell, but
        the nucleus mask smoothed by a Gaussian at the cell scale (0.55 times
        the smear's single-nucleus radius) peaks once per cell, its lobes
        included. In a candidate where it finds more cells than the distance
        transform (at most one per 0.6 single-nucleus areas), its peaks are
        the markers and the watershed follows it. It finds more touching
        granulocytes but cuts some large lobed granulocytes of a normal smear
        in two (see the screening guide for the figures); off by default.
    return_labels : bool, default=False
        Also return ``labels``, the mask of every cell as one label image.

    Returns
    -------
    cells : :class:`~sklearn.utils.Bunch`
        With, for the ``n_cells`` cells found, sorted by decreasing nucleus
        area:

        centres : ndarray of shape (n_cells, 2)
            ``(row, col)`` of the nucleus centroid, in pixels of ``image``.
        radii : ndarray of shape (n_cells,)
            Estimated cell radius in pixels: ``cell_scale`` times the
            equivalent radius of the nucleus (of its deepest inscribed disc
            when that is larger: a cell partly hidden by another).
        boxes : ndarray of shape (n_cells, 4)
            ``(row_min, col_min, row_max, col_max)``: centre +- radius,
            clipped to the image.
        nucleus_areas : ndarray of shape (n_cells,)
            Nucleus area in pixels.
        border : ndarray of bool, shape (n_cells,)
            The cell is cut by the image edge.
        overlap : ndarray of bool, shape (n_cells,)
            The cell was separated from a cluster of touching cells.
        cell_scale : float
            The smear's median single-nucleus radius in pixels (NaN when no
            cell was found): the scale the separation worked at.
        shape : tuple
            ``(height, width)`` of the image.
        labels : ndarray of shape (height, width), dtype int32
            Only with ``return_labels=True``: ``labels == i + 1`` marks the
            nucleus pixels of cell ``i`` (0 is background), at input
            resolution (nearest-neighbour upsampled from the working copy).

    See Also
    --------
    WhiteCellCropper : Crop a fixed-size window around one cell per image.
    skleuk.screening.localisation_report : Measure the cells found against
        annotations.
    skleuk.screening.SmearScreener : Classify every cell found and give a
        verdict per smear.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import locate_white_cells
    >>> rr, cc = np.mgrid[:120, :160]
    >>> image = np.empty((120, 160, 3))
    >>> image[:] = [0.9, 0.7, 0.75]                      # pink background
    >>> for r, c in [(40, 40), (80, 120), (80, 137)]:    # two of them touch
    ...     image[(rr - r) ** 2 + (cc - c) ** 2 <= 10 ** 2] = [0.45, 0.25, 0.65]
    >>> cells = locate_white_cells(image)
    >>> cells.centres[np.argsort(cells.centres[:, 1])].round()
    array([[ 40.,  40.],
           [ 80., 120.],
           [ 80., 137.]])
    >>> cells.overlap.tolist()
    [False, True, True]
    """
    # A uint8 smear stays uint8: the detector reads a block-averaged copy
    # (the same values as a float32 conversion of the whole smear, without it).
    X = check_images([image], input_name="image", keep_uint8=True)
    _, h, w, _ = X.shape
    det = _detect(
        X,
        min_area=min_area,
        merge_distance=merge_distance,
        work_size=work_size,
        min_contrast=min_contrast,
    )
    if det["label"].size == 0:
        return _empty(h, w, return_labels)
    factor, (r0_off, c0_off) = det["factor"], det["offset"]
    nucleus = det["nucleus"][0]
    # Kept candidates only, relabelled 1..k.
    lut = np.zeros(int(det["labels"].max()) + 1, dtype=np.int32)
    lut[det["label"]] = np.arange(1, det["label"].size + 1, dtype=np.int32)
    regions = lut[det["labels"][0]]
    n_regions = int(det["label"].size)
    nucleus = nucleus & (regions > 0)
    # Close over the merge gap (lobes of one nucleus become one blob), fill.
    radius = int(np.ceil(_resolve_length(merge_distance, h, w) / (2.0 * factor)))
    # The nucleus closed over the merge gap (the lobes of one nucleus become
    # one blob) and filled: its distance transform peaks once per cell.
    solid = nucleus
    if radius > 0:
        size = (2 * radius + 1, 2 * radius + 1)
        solid = ndimage.minimum_filter(regions > 0, size=size) | nucleus
    solid = _fill_holes(solid)
    regions = np.where(solid, regions, 0)
    filled = _fill_holes(nucleus)
    dist = _distance(filled)
    if split:
        # A ragged outline (a pale, grainy nucleus) gives its distance
        # transform spurious peaks: smooth it by a closing of a tenth of the
        # smear's nucleus radius, then measure again.
        area, deepest, _ = _region_stats(dist, regions, n_regions)
        round_ = area[1:] <= _ROUND * np.pi * deepest[1:].astype(np.float64) ** 2
        a0 = np.median(area[1:][round_] if round_.any() else area[1:])
        k = int(round(_SMOOTH * np.sqrt(a0 / np.pi)))
        if k >= 1:
            smooth = _square_morphology(nucleus, (2 * k + 1,) * 2, "closing") & solid
            dist = _distance(_fill_holes(smooth))
    dist = dist.astype(np.float32)
    density = None
    if split and lobed:
        # The nucleus mask smoothed at the cell scale: one peak per cell,
        # the lobes of a granulocyte included.
        sigma = _DENSITY_SIGMA * np.sqrt(a0 / np.pi)
        density = ndimage.gaussian_filter(filled.astype(np.float32), sigma)
    markers, r0, use_density = _markers(dist, regions, n_regions, split, density)
    if split:
        from skimage.segmentation import watershed

        # The watershed follows the distance transform, or the density in
        # the candidates whose markers it gave.
        landscape = -dist
        if use_density.any():
            landscape = np.where(use_density[regions], -density * r0, landscape)
        cells = watershed(landscape, markers, mask=solid)
    else:
        cells = regions.astype(np.int32)
    n_cells = int(cells.max())
    # Nucleus pixels of each cell (the closing only guides the separation).
    own = np.where(nucleus, cells, 0)
    counts = np.bincount(own.ravel(), minlength=n_cells + 1)[1:]
    rr, cc = np.nonzero(own)
    lab = own[rr, cc]
    sr = np.bincount(lab, weights=rr, minlength=n_cells + 1)[1:]
    sc = np.bincount(lab, weights=cc, minlength=n_cells + 1)[1:]
    present = counts > 0
    ids = np.flatnonzero(present) + 1
    counts, sr, sc = counts[present], sr[present], sc[present]
    centres = np.c_[sr / counts, sc / counts] * factor + (factor - 1) / 2.0
    centres += np.array([r0_off, c0_off])
    areas = counts.astype(np.float64) * factor * factor
    # Deepest point and candidate region of each cell.
    rr, cc = np.nonzero(cells)
    lab = cells[rr, cc]
    depth = np.zeros(n_cells + 1, dtype=np.float64)
    np.maximum.at(depth, lab, dist[rr, cc])
    region_of = np.zeros(n_cells + 1, dtype=np.intp)
    region_of[lab] = regions[rr, cc]
    depth, region_of = depth[ids], region_of[ids]
    eq = np.maximum(np.sqrt(areas / np.pi), depth * factor)
    # Which cells share a candidate region with another cell.
    per_region = np.bincount(region_of, minlength=n_regions + 1)
    overlap = per_region[region_of] > 1
    # Border: the nucleus touches the edge of the working copy, or the centre
    # is closer to the edge than half the nucleus radius.
    edge = np.zeros(own.shape, dtype=bool)
    edge[[0, -1], :] = edge[:, [0, -1]] = True
    on_edge = np.isin(ids, np.unique(own[edge & (own > 0)]))
    near = np.minimum(
        np.minimum(centres[:, 0], h - 1 - centres[:, 0]),
        np.minimum(centres[:, 1], w - 1 - centres[:, 1]),
    ) < _BORDER_FRACTION * np.sqrt(areas / np.pi)
    order = np.argsort(-areas, kind="stable")
    centres, areas, eq = centres[order], areas[order], eq[order]
    radii = cell_scale * eq
    boxes = np.c_[
        np.clip(centres[:, 0] - radii, 0, h - 1),
        np.clip(centres[:, 1] - radii, 0, w - 1),
        np.clip(centres[:, 0] + radii, 0, h - 1),
        np.clip(centres[:, 1] + radii, 0, w - 1),
    ]
    result = Bunch(
        centres=centres,
        radii=radii,
        boxes=boxes,
        nucleus_areas=areas,
        border=(on_edge | near)[order],
        overlap=overlap[order],
        cell_scale=float(r0 * factor),
        shape=(h, w),
    )
    if return_labels:
        relabel = np.zeros(n_cells + 1, dtype=np.int32)
        relabel[ids[order]] = np.arange(1, len(order) + 1, dtype=np.int32)
        small = relabel[own]
        rows = np.clip((np.arange(h) - r0_off) // factor, 0, small.shape[0] - 1)
        cols = np.clip((np.arange(w) - c0_off) // factor, 0, small.shape[1] - 1)
        result["labels"] = small[rows[:, None], cols[None, :]]
    return result
