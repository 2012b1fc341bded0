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


class _Work:
    """Work arrays of one conversion call, reused chunk after chunk.

    Fresh full-size temporaries (a chunk, an image) cost page faults each
    time they are first written; reusing a few buffers instead made the
    per-image statistics about three times faster (measured on 257 px
    images). Not shared between calls, so threads never share buffers.
    """

    def __init__(self):
        self._bufs = {}

    def flat(self, name, n):
        """A float32 buffer ``name`` of ``n`` entries (contents undefined)."""
        buf = self._bufs.get(name)
        if buf is None or buf.size < n:
            buf = self._bufs[name] = np.empty(n, dtype=np.float32)
        return buf[:n]

    def rows(self, name, k):
        """A ``(k, 3)`` float32 buffer ``name``."""
        return self.flat(name, 3 * k).reshape(k, 3)


def _srgb_to_linear(x, out=None):
    k = np.float32(_SRGB_KNEE)
    out = np.maximum(x, k, out=out)
    out += np.float32(0.055)
    out *= np.float32(1 / 1.055)
    _pow_positive(out, 2.4)
    return _add_linear_part(out, x, k, np.float32(1 / 12.92))


def _linear_to_srgb(x, out=None):
    # Values below 0 or above 1 come out below 0 or above 1: clip after.
    k = np.float32(_LIN_KNEE)
    out = np.maximum(x, k, out=out)
    _pow_positive(out, 1 / 2.4)
    out *= np.float32(1.055)
    out -= np.float32(0.055)
    return _add_linear_part(out, x, k, np.float32(12.92))


def _lab_f(t, out=None):
    e = np.float32(_DELTA**3)
    out = np.maximum(t, e, out=out)
    np.cbrt(out, out=out)
    return _add_linear_part(out, t, e, np.float32(1 / (3 * _DELTA**2)))


def _lab_finv(t, out=None, tmp=None):
    """``finv(t)`` into ``out``; ``tmp`` is scratch (neither may be ``t``)."""
    d = np.float32(_DELTA)
    hi = np.maximum(t, d, out=tmp)
    out = np.multiply(hi, hi, out=out)
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


def _by_pixel_chunks(func, X, out=None, work=None):
    """Apply a per-pixel function of ``(k, 3)`` rows in cache-sized chunks.

    ``func(rows, out_rows, work)`` writes its result to ``out_rows``.
    ``out`` (C-contiguous, ``X``'s size) is allocated when not given, and
    so is ``work`` (a :class:`_Work`).
    """
    flat = X.reshape(-1, 3)
    n = flat.shape[0]
    if out is None:
        out = np.empty(flat.shape, dtype=np.float32)
    out_flat = out.reshape(-1, 3)
    work = _Work() if work is None else work
    for start in range(0, n, _CHUNK_PIXELS):
        stop = min(n, start + _CHUNK_PIXELS)
        func(flat[start:stop], out_flat[start:stop], work)
    return out.reshape(X.shape)


def _tile_into(v, out):
    """``out[:] = np.tile(v, out.size // 3)`` by doubling contiguous copies."""
    out[:3] = v
    n = 3
    while n < out.size:
        m = min(n, out.size - n)
        out[n : n + m] = out[:m]
        n += m
    return out


def _add_rowwise(x, v, work=None):
    """``x += v`` for ``x`` of shape ``(k, 3)`` (or ``(m, k, 3)`` with ``v``
    of shape ``(m, 3)``), as contiguous additions.

    Broadcasting a 3-vector over the rows runs numpy's inner loop over 3
    elements at a time -- about ten times slower than a contiguous addition
    of a tiled copy of ``v``, which this does (into a buffer of ``work``
    when given). ``x`` must be C-contiguous.
    """
    work = _Work() if work is None else work
    v = np.asarray(v, dtype=np.float32)
    if x.ndim == 2:
        flat = x.reshape(-1)
        flat += _tile_into(v, work.flat("tile", flat.size))
        return x
    m, k, _ = x.shape
    tile = work.flat("tile", 3 * k)
    for i in range(m):
        row = x[i].reshape(-1)
        row += _tile_into(v[i], tile)
    return x


def _rgb_to_lab0_rows(rgb, out, work):
    """L*a*b* of ``(k, 3)`` RGB rows, without the -16 offset of L*, into
    ``out``."""
    k = rgb.shape[0]
    a, b = work.rows("a", k), work.rows("b", k)
    _srgb_to_linear(rgb, out=a)
    np.matmul(a, _RGB_TO_XYZN, out=b)
    _lab_f(b, out=a)
    return np.matmul(a, _F_TO_LAB32, out=out)


