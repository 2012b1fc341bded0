"""Reading image files into ``uint8`` RGB arrays.

Every file skleuk reads goes through :func:`read_image`, so the conversion
rules below hold for the loaders, :class:`~skleuk.preprocessing.ImageReader`
and :func:`~skleuk.model_selection.find_duplicate_groups` alike:

* TIFF files are read with :mod:`tifffile` (falling back to Pillow for
  compressions tifffile cannot decode without extra codecs); JPEG, PNG and
  BMP with Pillow. Only the first page/frame of a multi-page file is read.
* 16-bit data is scaled linearly to 8 bits over the full range,
  ``round(value * 255 / 65535)`` -- the same scaling
  :func:`~skleuk.utils.validation.check_images` applies to ``uint16``
  arrays. It is *not* contrast-stretched per image: 12-bit camera data
  stored in 16-bit files therefore looks dark.
* Grayscale is replicated to three channels; an alpha channel is
  composited onto white (the colour of an empty slide) and dropped;
  palette images are expanded; CMYK/YCbCr are converted to RGB.
* EXIF orientation tags are ignored: pixels are returned as stored, which is
  the frame annotation files (such as ALL-IDB's ``.xyc``) refer to.

Any failure -- a missing file, a directory, an unsupported extension, a
corrupt or truncated file, a file that is not an image -- raises
:class:`ImageReadError` (a subclass of both :class:`OSError` and
:class:`ValueError`) whose message names the file.
"""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np

__all__ = ["IMAGE_EXTENSIONS", "ImageReadError", "read_image", "read_images"]

#: File extensions (lower case) that :func:`read_image` reads.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp")

_TIFF_EXTENSIONS = (".tif", ".tiff")
_PAD_MODES = ("reflect", "symmetric", "edge", "constant")


class ImageReadError(OSError, ValueError):
    """An image file could not be read.

    Subclasses both :class:`OSError` and :class:`ValueError`, so
    ``except OSError`` and ``except ValueError`` both catch it. The message
    always names the file; the path is also available as ``filename``.

    Examples
    --------
    >>> from skleuk.datasets import ImageReadError, read_image
    >>> try:
    ...     read_image("no_such_file.png")
    ... except ImageReadError as exc:
    ...     print(exc.filename)
    no_such_file.png
    """

    def __init__(self, message, filename=None):
        super().__init__(message)
        self.filename = filename

    def __str__(self):
        return self.args[0]


def _fail(path, reason, cause=None):
    err = ImageReadError(f"Cannot read image file {str(path)!r}: {reason}", path)
    if cause is not None:
        err.__cause__ = cause
    return err


def _is_image_path(path) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


def _read_tiff(path):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.pages:
            raise ValueError("the TIFF file has no pages")
        page = tif.pages[0]
        arr = page.asarray()
        axes = getattr(page, "axes", "")
    # Planar ("separate") colour TIFFs come as (samples, rows, cols).
    if arr.ndim == 3 and axes.startswith("S"):
        arr = np.moveaxis(arr, 0, -1)
    return arr


def _read_pil(path):
    from PIL import Image

    with Image.open(path) as im:
        im.seek(0)
        im.load()
        mode = im.mode
        if mode == "P":
            im = im.convert("RGBA" if "transparency" in im.info else "RGB")
        elif mode == "PA":
            im = im.convert("RGBA")
        elif mode == "1":
            im = im.convert("L")
        elif mode in ("CMYK", "YCbCr", "LAB", "HSV"):
            im = im.convert("RGB")
        elif mode == "La":  # premultiplied alpha
            im = im.convert("LA")
        elif mode == "RGBa":
            im = im.convert("RGBA")
        return np.asarray(im).copy()


