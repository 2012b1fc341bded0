"""Stain normalisation: each image mapped, on its own statistics, onto the
stain of the training images."""

from __future__ import annotations

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseImageTransformer
from ._lab import lab_to_rgb, rgb_to_lab

__all__ = ["StainNormalizer"]

# Smallest intensity used in optical densities (one grey level of 255): a
# black pixel has a finite optical density.
_MIN_INTENSITY = np.float32(1.0 / 255.0)
# Quantile of each channel taken as the image's background (the light
# between the cells).
_BACKGROUND_QUANTILE = 0.99
# Fewer stained pixels than this, or a flat stain plane: the image is too
# featureless to estimate its own stains (see the class Notes).
_MIN_FOREGROUND = 8
_MIN_SPREAD = 1e-6
_MIN_STD = 1e-2
# Images per block: the work arrays of a block hold about this many pixels.
_BLOCK_PIXELS = 1 << 20


def _default_stains():
    """Haematoxylin and eosin optical-density vectors (Ruifrok & Johnston,
    as :func:`skimage.color.rgb2hed` uses them), unit length: (2, 3)."""
    from skimage.color import rgb_from_hed

    stains = np.asarray(rgb_from_hed[:2], dtype=np.float64)
    return stains / np.linalg.norm(stains, axis=1, keepdims=True)


def _masked_quantile(values, mask, q):
    """Per-row quantiles ``q`` (a sequence) of ``values`` (n, p) over
    ``mask`` (n, p), lower values; rows without masked values give 0.
    Returns (n, len(q))."""
    count = mask.sum(axis=1)
    ranked = np.sort(np.where(mask, values, np.inf), axis=1)
    k = np.floor(np.outer(count - 1, q)).astype(np.intp)
    out = np.take_along_axis(ranked, np.clip(k, 0, values.shape[1] - 1), axis=1)
    return np.where(count[:, None] > 0, out, 0.0)


