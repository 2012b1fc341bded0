"""Spatial filters: Laplacian sharpening and neighbourhood averaging."""

from __future__ import annotations

from numbers import Integral, Real

import numpy as np
from scipy import ndimage as ndi
from sklearn.utils._param_validation import Interval, InvalidParameterError, StrOptions

from ..base import BaseImageTransformer
from ..utils.validation import check_images
from . import _opencv
from ._median import median_filter
from ._tiles import _BOUNDARY_MODES, _FlatTiles

# Largest mean-filter window computed by summing shifted views.
_MAX_SHIFTED_SUM = 9

__all__ = ["LaplacianSharpener", "NeighborhoodAverager"]


_LAPLACIAN_KERNELS = {
    "4-neighbour": np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], dtype=np.float64),
    "8-neighbour": np.array([[1, 1, 1], [1, -8, 1], [1, 1, 1]], dtype=np.float64),
}

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

    With OpenCV installed and allowed (:func:`skleuk.set_config`
    ``opencv="auto"``, the default, or ``True``), the modes ``"reflect"``,
    ``"mirror"`` and ``"nearest"`` run ``cv2.filter2D`` image by image, which
    gives the numpy result up to float32 rounding; ``"wrap"``, kernels larger
    than 9 x 9 and ``opencv=False`` run numpy. See :ref:`performance`.

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
        out = _opencv.correlate_clip(X, k, self.mode)
        if out is not None:
            return out
        return _correlate_hw(X, k, self.mode, clip=True)


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

    With OpenCV installed and allowed (:func:`skleuk.set_config`
    ``opencv="auto"``, the default, or ``True``), the mean runs ``cv2.blur``
    for the modes ``"reflect"``, ``"mirror"`` and ``"nearest"``, and the
    median runs ``cv2.medianBlur`` for sizes 3 and 5 with ``mode="nearest"``
    (OpenCV's only float32 median); both give the numpy result up to float32
    rounding. Every other setting, and ``opencv=False``, runs numpy. See
    :ref:`performance`.

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
            out = _opencv.median(X, size, self.mode)
            return median_filter(X, size, self.mode) if out is None else out
        out = _opencv.box_mean(X, size, self.mode)
        return _box_mean(X, size, self.mode) if out is None else out
