"""Validation of image batches: the one validator every skleuk step uses.

Every estimator in skleuk calls :func:`check_images` on its input, so the
rules below hold everywhere:

* A batch is a 4-D array ``(n_images, height, width, channels)`` or a
  sequence of 3-D ``(height, width, channels)`` arrays.
* ``channels`` must be 3 (RGB). Grayscale input -- ``(n, h, w)`` or
  ``(n, h, w, 1)`` -- is replicated to three identical channels. RGBA input
  ``(n, h, w, 4)`` is alpha-composited onto a white background (the colour
  of an empty slide) and the alpha channel dropped. Any other channel count
  is an error.
* ``uint8`` input is scaled to ``float32`` in ``[0, 1]`` by dividing by 255,
  ``uint16`` by 65535. Floating-point input is taken as already in
  ``[0, 1]``; values outside that range are an error (not silently
  clipped), unless ``value_range=None``. Boolean input is 0/1.
* Empty batches, NaN or infinite values, object/string arrays, file paths
  and batches of mixed image shapes (unless ``allow_ragged=True``) are
  rejected with a message that says what was expected and what came.

The output is ``float32`` (``uint8`` RGB input is kept only when a step
asks for it with ``keep_uint8=True``): a 4-D C-contiguous array, or -- only with
``allow_ragged=True`` and only when the images really differ in shape -- a
list of 3-D arrays.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence

import numpy as np

__all__ = ["check_images", "is_path_sequence"]

# Values this far outside [0, 1] are treated as rounding error and clipped.
_UNIT_TOLERANCE = 1e-4


def is_path_sequence(X) -> bool:
    """Return True if ``X`` is a single path or a non-empty sequence of paths.

    Parameters
    ----------
    X : object
        Anything.

    Returns
    -------
    bool
        Whether ``X`` is a :class:`str`/:class:`os.PathLike` or a list, tuple
        or 1-D array whose items are all strings or path-like objects.

    Examples
    --------
    >>> from skleuk.utils.validation import is_path_sequence
    >>> is_path_sequence(["a.tif", "b.tif"])
    True
    >>> import numpy as np
    >>> is_path_sequence(np.zeros((1, 4, 4, 3)))
    False
    """
    if isinstance(X, (str, bytes, os.PathLike)):
        return True
    if isinstance(X, np.ndarray):
        if X.ndim != 1 or X.size == 0:
            return False
        if X.dtype.kind in "US":
            return True
        if X.dtype != object:
            return False
    elif not isinstance(X, Sequence) or len(X) == 0:
        return False
    return all(isinstance(x, (str, os.PathLike)) for x in X)


def _assume_finite() -> bool:
    """scikit-learn's ``assume_finite`` configuration (``sklearn.config_context``)."""
    from sklearn import get_config

    return bool(get_config().get("assume_finite", False))


def _describe(X) -> str:
    if isinstance(X, np.ndarray):
        return f"an array of shape {X.shape} and dtype {X.dtype}"
    return f"an object of type {type(X).__name__}"


