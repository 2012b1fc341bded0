"""Magnification normalisation: red cells as a ruler.

Red blood cells are the one object of a smear whose size hardly varies
(about 7.5 um across), and a field holds dozens of them. Their apparent
diameter in pixels therefore measures the magnification of the photograph,
and rescaling every image so that its red cells have one diameter in pixels
puts images of different microscopes, objectives and cameras on one
um-per-pixel scale -- so that the size of a white cell keeps its meaning.

The estimate works on the darkness of the green channel, ``1 - G`` (red
cells absorb green light; the empty slide does not), block-averaged to a
working copy of about ``work_size`` pixels on the shorter side. Its
scale-normalised Laplacian-of-Gaussian response
``-sigma**2 * LoG_sigma(1 - G)`` is computed for a geometric series of
``sigma`` (six per octave), and the mean of its positive part over the
image, ``E(sigma)``, is the "blob energy" at that scale. For a dark disc of
diameter ``d`` the normalised response peaks at ``sigma = d / (2 sqrt 2)``;
red cells cover most of a field, so ``E`` peaks at the red-cell scale, and
the diameter is ``2 sqrt(2) sigma*`` with ``sigma*`` refined by a parabola
through the peak (in ``log sigma``). The energies are computed in the
Fourier domain, one inverse transform per scale. No threshold, no
segmentation: touching and overlapping red cells and their pale centres do
not break it. That is why it was chosen over a red-cell mask (Otsu on the
green channel, nuclei removed): on 40 colour-normalised Aria fields the
mask broke into rings (pale centres) and merged touching cells, so that the
distance-transform radii of its components gave 6 pixels instead of about
19, and tracked a 1.5x zoom as 1.33x; a granulometry (opening spectrum) of
the mask tracked it as 1.41x but took about six times longer. The constant
``2 sqrt 2`` is the continuous disc's; on the 170 annotated BCCD
photographs the estimate's median is within 2 % of the median red-cell box
(measured with ``benchmarks/bench_magnification.py``, in the git history).

An image has no usable estimate (``found`` is False) when ``E`` has no
interior peak (flat or constant image, or structure larger or smaller than
the search range) or the peak is too weak.
"""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ..base import BaseImageTransformer
from ..utils._image_ops import PAD_MODES, _fill_rgb, _map_index
from ..utils.validation import check_images

__all__ = ["MagnificationNormalizer", "estimate_rbc_diameter"]

# Scales of the search: sigma from _SIGMA_MIN working pixels to the working
# copy's shorter side / _SIGMA_MAX_DIV, _STEPS_PER_OCTAVE per octave.
_SIGMA_MIN = 1.0
_SIGMA_MAX_DIV = 4.0
_STEPS_PER_OCTAVE = 6
# The peak of E must stand this much above E at both ends of the search.
_MIN_PROMINENCE = 1.02
# Below this mean response the image is taken as flat (no cells).
_MIN_ENERGY = 1e-4
# Fraction of the images of one transform call above which images left
# unscaled (no red-cell estimate) are reported with a UserWarning.
_NOT_FOUND_WARNING_RATE = 0.1


