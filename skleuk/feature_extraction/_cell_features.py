"""Colour, texture (HOG) and nucleus-shape features of cell images."""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy import ndimage
from skimage.feature import hog
from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted

from ..utils.validation import check_images

__all__ = ["CellFeatureExtractor"]


def _colour_histograms(X, bins):
    """Per-image RGB and saturation histograms, as shares: (n, 4 * bins)."""
    n = X.shape[0]
    sat = X.max(axis=-1) - X.min(axis=-1)
    channels = np.concatenate([X, sat[..., None]], axis=-1)  # (n, h, w, 4)
    idx = np.minimum((channels * bins).astype(np.intp), bins - 1)
    offsets = (np.arange(n)[:, None] * 4 + np.arange(4)[None]) * bins
    flat = idx.reshape(n, -1, 4) + offsets[:, None, :]
    counts = np.bincount(flat.ravel(), minlength=n * 4 * bins)
    return counts.reshape(n, 4 * bins) / (X.shape[1] * X.shape[2])


def _nucleus_features(X):
    """Shape of the stained region nearest the centre: (n, 6).

    Area share, equivalent-diameter share, eccentricity, solidity proxy
    (area over bounding-box area), mean stain ratio inside and outside.
    """
    b, g = X[..., 2], X[..., 1]
    ratio = (b - g) / (b + g + 0.1)  # the stain ratio of locate_white_cells
    n, h, w = ratio.shape
    thr = np.median(ratio.reshape(n, -1), axis=1) + 0.1
    out = np.zeros((n, 6))
    rr, cc = np.mgrid[0:h, 0:w]
    for i in range(n):
        mask = ratio[i] > thr[i]
        labels, k = ndimage.label(mask)
        if k == 0:
            out[i, 5] = ratio[i].mean()
            continue
        # The component holding (or nearest to) the centre.
        dist = ndimage.distance_transform_edt(labels == 0, return_indices=True)[1]
        lab = labels[dist[0][h // 2, w // 2], dist[1][h // 2, w // 2]]
        region = labels == lab
        area = region.sum()
        r, c = rr[region], cc[region]
        cov = np.cov(np.stack([r, c])) if area > 2 else np.eye(2)
        ev = np.sort(np.linalg.eigvalsh(cov))
        ecc = np.sqrt(1 - ev[0] / ev[1]) if ev[1] > 0 else 0.0
        box = (np.ptp(r) + 1) * (np.ptp(c) + 1)
        out[i] = [
            area / (h * w),
            np.sqrt(4 * area / np.pi) / min(h, w),
            ecc,
            area / box,
            ratio[i][region].mean(),
            ratio[i][~region].mean() if area < h * w else 0.0,
        ]
    return out


class CellFeatureExtractor(TransformerMixin, BaseEstimator):
    """Colour histograms, HOG and nucleus-shape features of cell images.

    A classical feature vector for :class:`sklearn.svm.SVC` and friends:
    per-image histograms of R, G, B and saturation (``max - min`` of RGB),
    the histogram of oriented gradients of the grey image (Dalal & Triggs,
    2005; :func:`skimage.feature.hog`), and six shape and stain features of
    the stained nucleus nearest the image centre. It is the feature half of
    :func:`skleuk.make_baseline_pipeline`, the "CNN vs classical" baseline.

    Parameters
    ----------
    bins : int, default=16
        Bins of each colour histogram.
    hog_orientations : int, default=9
        Orientation bins of the HOG descriptor.
    hog_cells : int, default=4
        The image is split into ``hog_cells x hog_cells`` HOG cells (blocks
        of 2x2 cells, L2-Hys normalised). 0 leaves HOG out.
    shape_features : bool, default=True
        Include the nucleus-shape features.

    Attributes
    ----------
    n_features_out_ : int
        Length of the feature vector.
    input_shape_ : tuple of int
        ``(height, width, 3)`` of the images seen in ``fit``; ``transform``
        needs the same size (put a :class:`~skleuk.preprocessing.Resizer`
        before it).

    See Also
    --------
    skleuk.make_baseline_pipeline : These features + an RBF SVM.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.feature_extraction import CellFeatureExtractor
    >>> X = np.random.default_rng(0).integers(0, 256, (3, 32, 32, 3), np.uint8)
    >>> CellFeatureExtractor().fit_transform(X).shape
    (3, 394)
    """

    _parameter_constraints: dict = {
        "bins": [Interval(Integral, 2, None, closed="left")],
        "hog_orientations": [Interval(Integral, 1, None, closed="left")],
        "hog_cells": [Interval(Integral, 0, None, closed="left")],
        "shape_features": ["boolean"],
    }

    def __init__(self, bins=16, hog_orientations=9, hog_cells=4, shape_features=True):
        self.bins = bins
        self.hog_orientations = hog_orientations
        self.hog_cells = hog_cells
        self.shape_features = shape_features

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Check the images and record their size.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images, ``uint8`` or float in ``[0, 1]``.
        y : None
            Ignored.

        Returns
        -------
        self : CellFeatureExtractor
            The fitted extractor.
        """
        X = check_images(X)
        self.input_shape_ = X.shape[1:]
        self.n_features_out_ = self._features(X[:1]).shape[1]
        return self

    def _features(self, X):
        parts = [_colour_histograms(X, self.bins)]
        if self.hog_cells:
            h, w = X.shape[1:3]
            cell = (max(1, h // self.hog_cells), max(1, w // self.hog_cells))
            gray = X @ np.array([0.299, 0.587, 0.114], dtype=np.float32)
            block = (2, 2) if self.hog_cells >= 2 else (1, 1)
            parts.append(
                np.stack(
                    [
                        hog(
                            g,
                            orientations=self.hog_orientations,
                            pixels_per_cell=cell,
                            cells_per_block=block,
                            feature_vector=True,
                        )
                        for g in gray
                    ]
                )
            )
        if self.shape_features:
            parts.append(_nucleus_features(X))
        return np.concatenate(parts, axis=1).astype(np.float64)

    def transform(self, X):
        """Compute the feature vectors.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images of the size seen in ``fit``.

        Returns
        -------
        features : ndarray of shape (n_images, n_features)
            The feature vectors (float64).
        """
        check_is_fitted(self)
        X = check_images(X)
        if X.shape[1:] != tuple(self.input_shape_):
            raise ValueError(
                f"CellFeatureExtractor was fitted on images of shape "
                f"{tuple(self.input_shape_)}, got {X.shape[1:]}; resize first."
            )
        return self._features(X)
