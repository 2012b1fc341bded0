"""Optional OpenCV acceleration of the preprocessing filters and the resize.

Used only where OpenCV computes what the numpy code computes, up to float32
rounding (the tests check ``max |diff| <= 1e-5`` for every supported
setting); every other setting returns None and the caller runs numpy.
Whether OpenCV may be used at all is the package configuration
(:func:`skleuk.set_config` ``opencv=``). ``cv2`` is imported here lazily,
when a step runs, so that ``import skleuk`` stays light.

OpenCV has no batch form: each function loops over the images of the batch
(as the benchmark's OpenCV side does) and writes into one preallocated
``float32`` output. OpenCV runs each call on its own thread pool
(``cv2.setNumThreads``).
"""

from __future__ import annotations

import numpy as np

from .._config import get_config

# skleuk (scipy.ndimage) boundary modes -> OpenCV border types, for the
# modes whose extension is the same ("wrap": OpenCV's filters refuse
# BORDER_WRAP, so it runs numpy).
_BORDER_TYPES = {
    "reflect": "BORDER_REFLECT",  # d c b a | a b c d | d c b a
    "mirror": "BORDER_REFLECT_101",  # d c b | a b c d | c b a
    "nearest": "BORDER_REPLICATE",  # a a a | a b c d | d d d
}

# cv2.filter2D switches to a DFT for kernels of 11 x 11 and more, whose
# rounding differs from the direct sums by more than 1e-5: numpy there.
_MAX_FILTER2D_SIDE = 9

# cv2.medianBlur on float32 images: only these window sizes.
_MEDIAN_SIZES = (3, 5)

_INSTALL_HINT = (
    "pip install opencv-python-headless (or the extra: pip install "
    "'skleuk[opencv]')"
)


def opencv():
    """The ``cv2`` module if the configuration lets the steps use it, else None.

    ``opencv="auto"``: ``cv2`` when it imports, else None. ``True``: ``cv2``,
    or an :class:`ImportError` saying how to install it. ``False``: None.
    """
    choice = get_config()["opencv"]
    if choice is False:
        return None
    try:
        import cv2
    except ImportError as exc:
        if choice is True:
            raise ImportError(
                "skleuk is configured with opencv=True "
                "(skleuk.set_config / skleuk.config_context) but OpenCV "
                f"cannot be imported ({exc}). Install it with {_INSTALL_HINT}, "
                "or use opencv='auto' or False to run numpy."
            ) from exc
        return None
    return cv2


def _border(cv2, mode):
    name = _BORDER_TYPES.get(mode)
    return None if name is None else getattr(cv2, name)


def _per_image(X, out_hw, func):
    """``out[i] = func(image_i, out[i])`` over a float32 batch."""
    X = np.ascontiguousarray(X, dtype=np.float32)
    n, _, _, c = X.shape
    out = np.empty((n, *out_hw, c), dtype=np.float32)
    for i in range(n):
        func(X[i], out[i])
    return out


def correlate_clip(X, kernel, mode):
    """``scipy.ndimage.correlate`` of every image with a 2-D kernel, clipped
    to ``[0, 1]``, with ``cv2.filter2D``; None when OpenCV is not used, does
    not support ``mode``, or the kernel is larger than 9 x 9."""
    cv2 = opencv()
    border = None if cv2 is None else _border(cv2, mode)
    if border is None or max(np.shape(kernel)) > _MAX_FILTER2D_SIDE:
        return None
    kernel = np.asarray(kernel, dtype=np.float32)
    out = _per_image(
        X, X.shape[1:3],
        lambda img, dst: cv2.filter2D(img, -1, kernel, dst=dst, borderType=border),
    )
    return np.clip(out, 0.0, 1.0, out=out)


def box_mean(X, size, mode):
    """``size x size`` mean of every image (``cv2.blur``), clipped to
    ``[0, 1]``; None when OpenCV is not used or does not support ``mode``.

    OpenCV's default anchor (``size // 2``) puts ``size // 2`` pixels before
    the pixel and ``size // 2 - 1`` after it for even sizes, as
    ``scipy.ndimage.uniform_filter`` does.
    """
    cv2 = opencv()
    border = None if cv2 is None else _border(cv2, mode)
    if border is None:
        return None
    out = _per_image(
        X, X.shape[1:3],
        lambda img, dst: cv2.blur(img, (size, size), dst=dst, borderType=border),
    )
    return np.clip(out, 0.0, 1.0, out=out)


def median(X, size, mode):
    """``size x size`` median of every image (``cv2.medianBlur``); None
    unless OpenCV is used, ``size`` is 3 or 5 (OpenCV's float32 limit) and
    ``mode="nearest"`` (OpenCV replicates the border pixels)."""
    cv2 = opencv()
    if cv2 is None or size not in _MEDIAN_SIZES or mode != "nearest":
        return None
    return _per_image(
        X, X.shape[1:3], lambda img, dst: cv2.medianBlur(img, size, dst=dst)
    )


# INTER_AREA shrinking more than this many times in pixels runs numpy:
# OpenCV's area resampling costs about the same per input pixel whatever the
# output size, numpy's separable sums less and less as the output shrinks
# (measured CPU time, 60 images: 257 -> 128 px OpenCV 0.84x numpy's time,
# 257 -> 64 px about equal, 257 -> 32 px 1.5x numpy's; 154 -> 40 px 0.7x).
_MAX_AREA_SHRINK = 16


def resize_interpolation(input_hw, output_hw, anti_aliasing):
    """The OpenCV interpolation :func:`resize` uses, or None for numpy.

    Parameters
    ----------
    input_hw, output_hw : (int, int)
        Input and output ``(height, width)``.
    anti_aliasing : bool
        As :class:`~skleuk.preprocessing.Resizer`.

    Returns
    -------
    str or None
        ``"INTER_AREA"``, ``"INTER_LINEAR"``, or None where numpy runs
        (whatever the configuration says).
    """
    (h, w), (oh, ow) = input_hw, output_hw
    if (oh, ow) == (h, w):
        return None
    if anti_aliasing and oh <= h and ow <= w:
        return "INTER_AREA" if h * w <= _MAX_AREA_SHRINK * oh * ow else None
    if not anti_aliasing or (oh >= h and ow >= w):
        return "INTER_LINEAR"
    return None


def resize(X, output_shape, anti_aliasing):
    """:func:`skleuk.utils._image_ops.resize_images` with ``cv2.resize``.

    Shrinking both axes with anti-aliasing is OpenCV's ``INTER_AREA``;
    enlarging both axes, or any resize without anti-aliasing, is
    ``INTER_LINEAR``. None (numpy runs) when OpenCV is not used, the size is
    unchanged, one axis shrinks and the other grows with anti-aliasing
    (area on one axis and bilinear on the other: OpenCV has no such mode),
    or the area shrink exceeds 16x in pixels (numpy is faster there).
    """
    cv2 = opencv()
    if cv2 is None:
        return None
    oh, ow = output_shape
    name = resize_interpolation(X.shape[1:3], (oh, ow), anti_aliasing)
    if name is None:
        return None
    interpolation = getattr(cv2, name)
    out = _per_image(
        X, (oh, ow),
        lambda img, dst: cv2.resize(img, (ow, oh), dst=dst,
                                    interpolation=interpolation),
    )
    return np.clip(out, 0.0, 1.0, out=out)