def _to_float32(x: np.ndarray, value_range, input_name: str) -> np.ndarray:
    """Convert one numeric array (any shape) to float32, scaled per dtype."""
    kind = x.dtype.kind
    if kind == "b":
        warnings.warn(
            f"{input_name} is a boolean array: read as black (False) and white "
            "(True) images. If it is a mask, pass the image itself; if it is "
            "a black-and-white image, pass X.astype(np.uint8) * 255 to "
            "silence this warning.",
            UserWarning,
            stacklevel=4,
        )
        return x.astype(np.float32)
    if x.dtype in (np.uint8, np.uint16):
        out = x.astype(np.float32)
        out *= np.float32(1.0 / np.iinfo(x.dtype).max)
        return out
    if kind in "iu":
        # Other integer types: accept them when they hold 8-bit data.
        if x.size and (x.min() < 0 or x.max() > 255):
            raise ValueError(
                f"{input_name}: integer images of dtype {x.dtype} must hold 8-bit "
                f"values in [0, 255]; got values in [{x.min()}, {x.max()}]. "
                "Pass uint8 or uint16 arrays, or floats in [0, 1]."
            )
        return x.astype(np.float32) * np.float32(1.0 / 255.0)
    if kind == "f":
        # One pass each for the minimum and the maximum, which also decide
        # finiteness (NaN and +-inf propagate into them): no separate
        # isfinite scan (and no boolean temporary) for valid data, the
        # common case of float32 batches passed from one step to the next.
        # Under sklearn's ``assume_finite`` config the scans are skipped
        # when no range check is asked for (value_range=None).
        if value_range is None and _assume_finite():
            return x.astype(np.float32, copy=False)
        lo, hi = (float(x.min()), float(x.max())) if x.size else (0.0, 0.0)
        if not (np.isfinite(lo) and np.isfinite(hi)):
            n_bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise ValueError(
                f"{input_name} contains {n_bad} NaN or infinite value(s); "
                "images must be finite."
            )
        f32_max = float(np.finfo(np.float32).max)
        if x.dtype.itemsize > 4 and max(abs(lo), abs(hi)) > f32_max:
            raise ValueError(
                f"{input_name}: values up to {max(abs(lo), abs(hi)):.4g} do not "
                "fit float32; images must be finite float32 values."
            )
        out = x.astype(np.float32, copy=False)
        if value_range == "unit" and out.size:
            if lo < -_UNIT_TOLERANCE or hi > 1 + _UNIT_TOLERANCE:
                if 2 < hi <= 255 + _UNIT_TOLERANCE and lo >= -_UNIT_TOLERANCE:
                    hint = (
                        " It looks like 0-255 data stored as floats: pass uint8 "
                        "(X.astype('uint8')) or divide by 255."
                    )
                elif lo >= -0.01 and hi <= 1.01:
                    hint = (
                        " The values are only slightly outside [0, 1]: clip "
                        "them (np.clip(X, 0, 1))."
                    )
                else:
                    hint = ""
                raise ValueError(
                    f"{input_name}: floating-point images must have values in "
                    f"[0, 1]; got values in [{lo:.4g}, {hi:.4g}].{hint}"
                )
            if lo < 0 or hi > 1:
                out = np.clip(out, 0.0, 1.0)
        return out
    if kind == "c":
        raise TypeError(f"{input_name}: complex-valued images are not supported.")
    raise TypeError(f"{input_name}: expected numeric image data, got dtype {x.dtype}.")


def _fix_channels(x: np.ndarray, batched: bool, input_name: str, where: str):
    """Bring a float32 image (3-D) or batch (4-D) to 3 channels."""
    spatial_ndim = 3 if batched else 2
    if x.ndim == spatial_ndim:  # grayscale without channel axis
        return np.repeat(x[..., np.newaxis], 3, axis=-1)
    c = x.shape[-1]
    if c == 3:
        return x
    if c == 1:
        return np.repeat(x, 3, axis=-1)
    if c == 4:
        alpha = x[..., 3:4]
        return x[..., :3] * alpha + (1.0 - alpha)
    raise ValueError(
        f"{input_name}{where}: expected images with 3 colour channels (RGB), "
        f"1 (grayscale) or 4 (RGBA) in the last axis; got {c} channels "
        f"(shape {x.shape}). Images must be laid out as (height, width, channels)."
    )


