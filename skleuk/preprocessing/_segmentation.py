"""White-blood-cell cropping: a fixed-size window around the detected cell.

The cells are located by the batched stain-colour detection of
``_detection.py`` (see ``locate_white_cells`` for the method), which also
selects one cell per image; this module cuts the windows out, pads them, and
optionally masks the background outside the selected cell.
"""

from __future__ import annotations

import warnings
from collections import defaultdict
from numbers import Integral, Real

import numpy as np
from scipy import ndimage
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, RealNotInt, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import BaseImageTransformer
from ..utils._image_ops import PAD_MODES as _PAD_MODES
from ..utils._image_ops import _fill_rgb, _map_index
from ..utils.validation import check_images
from ._detection import _DETECTION_CONSTRAINTS, _locate_batch

__all__ = ["WhiteCellCropper"]

# Fraction of the images of one fit/transform call above which fallbacks
# (no white cell found, centre crop used) are reported with a UserWarning.
_FALLBACK_WARNING_RATE = 0.1
# The cell region used by ``mask_background``: the nucleus grown by this
# fraction of its equivalent radius (plus one working pixel).
_CELL_GROWTH = 0.5

# ---------------------------------------------------------------------------
# Cropping
# ---------------------------------------------------------------------------


def _cell_regions(det, chosen):
    """Approximate whole-cell masks (working resolution) of selected cells.

    The nucleus pixels of the selected (merged) candidate, grown by
    ``_CELL_GROWTH`` times the nucleus' equivalent radius: one Euclidean
    distance transform for the whole stack (images kept apart by a huge
    sampling step along the batch axis).
    """
    labels, nucleus = det["labels"], det["nucleus"]
    n = labels.shape[0]
    region = np.zeros(labels.shape, dtype=bool)
    found = np.flatnonzero(chosen >= 0)
    if found.size == 0:
        return region
    sel_label = np.zeros(n, dtype=labels.dtype)
    sel_label[found] = det["label"][chosen[found]]
    sub = found
    seed = (labels[sub] == sel_label[sub, None, None]) & nucleus[sub]
    far = float(sum(labels.shape[1:]) + 1)
    dist = ndimage.distance_transform_edt(~seed, sampling=(far, 1.0, 1.0))
    area_work = det["area"][chosen[sub]] / det["factor"] ** 2
    grow = _CELL_GROWTH * np.sqrt(area_work / np.pi) + 1.0
    region[sub] = dist <= grow[:, None, None]
    return region


def _crop_batch(X, centers, size, pad_mode, fill, region=None, det=None, found=None):
    """Crop ``size x size`` windows centred on ``centers``.

    Windows inside their image are copied as slices; the windows reaching
    beyond it are taken in one gather of linear indices into the flattened
    pixels, through the padding mode's index map (``np.take`` on them is
    several times faster than multi-array fancy indexing).
    """
    n, h, w, _ = X.shape
    start = np.floor(centers - (size - 1) / 2.0 + 0.5).astype(np.intp)
    offs = np.arange(size, dtype=np.intp)
    rows = start[:, 0, None] + offs  # (n, size)
    cols = start[:, 1, None] + offs
    inside_r = (rows >= 0) & (rows < h)
    inside_c = (cols >= 0) & (cols < w)
    out = np.empty((n, size, size, 3), dtype=np.float32)
    # uint8 input (kept by the validation) is converted crop by crop, to
    # the values check_images gives: x.astype(float32) * float32(1 / 255).
    scale = np.float32(1.0 / 255.0) if X.dtype == np.uint8 else None
    # Windows inside their image: plain slices (a copy of contiguous rows,
    # several times faster than a gather); the others (windows reaching
    # beyond the image): one gather with the padding mode's index map.
    whole = inside_r.all(axis=1) & inside_c.all(axis=1)
    for i in np.flatnonzero(whole):
        r, c = start[i]
        window = X[i, r : r + size, c : c + size]
        if scale is None:
            out[i] = window
        else:
            np.multiply(window, scale, out=out[i])
    part = np.flatnonzero(~whole)
    if part.size:
        base = (part * h)[:, None]
        lin = (base + _map_index(rows[part], h, pad_mode))[:, :, None] * w
        lin = lin + _map_index(cols[part], w, pad_mode)[:, None, :]
        sub = X.reshape(-1, 3).take(lin.ravel(), axis=0)
        sub = sub.reshape(part.size, size, size, 3)
        if scale is not None:
            sub = sub.astype(np.float32)
            sub *= scale
        if pad_mode == "constant":
            sub[~(inside_r[part, :, None] & inside_c[part, None, :])] = fill
        out[part] = sub
    if region is not None and found.any():
        factor = det["factor"]
        r0, c0 = det["offset"]
        hs, ws = region.shape[1:]
        rw = (rows - r0) // factor
        cw = (cols - c0) // factor
        ok_r = inside_r & (rw >= 0) & (rw < hs)
        ok_c = inside_c & (cw >= 0) & (cw < ws)
        base = (np.arange(n, dtype=np.intp) * hs)[:, None]
        lin = (base + np.clip(rw, 0, hs - 1))[:, :, None] * ws
        lin = lin + np.clip(cw, 0, ws - 1)[:, None, :]
        cell = region.reshape(-1).take(lin.ravel()).reshape(n, size, size)
        cell &= ok_r[:, :, None] & ok_c[:, None, :]
        out[~cell & found[:, None, None]] = fill
    return out


