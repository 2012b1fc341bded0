"""Colour normalisation ("chromatic modification") of smear images."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError, StrOptions

from ..base import BaseImageTransformer
from ..utils.validation import check_images
from ._lab import (
    _LAB_OFFSET,
    _block_size,
    _by_pixel_chunks,
    _image_lab_stats,
    _lab0_into,
    _lab_stats,
    _reinhard_from_lab0,
    _rgb_to_lab0_rows,
    _single_blas_thread,
    _Work,
)

__all__ = ["ColorNormalizer"]


_N_LEVELS = 256


def _to_levels(X):
    """Float images in [0, 1] -> int levels 0..255 (same shape)."""
    return np.clip(np.rint(X * (_N_LEVELS - 1)), 0, _N_LEVELS - 1).astype(np.intp)


def _channel_histograms(X, quantised=False):
    """Per-image, per-channel histograms of 256 levels: (n, 3, 256)."""
    levels = X if quantised else _to_levels(X)
    n = levels.shape[0]
    offsets = (np.arange(n)[:, None] * 3 + np.arange(3)[None]) * _N_LEVELS
    idx = levels.reshape(n, -1, 3) + offsets[:, None, :]
    counts = np.bincount(idx.ravel(), minlength=n * 3 * _N_LEVELS)
    return counts.reshape(n, 3, _N_LEVELS).astype(np.float64)


def _quantiles_from_counts(counts):
    """256 quantiles (in [0, 1]) per channel of pooled histograms (3, 256)."""
    grid = np.linspace(0.0, 1.0, _N_LEVELS)
    values = np.arange(_N_LEVELS) / (_N_LEVELS - 1)
    out = np.empty((3, _N_LEVELS))
    for c in range(3):
        cdf = (np.cumsum(counts[c]) - 0.5 * counts[c]) / counts[c].sum()
        out[c] = np.interp(grid, cdf, values)
    return out


def _check_reference_stats(reference):
    """Validate a ``{"mean": (3,), "std": (3,)}`` reference."""
    try:
        if set(reference) != {"mean", "std"}:
            raise ValueError
        mean = np.asarray(reference["mean"], dtype=np.float64)
        std = np.asarray(reference["std"], dtype=np.float64)
        if mean.shape != (3,) or std.shape != (3,):
            raise ValueError
        if not (np.all(np.isfinite(mean)) and np.all(np.isfinite(std))):
            raise ValueError
        if np.any(std < 0):
            raise ValueError
    except (ValueError, TypeError):
        raise InvalidParameterError(
            "The 'reference' parameter, when a dict, must be {'mean': (L, a, "
            "b), 'std': (L, a, b)} with finite values and non-negative stds "
            f"(CIE L*a*b* units); got {reference!r}."
        ) from None
    return mean, std


class _PrivateBatch(np.ndarray):
    """A validated batch that the validation itself created (a view type).

    Marks an array no caller holds, which a step may therefore overwrite
    with its output; it never leaves the step.
    """


class ColorNormalizer(BaseImageTransformer):
    """Normalise the colours of smear images ("chromatic modification").

    Stains, lamps and cameras give smears of the same blood different
    colours; this step maps every image onto one reference colour
    distribution so that the classifier sees cells, not the lab.

    ``method="reinhard"`` (Reinhard et al., 2001, in CIE L*a*b*): ``fit``
    learns reference statistics -- the per-channel mean and standard
    deviation of L*, a* and b* of a typical training image (the median over
    the training images of each image's own statistics). ``transform``
    converts each image to L*a*b*, shifts and scales each channel so that
    *its own* mean and standard deviation become the reference ones, and
    converts back to RGB (clipped to ``[0, 1]``). Fitting only on the
    training fold keeps cross-validation honest.

    ``method="histogram"`` (histogram specification): ``fit`` learns the
    reference distribution of each RGB channel (256 quantiles of the pooled
    pixels of the reference images); ``transform`` maps each image's
    channels, through their own cumulative histograms, onto it, so every
    image leaves with (nearly) the same per-channel histograms. This is the
    strongest of the three: it removes every difference of global colour
    distribution between images -- stain, lamp, but also whatever colour
    statistics alone would tell about the label (a "shortcut" of data sets
    whose classes were photographed in different sessions) -- and leaves
    the shapes and the spatial arrangement of colours.

    ``method="grayworld"``: each image on its own, each RGB channel is
    scaled so that the channel means become equal (the grey-world
    assumption; removes colour casts without any reference). Nothing is
    learnt.

    Parameters
    ----------
    method : {"reinhard", "histogram", "grayworld"}, default="reinhard"
        The normalisation. Both live in one class so that a grid search can
        compare them (``colornormalizer__method``).
    reference : None, array-like of images, or dict, default=None
        Where the ``"reinhard"`` reference comes from. None: the images
        passed to ``fit``. Images (``(n, h, w, 3)`` array or list): these
        instead, e.g. one well-stained template smear (``fit``'s images are
        then only validated). A dict ``{"mean": (L, a, b), "std": (L, a,
        b)}``: the statistics themselves, in L*a*b* units (``"reinhard"``
        only). Ignored by
        ``"grayworld"``.

    Attributes
    ----------
    reference_mean_ : ndarray of shape (3,)
        Reference mean of L*, a*, b* (``"reinhard"`` only).
    reference_std_ : ndarray of shape (3,)
        Reference standard deviation of L*, a*, b* (``"reinhard"`` only).
    reference_quantiles_ : ndarray of shape (3, 256)
        Reference quantiles of R, G, B in ``[0, 1]`` at 256 evenly spaced
        probabilities (``"histogram"`` only).
    is_fitted_ : bool
        True once fitted.

    See Also
    --------
    skleuk.preprocessing.ImageScaler : Per-channel standardisation before
        the classifier.

    Notes
    -----
    Statistics are taken over all pixels of an image. Excluding the
    "near-white" background was considered and rejected: in real smears the
    background is not near white (L* of about 80-84 on the BCCD smears, and
    it moves with the illumination), so a fixed luminance threshold either
    excludes nothing or cuts into the cells depending on the microscope.
    Whole-image statistics assume that images have a similar make-up
    (background, red cells, white cells), which holds for fixed-size,
    cell-centred crops such as ALL-IDB2; for whole smears of very different
    cell density, prefer a template reference or ``"grayworld"``.

    A channel whose spread in an image is (nearly) zero -- a flat image, or
    a* and b* of a grey image -- is shifted to the reference mean rather
    than stretched. Images are processed independently: the output for one
    image does not depend on the rest of the batch.

    References
    ----------
    E. Reinhard, M. Ashikhmin, B. Gooch and P. Shirley, "Color transfer
    between images", IEEE Computer Graphics and Applications 21(5), 2001.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import ColorNormalizer
    >>> rng = np.random.default_rng(0)
    >>> X = rng.integers(0, 256, size=(4, 16, 16, 3), dtype=np.uint8)
    >>> norm = ColorNormalizer().fit(X)
    >>> norm.reference_mean_.shape
    (3,)
    >>> norm.transform(X).dtype
    dtype('float32')
    """

    _parameter_constraints: dict = {
        "method": [StrOptions({"reinhard", "histogram", "grayworld"})],
        "reference": [None, dict, "array-like"],
    }
    _stateless = False

    def __init__(self, method="reinhard", reference=None):
        self.method = method
        self.reference = reference

    def _fit(self, X):
        if isinstance(X, np.ndarray):
            X = np.asarray(X)  # a plain array, not a _PrivateBatch view
        for attr in ("reference_mean_", "reference_std_", "reference_quantiles_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if self.method == "grayworld":
            return
        if self.method == "histogram":
            if isinstance(self.reference, dict):
                raise ValueError(
                    "method='histogram' needs reference images (or None: the "
                    "images given to fit), not a dict of L*a*b* statistics."
                )
            if self.reference is not None:
                X = check_images(
                    self.reference, allow_ragged=True, input_name="reference"
                )
            if isinstance(X, np.ndarray):  # a batch: 256 images at a time
                parts = (X[i : i + 256] for i in range(0, len(X), 256))
            else:  # reference images of different sizes
                parts = (x[None] for x in X)
            counts = sum(_channel_histograms(p).sum(axis=0) for p in parts)
            self.reference_quantiles_ = _quantiles_from_counts(counts)
            return
        if isinstance(self.reference, dict):
            mean, std = _check_reference_stats(self.reference)
        else:
            if self.reference is not None:
                X = check_images(
                    self.reference, allow_ragged=True, input_name="reference"
                )
            means, stds = _image_lab_stats(X)
            mean, std = np.median(means, axis=0), np.median(stds, axis=0)
        self.reference_mean_ = mean
        self.reference_std_ = std

    def _check_images(self, X):
        images = super()._check_images(X)
        if isinstance(images, np.ndarray) and not np.may_share_memory(images, X):
            # A new array made by the validation (from uint8 images, say):
            # nobody else holds it, and the Reinhard transform may write its
            # output over it (no second full-size array).
            return images.view(_PrivateBatch)
        return images

    def _fit_transform(self, X):
        if not (
            self.method == "reinhard"
            and self.reference is None
            and isinstance(X, np.ndarray)
        ):
            return super()._fit_transform(X)
        # One L*a*b* conversion instead of two: the per-image statistics of
        # the training images (which make the reference) are those the
        # transform needs, and L*a*b* is kept in the output buffer (same
        # shape and dtype) until the reference is known.
        for attr in ("reference_mean_", "reference_std_", "reference_quantiles_"):
            if hasattr(self, attr):
                delattr(self, attr)
        private = type(X) is _PrivateBatch
        X = np.asarray(X)
        out = X if private else np.empty(X.shape, dtype=np.float32)
        means0, stds = _lab0_into(X, out)
        self.reference_mean_ = np.median(means0 + _LAB_OFFSET, axis=0)
        self.reference_std_ = np.median(stds, axis=0)
        _reinhard_from_lab0(out, out, means0, stds, self.reference_mean_,
                            self.reference_std_)
        return out

    @_single_blas_thread
    def _transform(self, X):
        private = type(X) is _PrivateBatch
        X = np.asarray(X)
        if self.method == "grayworld":
            return self._grayworld(X)
        if self.method == "histogram":
            return self._match_histograms(X)
        n, h, w, _ = X.shape
        # The output goes over the input when validation made the input (each
        # block is read whole before its output is written); C order, so
        # blocks reshape as views.
        out = X if private else np.empty(X.shape, dtype=np.float32)
        ref_mean, ref_std = self.reference_mean_, self.reference_std_
        block = _block_size(X.shape)
        # Work arrays reused for every block (fresh temporaries per block
        # would cost page faults every time).
        work = _Work()
        for start in range(0, n, block):
            xb = X[start : start + block]
            m = xb.shape[0]
            # L*a*b* without L*'s constant offset (lab0 = lab - offset):
            # the offset moves the means only, and is folded in below.
            lab0 = _by_pixel_chunks(_rgb_to_lab0_rows, xb,
                                    work.rows("lab", m * h * w), work)
            lab0 = lab0.reshape(m, h * w, 3)
            mean0, std = _lab_stats(lab0, work)
            _reinhard_from_lab0(lab0, out[start : start + m], mean0, std,
                                ref_mean, ref_std, work)
        return out

    def _match_histograms(self, X):
        n, h, w, _ = X.shape
        levels = _to_levels(X)
        counts = _channel_histograms(levels, quantised=True)
        # Mid-rank cumulative share of every level: ties map together, a
        # constant channel maps to the reference median.
        cdf = (np.cumsum(counts, axis=-1) - 0.5 * counts) / (h * w)
        grid = np.linspace(0.0, 1.0, _N_LEVELS)
        lut = np.empty((n, 3, _N_LEVELS), dtype=np.float32)
        for c in range(3):
            lut[:, c] = np.interp(cdf[:, c], grid, self.reference_quantiles_[c])
        flat = levels.reshape(n, h * w, 3)
        out = np.empty((n, h * w, 3), dtype=np.float32)
        for c in range(3):
            out[:, :, c] = np.take_along_axis(lut[:, c], flat[:, :, c], axis=1)
        return out.reshape(X.shape)

    @staticmethod
    def _grayworld(X):
        ones = np.ones(X.shape[1] * X.shape[2], dtype=np.float32)
        means = np.matmul(ones, X.reshape(X.shape[0], -1, 3)).astype(np.float64)
        means /= X.shape[1] * X.shape[2]
        gray = means.mean(axis=1, keepdims=True)
        gain = np.where(means > 1e-6, gray / np.maximum(means, 1e-6), 1.0)
        out = X * gain[:, None, None, :].astype(np.float32)
        return np.clip(out, 0.0, 1.0, out=out)
