"""Geometric transformers: pad to square, resize, centre crop."""

from __future__ import annotations

from numbers import Integral, Real

from sklearn.utils._param_validation import (
    Interval,
    InvalidParameterError,
    StrOptions,
)

from ..base import BaseImageTransformer
from ..utils._image_ops import (
    PAD_MODES,
    _fill_rgb,
    _pad_hw,
    _warn_tiny,
    pad_to_square,
    resize_images,
)
from . import _opencv

__all__ = ["CenterCropper", "PadToSquare", "Resizer"]


def _size_pair(size, name="size"):
    """Return ``size`` as a ``(height, width)`` pair of positive ints."""
    if isinstance(size, Integral) and not isinstance(size, bool):
        return int(size), int(size)
    if (
        isinstance(size, (tuple, list))
        and len(size) == 2
        and all(isinstance(s, Integral) and not isinstance(s, bool) for s in size)
        and min(size) >= 1
    ):
        return int(size[0]), int(size[1])
    raise InvalidParameterError(
        f"The {name!r} parameter must be a positive int or a (height, width) "
        f"pair of positive ints; got {size!r}."
    )


class PadToSquare(BaseImageTransformer):
    """Pad images to a square by extending the shorter side symmetrically.

    A non-square image of ``height x width`` becomes ``s x s`` with
    ``s = max(height, width)``; the original sits in the centre (when the
    padding is odd, the extra row/column goes at the bottom/right).
    Square images pass through unchanged. Use it before :class:`Resizer`
    so that resizing does not distort the cells (ALL-IDB2 holds a few
    crops such as 193x257, cut at the border of the smear).

    Parameters
    ----------
    mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How the new pixels are filled (:func:`numpy.pad` names):
        ``"reflect"`` mirrors the image about its edge pixel
        (``d c b | a b c d | c b a``), ``"symmetric"`` mirrors including the
        edge pixel (``b a | a b c d | d c``), ``"edge"`` repeats the edge
        pixel, ``"constant"`` uses ``fill_value``.
    fill_value : float or tuple of 3 floats, default=1.0
        Colour of the padding for ``mode="constant"``, in ``[0, 1]``; the
        default is white, the colour of an empty slide.

    See Also
    --------
    Resizer : Resize images to a fixed size.
    CenterCropper : Crop (or pad) the centre of images to a fixed size.

    Notes
    -----
    The step learns nothing: ``fit`` only validates. A list of images of
    different shapes is accepted; the output is a 4-D array if all padded
    squares have the same size, else a list.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import PadToSquare
    >>> X = np.zeros((2, 6, 10, 3), dtype=np.uint8)
    >>> PadToSquare().fit_transform(X).shape
    (2, 10, 10, 3)
    """

    _parameter_constraints: dict = {
        "mode": [StrOptions(set(PAD_MODES))],
        "fill_value": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(self, mode="reflect", fill_value=1.0):
        self.mode = mode
        self.fill_value = fill_value

    def _fit(self, X):
        if self.mode == "constant":
            _fill_rgb(self.fill_value)

    def _transform(self, X):
        return pad_to_square(X, self.mode, self.fill_value)


class Resizer(BaseImageTransformer):
    """Resize images to a fixed size, with anti-aliasing when shrinking.

    Resampling is separable and vectorised over the batch: shrinking
    averages the exact input area each output pixel covers (identical to
    OpenCV's ``INTER_AREA``, which avoids aliasing without an extra blur);
    enlarging, or shrinking with ``anti_aliasing=False``, interpolates
    bilinearly. Each image and channel is resampled on its own -- nothing
    leaks across images or channels.

    Parameters
    ----------
    size : int or tuple of (int, int), default=64
        Output size: an int for a square ``size x size``, or
        ``(height, width)``.
    anti_aliasing : bool, default=True
        Area-average when shrinking. With False, shrinking samples
        bilinearly, which is faster to describe but aliases fine texture.

    See Also
    --------
    PadToSquare : Make images square first, so that resizing keeps the
        aspect ratio.
    CenterCropper : Crop the centre instead of resizing.

    Notes
    -----
    The aspect ratio is not preserved: put :class:`PadToSquare` (or
    :class:`CenterCropper`) first for non-square input. A list of images of
    different sizes is accepted; the output is always one 4-D array.

    With OpenCV installed and allowed (:func:`skleuk.set_config`
    ``opencv="auto"``, the default, or ``True``), the resize runs
    ``cv2.resize`` image by image (``INTER_AREA`` when both sides shrink with
    anti-aliasing, ``INTER_LINEAR`` when both grow or without
    anti-aliasing), which gives the numpy result up to float32 rounding; a
    resize that shrinks one side and enlarges the other with anti-aliasing,
    an anti-aliased shrink to less than 1/16 of the pixels (numpy is faster
    there), and ``opencv=False``, run numpy. See :ref:`performance`.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import Resizer
    >>> X = np.zeros((2, 40, 40, 3), dtype=np.uint8)
    >>> Resizer(size=16).fit_transform(X).shape
    (2, 16, 16, 3)
    >>> Resizer(size=(8, 12)).fit_transform(X).shape
    (2, 8, 12, 3)
    """

    _parameter_constraints: dict = {
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list],
        "anti_aliasing": ["boolean"],
    }

    def __init__(self, size=64, anti_aliasing=True):
        self.size = size
        self.anti_aliasing = anti_aliasing

    def _fit(self, X):
        _size_pair(self.size)

    def _transform(self, X):
        size = _size_pair(self.size)
        _warn_tiny(X, size)
        out = _opencv.resize(X, size, self.anti_aliasing)
        return resize_images(X, size, self.anti_aliasing) if out is None else out


