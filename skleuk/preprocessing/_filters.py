"""Spatial filters: Laplacian sharpening and neighbourhood averaging."""

from __future__ import annotations

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ._base import BaseImageTransformer

__all__ = ["LaplacianSharpener", "NeighborhoodAverager"]

# scipy.ndimage boundary modes offered, and the numpy.pad mode that extends
# an image the same way (checked in the tests, including pads wider than the
# image).
_BOUNDARY_MODES = {
    "reflect": "symmetric",  # d c b a | a b c d | d c b a
    "mirror": "reflect",  # d c b | a b c d | c b a
    "nearest": "edge",  # a a a | a b c d | d d d
    "wrap": "wrap",  # b c d | a b c d | a b c
}

_LAPLACIAN_KERNELS = {
    "4-neighbour": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "8-neighbour": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=np.float64),
}

# Working-set target of one tile of the filters (bytes per array).
_TILE_BYTES = 1 << 17
# Largest mean-filter window computed by summing shifted views.
_MAX_SHIFTED_SUM = 9


def _pad_window(X, size_h, size_w, mode):
    """Pad a batch so that a ``size_h x size_w`` window (scipy's origin 0)
    fits at every pixel: ``size // 2`` before, ``size - 1 - size // 2``
    after, extended like ``scipy.ndimage`` ``mode``."""
    bh, bw = size_h // 2, size_w // 2
    width = ((0, 0), (bh, size_h - 1 - bh), (bw, size_w - 1 - bw), (0, 0))
    return np.pad(X, width, mode=_BOUNDARY_MODES[mode])


