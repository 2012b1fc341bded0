"""Spatial filters: Laplacian sharpening and neighbourhood averaging."""

from __future__ import annotations

from functools import lru_cache
from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ..utils.validation import check_images
from ._base import BaseImageTransformer
from ._threads import run_chunks

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


class _FlatTiles:
    """Cache-sized, padded tiles of a batch, as flat contiguous buffers.

    A window filter needs every pixel's ``kh x kw`` neighbourhood. Each tile
    (several whole small images, or a band of rows of one image) is copied,
    extended at the image borders like ``scipy.ndimage`` ``mode``, into a
    buffer (one per thread) of padded rows ``Wp = w + kw - 1`` pixels wide. Flattened,
    the neighbour ``(dy, dx)`` of every pixel is then the same buffer at a
    fixed offset ``(dy * Wp + dx) * channels``, so a filter is a few
    additions (or minimum/maximum) of *contiguous* 1-D slices -- about
    twice as fast in numpy as the same operations on strided 4-D views, and
    no padded copy of the whole batch is made. Outputs are computed on the
    padded grid (the few positions past a row's end are discarded) and
    copied to the result with :meth:`store`.
    """

    def __init__(self, X, kh, kw, mode, tile_bytes=None):
        n, h, w, c = X.shape
        self.X, self.kh, self.kw = X, kh, kw
        self.h, self.w, self.c = h, w, c
        self.bw = kw // 2
        np_mode = _BOUNDARY_MODES[mode]
        self.ridx = np.pad(np.arange(h), (kh // 2, kh - 1 - kh // 2), mode=np_mode)
        self.cidx = np.pad(np.arange(w), (self.bw, kw - 1 - self.bw), mode=np_mode)
        self.wp = w + kw - 1
        row = self.wp * c
        tile = (_TILE_BYTES if tile_bytes is None else tile_bytes) // X.itemsize
        self.n_img = max(1, tile // (row * (h + kh - 1)))
        self.n_rows = h if self.n_img > 1 else max(1, tile // row - (kh - 1))
        self.n_img = min(self.n_img, n)
        self.n_rows = min(self.n_rows, h)
        self.size = self.n_img * (self.n_rows + kh - 1) * row
        self.max_offset = ((kh - 1) * self.wp + (kw - 1)) * c
        # Border columns: (destination, source) column pairs in the tile.
        bw = self.bw
        self.col_copies = [
            (j, bw + int(self.cidx[j]))
            for j in list(range(bw)) + list(range(bw + w, self.wp))
        ]
        self.row_runs = {}

    def _runs(self, y, rp):
        """Runs ``(start, stop, source row)`` of consecutive source rows."""
        key = (y, rp)
        if key not in self.row_runs:
            src = self.ridx[y : y + rp]
            breaks = np.flatnonzero(np.diff(src) != 1) + 1
            starts, stops = np.r_[0, breaks], np.r_[breaks, rp]
            self.row_runs[key] = [
                (int(a), int(b), int(src[a]))
                for a, b in zip(starts, stops, strict=True)
            ]
        return self.row_runs[key]

    def offset(self, dy, dx):
        """Flat offset of the neighbour ``(dy, dx)`` (window coordinates)."""
        return (dy * self.wp + dx) * self.c

    def specs(self):
        """The tiles: ``(images, y, rows)``, output rows ``y:y + rows``."""
        out = []
        for i in range(0, self.X.shape[0], self.n_img):
            images = slice(i, min(i + self.n_img, self.X.shape[0]))
            for y in range(0, self.h, self.n_rows):
                out.append((images, y, min(self.n_rows, self.h - y)))
        return out

    def fill(self, spec, buf):
        """Copy the padded tile ``spec`` into ``buf``.

        Returns ``(flat, n_out)``: the padded tile (a view of ``buf``) and
        the number of flat positions at which outputs are needed.
        """
        X, c, w, bw = self.X, self.c, self.w, self.bw
        images, y, rows = spec
        m = images.stop - images.start
        rp = rows + self.kh - 1
        flat = buf[: m * rp * self.wp * c]
        tile = flat.reshape(m, rp, self.wp, c)
        for start, stop, r0 in self._runs(y, rp):
            tile[:, start:stop, bw : bw + w] = X[images, r0 : r0 + stop - start]
        for dst, src in self.col_copies:
            tile[:, :, dst] = tile[:, :, src]
        return flat, flat.size - self.max_offset

    def for_each(self, work, n_scratch):
        """Call ``work(spec, flat, n_out, scratch)`` for every tile.

        Tiles are shared out among threads (:mod:`._threads`); each thread
        has its own tile buffer and ``n_scratch`` scratch buffers of
        :attr:`size` entries.
        """

        def run(chunk):
            dtype = self.X.dtype
            buf = np.empty(self.size, dtype=dtype)
            scratch = [np.empty(self.size, dtype=dtype) for _ in range(n_scratch)]
            for spec in chunk:
                flat, n_out = self.fill(spec, buf)
                work(spec, flat, n_out, scratch)

        run_chunks(run, self.specs())

    def store(self, out, spec, result, clip=False):
        """Copy the valid outputs of a tile to ``out`` (optionally clipped).

        ``result`` is a 1-D buffer of at least the tile's padded size (like
        :attr:`buf`) holding the outputs at flat positions ``0 .. n_out -
        1``; the rest is ignored.
        """
        images, y, rows = spec
        m = images.stop - images.start
        rp = rows + self.kh - 1
        full = m * rp * self.wp * self.c
        grid = result[:full].reshape(m, rp, self.wp, self.c)[:, :rows, : self.w]
        dst = out[images, y : y + rows]
        if clip:
            np.clip(grid, 0.0, 1.0, out=dst)
        else:
            dst[...] = grid


def _correlate_hw(X, kernel, mode, clip=False):
    """Correlate every image and channel with a small 2-D kernel.

    Vectorised over cache-sized tiles of the batch (:class:`_FlatTiles`):
    every non-zero kernel tap is a contiguous slice of the padded tile, and
    the slices are summed, one multiplication per distinct kernel value --
    a 3x3 Laplacian costs a handful of array additions. Same result as
    ``scipy.ndimage.correlate(X, kernel[None, :, :, None], mode=mode)``
    (optionally clipped to ``[0, 1]``).
    """
    kh, kw = kernel.shape
    groups = [
        (np.float32(value), list(zip(*np.nonzero(kernel == value), strict=True)))
        for value in np.unique(kernel[kernel != 0])
    ]
    if not groups:
        return np.zeros_like(X)
    # Not zeros_like: zeroing the output first would cost a whole extra pass
    # (a quarter of the filter's time); every tile writes all of its part.
    out = np.empty_like(X)
    tiles = _FlatTiles(X, kh, kw, mode)

    def work(spec, flat, n_out, scratch):
        acc_buf, tmp_buf = scratch
        acc = acc_buf[:n_out]
        for g, (value, taps) in enumerate(groups):
            views = [flat[o : o + n_out] for o in (tiles.offset(*t) for t in taps)]
            part = acc if g == 0 else tmp_buf[:n_out]
            if len(views) == 1:
                np.multiply(views[0], value, out=part)
            else:
                np.add(views[0], views[1], out=part)
                for view in views[2:]:
                    part += view
                part *= value
            if g:
                acc += part
        tiles.store(out, spec, acc_buf, clip=clip)

    tiles.for_each(work, 2)
    return out


def _window_sums(flat, step, size, n_out, bufs):
    """Sums of ``size`` entries ``step`` apart: ``sum_j flat[k + j*step]``.

    Runs of 2, 4, 8 entries are built by doubling and the runs making up
    ``size`` (its binary digits) are added: a 6-wide sum costs 3 contiguous
    additions instead of 5. ``bufs`` are 4 scratch arrays of at least
    ``n_out + (size - 1) * step`` entries (``2 <= size <= 15``); the sums
    are written to the first ``n_out`` entries of ``bufs[-1]``, which is
    returned (whole).
    """
    runs, length = {1: flat}, 1
    while 2 * length <= size:
        n = n_out + (size - 2 * length) * step
        prev = runs[length]
        last = 2 * length == size
        dst = (bufs[-1] if last else bufs[len(runs) - 1])[:n]
        np.add(prev[:n], prev[length * step : length * step + n], out=dst)
        length *= 2
        runs[length] = dst
    if length == size:
        return bufs[-1]
    parts, total = [], 0
    for run in sorted(runs, reverse=True):
        if size - total >= run:
            parts.append(runs[run][total * step : total * step + n_out])
            total += run
    acc = np.add(parts[0], parts[1], out=bufs[-1][:n_out])
    for part in parts[2:]:
        acc += part
    return bufs[-1]


def _box_mean(X, size, mode):
    """``size x size`` mean of every image and channel, tiled and separable.

    Per cache-sized tile (:class:`_FlatTiles`), sums ``size`` rows then
    ``size`` columns with contiguous additions (doubling: a 6-wide sum is
    3 additions), then scales: faster than
    ``scipy.ndimage.uniform_filter`` (which it equals up to float32
    rounding) for the small windows this step is used with; larger windows
    use scipy's running sums.
    """
    if size > _MAX_SHIFTED_SUM:
        out = ndi.uniform_filter(X, size=(1, size, size, 1), mode=mode)
        return np.clip(out, 0.0, 1.0, out=out)
    out = np.empty_like(X)
    scale = np.float32(1.0 / (size * size))
    tiles = _FlatTiles(X, size, size, mode)

    def work(spec, flat, n_out, bufs):
        n_cols = n_out + (size - 1) * tiles.c
        cols = _window_sums(flat, tiles.offset(1, 0), size, n_cols, bufs[:4])
        sums = _window_sums(cols, tiles.c, size, n_out, bufs[4:])
        sums[:n_out] *= scale
        tiles.store(out, spec, sums, clip=True)

    tiles.for_each(work, 8)
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


def _assume_finite():
    from sklearn import get_config

    return bool(get_config().get("assume_finite", False))


def _check_images_of_filter(est, X):
    """Validate the input of a filter; a switched-off filter scans nothing.

    A filter switched off (``LaplacianSharpener(strength=0)``,
    ``NeighborhoodAverager(size=1)``) returns its validated input itself.
    Under scikit-learn's ``assume_finite`` configuration
    (:func:`sklearn.config_context`) it then skips the value scans (NaN,
    infinities, range) as well, since its output is its input, which the
    next step validates: a float32 batch passes through without any work.
    Shapes, dtypes and channels are still checked, and without
    ``assume_finite`` the validation is the full one.
    """
    value_range = est._value_range
    if est._is_identity() and _assume_finite():
        value_range = None
    return check_images(X, allow_ragged=est._allow_ragged, value_range=value_range)


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
        The constant :math:`c`, ``>= 0``. 0 switches the step off (the default
        pipeline's setting): ``transform`` then returns the validated input itself,
        so a ``float32`` batch is neither copied nor computed on (see Notes). The
        paper does not give its value; 1.0 is the textbook choice for the
        4-neighbour kernel. The 8-neighbour kernel sharpens about twice as strongly
        at the same ``strength``; on noisy (e.g. JPEG) images values around 0.5
        amplify less noise.
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

    Switched off (``strength=0``), the step returns its validated input
    itself: for a C-contiguous ``float32`` batch in ``[0, 1]`` that is the
    very array passed in (write to the result only after copying it).
    Validation still scans the values (NaN, infinities, range) unless
    scikit-learn's ``assume_finite`` is set (:func:`sklearn.config_context`),
    in which case a switched-off filter costs nothing: its output is its
    input, which the next step validates.

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

    def _is_identity(self):
        return self.strength == 0

    def _check_images(self, X):
        return _check_images_of_filter(self, X)

    def _fit(self, X):
        _check_laplacian_kernel(self.kernel)

    def _transform(self, X):
        lap = _check_laplacian_kernel(self.kernel)
        if self.strength == 0:  # switched off (the default pipeline): no copy
            return X
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


def _median_tile(steps, target, flat, row_step, col_step, n_out, size, out):
    """Evaluate a median plan on a flat padded tile (see :class:`_FlatTiles`).

    The median (the plan's last node) is written to ``out[:n_out]``.
    """
    n_rows = n_out + (size - 1) * col_step
    vals = {}
    for k, op, a, b, free in steps:
        dst = out[:n_out] if k == target else None
        if op == "row":
            vals[k] = flat[a * row_step : a * row_step + n_rows]
        elif op == "shift":
            vals[k] = vals[a][b * col_step : b * col_step + n_out]
        elif op == "min":
            vals[k] = np.minimum(vals[a], vals[b], out=dst)
        else:
            vals[k] = np.maximum(vals[a], vals[b], out=dst)
        for d in free:
            del vals[d]
    return out


def median_filter(X, size, mode="reflect"):
    """Exact ``size x size`` median of every image and channel of a batch.

    Same result as ``scipy.ndimage.median_filter(X, size=(1, size, size,
    1), mode=mode)`` (the upper median for even sizes), computed with a
    pruned sorting network over tiles of the batch -- about twenty times
    faster.

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
    out = np.empty_like(X)
    tiles = _FlatTiles(X, size, size, mode)
    row_step, col_step = tiles.offset(1, 0), tiles.offset(0, 1)

    def work(spec, flat, n_out, scratch):
        (med,) = scratch
        _median_tile(steps, target, flat, row_step, col_step, n_out, size, med)
        tiles.store(out, spec, med)

    tiles.for_each(work, 1)
    return out


class NeighborhoodAverager(BaseImageTransformer):
    """Replace each pixel by the mean (or median) of its neighbourhood.

    The paper's "neighbourhood averaging" replaces every pixel by the
    average of about 35 neighbours, i.e. a 6x6 window, to suppress noise
    after sharpening. Each channel of each image is filtered on its own.

    Parameters
    ----------
    size : int, default=6
        Side of the square window, ``>= 1``. 1 switches the step off (the default
        pipeline's setting): ``transform`` then returns the validated input itself,
        without a copy (see :class:`LaplacianSharpener`'s Notes). Even sizes have no
        centre pixel: the window spans ``size // 2`` pixels before and ``size // 2 -
        1`` after the pixel (as in :mod:`scipy.ndimage`), which shifts the image
        content by half a pixel towards the bottom-right. Use an odd size for an
        unshifted (flip- and rotation-symmetric) filter.
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
    ``float32`` in ``[0, 1]``. Switched off (``size=1``), the step returns
    its validated input itself, as :class:`LaplacianSharpener` does with
    ``strength=0``.

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

    def _is_identity(self):
        return self.size == 1

    def _check_images(self, X):
        return _check_images_of_filter(self, X)

    def _transform(self, X):
        size = int(self.size)
        if size == 1:  # switched off (the default pipeline): no copy
            return X
        if self.method == "median":
            return median_filter(X, size, self.mode)
        return _box_mean(X, size, self.mode)