def check_images(
    X,
    *,
    allow_ragged: bool = False,
    value_range: str | None = "unit",
    ensure_min_samples: int = 1,
    min_size: int = 1,
    input_name: str = "X",
    copy: bool = False,
    keep_uint8: bool = False,
):
    """Validate a batch of images and return it as float32 RGB.

    This is the single input validator of skleuk: every transformer and the
    classifier call it, so every step accepts and rejects the same inputs.

    Parameters
    ----------
    X : array-like
        A 4-D array ``(n_images, height, width, channels)``, a 3-D array
        ``(n_images, height, width)`` of grayscale images, or a list/tuple of
        3-D ``(height, width, channels)`` (or 2-D grayscale) arrays.
        ``channels`` may be 3 (RGB), 1 (grayscale, replicated to RGB) or 4
        (RGBA, composited onto white). Integer data is scaled to ``[0, 1]``
        (``uint8`` / 255, ``uint16`` / 65535).
    allow_ragged : bool, default=False
        Accept a sequence of images of different heights/widths. The result
        is then a list of 3-D arrays (a 4-D array if the shapes agree after
        all). When False, mixed shapes raise a :class:`ValueError`.
    value_range : {"unit", None}, default="unit"
        ``"unit"``: floating-point input must lie in ``[0, 1]`` (values off
        by at most 1e-4 are clipped). ``None``: any finite float is accepted
        (for standardised data reaching the classifier).
    ensure_min_samples : int, default=1
        Minimum number of images.
    min_size : int, default=1
        Minimum height and width of each image, in pixels.
    input_name : str, default="X"
        Name used in error messages.
    copy : bool, default=False
        Always return a new array, never a view of ``X``.
    keep_uint8 : bool, default=False
        Return ``uint8`` RGB input as it is (validated, not converted), for a
        step that reads only part of the pixels and converts that part
        itself (``x.astype(np.float32) * np.float32(1 / 255)``, the same
        values as the conversion here). A list of images is kept only when
        every image is ``uint8`` RGB; any other input is converted as usual.

    Returns
    -------
    images : ndarray of shape (n_images, height, width, 3) or list of ndarray
        ``float32`` images (``uint8`` with ``keep_uint8=True``, see there).
        A list of 3-D arrays only when ``allow_ragged=True`` and the input
        shapes differ.

    Raises
    ------
    ValueError
        Empty input, wrong number of dimensions, wrong channel count, NaN or
        infinite values, float values outside ``[0, 1]``, mixed shapes
        (unless allowed), images smaller than ``min_size``.
    TypeError
        Object, string or complex arrays, and file paths (which need an
        :class:`~skleuk.preprocessing.ImageReader` first).

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.utils.validation import check_images
    >>> X = np.zeros((2, 8, 8, 3), dtype=np.uint8)
    >>> check_images(X).dtype
    dtype('float32')
    >>> check_images(np.zeros((2, 8, 8), dtype=np.uint8)).shape
    (2, 8, 8, 3)
    """
    if value_range not in ("unit", None):
        raise ValueError(f"value_range must be 'unit' or None, got {value_range!r}")
    if is_path_sequence(X):
        raise TypeError(
            f"{input_name} looks like file path(s) ({_first_paths(X)}); this step "
            "expects image arrays. Put a skleuk.preprocessing.ImageReader first "
            "in the pipeline (or read the files with skleuk.datasets loaders)."
        )
    if hasattr(X, "__array__") and not isinstance(X, np.ndarray):
        X = np.asarray(X)

    if isinstance(X, np.ndarray) and X.dtype != object:
        return _check_array_batch(
            X, value_range, ensure_min_samples, min_size, input_name, copy,
            keep_uint8,
        )

    if isinstance(X, np.ndarray):  # object array: maybe an array of images
        if X.ndim != 1:
            raise TypeError(
                f"{input_name}: expected numeric image data, got {_describe(X)}."
            )
        X = list(X)
    if not isinstance(X, Sequence) or isinstance(X, (str, bytes)):
        raise TypeError(
            f"{input_name}: expected a 4-D array of images (n_images, height, "
            f"width, 3) or a list of 3-D images, got {_describe(X)}."
        )
    if len(X) < ensure_min_samples:
        raise ValueError(
            f"{input_name}: expected at least {ensure_min_samples} image(s), "
            f"got {len(X)}."
        )
    images = []
    keep = keep_uint8 and all(_is_uint8_rgb(x, 3) for x in X)
    for i, x in enumerate(X):
        if isinstance(x, (str, bytes, os.PathLike)):
            raise TypeError(
                f"{input_name}[{i}] is a file path ({x!s}); mix of paths and "
                "arrays is not supported. Use a skleuk.preprocessing.ImageReader "
                "on paths."
            )
        x = np.asarray(x)
        if x.dtype == object or x.dtype.kind in "USV":
            raise TypeError(
                f"{input_name}[{i}]: expected numeric image data, got {_describe(x)}."
            )
        if x.ndim not in (2, 3):
            raise ValueError(
                f"{input_name}[{i}]: expected a 2-D (grayscale) or 3-D "
                f"(height, width, channels) image, got {x.ndim}-D with shape "
                f"{x.shape}."
            )
        if not keep:
            x = _to_float32(x, value_range, f"{input_name}[{i}]")
            x = _fix_channels(x, batched=False, input_name=input_name, where=f"[{i}]")
        _check_min_size(x.shape[:2], min_size, f"{input_name}[{i}]")
        images.append(x)
    shapes = {x.shape for x in images}
    if len(shapes) == 1:
        return np.ascontiguousarray(np.stack(images))
    if not allow_ragged:
        examples = []
        seen = set()
        for i, x in enumerate(images):
            if x.shape not in seen:
                seen.add(x.shape)
                examples.append(f"{x.shape[:2]} at index {i}")
            if len(examples) == 3:
                break
        raise ValueError(
            f"{input_name}: all images must have the same height and width; "
            f"got {len(shapes)} different sizes, e.g. {', '.join(examples)}. "
            "Bring them to one size first (skleuk.preprocessing.PadToSquare + "
            "Resizer, ImageReader(size=...), or the loaders' `size` option)."
        )
    return [np.ascontiguousarray(x) for x in images]