def _group_by_shape(X):
    """Indices of the images of each distinct shape (list or 4-D array)."""
    if isinstance(X, np.ndarray):
        return {X.shape[1:]: np.arange(X.shape[0])}
    groups = defaultdict(list)
    for i, x in enumerate(X):
        groups[x.shape].append(i)
    return {k: np.asarray(v) for k, v in groups.items()}


def _take(X, idx):
    if isinstance(X, np.ndarray):
        return X if idx.size == X.shape[0] else X[idx]
    return np.stack([X[i] for i in idx])


# ---------------------------------------------------------------------------
# Transformer
# ---------------------------------------------------------------------------


class WhiteCellCropper(BaseImageTransformer):
    """Crop a fixed-size window centred on the white blood cell of each image.

    The white-cell nuclei of each image are segmented from the stain colour
    (see :func:`locate_white_cells`); one candidate is selected per image (the
    one nearest the image centre, or the largest) and a ``crop_size`` x
    ``crop_size`` window centred on its nucleus centroid is cut out. Windows
    reaching beyond the image are padded (``pad_mode``), never shrunk, so the
    output has one fixed size whatever the input sizes -- a list of images of
    mixed sizes gives one 4-D array. When no white cell is found, the centre
    of the image is used instead (a *fallback*): the image is still cropped,
    never rejected.

    How often that happens is reported three ways: :meth:`fit` (and
    :meth:`fit_transform`) store the count on the training images in
    :attr:`n_fallback_` and :attr:`fallback_rate_`; :meth:`fit`,
    :meth:`fit_transform` and :meth:`transform` emit a :class:`UserWarning`
    when more than 10 % of the images of a call fall back; and
    :meth:`locate` returns, per image, the centre used and whether a cell
    was found (for overlays and measurements). ``transform`` itself changes
    no attribute, as scikit-learn requires: the count for new data is
    ``(~cropper.locate(X)[1]).sum()``.

    Parameters
    ----------
    crop_size : int or float, default=0.6
        Side of the square output in pixels (int), or as a fraction in
        ``(0, 1]`` of the shorter side of the images seen in :meth:`fit` (the
        median over them), resolved once in :attr:`crop_size_`. ALL-IDB2
        crops (257x257, cell about 100 pixels across) give 154 pixels; BCCD
        fields (640x480, white cells 100-230 pixels) give 288.
    selection : {"central", "largest"}, default="central"
        Which candidate to crop when an image has several. ``"central"``: the
        one whose centroid is nearest the image centre, among the candidates
        with at least a quarter of the largest one's nucleus area (so a
        platelet clump near the centre does not win over a white cell).
        Right for crops already roughly centred on a cell, such as ALL-IDB2,
        where a neighbouring cell cut by the border may be larger than the
        centred one. ``"largest"``: the largest nucleus area, wherever it is.
    mask_background : bool, default=False
        Replace everything outside the selected cell by ``fill_value``. The
        cell region is approximated by the nucleus grown by half its
        equivalent radius (keeping the cytoplasm rim). Images with no cell
        found are not masked.
    min_area : "auto", int or float, default="auto"
        Smallest nucleus area of a white cell: input pixels (int), fraction
        of the image area (float in ``[0, 1)``), or ``"auto"`` (0.5 % of the
        image area, at most 1000 pixels). See :func:`locate_white_cells`.
    merge_distance : "auto", int or float, default="auto"
        Nucleus fragments closer than this are one cell: input pixels (int),
        fraction of the shorter image side (float in ``[0, 1)``), or
        ``"auto"`` (3 % of the shorter side, at most 15 pixels).
    work_size : int or None, default=128
        Segment on a block-averaged copy whose shorter side is at least this
        many pixels (``None``: full resolution). See :func:`locate_white_cells`.
    min_contrast : float, default=0.1
        Minimum margin of the nucleus threshold above the image median of the
        stain ratio.
    pad_mode : {"constant", "edge", "reflect", "symmetric"}, default="constant"
        How windows reaching beyond the image are filled (numpy pad modes).
        ``"constant"`` uses ``fill_value``; the default white is the colour of
        an empty slide and, unlike reflection, invents no mirrored cells.
    fill_value : float or tuple of 3 floats, default=1.0
        Colour in ``[0, 1]`` of constant padding and of the masked
        background.

    Attributes
    ----------
    crop_size_ : int
        Side of the output crops in pixels.
    n_fallback_ : int
        Number of training images (those passed to :meth:`fit` or
        :meth:`fit_transform`) in which no white cell was found, so that the
        centre crop was used.
    fallback_rate_ : float
        ``n_fallback_`` divided by the number of training images.

    See Also
    --------
    locate_white_cells : Every white cell of one image, touching cells
        separated.
    CenterCropper : Crop the centre without looking for a cell.

    Notes
    -----
    On the 170 BCCD photographs (640x480, Pascal VOC boxes), the located
    centre lies inside the annotated white-cell box in all 155 images with
    exactly one annotated white cell, and inside one of the boxes in all 11
    with two (``benchmarks/bench_localisation.py``).

    Thresholds are chosen per image (Otsu on the stain ratio) rather than
    learnt in :meth:`fit`: stain intensity and hue differ from slide to slide
    and lab to lab, and a global threshold fitted on the training slides
    silently degrades on differently stained test slides, whereas a
    per-image threshold adapts. :meth:`fit` only resolves the crop size and
    counts the fallbacks. On the BCCD photographs, one threshold learnt on
    the clean images matched the per-image ones there, but missed 1-2 % of
    the cells under a cooler stain or a darker exposure, and 68 % once the
    stain was 70 % desaturated, where the per-image threshold missed 0 % and
    28 % (``benchmarks/bench_localisation.py``).

    Limits: the feature needs a Romanowsky-type stain (purple/blue nuclei,
    pink red cells). Very faded slides (stain saturation below about a third
    of BCCD's) fall under ``min_contrast`` and fall back; normalise the
    colour first (:class:`~skleuk.preprocessing.ColorNormalizer`) or lower
    ``min_contrast`` (0.05 found every cell of the 70 %-desaturated BCCD
    photographs, but also "found" a cell in 92 % of random crops holding
    none, against 23 % at the default).
    In images without any white cell, a platelet clump, a bluish red-cell rim
    or debris larger than ``min_area`` may be taken for one.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import WhiteCellCropper
    >>> rr, cc = np.mgrid[:64, :64]
    >>> X = np.empty((2, 64, 64, 3))
    >>> X[:] = [0.9, 0.7, 0.75]                          # pink background
    >>> X[0][(rr - 20) ** 2 + (cc - 40) ** 2 <= 36] = [0.45, 0.25, 0.65]
    >>> X[1][(rr - 44) ** 2 + (cc - 18) ** 2 <= 36] = [0.45, 0.25, 0.65]
    >>> cropper = WhiteCellCropper(crop_size=24)
    >>> cropper.fit_transform(X).shape
    (2, 24, 24, 3)
    >>> centers, found = cropper.locate(X)
    >>> centers
    array([[20., 40.],
           [44., 18.]])
    >>> found
    array([ True,  True])
    """

    _parameter_constraints: dict = {
        "crop_size": [
            Interval(Integral, 1, None, closed="left"),
            Interval(RealNotInt, 0, 1, closed="right"),
        ],
        "selection": [StrOptions({"largest", "central"})],
        "mask_background": ["boolean"],
        **_DETECTION_CONSTRAINTS,
        "pad_mode": [StrOptions(set(_PAD_MODES))],
        "fill_value": [Interval(Real, 0, 1, closed="both"), tuple, list, np.ndarray],
    }
    _stateless = False

    def __init__(
        self,
        crop_size=0.6,
        *,
        selection="central",
        mask_background=False,
        min_area="auto",
        merge_distance="auto",
        work_size=128,
        min_contrast=0.1,
        pad_mode="constant",
        fill_value=1.0,
    ):
        self.crop_size = crop_size
        self.selection = selection
        self.mask_background = mask_background
        self.min_area = min_area
        self.merge_distance = merge_distance
        self.work_size = work_size
        self.min_contrast = min_contrast
        self.pad_mode = pad_mode
        self.fill_value = fill_value

    def _check_images(self, X):
        # uint8 images stay uint8: detection reads a block-averaged copy and
        # only the crops are converted to float32 (the same values as a
        # whole-image conversion, at a fraction of its cost).
        return check_images(
            X,
            allow_ragged=self._allow_ragged,
            value_range=self._value_range,
            keep_uint8=True,
        )

    def _params(self):
        return {
            "min_area": self.min_area,
            "merge_distance": self.merge_distance,
            "work_size": self.work_size,
            "min_contrast": self.min_contrast,
            "selection": self.selection,
        }

    def _resolve_crop_size(self, X):
        _fill_rgb(self.fill_value, "WhiteCellCropper")
        if isinstance(self.crop_size, Integral):
            self.crop_size_ = int(self.crop_size)
        else:
            if isinstance(X, np.ndarray):
                sides = [min(X.shape[1:3])]
            else:
                sides = [min(x.shape[:2]) for x in X]
            self.crop_size_ = max(1, int(round(self.crop_size * np.median(sides))))

    def _set_fallback_stats(self, found):
        self.n_fallback_ = int(found.size - np.count_nonzero(found))
        self.fallback_rate_ = self.n_fallback_ / found.size
        # Stack: here, _fit/fit_transform, fit, _fit_context, user (or the
        # set_output wrapper of fit_transform): warn at the caller's line.
        _warn_fallbacks(self.n_fallback_, found.size, stacklevel=6)

    def _fit(self, X):
        self._resolve_crop_size(X)
        _, found = self._locate_validated(X)
        self._set_fallback_stats(found)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None):
        """Fit to ``X`` and crop it, locating the cells only once.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Training images (``uint8`` or float in ``[0, 1]``); a list may mix
            sizes.
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        X_out : ndarray of shape (n_images, c, c, 3)
            The crops, ``float32`` in ``[0, 1]``, with ``c = crop_size_``.
        """
        X = self._check_images(X)
        self._resolve_crop_size(X)
        out, found = self._crop_all(X)
        self._set_fallback_stats(found)
        self.is_fitted_ = True
        return out

    def _locate_validated(self, X):
        n = len(X)
        centers = np.empty((n, 2), dtype=np.float64)
        found = np.empty(n, dtype=bool)
        params = self._params()
        for idx in _group_by_shape(X).values():
            c, f, _, _ = _locate_batch(_take(X, idx), params)
            centers[idx], found[idx] = c, f
        return centers, found

    def locate(self, X):
        """Locate the selected white cell of each image.

        Does not depend on :meth:`fit` (nothing it uses is learnt), so it may
        be called on an unfitted cropper. It never warns: ``found`` says where
        the centre is a fallback.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``); a list may mix sizes.

        Returns
        -------
        centers : ndarray of shape (n_images, 2)
            ``(row, col)`` of the selected cell's nucleus centroid, in pixels
            of each input image (float64). The image centre
            ``((height - 1) / 2, (width - 1) / 2)`` where no cell was found.
        found : ndarray of shape (n_images,), dtype bool
            Whether a white cell was found (False: the centre is a fallback).

        Examples
        --------
        >>> import numpy as np
        >>> from skleuk.preprocessing import WhiteCellCropper
        >>> blank = np.ones((1, 32, 48, 3))
        >>> WhiteCellCropper().locate(blank)
        (array([[15.5, 23.5]]), array([False]))
        """
        self._validate_params()
        return self._locate_validated(self._check_images(X))

    def transform(self, X):
        """Crop each image around its white cell.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``); a list may mix sizes.

        Returns
        -------
        X_out : ndarray of shape (n_images, c, c, 3)
            The crops, ``float32`` in ``[0, 1]``, with ``c = crop_size_``.

        Warns
        -----
        UserWarning
            When no white cell was found in more than 10 % of the images
            (they are centre-cropped). :meth:`locate` says which.
        """
        check_is_fitted(self)
        out, found = self._crop_all(self._check_images(X))
        n_fallback = int(found.size - np.count_nonzero(found))
        _warn_fallbacks(n_fallback, found.size, stacklevel=4)
        return out

    def _crop_all(self, X):
        n = len(X)
        size = self.crop_size_
        groups = list(_group_by_shape(X).values())
        if len(groups) == 1:
            return self._crop(_take(X, groups[0]), size)
        out = np.empty((n, size, size, 3), dtype=np.float32)
        found = np.empty(n, dtype=bool)
        for idx in groups:
            out[idx], found[idx] = self._crop(_take(X, idx), size)
        return out, found

    def _crop(self, X, size):
        centers, found, det, chosen = _locate_batch(X, self._params())
        region = _cell_regions(det, chosen) if self.mask_background else None
        crops = _crop_batch(
            X,
            centers,
            size,
            self.pad_mode,
            _fill_rgb(self.fill_value, "WhiteCellCropper"),
            region=region,
            det=det,
            found=found,
        )
        return crops, found


def _warn_fallbacks(n_fallback, n, stacklevel):
    if n and n_fallback / n > _FALLBACK_WARNING_RATE:
        warnings.warn(
            f"WhiteCellCropper: no white cell found in {n_fallback} of {n} images "
            f"({n_fallback / n:.0%}); they were cropped at the image centre. Check "
            "the stain colours, or lower min_area / min_contrast.",
            UserWarning,
            stacklevel=stacklevel,
        )