def _working_darkness(X, work_size):
    """Block-averaged ``1 - G`` of a 4-D batch, and the block size."""
    n, h, w, _ = X.shape
    factor = 1 if work_size is None else max(1, min(h, w) // int(work_size))
    hs, ws = h // factor, w // factor
    r0, c0 = (h - hs * factor) // 2, (w - ws * factor) // 2
    G = X[:, r0 : r0 + hs * factor, c0 : c0 + ws * factor, 1]
    if factor > 1:
        G = G.reshape(n, hs, factor, ws, factor).mean(axis=(2, 4))
    D = (1.0 - G).astype(np.float32)
    # Zero mean per image (the transfer function has no DC term anyway;
    # this keeps a constant image exactly at zero response).
    D -= D.mean(axis=(1, 2), keepdims=True)
    return D, factor


def _blob_energy(D, sigmas, block=64):
    """Mean positive part of ``-sigma**2 LoG_sigma(D)`` per image and scale.

    In the Fourier domain: the image is mirrored into a ``2h x 2w`` tile
    (so that the periodic transform sees the reflect boundary of
    :func:`scipy.ndimage.gaussian_laplace`), transformed once, and each
    scale is one product with the transfer function
    ``sigma**2 (2 pi f)**2 exp(-2 pi**2 sigma**2 f**2)`` and one inverse
    transform -- independent of ``sigma``, where a spatial filter grows
    with it.
    """
    n, h, w = D.shape
    fy = np.fft.fftfreq(2 * h)[:, None]
    fx = np.fft.rfftfreq(2 * w)[None, :]
    f2 = (fy**2 + fx**2).astype(np.float32)
    energy = np.empty((n, len(sigmas)))
    for start in range(0, n, block):
        d = D[start : start + block]
        tile = np.concatenate([d, d[:, ::-1]], axis=1)
        tile = np.concatenate([tile, tile[:, :, ::-1]], axis=2)
        F = np.fft.rfft2(tile)
        for j, s in enumerate(sigmas):
            H = (4.0 * np.pi**2 * s * s) * f2 * np.exp(-2.0 * np.pi**2 * s * s * f2)
            R = np.fft.irfft2(F * H, s=tile.shape[1:])[:, :h, :w]
            energy[start : start + block, j] = np.maximum(R, 0.0).mean(axis=(1, 2))
    return energy


def _estimate_batch(X, work_size):
    """Diameters (input pixels) and found flags of a 4-D float32 batch."""
    n = X.shape[0]
    D, factor = _working_darkness(X, work_size)
    side = min(D.shape[1:])
    sigma_max = side / _SIGMA_MAX_DIV
    diameters = np.full(n, np.nan)
    found = np.zeros(n, dtype=bool)
    if sigma_max <= _SIGMA_MIN * 2 ** (2 / _STEPS_PER_OCTAVE):
        return diameters, found  # too small for three scales
    k = int(np.floor(np.log2(sigma_max / _SIGMA_MIN) * _STEPS_PER_OCTAVE)) + 1
    sigmas = _SIGMA_MIN * 2.0 ** (np.arange(k) / _STEPS_PER_OCTAVE)
    energy = _blob_energy(D, sigmas)
    rows = np.arange(n)
    j = np.argmax(energy, axis=1)
    peak = energy[rows, j]
    interior = (j > 0) & (j < k - 1)
    ends = np.maximum(energy[:, 0], energy[:, -1])
    found = interior & (peak > _MIN_ENERGY) & (peak >= _MIN_PROMINENCE * ends)
    jj = np.clip(j, 1, k - 2)
    a, b, c = energy[rows, jj - 1], energy[rows, jj], energy[rows, jj + 1]
    curv = a - 2.0 * b + c
    safe = np.where(curv < 0, curv, -1.0)
    offset = np.where(curv < 0, 0.5 * (a - c) / safe, 0.0)
    offset = np.clip(offset, -0.5, 0.5)
    log_sigma = np.log2(_SIGMA_MIN) + (jj + offset) / _STEPS_PER_OCTAVE
    d = 2.0 * np.sqrt(2.0) * 2.0**log_sigma * factor
    diameters[found] = d[found]
    return diameters, found


def _estimate(X, work_size):
    """:func:`estimate_rbc_diameter` on validated images (array or list)."""
    if isinstance(X, np.ndarray):
        return _estimate_batch(X, work_size)
    n = len(X)
    diameters = np.full(n, np.nan)
    found = np.zeros(n, dtype=bool)
    groups = {}
    for i, x in enumerate(X):
        groups.setdefault(x.shape, []).append(i)
    for idx in groups.values():
        diameters[idx], found[idx] = _estimate_batch(
            np.stack([X[i] for i in idx]), work_size
        )
    return diameters, found


@validate_params(
    {
        "images": ["array-like"],
        "work_size": [Interval(Integral, 16, None, closed="left"), None],
    },
    prefer_skip_nested_validation=True,
)
def estimate_rbc_diameter(images, *, work_size=128):
    """Estimate the typical red-blood-cell diameter of each image, in pixels.

    The scale at which the scale-normalised Laplacian-of-Gaussian response
    of the green channel's darkness has the most energy (see the module
    notes of :class:`MagnificationNormalizer`): red cells cover most of a
    smear field, so that scale is theirs. Red cells are about 7.5 um
    across, so ``7.5 / diameter`` is the image's um per pixel.

    Parameters
    ----------
    images : array-like of shape (n_images, height, width, 3) or list of images
        RGB smear images (``uint8`` or float in ``[0, 1]``); a list may mix
        sizes.
    work_size : int or None, default=128
        The estimate runs on a copy block-averaged by an integer factor so
        that its shorter side stays at least ``work_size`` pixels (``None``:
        full resolution, slower). Diameters are returned in input pixels.

    Returns
    -------
    diameters : ndarray of shape (n_images,)
        Estimated red-cell diameter of each image in input pixels
        (float64); NaN where ``found`` is False.
    found : ndarray of shape (n_images,), dtype bool
        Whether the image gave an estimate: False for flat images (no cells)
        and where no scale in the search range -- from about 3 working
        pixels to about 70 % of the working copy's shorter side, in diameter
        -- stands out.

    See Also
    --------
    MagnificationNormalizer : Rescale images to one red-cell diameter.

    Notes
    -----
    On 120 colour-normalised Aria B-ALL fields (176x176 pixels once the
    border is cut; one microscope) the median estimate is 19.4 pixels, 80 %
    of the fields within 16.7-23.9; zooming the fields by 0.8, 1.25 and 1.5
    changes it by median factors of 0.81, 1.25 and 1.51. On the 170 BCCD
    photographs (640x480) its median is within 2 % of the median annotated
    red-cell box, but single images scatter (estimate / annotation from
    0.81 to 1.39 for 80 % of them): a photograph holding a dozen large red
    cells is a short ruler. (Measured with ``benchmarks/bench_magnification.py``,
    in the git history.) Fields dominated by white cells
    (a crowd of blasts) give a larger estimate: their nuclei are dark blobs
    too.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import estimate_rbc_diameter
    >>> rng = np.random.default_rng(0)
    >>> rr, cc = np.mgrid[:128, :128]
    >>> field = np.ones((128, 128, 3))
    >>> for r, c in rng.uniform(8, 120, size=(40, 2)):   # discs 12 px across
    ...     field[(rr - r) ** 2 + (cc - c) ** 2 <= 36] = [0.8, 0.5, 0.5]
    >>> diameters, found = estimate_rbc_diameter(field[None])
    >>> bool(found[0]), bool(12 < diameters[0] < 20)
    (True, True)
    >>> estimate_rbc_diameter(np.ones((1, 64, 64, 3)))   # nothing to measure
    (array([nan]), array([False]))
    """
    X = check_images(images, allow_ragged=True, input_name="images")
    return _estimate(X, work_size)


def white_cell_diameters(X, indices):
    """Equivalent diameter of the largest white-cell nucleus of some images.

    ``X`` holds images (a 4-D array or a list, ``uint8`` or float); the
    result has one value per index, in input pixels, NaN where no white cell
    was found. One :func:`locate_white_cells` call per image (``split=False``:
the largest merged nucleus candidate, as before separation): its detection is
    vectorised within the image, and a batched call over 170 BCCD photographs
    was no faster.
    """
    from ._localise import locate_white_cells

    out = np.full(len(indices), np.nan)
    for j, i in enumerate(indices):
        areas = locate_white_cells(X[i], split=False).nucleus_areas
        if len(areas):
            out[j] = 2.0 * np.sqrt(np.max(areas) / np.pi)
    return out


# ---------------------------------------------------------------------------
# Rescaling about the centre, one factor per image
# ---------------------------------------------------------------------------


def _zoom_taps(n_in, factors):
    """Per-image 1-D resampling taps of a zoom about the centre.

    Output pixel ``o`` covers ``[o, o + 1)``; in input coordinates that is
    ``[(o - n/2) / s + n/2, (o + 1 - n/2) / s + n/2)``. Shrinking
    (``s < 1``) averages the exact input area it covers (as OpenCV's
    ``INTER_AREA``); enlarging interpolates bilinearly at its centre.
    Returns indices ``(n_images, n_in, n_taps)`` (possibly outside the
    image) and weights of the same shape.
    """
    s = np.asarray(factors, dtype=np.float64)[:, None]
    o = np.arange(n_in, dtype=np.float64)[None, :]
    half = n_in / 2.0
    lo = (o - half) / s + half
    hi = (o + 1.0 - half) / s + half
    max_taps = int(np.ceil(np.max(1.0 / s))) + 1 if np.any(s < 1) else 2
    # Area taps (used where s < 1).
    first = np.floor(lo).astype(np.intp)
    k = np.arange(max_taps)
    idx_a = first[:, :, None] + k
    overlap = np.minimum(hi[:, :, None], idx_a + 1) - np.maximum(lo[:, :, None], idx_a)
    w_a = np.clip(overlap, 0.0, None) * s[:, :, None]
    # Bilinear taps (used where s >= 1), padded to max_taps.
    centre = (lo + hi) / 2.0 - 0.5
    i0 = np.floor(centre).astype(np.intp)
    frac = centre - i0
    idx_b = i0[:, :, None] + np.minimum(k, 1)
    w_b = np.zeros_like(w_a)
    w_b[:, :, 0] = 1.0 - frac
    w_b[:, :, 1] = frac
    shrink = (s < 1)[:, :, None]
    return np.where(shrink, idx_a, idx_b), np.where(shrink, w_a, w_b)


def _zoom_axis1(X, factors, mode, fill):
    """Zoom axis 1 of ``(n, h, w, 3)`` about its centre, one factor per image."""
    n, h = X.shape[:2]
    idx, weights = _zoom_taps(h, factors)
    inside = (idx >= 0) & (idx < h)
    mapped = _map_index(idx, h, mode)
    if mode == "constant":
        outside = (weights * ~inside).sum(axis=2)
        weights = weights * inside
    weights = weights.astype(np.float32)
    n_taps = idx.shape[2]
    flat = mapped.reshape(n, h * n_taps)[:, :, None, None]
    taps = np.take_along_axis(X, flat, axis=1)
    taps = taps.reshape(n, h, n_taps, *X.shape[2:])
    out = np.einsum("nht,nhtwc->nhwc", weights, taps, optimize=True)
    if mode == "constant":
        out += outside.astype(np.float32)[:, :, None, None] * fill
    return out


def _zoom_about_centre(X, factors, mode="reflect", fill_value=1.0):
    """Zoom each image of a 4-D batch about its centre, keeping its size.

    ``factors[i] > 1`` enlarges image ``i`` (its border is cut away),
    ``< 1`` shrinks it (the border is filled by ``mode``). Separable,
    vectorised over the batch; ``float32`` out, clipped to ``[0, 1]``.
    """
    X = np.asarray(X, dtype=np.float32)
    factors = np.asarray(factors, dtype=np.float64)
    fill = _fill_rgb(fill_value)
    out = np.empty_like(X)
    same = np.isclose(factors, 1.0, rtol=0, atol=1e-6)
    out[same] = X[same]
    todo = np.flatnonzero(~same)
    # Blocks, so that the taps of a block stay small.
    block = max(1, (1 << 24) // max(1, X[0].size * int(np.ceil(1 / factors.min()) + 1)))
    for start in range(0, todo.size, block):
        sel = todo[start : start + block]
        Y = _zoom_axis1(X[sel], factors[sel], mode, fill)
        Y = _zoom_axis1(Y.transpose(0, 2, 1, 3), factors[sel], mode, fill)
        out[sel] = Y.transpose(0, 2, 1, 3)
    np.clip(out, 0.0, 1.0, out=out)
    return out


class MagnificationNormalizer(BaseImageTransformer):
    """Rescale every image to one red-blood-cell diameter in pixels.

    Each image's magnification is estimated from its red cells
    (:func:`estimate_rbc_diameter`: red cells are about 7.5 um across), and
    the image is zoomed about its centre by ``target / diameter`` so that
    its red cells measure ``target_rbc_diameter`` pixels. The output keeps
    the input's size: an enlarged image loses its border, a shrunk one gets
    a padded border. Put it before the ``crop`` step, so that the window
    around the white cell covers the same area in um whatever the
    microscope.

    Parameters
    ----------
    target_rbc_diameter : float or None, default=None
        Red-cell diameter, in pixels, of the output. None: learnt in
        :meth:`fit` as the median estimate over the training images (so a
        model trained at one magnification sees test images brought to it).
    max_zoom : float, default=2.0
        Zoom factors are clipped to ``[1 / max_zoom, max_zoom]``.
    work_size : int or None, default=128
        Passed to :func:`estimate_rbc_diameter`.
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How the border of a shrunk image is filled (:func:`numpy.pad`
        names).
    fill_value : float or tuple of 3 floats, default=1.0
        Colour of that border for ``pad_mode="constant"`` (white: an empty
        slide).
    fallback : {"white_cell"} or None, default="white_cell"
        How an image without a red-cell estimate (a crop filled by a white
        cell, a slide without red cells) is measured. ``"white_cell"``: from
        the equivalent diameter of its largest white-cell nucleus
        (:func:`~skleuk.preprocessing.locate_white_cells`), divided by the
        nucleus-to-red-cell ratio learnt in :meth:`fit`
        (``white_to_rbc_ratio_``). The ratio belongs to the cell population
        (1.71 in the Aria B-ALL fields, 1.11 in the normal BCCD smears), so
        fit on the kind of smear you measure. None: such images pass through
        unscaled.

    Attributes
    ----------
    target_rbc_diameter_ : float
        The red-cell diameter, in pixels, images are brought to; NaN when
        ``target_rbc_diameter`` is None and no training image gave an
        estimate (every image is then left unscaled).
    train_rbc_diameters_ : ndarray of shape (n_train_images,)
        The estimates on the training images (NaN where none was found).
    n_not_found_ : int
        Training images without a red-cell estimate.
    white_to_rbc_ratio_ : float
        Median, over the training images with both, of the largest white-cell
        nucleus's equivalent diameter divided by the red-cell diameter; NaN
        when ``fallback`` is None or no training image had both (the
        fallback is then not used).

    See Also
    --------
    estimate_rbc_diameter : The per-image estimate, to inspect it.
    WhiteCellCropper : The crop this step is meant to precede.

    Notes
    -----
    Images without a red-cell estimate are measured from their white cell
    (``fallback``); images without either (flat images) pass through
    unscaled. :meth:`zoom_factors` says how each image was measured, and a
    ``UserWarning`` is issued when more than 10 % of the images of a call
    were left unscaled. When no training image has an estimate and
    ``target_rbc_diameter`` is None, :meth:`fit` warns and the step leaves
    every image unscaled.

    The step is not part of :func:`skleuk.make_pipeline`'s recipe; add it
    in front of the crop yourself (see the docs' *Results on real smears*
    for what it does on real smears)::

        pipe = make_pipeline()
        crop = [name for name, _ in pipe.steps].index("crop")
        pipe.steps.insert(crop, ("magnification", MagnificationNormalizer()))

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import MagnificationNormalizer
    >>> rng = np.random.default_rng(0)
    >>> rr, cc = np.mgrid[:128, :128]
    >>> X = np.ones((2, 128, 128, 3))
    >>> for i, radius in enumerate([5, 8]):             # two magnifications
    ...     for r, c in rng.uniform(8, 120, size=(40, 2)):
    ...         X[i][(rr - r) ** 2 + (cc - c) ** 2 <= radius**2] = [0.8, 0.5, 0.5]
    >>> step = MagnificationNormalizer(target_rbc_diameter=17.0).fit(X)
    >>> step.transform(X).shape
    (2, 128, 128, 3)
    >>> factors, found = step.zoom_factors(X)
    >>> bool(factors[0] > 1 > factors[1]), found.tolist()
    (True, [True, True])
    """

    _parameter_constraints: dict = {
        "target_rbc_diameter": [Interval(Real, 0, None, closed="neither"), None],
        "max_zoom": [Interval(Real, 1, None, closed="left")],
        "work_size": [Interval(Integral, 16, None, closed="left"), None],
        "pad_mode": [StrOptions(set(PAD_MODES))],
        "fill_value": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "fallback": [StrOptions({"white_cell"}), None],
    }
    _stateless = False

    def __init__(
        self,
        target_rbc_diameter=None,
        *,
        max_zoom=2.0,
        work_size=128,
        pad_mode="reflect",
        fill_value=1.0,
        fallback="white_cell",
    ):
        self.target_rbc_diameter = target_rbc_diameter
        self.max_zoom = max_zoom
        self.work_size = work_size
        self.pad_mode = pad_mode
        self.fill_value = fill_value
        self.fallback = fallback

    def _fit(self, X):
        _fill_rgb(self.fill_value, "MagnificationNormalizer")
        diameters, found = _estimate(X, self.work_size)
        self.train_rbc_diameters_ = diameters
        self.n_not_found_ = int(np.count_nonzero(~found))
        self.white_to_rbc_ratio_ = float("nan")
        if self.fallback == "white_cell" and found.any():
            nuclei = white_cell_diameters(X, np.flatnonzero(found))
            both = ~np.isnan(nuclei)
            if both.any():
                ratios = nuclei[both] / diameters[found][both]
                self.white_to_rbc_ratio_ = float(np.median(ratios))
        if self.target_rbc_diameter is not None:
            self.target_rbc_diameter_ = float(self.target_rbc_diameter)
        elif found.any():
            self.target_rbc_diameter_ = float(np.median(diameters[found]))
        else:
            self.target_rbc_diameter_ = float("nan")
            warnings.warn(
                "MagnificationNormalizer: no red-cell diameter could be estimated "
                f"in any of the {len(found)} training images (flat images, or no "
                "red cells); images will be left unscaled. Pass "
                "target_rbc_diameter, or leave this step out.",
                UserWarning,
                stacklevel=4,
            )

    def _factors(self, X):
        diameters, found = _estimate(X, self.work_size)
        factors = np.ones(len(found))
        source = np.where(found, "red_cells", "none").astype(object)
        if np.isnan(self.target_rbc_diameter_):  # nothing learnt: no rescale
            return factors, np.full(len(found), "none", dtype=object)
        if not found.all() and self._uses_fallback():
            missing = np.flatnonzero(~found)
            nuclei = white_cell_diameters(X, missing)
            measured = ~np.isnan(nuclei)
            diameters[missing[measured]] = nuclei[measured] / self.white_to_rbc_ratio_
            source[missing[measured]] = "white_cell"
        use = source != "none"
        factors[use] = self.target_rbc_diameter_ / diameters[use]
        np.clip(factors, 1.0 / self.max_zoom, self.max_zoom, out=factors)
        return factors, source

    def zoom_factors(self, X, *, return_source=False):
        """The zoom factor :meth:`transform` applies to each image.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``).
        return_source : bool, default=False
            Also return how each image was measured.

        Returns
        -------
        factors : ndarray of shape (n_images,)
            ``target_rbc_diameter_ / diameter``, clipped to
            ``[1 / max_zoom, max_zoom]``; 1 where no diameter was found.
        found : ndarray of shape (n_images,), dtype bool
            Whether the image was measured (from its red cells, or from its
            white cell with ``fallback="white_cell"``); False: left unscaled.
        source : ndarray of shape (n_images,), dtype object
            Only with ``return_source=True``: ``"red_cells"``,
            ``"white_cell"`` or ``"none"`` for each image.

        Examples
        --------
        >>> import numpy as np
        >>> from skleuk.preprocessing import MagnificationNormalizer
        >>> step = MagnificationNormalizer(target_rbc_diameter=10.0)
        >>> step.fit(np.ones((1, 32, 32, 3))).zoom_factors(np.ones((1, 32, 32, 3)))
        (array([1.]), array([False]))
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        factors, source = self._factors(self._check_images(X))
        if return_source:
            return factors, source != "none", source
        return factors, source != "none"

    def transform(self, X):
        """Zoom each image so that its red cells measure the target diameter.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``); a list may mix sizes.

        Returns
        -------
        X_out : ndarray of shape (n_images, height, width, 3)
            The zoomed images, ``float32`` in ``[0, 1]``, of the input's
            sizes (a list only when the input mixed sizes).

        Warns
        -----
        UserWarning
            When more than 10 % of the images could not be measured (they
            are passed through unscaled).
        """
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self)
        X = self._check_images(X)
        n_missing = [0, 0]

        def one_size(batch):
            factors, source = self._factors(batch)
            n_missing[0] += int(np.count_nonzero(source == "none"))
            n_missing[1] += len(source)
            return _zoom_about_centre(batch, factors, self.pad_mode, self.fill_value)

        from ..utils._image_ops import apply_by_shape

        out = apply_by_shape(one_size, X)
        missing, n = n_missing
        learnt = not np.isnan(self.target_rbc_diameter_)  # else fit warned
        if learnt and n and missing / n > _NOT_FOUND_WARNING_RATE:
            warnings.warn(
                f"MagnificationNormalizer: no red-cell diameter"
                f"{' nor white cell' if self._uses_fallback() else ''} found in "
                f"{missing} of {n} images ({missing / n:.0%}); they were left "
                "unscaled.",
                UserWarning,
                stacklevel=2,
            )
        return out

    def _uses_fallback(self):
        return not np.isnan(getattr(self, "white_to_rbc_ratio_", np.nan))

    def _transform(self, X):
        factors, _ = self._factors(X)
        return _zoom_about_centre(X, factors, self.pad_mode, self.fill_value)
