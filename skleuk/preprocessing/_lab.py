"""sRGB <-> CIE L*a*b* in float32, and the per-image Reinhard map.

The colour maths of :class:`~skleuk.preprocessing.ColorNormalizer`, batched
and vectorised.
"""

from __future__ import annotations

from collections import defaultdict
from functools import lru_cache, wraps

import numpy as np
from threadpoolctl import ThreadpoolController

__all__ = ["lab_to_rgb", "rgb_to_lab"]

# ---------------------------------------------------------------------------
# sRGB <-> CIE L*a*b* (D65 white, 2 degree observer), float32, vectorised.
# Same formulas and constants as skimage.color.rgb2lab / lab2rgb, but in
# float32 and branch-free (the piecewise sRGB and L*a*b* curves are written
# with minimum/maximum instead of masks), about 5x faster than skimage.

_XYZ_FROM_RGB = np.array(
    [
        [0.412453, 0.357580, 0.180423],
        [0.212671, 0.715160, 0.072169],
        [0.019334, 0.119193, 0.950227],
    ]
)
_WHITE_D65 = np.array([0.95047, 1.0, 1.08883])
# Linear RGB (row vectors) -> XYZ divided by the white point.
_RGB_TO_XYZN = np.ascontiguousarray((_XYZ_FROM_RGB / _WHITE_D65[:, None]).T, np.float32)
_XYZN_TO_RGB = np.linalg.inv(_XYZ_FROM_RGB / _WHITE_D65[:, None]).T
# (f(X), f(Y), f(Z)) -> (L, a, b), minus the offset _LAB_OFFSET.
_F_TO_LAB = np.array([[0.0, 500.0, 0.0], [116.0, -500.0, 200.0], [0.0, 0.0, -200.0]])
_LAB_TO_F = np.linalg.inv(_F_TO_LAB)
_LAB_OFFSET = np.array([-16.0, 0.0, 0.0])
_F_TO_LAB32 = _F_TO_LAB.astype(np.float32)
_LAB_TO_F32 = _LAB_TO_F.astype(np.float32)
_LAB_OFFSET32 = _LAB_OFFSET.astype(np.float32)
_XYZN_TO_RGB32 = _XYZN_TO_RGB.astype(np.float32)

_DELTA = 6.0 / 29.0
_SRGB_KNEE = 0.04045  # sRGB value where the curve turns linear
_LIN_KNEE = 0.0031308  # the same point in linear RGB

# Images per block: the conversion's intermediates of one block stay in the
# CPU cache, which makes the elementwise passes several times faster.
_BLOCK_BYTES = 1 << 20
_CHUNK_PIXELS = 1 << 16

# Lab standard deviations below this are not stretched (flat images, or the
# a*/b* channels of grey images, whose spread is rounding noise).
_MIN_STD = 1e-2


@lru_cache(maxsize=1)
def _blas_controller():
    return ThreadpoolController()


def _single_blas_thread(func):
    """Run ``func`` with one BLAS thread.

    The colour code multiplies tall ``(n_pixels, 3)`` matrices by 3x3 ones:
    memory-bound work where a multi-threaded BLAS only adds overhead, and
    where its spinning threads stall badly on a busy machine (measured:
    up to 100x slower with 2 OpenBLAS threads on 2 loaded cores).
    """

    @wraps(func)
    def wrapper(*args, **kwargs):
        with _blas_controller().limit(limits=1, user_api="blas"):
            return func(*args, **kwargs)

    return wrapper


def _add_linear_part(out, x, knee, slope):
    """Finish a piecewise curve computed as ``curve(max(x, knee))``.

    Adds ``slope * (min(x, knee) - knee)``, which turns the constant
    ``curve(knee)`` below the knee into the linear piece of the curve (the
    pieces meet at the knee): the curve without masks or branches. Skipped
    when no value is below the knee (a cheap reduction); when only a few
    are (dark pixels of a smear: typically none to a few hundred per
    image), only those are corrected, at the positions of a comparison
    instead of four passes over every value.
    """
    if not (x.size and x.min() < knee):
        return out
    if out.flags.c_contiguous:
        flat_x = x.reshape(-1)
        idx = np.flatnonzero(flat_x < knee)
        if 16 * idx.size < flat_x.size:
            low = flat_x[idx]
            low -= knee
            low *= slope
            out.reshape(-1)[idx] += low
            return out
    low = np.minimum(x, knee)
    low -= knee
    low *= slope
    out += low
    return out