def _to_uint8_rgb(arr, path):
    """Convert a decoded array (any dtype, 2-D or 3-D) to uint8 (h, w, 3)."""
    arr = np.asarray(arr)
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or arr.size == 0:
        raise _fail(path, f"decoded to an unsupported array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[-1] not in (2, 3, 4):
        raise _fail(
            path,
            f"unsupported number of channels {arr.shape[-1]} (shape {arr.shape}); "
            "expected grayscale, RGB or RGBA",
        )
    if arr.dtype == np.uint8:
        out = arr
    elif arr.dtype == bool:
        out = arr.astype(np.uint8) * np.uint8(255)
    elif arr.dtype.kind in "iu":
        lo, hi = int(arr.min()), int(arr.max())
        if lo < 0 or hi > 65535:
            raise _fail(
                path,
                f"integer pixel values in [{lo}, {hi}] do not fit 8 or 16 bits",
            )
        if arr.dtype.itemsize == 1 or (arr.dtype.kind == "i" and hi <= 255):
            out = arr.astype(np.uint8)
        else:  # 16-bit data: full-range linear scaling, see module docstring
            wide = arr.astype(np.uint32)
            out = ((wide * 255 + 32767) // 65535).astype(np.uint8)
    elif arr.dtype.kind == "f":
        if not np.isfinite(arr).all():
            raise _fail(path, "floating-point image contains NaN or infinity")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0 or hi > 1:
            raise _fail(
                path,
                f"floating-point pixel values in [{lo:.4g}, {hi:.4g}]; only float "
                "images in [0, 1] are supported",
            )
        out = np.round(arr * 255.0).astype(np.uint8)
    else:
        raise _fail(path, f"unsupported pixel type {arr.dtype}")

    if out.ndim == 2:
        out = np.repeat(out[..., np.newaxis], 3, axis=-1)
    elif out.shape[-1] in (2, 4):  # gray+alpha or RGBA: composite on white
        color = out[..., :-1].astype(np.float32)
        if color.shape[-1] == 1:
            color = np.repeat(color, 3, axis=-1)
        alpha = out[..., -1:].astype(np.float32) / 255.0
        out = np.round(color * alpha + 255.0 * (1.0 - alpha)).astype(np.uint8)
    return np.ascontiguousarray(out)


def read_image(path):
    """Read one image file as a ``uint8`` RGB array.

    Parameters
    ----------
    path : str or path-like
        A TIFF (``.tif``, ``.tiff``), JPEG (``.jpg``, ``.jpeg``), PNG or BMP
        file. The extension is matched case-insensitively.

    Returns
    -------
    image : ndarray of shape (height, width, 3), dtype uint8
        The pixels as stored. 16-bit data is scaled by ``255 / 65535``
        (full range, not per-image stretched), grayscale is replicated to
        RGB, transparency is composited onto white.

    Raises
    ------
    ImageReadError
        If the file is missing, is a directory, has an unsupported extension,
        is corrupt or truncated, or is not an image. The message names the
        file.

    See Also
    --------
    read_images : Read many files, optionally bringing them to one size.
    skleuk.preprocessing.ImageReader : The same as a pipeline step.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.datasets import read_image
    >>> path = os.path.join(tempfile.mkdtemp(), "cell.png")
    >>> Image.fromarray(np.full((4, 6), 200, dtype=np.uint8)).save(path)
    >>> image = read_image(path)
    >>> image.shape, image.dtype, int(image[0, 0, 0])
    ((4, 6, 3), dtype('uint8'), 200)
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(
            f"read_image expects a file path (str or os.PathLike), got "
            f"{type(path).__name__}."
        )
    path = os.fspath(path)
    if not os.path.exists(path):
        raise _fail(path, "the file does not exist")
    if os.path.isdir(path):
        raise _fail(path, "it is a directory, not a file")
    ext = os.path.splitext(path)[1].lower()
    if ext not in IMAGE_EXTENSIONS:
        raise _fail(
            path,
            f"unsupported file extension {ext or '(none)'!r}; supported: "
            f"{', '.join(IMAGE_EXTENSIONS)}",
        )

    errors = []
    readers = (_read_tiff, _read_pil) if ext in _TIFF_EXTENSIONS else (_read_pil,)
    for reader in readers:
        try:
            arr = reader(path)
        except MemoryError:
            raise
        except Exception as exc:  # any decoder failure
            errors.append(exc)
            continue
        return _to_uint8_rgb(arr, path)
    last = errors[-1]
    reason = f"{type(last).__name__}: {last}" if str(last) else type(last).__name__
    raise _fail(path, f"the file is corrupt or not a valid image ({reason})", last)


def _check_size(size):
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
        raise ValueError(f"size must be None or a positive int, got {size!r}.")
    return int(size)


def _resize_one(image, size, pad_mode):
    """Pad to square and resize one uint8 image; return uint8 (size, size, 3)."""
    from ..preprocessing._geometry import PadToSquare, Resizer

    batch = image[np.newaxis]
    if image.shape[0] != image.shape[1]:
        batch = PadToSquare(mode=pad_mode).fit_transform(batch)
    if batch.shape[1:3] != (size, size):
        batch = Resizer(size=size, anti_aliasing=True).fit_transform(batch)
    batch = np.asarray(batch)
    if batch.dtype != np.uint8:
        batch = np.round(np.clip(batch, 0.0, 1.0) * 255.0).astype(np.uint8)
    return batch[0]


def _read_and_resize(path, size, pad_mode):
    image = read_image(path)
    if size is None:
        return image
    return _resize_one(image, size, pad_mode)


def read_images(paths, size=None, *, pad_mode="reflect", n_jobs=None):
    """Read image files, optionally bringing them all to one square size.

    Parameters
    ----------
    paths : sequence of str or path-like
        The files, read with :func:`read_image`.
    size : int or None, default=None
        ``None`` keeps every image's own size. An int applies the **size
        rule** used throughout skleuk: each image is first padded to a
        square (:class:`~skleuk.preprocessing.PadToSquare` with
        ``pad_mode``; the shorter side is extended, nothing is cut off),
        then resized with anti-aliasing to ``size x size``
        (:class:`~skleuk.preprocessing.Resizer`) and rounded back to
        ``uint8``. Padding first keeps the aspect ratio of the cells, and
        a reflected border is less of a give-away of the original shape than
        a constant one.
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How :class:`~skleuk.preprocessing.PadToSquare` fills the padding
        (only used with ``size``; ``"constant"`` pads with white).
    n_jobs : int or None, default=None
        Number of threads reading files in parallel (``None``: one; ``-1``:
        all cores). Decoding and resizing release the GIL for the most part.

    Returns
    -------
    images : ndarray of shape (n, height, width, 3) or list of ndarray
        ``uint8`` images: a 4-D array when all images share one shape
        (always, with ``size``), else a list of 3-D arrays in input order.

    Raises
    ------
    ImageReadError
        If any file cannot be read (the message names it).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.datasets import read_images
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(2)]
    >>> Image.fromarray(np.zeros((4, 6, 3), np.uint8)).save(paths[0])
    >>> Image.fromarray(np.zeros((6, 6, 3), np.uint8)).save(paths[1])
    >>> [im.shape for im in read_images(paths)]
    [(4, 6, 3), (6, 6, 3)]
    """
    from ..preprocessing._base import stack_if_uniform

    size = _check_size(size)
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}.")
    if isinstance(paths, (str, bytes, os.PathLike)):
        raise TypeError(
            "read_images expects a sequence of file paths, got a single path; "
            "wrap it in a list (or use read_image)."
        )
    paths = [os.fspath(p) if isinstance(p, os.PathLike) else p for p in paths]
    for p in paths:
        if not isinstance(p, str):
            raise TypeError(
                f"read_images expects file paths, got an item of type "
                f"{type(p).__name__}."
            )
    if not paths:
        raise ValueError("read_images got an empty list of paths.")
    if n_jobs in (None, 1) or len(paths) == 1:
        images = [_read_and_resize(p, size, pad_mode) for p in paths]
    else:
        from joblib import Parallel, delayed

        images = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(_read_and_resize)(p, size, pad_mode) for p in paths
        )
    return stack_if_uniform(images)
