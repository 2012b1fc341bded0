"""Image operations shared by every layer: padding, resizing, stacking.

The bottom layer of skleuk (see :ref:`layering <layering>` in the developer
guide): the loaders (:mod:`skleuk.datasets`), the transformers
(:mod:`skleuk.preprocessing`) and everything above use these functions, and
this module imports nothing from skleuk outside :mod:`skleuk.utils`.
"""

from __future__ import annotations

import warnings
from collections import defaultdict

import numpy as np
from sklearn.utils._param_validation import InvalidParameterError

__all__ = [
    "PAD_MODES",
    "apply_by_shape",
    "pad_to_square",
    "resize_images",
    "stack_if_uniform",
]

#: The padding modes of :class:`~skleuk.preprocessing.PadToSquare`,
#: :class:`~skleuk.preprocessing.CenterCropper`, the loaders' ``pad_mode``
#: and :class:`~skleuk.preprocessing.WhiteCellCropper` (numpy pad modes).
PAD_MODES = ("reflect", "symmetric", "edge", "constant")

# Working-set size (bytes) of one block of images in the resampler. Keeping
# the intermediate of a block in the CPU cache is what makes the separable
# resampling fast (about 3x faster than whole-batch temporaries).
_BLOCK_BYTES = 1 << 20


#: Enlarging an image more than this many times (per side) warns: a few
#: pixels blown up to the CNN's input size carry no cell to classify.
_MAX_UPSCALE = 4


def _warn_tiny(X, size):
    """Warn once when images are enlarged more than ``_MAX_UPSCALE`` times."""
    if isinstance(X, np.ndarray):
        shapes = [X.shape[1:3]] * len(X)
    else:
        shapes = [np.shape(x)[:2] for x in X]
    tiny = [
        (i, hw) for i, hw in enumerate(shapes)
        if hw[0] * _MAX_UPSCALE < size[0] or hw[1] * _MAX_UPSCALE < size[1]
    ]
    if tiny:
        i, (h, w) = tiny[0]
        warnings.warn(
            f"{len(tiny)} image(s) are enlarged more than {_MAX_UPSCALE}x to "
            f"{size[0]}x{size[1]} pixels (e.g. image {i}: {h}x{w}); results on "
            "images this small are not meaningful.",
            UserWarning,
            stacklevel=4,
        )


def stack_if_uniform(images):
    """Stack a list of 3-D images into a 4-D array when their shapes agree.

    Parameters
    ----------
    images : list of ndarray
        Images of shape ``(height, width, channels)``.

    Returns
    -------
    ndarray or list of ndarray
        A 4-D array if every image has the same shape, else the list.
    """
    if isinstance(images, np.ndarray):
        return images
    if len({im.shape for im in images}) == 1:
        return np.ascontiguousarray(np.stack(images))
    return list(images)


def apply_by_shape(func, X):
    """Apply a batched image function to a batch that may mix image sizes.

    ``func`` takes a 4-D array and returns a 4-D array with the same number of
    images. A 4-D ``X`` is passed through in one call; a list of images of
    different sizes is processed one call per distinct size (vectorised
    within each size group), and the results are put back in input order.

    Parameters
    ----------
    func : callable
        ``func(batch) -> batch`` on ``(n, h, w, c)`` arrays.
    X : ndarray of shape (n, h, w, c) or list of ndarray
        The images.

    Returns
    -------
    ndarray or list of ndarray
        A 4-D array when all outputs share one shape, else a list.
    """
    if isinstance(X, np.ndarray):
        return func(X)
    groups = defaultdict(list)
    for i, x in enumerate(X):
        groups[x.shape].append(i)
    out = [None] * len(X)
    for idx in groups.values():
        result = func(np.stack([X[i] for i in idx]))
        for j, i in enumerate(idx):
            out[i] = result[j]
    return stack_if_uniform(out)


def _fill_rgb(fill_value, owner=None):
    """Return ``fill_value`` as a float32 RGB triple in [0, 1].

    ``owner`` (a class name) is named in the error message.
    """
    of = f" of {owner}" if owner else ""
    fill = np.asarray(fill_value, dtype=np.float64)
    if fill.ndim == 0:
        fill = np.repeat(fill, 3)
    if fill.shape != (3,) or not np.all((fill >= 0) & (fill <= 1)):
        raise InvalidParameterError(
            f"The 'fill_value' parameter{of} must be a float in [0, 1] or an "
            f"RGB triple of floats in [0, 1]; got {fill_value!r}."
        )
    return fill.astype(np.float32)


def _pad_hw(X, top, bottom, left, right, mode, fill_value):
    """Pad a 4-D batch on its height and width axes (numpy pad modes)."""
    if top == bottom == left == right == 0:
        return X.copy()
    n, h, w, c = X.shape
    if mode == "constant":
        out = np.empty((n, h + top + bottom, w + left + right, c), dtype=X.dtype)
        out[...] = _fill_rgb(fill_value)
        out[:, top : top + h, left : left + w] = X
        return out
    width = ((0, 0), (top, bottom), (left, right), (0, 0))
    return np.pad(X, width, mode=mode)