def _pow_positive(x, p):
    """``x ** p`` in place for positive float32 ``x``, as ``exp2(p log2 x)``.

    numpy's vectorised ``log2`` and ``exp2`` take about 60 % of the time of
    its float32 ``power``, at the same float32 accuracy (relative error
    below 1e-6).
    """
    np.log2(x, out=x)
    x *= np.float32(p)
    return np.exp2(x, out=x)


def _srgb_to_linear(x):
    k = np.float32(_SRGB_KNEE)
    out = np.maximum(x, k)
    out += np.float32(0.055)
    out *= np.float32(1 / 1.055)
    _pow_positive(out, 2.4)
    return _add_linear_part(out, x, k, np.float32(1 / 12.92))


def _linear_to_srgb(x):
    # Values below 0 or above 1 come out below 0 or above 1: clip after.
    k = np.float32(_LIN_KNEE)
    out = np.maximum(x, k)
    _pow_positive(out, 1 / 2.4)
    out *= np.float32(1.055)
    out -= np.float32(0.055)
    return _add_linear_part(out, x, k, np.float32(12.92))


def _lab_f(t):
    e = np.float32(_DELTA**3)
    out = np.maximum(t, e)
    np.cbrt(out, out=out)
    return _add_linear_part(out, t, e, np.float32(1 / (3 * _DELTA**2)))


def _lab_finv(t):
    d = np.float32(_DELTA)
    hi = np.maximum(t, d)
    out = hi * hi
    out *= hi
    return _add_linear_part(out, t, d, np.float32(3 * _DELTA**2))


@_single_blas_thread
def rgb_to_lab(X):
    """Convert sRGB images in ``[0, 1]`` to CIE L*a*b* (D65), in float32.

    Parameters
    ----------
    X : ndarray of shape (..., 3)
        RGB values in ``[0, 1]``.

    Returns
    -------
    ndarray of shape (..., 3)
        ``float32`` L* in ``[0, 100]``, a* and b* roughly in ``[-128, 128]``;
        equal to :func:`skimage.color.rgb2lab` up to float32 rounding.
    """
    X = np.asarray(X, dtype=np.float32)
    return _by_pixel_chunks(_rgb_to_lab_rows, X)


def _by_pixel_chunks(func, X):
    """Apply a per-pixel function of ``(k, 3)`` rows in cache-sized chunks."""
    flat = X.reshape(-1, 3)
    if flat.shape[0] <= _CHUNK_PIXELS:
        return func(flat).reshape(X.shape)
    out = np.empty(flat.shape, dtype=np.float32)
    for start in range(0, flat.shape[0], _CHUNK_PIXELS):
        out[start : start + _CHUNK_PIXELS] = func(flat[start : start + _CHUNK_PIXELS])
    return out.reshape(X.shape)


def _add_rowwise(x, v):
    """``x += v`` for ``x`` of shape ``(k, 3)`` (or ``(m, k, 3)`` with ``v``
    of shape ``(m, 3)``), as contiguous additions.

    Broadcasting a 3-vector over the rows runs numpy's inner loop over 3
    elements at a time -- about ten times slower than a contiguous addition
    of a tiled copy of ``v``, which this does.
    """
    if x.ndim == 2:
        x.reshape(-1)[...] += np.tile(v.astype(np.float32), x.shape[0])
    else:
        m, k, _ = x.shape
        x.reshape(m, -1)[...] += np.tile(v.astype(np.float32), (1, k))
    return x


def _rgb_to_lab0_rows(rgb):
    """L*a*b* of ``(k, 3)`` RGB rows, without the -16 offset of L*."""
    return _lab_f(_srgb_to_linear(rgb) @ _RGB_TO_XYZN) @ _F_TO_LAB32


def _rgb_to_lab_rows(rgb):
    return _add_rowwise(_rgb_to_lab0_rows(rgb), _LAB_OFFSET32)


def _f_to_rgb(f, out=None):
    """(f(X), f(Y), f(Z)) rows -> sRGB in [0, 1] (clipped into ``out``)."""
    rgb = _linear_to_srgb(_lab_finv(f) @ _XYZN_TO_RGB32)
    return np.clip(rgb, 0.0, 1.0, out=rgb if out is None else out)


@_single_blas_thread
def lab_to_rgb(lab):
    """Convert CIE L*a*b* (D65) to sRGB in ``[0, 1]``, in float32.

    Parameters
    ----------
    lab : ndarray of shape (..., 3)
        L*a*b* values.

    Returns
    -------
    ndarray of shape (..., 3)
        ``float32`` RGB, clipped to ``[0, 1]`` (out-of-gamut colours are
        clipped in linear RGB); equal to :func:`skimage.color.lab2rgb` for
        in-gamut colours up to float32 rounding.
    """
    lab = np.asarray(lab, dtype=np.float32)
    return _by_pixel_chunks(_lab_to_rgb_rows, lab)