def _rgb_to_lab_rows(rgb, out, work):
    return _add_rowwise(_rgb_to_lab0_rows(rgb, out, work), _LAB_OFFSET32, work)


def _f_to_rgb(f, out, tmp):
    """(f(X), f(Y), f(Z)) rows -> sRGB in [0, 1] (clipped into ``out``).

    ``f`` is overwritten; ``tmp`` is scratch of the same shape; ``out`` is
    used as scratch before it receives the result, so it may share memory
    with whatever ``f`` was computed from, not with ``f`` itself.
    """
    cube = _lab_finv(f, out=tmp, tmp=out)
    linear = np.matmul(cube, _XYZN_TO_RGB32, out=f)
    rgb = _linear_to_srgb(linear, out=tmp)
    return np.clip(rgb, 0.0, 1.0, out=out)


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


def _lab_to_rgb_rows(lab, out, work):
    k = lab.shape[0]
    f, tmp = work.rows("a", k), work.rows("b", k)
    np.matmul(lab, _LAB_TO_F32, out=f)
    _add_rowwise(f, -_LAB_OFFSET @ _LAB_TO_F, work)
    return _f_to_rgb(f, out, tmp)


def _block_size(shape):
    return max(1, _BLOCK_BYTES // (int(np.prod(shape[1:])) * 4))


def _lab_stats(lab, work=None):
    """Per-image mean and std of each L*a*b* channel: (m, 3) each.

    ``lab`` has shape (m, n_pixels, 3), C-contiguous. Sums are matrix
    products with a vector of ones (BLAS), much faster than axis reductions
    over pixels; the deviations from the mean go to a reused buffer.
    """
    work = _Work() if work is None else work
    m, k, _ = lab.shape
    ones = np.ones(k, dtype=np.float32)
    mean = np.matmul(ones, lab) / np.float32(k)
    var = np.empty((m, 3), dtype=np.float32)
    tile, dev = work.flat("tile", 3 * k), work.flat("dev", 3 * k)
    for i in range(m):
        # Contiguous subtraction of a tiled mean (no 3-wide inner loop).
        np.subtract(lab[i].reshape(-1), _tile_into(mean[i], tile), out=dev)
        dev *= dev
        var[i] = np.matmul(ones, dev.reshape(k, 3))
    var /= np.float32(k)
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
    pixels = int(np.prod(X.shape[1:-1]))
    work = _Work()
    for start in range(0, n, block):
        xb = X[start : start + block]
        m = xb.shape[0]
        lab0 = _by_pixel_chunks(_rgb_to_lab0_rows, xb,
                                work.rows("lab", m * pixels), work)
        mean, std = _lab_stats(lab0.reshape(m, -1, 3), work)
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
    work = _Work()
    for start in range(0, n, block):
        xb = X[start : start + block]
        m = xb.shape[0]
        # Straight into the output (which may be X itself: each chunk is
        # read whole before its L*a*b* values are written).
        lab0 = _by_pixel_chunks(_rgb_to_lab0_rows, xb, out[start : start + m],
                                work).reshape(m, -1, 3)
        means[start : start + m], stds[start : start + m] = _lab_stats(lab0, work)
    return means, stds


@_single_blas_thread
def _reinhard_from_lab0(lab0, out, mean0, std, ref_mean, ref_std, work=None):
    """Reinhard's map of lab0 images (m, ...) into RGB ``out`` (m, ...).

    ``lab0`` and ``out`` may be the same array (a 4-D batch, processed in
    cache-sized blocks, each read whole before it is written). ``work``: a
    :class:`_Work` to reuse (one is made when not given).
    """
    n = lab0.shape[0]
    block = _block_size(out.shape)
    work = _Work() if work is None else work
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
        rows = lb.shape[1]
        f = np.matmul(lb, mat, out=work.rows("f", m * rows).reshape(m, rows, 3))
        f = _add_rowwise(f, off, work)
        # Clipped straight into the output (a contiguous block of it; lb,
        # which it may overlap, has been read whole).
        _f_to_rgb(f.reshape(-1, 3), out[start:stop].reshape(-1, 3),
                  work.rows("tmp", m * rows))
    return out