def _map_index(idx, size, mode):
    """Map possibly out-of-range indices into ``[0, size)`` (numpy pad modes)."""
    if mode in ("constant", "edge") or size == 1:
        return np.clip(idx, 0, size - 1)
    if mode == "reflect":
        period = 2 * (size - 1)
        idx = np.abs(idx) % period
        return np.where(idx >= size, period - idx, idx)
    # symmetric: the edge pixel is repeated
    period = 2 * size
    idx = np.mod(idx, period)
    return np.where(idx >= size, period - 1 - idx, idx)


def pad_to_square(X, mode="reflect", fill_value=1.0):
    """Pad a 4-D batch to square images, centred (as ``PadToSquare``).

    Parameters
    ----------
    X : ndarray of shape (n_images, height, width, channels)
        The images.
    mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How the padding is filled (numpy pad modes).
    fill_value : float or (float, float, float), default=1.0
        Padding colour for ``mode="constant"``, in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (n_images, side, side, channels)
        The padded images, ``side = max(height, width)``.
    """
    _, h, w, _ = X.shape
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return _pad_hw(X, top, side - h - top, left, side - w - left, mode, fill_value)


def _resampling_taps(n_in, n_out, anti_aliasing):
    """Sparse 1-D resampling weights: output ``i`` = sum_k w[i,k] x[idx[i,k]].

    Downscaling with anti-aliasing averages the exact (fractional) input
    area each output pixel covers -- the same weights as OpenCV's
    ``INTER_AREA``. Otherwise (upscaling, or ``anti_aliasing=False``) the
    weights are bilinear with pixel centres at half-integer positions (as
    OpenCV's ``INTER_LINEAR`` and ``skimage.transform.resize(order=1)``).
    """
    scale = n_in / n_out
    if anti_aliasing and n_out < n_in:
        lo = np.arange(n_out, dtype=np.float64) * scale
        hi = lo + scale
        first = np.floor(lo).astype(np.intp)
        n_taps = int(np.max(np.ceil(hi - 1e-9).astype(np.intp) - first))
        idx = first[:, None] + np.arange(n_taps)[None, :]
        overlap = np.minimum(hi[:, None], idx + 1) - np.maximum(lo[:, None], idx)
        weights = np.clip(overlap, 0.0, None) / scale
    else:
        src = (np.arange(n_out, dtype=np.float64) + 0.5) * scale - 0.5
        src = np.clip(src, 0.0, n_in - 1)
        i0 = np.floor(src).astype(np.intp)
        frac = src - i0
        idx = np.stack([i0, i0 + 1], axis=1)
        weights = np.stack([1.0 - frac, frac], axis=1)
    idx = np.minimum(idx, n_in - 1)
    return idx, weights.astype(np.float32)


def _resample_axis1(X3, idx, weights):
    """Resample axis 1 of a 3-D array ``(m, n_in, k)`` with sparse taps.

    One gather of every tap, ``(m, n_out, n_taps, k)``, then the weighted
    sum over taps as a stack of small ``(1, n_taps) @ (n_taps, k)``
    products -- about twice as fast as accumulating tap by tap.
    """
    m, _, k = X3.shape
    n_out, n_taps = idx.shape
    taps = np.take(X3, idx.ravel(), axis=1).reshape(m, n_out, n_taps, k)
    return np.matmul(weights[None, :, None, :], taps).reshape(m, n_out, k)


def resize_images(X, output_shape, anti_aliasing=True):
    """Resize a batch of images with separable area/bilinear resampling.

    Every image and channel is resampled independently (the weights act on
    the height and width axes only), in ``float32``.

    Parameters
    ----------
    X : ndarray of shape (n_images, height, width, channels)
        Images with values in ``[0, 1]`` (any number of channels).
    output_shape : (int, int)
        Target ``(height, width)``.
    anti_aliasing : bool, default=True
        Average the covered area when shrinking (as OpenCV ``INTER_AREA``);
        otherwise sample bilinearly.

    Returns
    -------
    ndarray of shape (n_images, out_height, out_width, channels)
        The resized images, ``float32``, clipped to ``[0, 1]`` (resampling
        only averages, so this only removes rounding overshoot).
    """
    X = np.asarray(X, dtype=np.float32)
    n, h, w, c = X.shape
    oh, ow = output_shape
    if (oh, ow) == (h, w):
        return X.copy()
    idx_h, w_h = _resampling_taps(h, oh, anti_aliasing)
    idx_w, w_w = _resampling_taps(w, ow, anti_aliasing)
    out = np.empty((n, oh, ow, c), dtype=np.float32)
    # Blocks of images whose intermediate fits in cache; the work within a
    # block is vectorised over images, rows and channels.
    per_image = max(oh * w, h * w) * c * 4
    block = max(1, _BLOCK_BYTES // per_image)
    for start in range(0, n, block):
        xb = X[start : start + block]
        m = xb.shape[0]
        if oh != h:
            xb = _resample_axis1(xb.reshape(m, h, w * c), idx_h, w_h)
        yt = np.ascontiguousarray(xb.reshape(m, oh, w, c).transpose(0, 2, 1, 3))
        if ow != w:
            yt = _resample_axis1(yt.reshape(m, w, oh * c), idx_w, w_w)
        out[start : start + m] = yt.reshape(m, ow, oh, c).transpose(0, 2, 1, 3)
    np.clip(out, 0.0, 1.0, out=out)
    return out