def _first_paths(X) -> str:
    if isinstance(X, (str, bytes, os.PathLike)):
        return repr(os.fspath(X))
    items = [repr(str(x)) for x in list(X)[:2]]
    return ", ".join(items) + (", ..." if len(X) > 2 else "")


def _check_min_size(hw, min_size, name):
    if min(hw) < min_size:
        raise ValueError(
            f"{name}: images must be at least {min_size}x{min_size} pixels, got "
            f"{hw[0]}x{hw[1]}."
        )


def _is_uint8_rgb(x, ndim):
    return (
        isinstance(x, np.ndarray)
        and x.dtype == np.uint8
        and x.ndim == ndim
        and x.shape[-1] == 3
    )


def _check_array_batch(
    X, value_range, ensure_min_samples, min_size, input_name, copy, keep_uint8=False
):
    if X.dtype.kind in "USV":
        raise TypeError(
            f"{input_name}: expected numeric image data, got {_describe(X)}."
        )
    if X.ndim == 4:
        pass
    elif X.ndim == 3:
        # (n, h, w) grayscale batch. A single (h, w, 3) colour image is a
        # common mistake: say so rather than reading it as 3-row images.
        if X.shape[-1] in (3, 4) and 1 <= X.shape[0] <= 4:
            # Ambiguous: e.g. (3, 3, 3) may be one tiny colour image; read as
            # documented, but not silently.
            import warnings

            warnings.warn(
                f"{input_name}: a 3-D array of shape {X.shape} is read as "
                f"{X.shape[0]} grayscale image(s) of {X.shape[1]}x{X.shape[2]} "
                "pixels; if it is one colour image, pass X[np.newaxis].",
                UserWarning,
                stacklevel=3,
            )
        elif X.shape[-1] in (3, 4):
            raise ValueError(
                f"{input_name}: got a 3-D array of shape {X.shape}, which looks "
                "like a single (height, width, channels) image. Pass a batch: "
                "X[np.newaxis] for one image. (A 3-D array is read as a batch "
                "of grayscale images (n_images, height, width).)"
            )
    else:
        raise ValueError(
            f"{input_name}: expected a 4-D array (n_images, height, width, 3) "
            f"or a 3-D grayscale batch (n_images, height, width); got a "
            f"{X.ndim}-D array of shape {X.shape}."
        )
    if X.shape[0] < ensure_min_samples:
        raise ValueError(
            f"{input_name}: expected at least {ensure_min_samples} image(s), got "
            f"{X.shape[0]} (shape {X.shape})."
        )
    _check_min_size(X.shape[1:3], min_size, input_name)
    if X.ndim == 4 and X.shape[-1] not in (1, 3, 4):
        raise ValueError(
            f"{input_name}: expected images with 3 colour channels (RGB), "
            f"1 (grayscale) or 4 (RGBA) in the last axis; got {X.shape[-1]} "
            f"channels (shape {X.shape}). Images must be laid out as (height, "
            "width, channels)."
        )
    if keep_uint8 and _is_uint8_rgb(X, 4):
        out = X
    else:
        out = _to_float32(X, value_range, input_name)
        out = _fix_channels(out, batched=True, input_name=input_name, where="")
    if copy and np.may_share_memory(out, X):
        out = out.copy()
    return np.ascontiguousarray(out)