def _tiles(P, h, window_h, tile_bytes=_TILE_BYTES):
    """Tiles of a padded batch ``P`` for an ``h``-row output.

    Yields ``(images, y, rows)``: output images ``images`` (a slice), rows
    ``y:y + rows``, which need padded rows ``y:y + rows + window_h - 1``.
    A tile holds several whole images when they are small, else a band of
    rows of one image, so that a filter's intermediates stay in the CPU
    cache (several times faster than whole-batch temporaries).
    """
    row_bytes = P.shape[2] * P.shape[3] * P.itemsize
    n_img = max(1, tile_bytes // (row_bytes * h))
    n_rows = h if n_img > 1 else max(1, tile_bytes // row_bytes)
    for i in range(0, P.shape[0], n_img):
        for y in range(0, h, n_rows):
            yield slice(i, i + n_img), y, min(n_rows, h - y)


def _correlate_hw(X, kernel, mode, clip=False):
    """Correlate every image and channel with a small 2-D kernel.

    Vectorised over (tiles of) the batch: the padded batch is shifted once
    per non-zero kernel tap and the shifted views are summed, one
    multiplication per distinct kernel value -- a 3x3 Laplacian costs a
    handful of array additions. Same result as
    ``scipy.ndimage.correlate(X, kernel[None, :, :, None], mode=mode)``
    (optionally clipped to ``[0, 1]``).
    """
    kh, kw = kernel.shape
    _, h, w, _ = X.shape
    groups = [
        (np.float32(value), list(zip(*np.nonzero(kernel == value), strict=True)))
        for value in np.unique(kernel[kernel != 0])
    ]
    out = np.zeros_like(X)
    if not groups:
        return out
    P = _pad_window(X, kh, kw, mode)
    for images, y, rows in _tiles(P, h, kh):
        tile = P[images, y : y + rows + kh - 1]
        dst = out[images, y : y + rows]
        for g, (value, taps) in enumerate(groups):
            views = [tile[:, dy : dy + rows, dx : dx + w] for dy, dx in taps]
            acc = dst if g == 0 else np.empty_like(dst)
            if len(views) == 1:
                np.multiply(views[0], value, out=acc)
            else:
                np.add(views[0], views[1], out=acc)
                for view in views[2:]:
                    acc += view
                acc *= value
            if g:
                dst += acc
        if clip:
            np.clip(dst, 0.0, 1.0, out=dst)
    return out


def _box_mean(X, size, mode):
    """``size x size`` mean of every image and channel, tiled and separable.

    Sums ``size`` shifted views down the columns, then ``size`` along the
    rows, per cache-sized tile: faster than ``scipy.ndimage.uniform_filter``
    (which it equals up to float32 rounding) for the small windows this
    step is used with; larger windows use scipy's running sums.
    """
    if size > _MAX_SHIFTED_SUM:
        out = ndi.uniform_filter(X, size=(1, size, size, 1), mode=mode)
        return np.clip(out, 0.0, 1.0, out=out)
    _, h, w, _ = X.shape
    P = _pad_window(X, size, size, mode)
    out = np.empty_like(X)
    scale = np.float32(1.0 / (size * size))
    for images, y, rows in _tiles(P, h, size):
        tile = P[images, y : y + rows + size - 1]
        cols = np.add(tile[:, :rows], tile[:, 1 : rows + 1])
        for k in range(2, size):
            cols += tile[:, k : k + rows]
        dst = out[images, y : y + rows]
        np.add(cols[:, :, :w], cols[:, :, 1 : w + 1], out=dst)
        for k in range(2, size):
            dst += cols[:, :, k : k + w]
        dst *= scale
        np.clip(dst, 0.0, 1.0, out=dst)
    return out


def _check_laplacian_kernel(kernel):
    """Return the kernel as a float64 2-D array, checking it is usable."""
    if isinstance(kernel, str):
        return _LAPLACIAN_KERNELS[kernel]
    k = np.asarray(kernel, dtype=np.float64)
    if (
        k.ndim != 2
        or k.shape[0] % 2 == 0
        or k.shape[1] % 2 == 0
        or not np.all(np.isfinite(k))
    ):
        raise InvalidParameterError(
            "The 'kernel' parameter must be '4-neighbour', '8-neighbour' or a "
            "finite 2-D array with odd height and width; got "
            f"{'an array of shape ' + str(k.shape) if k.ndim else repr(kernel)}."
        )
    if abs(k.sum()) > 1e-6 * max(1.0, np.abs(k).sum()):
        raise InvalidParameterError(
            "The 'kernel' parameter must be a Laplacian: its entries must sum "
            f"to 0 (so that flat regions stay unchanged); they sum to {k.sum():g}."
        )
    return k


class LaplacianSharpener(BaseImageTransformer):
    r"""Sharpen images by subtracting their Laplacian (paper Eq. 3.1).

    Each channel of each image ``y`` becomes

    .. math:: \hat y = y - c \, \nabla^2 y,

    clipped to ``[0, 1]``, where :math:`\nabla^2` is the discrete Laplacian
    (a kernel with a negative centre, so subtracting it raises each pixel
    above its neighbours' mean: edges get steeper) and :math:`c` is
    ``strength``. With the 4-neighbour kernel and ``strength=1`` this is
    the classic sharpening mask ``[[0, -1, 0], [-1, 5, -1], [0, -1, 0]]``
    (Gonzalez & Woods, *Digital Image Processing*, section 3.6).

    Parameters
    ----------
    strength : float, default=1.0
        The constant :math:`c`, ``>= 0`` (0 leaves images unchanged). The
        paper does not give its value; 1.0 is the textbook choice for the
        4-neighbour kernel. The 8-neighbour kernel sharpens about twice as
        strongly at the same ``strength``; on noisy (e.g. JPEG) images
        values around 0.5 amplify less noise.
    kernel : {"4-neighbour", "8-neighbour"} or array-like of shape (k, k)
        The Laplacian kernel. A custom kernel must have odd sides, be
        centre-negative to sharpen, and sum to 0 (so that flat regions are
        left unchanged).
    mode : {"reflect", "mirror", "nearest", "wrap"}, default="reflect"
        How images are extended beyond their border (``scipy.ndimage``
        names: ``"reflect"`` repeats the edge pixel in the mirror image,
        ``"mirror"`` does not, ``"nearest"`` repeats the edge pixel,
        ``"wrap"`` is periodic). Every mode leaves a constant image
        unchanged.

    See Also
    --------
    NeighborhoodAverager : The smoothing step that follows in the paper.

    Notes
    -----
    The step learns nothing (``fit`` only validates). The filter is applied
    to the whole batch at once in ``float32``; images never interact.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import LaplacianSharpener
    >>> X = np.full((1, 5, 5, 3), 0.5, dtype=np.float32)
    >>> X[0, 2, 2] = 0.6
    >>> out = LaplacianSharpener(strength=1.0).fit_transform(X)
    >>> round(float(out[0, 2, 2, 0]), 2), round(float(out[0, 2, 1, 0]), 2)
    (1.0, 0.4)
    """

    _parameter_constraints: dict = {
        "strength": [Interval(Real, 0, None, closed="left")],
        "kernel": [StrOptions(set(_LAPLACIAN_KERNELS)), "array-like"],
        "mode": [StrOptions(set(_BOUNDARY_MODES))],
    }

    def __init__(self, strength=1.0, kernel="4-neighbour", mode="reflect"):
        self.strength = strength
        self.kernel = kernel
        self.mode = mode

    def _fit(self, X):
        _check_laplacian_kernel(self.kernel)

    def _transform(self, X):
        lap = _check_laplacian_kernel(self.kernel)
        # y - c * lap(y) is one correlation with delta - c * lap.
        k = -float(self.strength) * lap
        k[k.shape[0] // 2, k.shape[1] // 2] += 1.0
        return _correlate_hw(X, k, self.mode, clip=True)


# ----------------------------------------------------------- median filter
# An exact, vectorised median: a sorting network, pruned to the one output
# it needs, evaluated with numpy minimum/maximum over whole (tiles of)
# batches. The columns of each window are sorted once per pixel position and
# shared by the ``size`` windows that contain them; the sorted columns are
# then merged by Batcher's odd-even merge network. Networks for size up to 7
# need 0/5/28/61/170/277/404 minimum/maximum operations.


def _oddeven_merge(lo, hi, r):
    step = r * 2
    if step < hi - lo:
        yield from _oddeven_merge(lo, hi, step)
        yield from _oddeven_merge(lo + r, hi, step)
        yield from ((i, i + r) for i in range(lo + r, hi - r, step))
    else:
        yield (lo, lo + r)


def _oddeven_merge_sort(lo, hi, sorted_len=1):
    """Comparators sorting wires ``lo..hi`` (inclusive) whose blocks of
    ``sorted_len`` wires are already sorted."""
    if hi - lo + 1 <= sorted_len:
        return
    mid = lo + (hi - lo) // 2
    yield from _oddeven_merge_sort(lo, mid, sorted_len)
    yield from _oddeven_merge_sort(mid + 1, hi, sorted_len)
    yield from _oddeven_merge(lo, hi, 1)


_INF = -1  # a wire known to hold +inf (padding of the network)


def _run_symbolic(wires, comparators, nodes, memo):
    """Apply comparators to symbolic wires, appending min/max nodes."""
    wires = list(wires)
    for i, j in comparators:
        a, b = wires[i], wires[j]
        if b == _INF:
            continue
        if a == _INF:
            wires[i], wires[j] = b, _INF
            continue
        key = (min(a, b), max(a, b))
        if key not in memo:
            nodes.append(("min", a, b))
            nodes.append(("max", a, b))
            memo[key] = (len(nodes) - 2, len(nodes) - 1)
        wires[i], wires[j] = memo[key]
    return wires


@lru_cache(maxsize=16)
def _median_plan(size):
    """Build the pruned evaluation plan of a ``size x size`` median.

    Returns ``(steps, target)``: ``steps`` is a tuple of
    ``(node, op, a, b, free)`` in evaluation order, where ``op`` is
    ``"row"`` (rows ``a`` of the padded tile), ``"shift"`` (columns shifted
    by ``b`` of node ``a``), ``"min"`` or ``"max"`` of nodes ``a`` and
    ``b``; ``free`` lists nodes no longer needed after this step.
    """
    n_pad = 1 << (size - 1).bit_length()
    nodes = [("row", dy, None) for dy in range(size)]
    memo = {}
    column = _run_symbolic(
        list(range(size)) + [_INF] * (n_pad - size),
        list(_oddeven_merge_sort(0, n_pad - 1)),
        nodes,
        memo,
    )
    leaves = []
    for dx in range(n_pad):
        for rank in range(n_pad):
            if dx < size and rank < size:
                nodes.append(("shift", column[rank], dx))
                leaves.append(len(nodes) - 1)
            else:
                leaves.append(_INF)
    merged = _run_symbolic(
        leaves, list(_oddeven_merge_sort(0, n_pad * n_pad - 1, n_pad)), nodes, memo
    )
    # scipy.ndimage.median_filter's rank: the upper median for even sizes.
    target = merged[(size * size) // 2]

    def deps(k):
        op, a, b = nodes[k]
        if op in ("min", "max"):
            return (a, b)
        return (a,) if op == "shift" else ()

    needed, stack = set(), [target]
    while stack:
        k = stack.pop()
        if k not in needed:
            needed.add(k)
            stack.extend(deps(k))
    order = sorted(needed)
    last_use = {}
    for k in order:
        for d in deps(k):
            last_use[d] = k
    steps = tuple(
        (k, *nodes[k], tuple(d for d in set(deps(k)) if last_use[d] == k))
        for k in order
    )
    return steps, target


def _median_tile(steps, target, P, h, w):
    vals = {}
    for k, op, a, b, free in steps:
        if op == "row":
            vals[k] = P[:, a : a + h]
        elif op == "shift":
            vals[k] = vals[a][:, :, b : b + w]
        elif op == "min":
            vals[k] = np.minimum(vals[a], vals[b])
        else:
            vals[k] = np.maximum(vals[a], vals[b])
        for d in free:
            del vals[d]
    return vals[target]


def median_filter(X, size, mode="reflect"):
    """Exact ``size x size`` median of every image and channel of a batch.

    Same result as ``scipy.ndimage.median_filter(X, size=(1, size, size,
    1), mode=mode)`` (the upper median for even sizes), computed with a
    pruned sorting network over tiles of the batch -- about ten times faster.

    Parameters
    ----------
    X : ndarray of shape (n_images, height, width, channels)
        Images.
    size : int
        Window side.
    mode : {"reflect", "mirror", "nearest", "wrap"}, default="reflect"
        Boundary extension (``scipy.ndimage`` names).

    Returns
    -------
    ndarray of shape (n_images, height, width, channels)
        The filtered images, same dtype as ``X``.
    """
    if size == 1:
        return X.copy()
    steps, target = _median_plan(size)
    _, h, w, _ = X.shape
    P = _pad_window(X, size, size, mode)
    out = np.empty_like(X)
    for images, y, rows in _tiles(P, h, size):
        tile = P[images, y : y + rows + size - 1]
        out[images, y : y + rows] = _median_tile(steps, target, tile, rows, w)
    return out


class NeighborhoodAverager(BaseImageTransformer):
    """Replace each pixel by the mean (or median) of its neighbourhood.

    The paper's "neighbourhood averaging" replaces every pixel by the
    average of about 35 neighbours, i.e. a 6x6 window, to suppress noise
    after sharpening. Each channel of each image is filtered on its own.

    Parameters
    ----------
    size : int, default=6
        Side of the square window, ``>= 1`` (1 leaves images unchanged).
        Even sizes have no centre pixel: the window spans ``size // 2``
        pixels before and ``size // 2 - 1`` after the pixel (as in
        :mod:`scipy.ndimage`), which shifts the image content by half a
        pixel towards the bottom-right. Use an odd size for an unshifted
        (flip- and rotation-symmetric) filter.
    method : {"mean", "median"}, default="mean"
        ``"mean"``: box average (the paper). ``"median"``: the median of the
        window (the upper median for even sizes), which removes
        salt-and-pepper noise while keeping edges; exact and vectorised, but
        several times slower than the mean.
    mode : {"reflect", "mirror", "nearest", "wrap"}, default="reflect"
        How images are extended beyond their border (``scipy.ndimage``
        names, see :class:`LaplacianSharpener`). ``"wrap"`` treats images as
        periodic, under which the mean filter preserves each image's mean
        exactly.

    See Also
    --------
    LaplacianSharpener : The sharpening step that precedes it in the paper.

    Notes
    -----
    The step learns nothing (``fit`` only validates). The output is
    ``float32`` in ``[0, 1]``.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import NeighborhoodAverager
    >>> X = np.zeros((1, 5, 5, 3), dtype=np.float32)
    >>> X[0, 2, 2] = 1.0  # an isolated bright pixel
    >>> out = NeighborhoodAverager(size=3).fit_transform(X)
    >>> round(float(out[0, 2, 2, 0]), 4)
    0.1111
    >>> float(NeighborhoodAverager(size=3, method="median").fit_transform(X).max())
    0.0
    """

    _parameter_constraints: dict = {
        "size": [Interval(Integral, 1, None, closed="left")],
        "method": [StrOptions({"mean", "median"})],
        "mode": [StrOptions(set(_BOUNDARY_MODES))],
    }

    def __init__(self, size=6, method="mean", mode="reflect"):
        self.size = size
        self.method = method
        self.mode = mode

    def _transform(self, X):
        size = int(self.size)
        if size == 1:
            return X.copy()
        if self.method == "median":
            return median_filter(X, size, self.mode)
        return _box_mean(X, size, self.mode)