def _blocks(X):
    """``X`` in blocks of whole images of about ``_BLOCK_PIXELS`` pixels."""
    step = max(1, _BLOCK_PIXELS // max(1, X.shape[1] * X.shape[2]))
    return [X[i : i + step] for i in range(0, max(len(X), 1), step)]


def _masked_mean_std(values, mask):
    """Per-row mean and standard deviation of ``values`` (n, p, c) over
    ``mask`` (n, p): two arrays of shape (n, c), float64."""
    w = mask.astype(np.float64)
    count = np.maximum(w.sum(axis=1), 1.0)[:, None]
    mean = np.einsum("np,npc->nc", w, values, dtype=np.float64) / count
    sq = np.einsum("np,npc->nc", w, np.square(values, dtype=np.float64)) / count
    return mean, np.sqrt(np.maximum(sq - mean**2, 0.0))


class StainNormalizer(BaseImageTransformer):
    """Map each smear image onto the stain of the training images.

    Laboratories stain and photograph smears differently: the same
    lymphocyte is purple in one, blue-grey in another. This step learns, in
    ``fit``, a stain reference from the training images only, and in
    ``transform`` maps **each image on its own statistics** onto that
    reference, so that no image is influenced by the rest of its batch (a
    test image never sees other test images).

    Unlike :class:`ColorNormalizer`, whose statistics are over every pixel,
    the statistics here are those of the stained pixels only (the
    *foreground*: cells, whose optical density relative to the image's own
    background is above ``od_threshold``), so that a field of empty
    background does not dominate them.

    ``method="macenko"`` (Macenko et al., 2009): in optical density
    ``OD = -log(I / I0)`` (``I0``: the image's background, the 99th
    percentile of each channel), the stained pixels of one image lie near a
    plane spanned by two stain vectors (haematoxylin: nuclei; eosin: red
    cells and cytoplasm). Per image, the plane is the top two principal
    directions of the foreground's optical densities, and the stain vectors
    are the directions at the ``alpha`` and ``1 - alpha`` quantiles of the
    angle within it; each pixel's two stain concentrations are then
    solved for, scaled so that their 99th percentiles over the foreground
    match the reference's, and recomposed with the reference's stain
    vectors and background. ``fit`` takes the reference as the median,
    over the training images, of each image's own stain vectors,
    concentration percentiles and background.

    ``method="reinhard"`` (Reinhard et al., 2001, foreground only): each
    image is divided by its own background (white balance), then every
    pixel's L*, a* and b* are shifted and scaled so that the mean and
    standard deviation of the *stained* pixels become the reference's, and
    the result is lit by the reference background (all three: the median
    over the training images).

    Parameters
    ----------
    method : {"macenko", "reinhard"}, default="macenko"
        The normalisation (both in one class so that a grid search can
        compare them, ``color__method``).
    od_threshold : float, default=0.3
        A pixel is stained (foreground) when the sum of its three optical
        densities, relative to the image's background, exceeds this.
        0.3 is an intensity about 10 % below the background in every
        channel.
    alpha : float, default=0.01
        Quantile of the angles (and ``1 - alpha``) that defines the two
        stain vectors (``"macenko"``): robust extremes rather than the
        most saturated pixel.

    Attributes
    ----------
    stain_matrix_ : ndarray of shape (2, 3)
        Reference optical-density vectors (unit length) of haematoxylin
        and eosin, rows (``"macenko"``).
    max_concentrations_ : ndarray of shape (2,)
        Reference 99th percentiles of the two stains' concentrations over
        the stained pixels (``"macenko"``).
    background_ : ndarray of shape (3,)
        Reference background intensity of R, G, B in ``[0, 1]``.
    reference_mean_ : ndarray of shape (3,)
        Reference mean of L*, a*, b* of the stained pixels (``"reinhard"``).
    reference_std_ : ndarray of shape (3,)
        Reference standard deviation of L*, a*, b* of the stained pixels
        (``"reinhard"``).
    is_fitted_ : bool
        True once fitted.

    See Also
    --------
    ColorNormalizer : Whole-image colour normalisation (the default
        pipeline's ``color`` step).
    skleuk.neural_network.RandomStain : Stain perturbation during training
        (``cnn__augment={"stain": ...}``), which this complements.

    Notes
    -----
    An image with fewer than 8 stained pixels, or whose stained pixels
    have (almost) no spread of colour -- a blank or constant image -- does
    not define stain vectors of its own: ``"macenko"`` then uses the
    reference's stain vectors for it (only its concentrations are scaled);
    ``"reinhard"`` takes the statistics of an image with fewer than 8
    stained pixels over all its pixels, and shifts a channel without
    spread to the reference mean without stretching it.
    In ``fit``, such images do not vote for the reference; when every
    training image is such, the reference stain vectors are the standard
    haematoxylin and eosin vectors of :func:`skimage.color.rgb2hed`.

    Optical densities that the two stains do not explain (the residual out
    of the stain plane) are dropped by ``"macenko"``: an image already at
    the reference comes back close to, not exactly, itself.

    References
    ----------
    M. Macenko et al., "A method for normalizing histology slides for
    quantitative analysis", IEEE ISBI 2009, 1107-1110.

    E. Reinhard, M. Ashikhmin, B. Gooch and P. Shirley, "Color transfer
    between images", IEEE Computer Graphics and Applications 21(5), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import StainNormalizer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    >>> norm = StainNormalizer().fit(X)
    >>> norm.stain_matrix_.shape
    (2, 3)
    >>> norm.transform(X).dtype
    dtype('float32')
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"macenko", "reinhard"})],
        "od_threshold": [Interval(Real, 0, None, closed="left")],
        "alpha": [Interval(Real, 0, 0.5, closed="left")],
    }
    _stateless = False

    def __init__(self, method="macenko", od_threshold=0.3, alpha=0.01):
        self.method = method
        self.od_threshold = od_threshold
        self.alpha = alpha

    # -- shared: background, optical density, foreground ---------------------
    def _density(self, X):
        """Background (n, 3), optical density (n, p, 3), foreground (n, p)."""
        n = X.shape[0]
        pixels = np.maximum(X.reshape(n, -1, 3), _MIN_INTENSITY)
        background = np.quantile(pixels, _BACKGROUND_QUANTILE, axis=1,
                                 method="lower")  # fmt: skip
        od = np.log(background[:, None, :] / pixels, dtype=np.float32)
        np.maximum(od, 0.0, out=od)
        foreground = od.sum(axis=-1) > self.od_threshold
        return background, od, foreground

    # -- macenko ---------------------------------------------------------------
    def _stains(self, od, foreground, fallback):
        """Per-image stain vectors (n, 2, 3) and a mask of the images that
        define their own (the rest get ``fallback``, whose order --
        haematoxylin, eosin -- the others follow)."""
        n = od.shape[0]
        count = foreground.sum(axis=1)
        w = foreground.astype(np.float64)
        mean = np.einsum("np,npc->nc", w, od) / np.maximum(count, 1)[:, None]
        centred = (od - mean[:, None, :].astype(np.float32)) * w[:, :, None]
        cov = np.einsum("npc,npd->ncd", centred, centred, dtype=np.float64)
        cov /= np.maximum(count - 1, 1)[:, None, None]
        values, vectors = np.linalg.eigh(cov)
        plane = vectors[:, :, [2, 1]]  # (n, 3, 2): the two largest
        # Orient both axes towards positive optical density.
        sign = np.where(plane.sum(axis=1, keepdims=True) < 0, -1.0, 1.0)
        plane = plane * sign
        proj = np.matmul(od, plane.astype(np.float32))  # (n, p, 2)
        angle = np.arctan2(proj[..., 1], proj[..., 0])
        lo, hi = _masked_quantile(angle, foreground, (self.alpha, 1.0 - self.alpha)).T
        v_lo = plane @ np.stack([np.cos(lo), np.sin(lo)], axis=-1)[..., None]
        v_hi = plane @ np.stack([np.cos(hi), np.sin(hi)], axis=-1)[..., None]
        v_lo, v_hi = v_lo[..., 0], v_hi[..., 0]
        v_lo /= np.maximum(np.linalg.norm(v_lo, axis=-1, keepdims=True), 1e-12)
        v_hi /= np.maximum(np.linalg.norm(v_hi, axis=-1, keepdims=True), 1e-12)
        # Which is haematoxylin: the order closer to ``fallback``'s (the
        # reference in transform, the standard vectors in fit).
        keep = (v_lo @ fallback[0] + v_hi @ fallback[1]
                >= v_hi @ fallback[0] + v_lo @ fallback[1])[:, None]
        stains = np.stack([np.where(keep, v_lo, v_hi),
                           np.where(keep, v_hi, v_lo)], axis=1)  # fmt: skip
        own = (
            (count >= _MIN_FOREGROUND)
            & (values[:, 1] > _MIN_SPREAD)
            & (np.abs(hi - lo) > 1e-6)
        )
        stains[~own] = fallback
        return stains.reshape(n, 2, 3), own

    def _concentrations(self, od, stains, foreground):
        """Concentrations (n, p, 2) and their 99th percentiles (n, 2)."""
        inverse = np.linalg.pinv(stains).astype(np.float32)  # (n, 3, 2)
        conc = np.matmul(od, inverse)
        top = np.stack([_masked_quantile(conc[..., k], foreground, (0.99,))[:, 0]
                        for k in range(2)], axis=-1)  # fmt: skip
        return conc, top

    def _macenko_stats(self, X):
        """Per-image stain vectors, whether they are the image's own,
        concentration percentiles, background, whether stained."""
        background, od, foreground = self._density(X)
        stains, own = self._stains(od, foreground, _default_stains())
        _, top = self._concentrations(od, stains, foreground)
        has = foreground.sum(axis=1) >= _MIN_FOREGROUND
        return stains, own, top, background, has

    def _fit_macenko(self, stains, own, top, background, has):
        if own.any():
            ref = np.median(stains[own], axis=0)
            ref /= np.maximum(np.linalg.norm(ref, axis=-1, keepdims=True), 1e-12)
        else:
            ref = _default_stains()
        self.stain_matrix_ = ref
        self.max_concentrations_ = (
            np.median(top[has], axis=0).astype(np.float64) if has.any()
            else np.ones(2)
        )
        self.background_ = np.median(background, axis=0).astype(np.float64)

    def _transform_macenko(self, X):
        shape = X.shape
        _, od, foreground = self._density(X)
        stains, _ = self._stains(od, foreground, self.stain_matrix_)
        conc, top = self._concentrations(od, stains, foreground)
        scale = np.where(top > 1e-6, self.max_concentrations_ / np.maximum(top, 1e-6),
                         1.0).astype(np.float32)  # fmt: skip
        conc *= scale[:, None, :]
        out_od = np.matmul(conc, self.stain_matrix_.astype(np.float32))
        # Negative densities (negative concentrations, out of the stains'
        # cone) would be brighter than the background: held at it.
        np.maximum(out_od, 0.0, out=out_od)
        out = np.exp(-out_od, out=out_od)
        out *= self.background_.astype(np.float32)
        return np.clip(out, 0.0, 1.0, out=out).reshape(shape)

    # -- reinhard (foreground statistics) --------------------------------------
    def _lab_stats(self, X):
        """Per image: L*a*b* of the white-balanced pixels, the mean and
        standard deviation of its stained pixels, its background."""
        background, _, foreground = self._density(X)
        n = X.shape[0]
        balanced = X.reshape(n, -1, 3) / background[:, None, :]
        lab = rgb_to_lab(np.minimum(balanced, 1.0))
        # Too few stained pixels: the image's own statistics over all pixels.
        few = foreground.sum(axis=1) < _MIN_FOREGROUND
        foreground[few] = True
        mean, std = _masked_mean_std(lab, foreground)
        return lab, mean, std, background

    def _fit_reinhard(self, lab, mean, std, background):
        self.reference_mean_ = np.median(mean, axis=0)
        self.reference_std_ = np.median(std, axis=0)
        self.background_ = np.median(background, axis=0).astype(np.float64)

    def _transform_reinhard(self, X):
        lab, mean, std, _ = self._lab_stats(X)
        flat = std < _MIN_STD
        gain = np.where(flat, 1.0, self.reference_std_ / np.maximum(std, _MIN_STD))
        shift = self.reference_mean_ - gain * mean
        out = lab * gain[:, None, :].astype(np.float32)
        out += shift[:, None, :].astype(np.float32)
        out = lab_to_rgb(out)
        out *= self.background_.astype(np.float32)
        return np.clip(out, 0.0, 1.0, out=out).reshape(X.shape)

    # -- the transformer ---------------------------------------------------------
    def _fit(self, X):
        for attr in ("stain_matrix_", "max_concentrations_", "background_",
                     "reference_mean_", "reference_std_"):  # fmt: skip
            if hasattr(self, attr):
                delattr(self, attr)
        stats = self._macenko_stats if self.method == "macenko" else self._lab_stats
        if isinstance(X, np.ndarray):  # blocks of images
            parts = [stats(np.asarray(b, dtype=np.float32)) for b in _blocks(X)]
        else:  # images of different sizes: one at a time
            parts = [stats(np.asarray(x, dtype=np.float32)[None]) for x in X]
        # (Reinhard's first item, the pixels' L*a*b*, is not needed.)
        skip = 0 if self.method == "reinhard" else None
        per_image = [None if k == skip else np.concatenate([p[k] for p in parts])
                     for k in range(len(parts[0]))]  # fmt: skip
        if self.method == "macenko":
            self._fit_macenko(*per_image)
        else:
            self._fit_reinhard(*per_image)

    def _transform(self, X):
        X = np.asarray(X, dtype=np.float32)
        one = self._transform_macenko if self.method == "macenko" else (
            self._transform_reinhard)
        return np.concatenate([one(b) for b in _blocks(X)])
