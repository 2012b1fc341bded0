"""Final scaling of images before the classifier."""

from __future__ import annotations

import numpy as np
from sklearn.utils._param_validation import StrOptions

from ..base import BaseImageTransformer

__all__ = ["ImageScaler"]


def _pixel_blocks(X, block=1 << 16):
    """Yield ``(k, 3)`` blocks of the pixels of a 4-D batch or image list."""
    images = [X] if isinstance(X, np.ndarray) else [x[np.newaxis] for x in X]
    for batch in images:
        flat = batch.reshape(-1, 3)
        for start in range(0, flat.shape[0], block):
            yield flat[start : start + block]


def _channel_mean_std(X):
    """Per-channel mean and std over all pixels, accumulated in float64.

    Two passes (the second sums squared deviations from the mean), which
    avoids the cancellation of ``E[x^2] - E[x]^2``; exact enough that a
    constant channel gets a standard deviation of 0.
    """
    if isinstance(X, np.ndarray):
        return _batch_mean_std(X)
    total, count = np.zeros(3), 0
    for block in _pixel_blocks(X):
        total += block.sum(axis=0, dtype=np.float64)
        count += block.shape[0]
    mean = total / count
    total_sq = np.zeros(3)
    for block in _pixel_blocks(X):
        dev = block.astype(np.float64) - mean
        total_sq += np.einsum("ij,ij->j", dev, dev)
    return mean, np.sqrt(total_sq / count)


def _batch_mean_std(X, block_rows=4096):
    """:func:`_channel_mean_std` of a 4-D batch, summed along image rows.

    The batch is seen as rows of ``width * 3`` values; sums over rows are
    elementwise additions of whole rows (vectorised), folded into the 3
    channels at the end -- several times faster than reductions over
    ``(k, 3)`` pixel blocks, whose inner loop runs over 3 values. Same
    float64 two-pass arithmetic.
    """
    n, h, w, c = X.shape
    rows = X.reshape(n * h, w * c)
    count = n * h * w
    total = np.zeros(w * c)
    for start in range(0, rows.shape[0], block_rows):
        total += rows[start : start + block_rows].sum(axis=0, dtype=np.float64)
    mean = total.reshape(w, c).sum(axis=0) / count
    tiled = np.tile(mean, w)
    total_sq = np.zeros(w * c)
    for start in range(0, rows.shape[0], block_rows):
        dev = rows[start : start + block_rows].astype(np.float64)
        dev -= tiled
        dev *= dev
        total_sq += dev.sum(axis=0)
    return mean, np.sqrt(total_sq.reshape(w, c).sum(axis=0) / count)


class ImageScaler(BaseImageTransformer):
    """Scale images for the classifier: unit range or per-channel z-scores.

    The last preprocessing step before the CNN.

    Parameters
    ----------
    method : {"unit", "standard"}, default="unit"
        ``"unit"``: ``float32`` in ``[0, 1]`` (integer images divided by
        their maximum, floats checked and clipped) -- learns nothing.
        ``"standard"``: subtract the per-channel mean and divide by the
        per-channel standard deviation, both learnt in ``fit`` over all
        pixels of all training images; the output is no longer in
        ``[0, 1]`` (centred on 0), so this must be the last image step.

    Attributes
    ----------
    mean_ : ndarray of shape (3,)
        Per-channel mean of the training pixels (``"standard"`` only).
    scale_ : ndarray of shape (3,)
        Per-channel standard deviation of the training pixels, 1 where it
        is 0 (``"standard"`` only).
    is_fitted_ : bool
        True once fitted.

    See Also
    --------
    sklearn.preprocessing.StandardScaler : The same for tabular features.
    ColorNormalizer : Colour normalisation per image.

    Notes
    -----
    Input must still be images in ``[0, 1]`` (or integer images); the
    statistics pool every pixel of every training image, so each image
    contributes in proportion to its size.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import ImageScaler
    >>> X = np.array([[[[0, 128, 255]]], [[[255, 128, 0]]]], dtype=np.uint8)
    >>> ImageScaler().fit_transform(X)[0, 0, 0]
    array([0.       , 0.5019608, 1.       ], dtype=float32)
    >>> scaler = ImageScaler(method="standard").fit(X)
    >>> scaler.transform(X)[:, 0, 0, 0]
    array([-1.,  1.], dtype=float32)
    """

    _parameter_constraints: dict = {"method": [StrOptions({"unit", "standard"})]}
    _stateless = False

    def __init__(self, method="unit"):
        self.method = method

    @property
    def _unbounded_output(self):
        # Read by skleuk.utils.estimator_checks: z-scores leave [0, 1].
        return self.method == "standard"

    def _fit(self, X):
        for attr in ("mean_", "scale_"):
            if hasattr(self, attr):
                delattr(self, attr)
        if self.method == "unit":
            return
        mean, scale = _channel_mean_std(X)
        scale[scale < 1e-6] = 1.0
        self.mean_ = mean
        self.scale_ = scale

    def _transform(self, X):
        if self.method == "unit":
            return np.clip(X, 0.0, 1.0)
        # (x - mean) / scale per channel, on rows of the images: the
        # per-channel constants are tiled along one image row, so numpy's
        # inner loop runs over whole rows, not over 3 channels at a time
        # (about ten times faster; the same float32 operations).
        n, h, w, c = X.shape
        rows = X.reshape(n * h, w * c)
        out = rows - np.tile(self.mean_.astype(np.float32), w)
        out *= np.tile((1.0 / self.scale_).astype(np.float32), w)
        return out.reshape(X.shape)