class CenterCropper(BaseImageTransformer):
    """Crop the centre of images to a fixed size, padding those too small.

    Parameters
    ----------
    size : int, tuple of (int, int) or None, default=None
        Output size: an int for a square ``size x size``, or
        ``(height, width)``. None crops the largest centred square
        (``min(height, width)`` on each side) -- the cropping alternative to
        :class:`PadToSquare`.
    mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How to fill when an image is smaller than ``size`` in a dimension
        (see :class:`PadToSquare`).
    fill_value : float or tuple of 3 floats, default=1.0
        Padding colour for ``mode="constant"``, in ``[0, 1]`` (white).

    See Also
    --------
    PadToSquare : Pad the shorter side instead of cropping the longer one.
    Resizer : Resize images to a fixed size.

    Notes
    -----
    With an odd difference between input and output sizes, the crop keeps
    one more row/column at the bottom/right than at the top/left (and the
    padding puts the extra row/column at the bottom/right). A list of
    images of different sizes is accepted; with an explicit ``size`` the
    output is one 4-D array.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import CenterCropper
    >>> X = np.zeros((2, 20, 30, 3), dtype=np.uint8)
    >>> CenterCropper(size=16).fit_transform(X).shape
    (2, 16, 16, 3)
    >>> CenterCropper().fit_transform(X).shape
    (2, 20, 20, 3)
    """

    _parameter_constraints: dict = {
        "size": [Interval(Integral, 1, None, closed="left"), tuple, list, None],
        "mode": [StrOptions(set(PAD_MODES))],
        "fill_value": [Interval(Real, 0, 1, closed="both"), "array-like"],
    }

    def __init__(self, size=None, mode="reflect", fill_value=1.0):
        self.size = size
        self.mode = mode
        self.fill_value = fill_value

    def _fit(self, X):
        if self.size is not None:
            _size_pair(self.size)
        if self.mode == "constant":
            _fill_rgb(self.fill_value)

    def _transform(self, X):
        _, h, w, _ = X.shape
        if self.size is None:
            oh = ow = min(h, w)
        else:
            oh, ow = _size_pair(self.size)
        # Pad (symmetrically) what is missing, then crop the centre.
        ph, pw = max(oh - h, 0), max(ow - w, 0)
        if ph or pw:
            X = _pad_hw(
                X, ph // 2, ph - ph // 2, pw // 2, pw - pw // 2, self.mode,
                self.fill_value,
            )
            h, w = X.shape[1:3]
        top, left = (h - oh) // 2, (w - ow) // 2
        return X[:, top : top + oh, left : left + ow].copy()