def _lab_to_rgb_rows(lab):
    f = lab @ _LAB_TO_F32
    return _f_to_rgb(_add_rowwise(f, -_LAB_OFFSET @ _LAB_TO_F))


def _block_size(shape):
    return max(1, _BLOCK_BYTES // (int(np.prod(shape[1:])) * 4))


def _lab_stats(lab):
    """Per-image mean and std of each L*a*b* channel: (m, 3) each.

    ``lab`` has shape (m, n_pixels, 3). Sums are matrix products with a
    vector of ones (BLAS), much faster than axis reductions over pixels.
    """
    ones = np.ones(lab.shape[1], dtype=np.float32)
    mean = np.matmul(ones, lab) / np.float32(lab.shape[1])
    m, k, _ = lab.shape
    dev = lab.reshape(m, -1) - np.tile(mean, (1, k))  # contiguous (no 3-wide loop)
    dev = dev.reshape(m, k, 3)
    dev *= dev
    var = np.matmul(ones, dev) / np.float32(lab.shape[1])
    return mean.astype(np.float64), np.sqrt(var).astype(np.float64)


@_single_blas_thread
def _image_lab_stats(X):
    """Per-image L*a*b* means and stds of a 4-D batch or list of images."""
    if not isinstance(X, np.ndarray):
        groups = defaultdict(list)
        for i, x in enumerate(X):
            groups[x.shape].append(i)
        means, stds = np.empty((len(X), 3)), np.empty((len(X), 3))
        for idx in groups.values():
            m, s = _image_lab_stats(np.stack([X[i] for i in idx]))
            means[idx], stds[idx] = m, s
        return means, stds
    n = X.shape[0]
    means, stds = np.empty((n, 3)), np.empty((n, 3))
    block = _block_size(X.shape)
    for start in range(0, n, block):
        xb = X[start : start + block]
        lab0 = _by_pixel_chunks(_rgb_to_lab0_rows, xb).reshape(xb.shape[0], -1, 3)
        mean, std = _lab_stats(lab0)
        means[start : start + block] = mean + _LAB_OFFSET
        stds[start : start + block] = std
    return means, stds


@_single_blas_thread
def _lab0_into(X, out):
    """L*a*b* (without L*'s offset) of a 4-D batch into ``out``, block by
    block; returns the per-image means (of lab0) and stds, (n, 3) each."""
    n = X.shape[0]
    means, stds = np.empty((n, 3)), np.empty((n, 3))
    block = _block_size(X.shape)
    for start in range(0, n, block):
        xb = X[start : start + block]
        m = xb.shape[0]
        lab0 = _by_pixel_chunks(_rgb_to_lab0_rows, xb).reshape(m, -1, 3)
        means[start : start + m], stds[start : start + m] = _lab_stats(lab0)
        out[start : start + m].reshape(m, -1, 3)[...] = lab0
    return means, stds


@_single_blas_thread
def _reinhard_from_lab0(lab0, out, mean0, std, ref_mean, ref_std):
    """Reinhard's map of lab0 images (m, ...) into RGB ``out`` (m, ...).

    ``lab0`` and ``out`` may be the same array (a 4-D batch, processed in
    cache-sized blocks, each read whole before it is written).
    """
    n = lab0.shape[0]
    block = _block_size(out.shape)
    for start in range(0, n, block):
        stop = min(n, start + block)
        m = stop - start
        lb = lab0[start:stop].reshape(m, -1, 3)
        gain = np.where(std[start:stop] > _MIN_STD,
                        ref_std / np.maximum(std[start:stop], _MIN_STD), 1.0)
        shift = ref_mean - gain * (mean0[start:stop] + _LAB_OFFSET)
        # lab' = lab * gain + shift, then L*a*b* -> f(XYZ): one affine map
        # per image, applied as a batched 3x3 matrix product.
        mat = (gain[:, :, None] * _LAB_TO_F[None]).astype(np.float32)
        off = (shift + (gain - 1.0) * _LAB_OFFSET) @ _LAB_TO_F
        f = _add_rowwise(np.matmul(lb, mat), off)
        # Clipped straight into the output (a contiguous block of it).
        _f_to_rgb(f.reshape(-1, 3), out=out[start:stop].reshape(-1, 3))
    return out
