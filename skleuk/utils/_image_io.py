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

Size policy (the same for every reader, since they all go through
:func:`read_image`):

* An image with more pixels than ``max_pixels`` is refused from its header,
  **before** it is decoded. The default, :data:`DEFAULT_MAX_IMAGE_PIXELS`
  (50 million: ten times a 2592x1944 ALL-IDB1 smear), can be changed for
  the whole process with the environment variable
  ``SKLEUK_MAX_IMAGE_PIXELS`` or per call with ``max_pixels``. Pillow's
  own decompression-bomb limit (``PIL.Image.MAX_IMAGE_PIXELS``) still
  applies to the formats Pillow decodes.
* With ``reduce_to`` (what :func:`read_images` and
  :class:`~skleuk.preprocessing.ImageReader` pass when they resize to a
  ``size``), an image whose longer side is at least twice ``reduce_to`` is
  decoded at reduced resolution: JPEG in Pillow's draft mode (DCT scaling
  by 1/2, 1/4 or 1/8), TIFF from a reduced-resolution level when the file
  has one, everything else reduced by an integer factor (box averaging)
  right after decoding. The longer side always stays at least
  ``reduce_to``, so the later anti-aliased resize still has the detail it
  needs. Without ``reduce_to`` images are read at full resolution.

Only regular files are read: a FIFO, device or socket is refused without
being opened (opening a FIFO would wait forever for a writer).

Any failure -- a missing file, a directory, an unsupported extension, a
corrupt or truncated file, a file that is not an image, an image over the
pixel limit -- raises :class:`ImageReadError` (a subclass of both
:class:`OSError` and :class:`ValueError`) whose message names the file.
"""

from __future__ import annotations

import os
import stat
import warnings
from numbers import Integral

import numpy as np

from ..exceptions import ImageReadError
from ._image_ops import (
    _MAX_UPSCALE,
    _warn_tiny,
    pad_to_square,
    resize_images,
    stack_if_uniform,
)
from ._image_ops import PAD_MODES as _PAD_MODES
from ._walk import (  # noqa: F401  (the loaders import them from here)
    _is_hidden,
    _walk_files,
    _warn_skipped,
)
from .validation import check_images

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageReadError",
    "read_image",
    "read_images",
]

#: File extensions (lower case) that :func:`read_image` reads.
IMAGE_EXTENSIONS = (".tif", ".tiff", ".jpg", ".jpeg", ".png", ".bmp")

#: Largest number of pixels (height x width) :func:`read_image` decodes when
#: neither ``max_pixels`` nor the environment variable
#: ``SKLEUK_MAX_IMAGE_PIXELS`` says otherwise: 50 million, ten times a
#: 2592x1944 ALL-IDB1 smear. A larger image is refused before decoding.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000

_MAX_PIXELS_ENV = "SKLEUK_MAX_IMAGE_PIXELS"

_TIFF_EXTENSIONS = (".tif", ".tiff")


def _fail(path, reason, cause=None):
    err = ImageReadError(f"Cannot read image file {str(path)!r}: {reason}", path)
    if cause is not None:
        err.__cause__ = cause
    return err


def _is_image_path(path) -> bool:
    return os.path.splitext(os.fspath(path))[1].lower() in IMAGE_EXTENSIONS


def _resolve_max_pixels(max_pixels):
    """The pixel limit in force: the argument, else the env var, else default."""
    if max_pixels is None:
        text = os.environ.get(_MAX_PIXELS_ENV, "").strip()
        if not text:
            return DEFAULT_MAX_IMAGE_PIXELS
        try:
            max_pixels = int(text.replace("_", ""))
        except ValueError:
            raise ValueError(
                f"environment variable {_MAX_PIXELS_ENV} must be a positive "
                f"integer, got {text!r}."
            ) from None
        where = f"environment variable {_MAX_PIXELS_ENV}"
    else:
        where = "max_pixels"
    if (
        isinstance(max_pixels, bool)
        or not isinstance(max_pixels, Integral)
        or max_pixels < 1
    ):
        raise ValueError(f"{where} must be a positive integer, got {max_pixels!r}.")
    return int(max_pixels)


class _TooLarge(Exception):
    """Raised by the decoders when the header shows too many pixels."""


def _check_pixels(height, width, max_pixels):
    if int(height) * int(width) > max_pixels:
        raise _TooLarge(
            f"the image is {int(width)}x{int(height)} = {int(height) * int(width):,} "
            f"pixels, over the limit of {max_pixels:,} (raise it with "
            f"max_pixels= or the environment variable {_MAX_PIXELS_ENV})"
        )


def _bomb_message(exc, max_pixels):
    """skleuk's wording for Pillow's decompression-bomb refusal: the image
    is over skleuk's limit too, unless that limit was raised above
    Pillow's."""
    import re

    from PIL import Image

    found = re.search(r"\((\d+) pixels\)", str(exc))
    n = f"{int(found.group(1)):,} pixels" if found else "too many pixels"
    pillow = 2 * (Image.MAX_IMAGE_PIXELS or 0)
    if not pillow or max_pixels < pillow:
        return (f"the image has {n}, over the limit of {max_pixels:,} (raise "
                f"it with max_pixels= or the environment variable "
                f"{_MAX_PIXELS_ENV})")
    return (f"the image has {n}, over Pillow's decompression-bomb limit of "
            f"{pillow:,} (raise PIL.Image.MAX_IMAGE_PIXELS as well as "
            f"{_MAX_PIXELS_ENV})")


def _reduction(height, width, reduce_to):
    """Integer factor that keeps the longer side at least ``reduce_to``."""
    if not reduce_to:
        return 1
    return max(1, max(int(height), int(width)) // int(reduce_to))


def _block_reduce(arr, factor):
    """Average ``factor x factor`` blocks (box reduction), keeping the dtype."""
    if factor <= 1:
        return arr
    h, w = arr.shape[:2]
    h2, w2 = h // factor, w // factor
    if h2 == 0 or w2 == 0:
        return arr
    cut = arr[: h2 * factor, : w2 * factor]
    shape = (h2, factor, w2, factor) + arr.shape[2:]
    if arr.dtype == bool:
        cut = cut.astype(np.uint8)
    out = cut.reshape(shape).mean(axis=(1, 3))
    if arr.dtype.kind in "iub":
        out = np.round(out).astype(arr.dtype if arr.dtype != bool else np.uint8)
    else:
        out = out.astype(arr.dtype, copy=False)
    return out


def _read_tiff(path, max_pixels, reduce_to):
    import tifffile

    with tifffile.TiffFile(path) as tif:
        if not tif.pages:
            raise ValueError("the TIFF file has no pages")
        page = tif.pages[0]
        axes = getattr(page, "axes", "")
        shape = page.shape
        if "Y" in axes and "X" in axes:
            height, width = shape[axes.index("Y")], shape[axes.index("X")]
        else:
            height, width = getattr(page, "imagelength", 0), getattr(
                page, "imagewidth", 0
            )
        _check_pixels(height, width, max_pixels)
        factor = _reduction(height, width, reduce_to)
        if factor > 1 and tif.series and len(tif.series[0].levels) > 1:
            # A pyramidal TIFF: use the smallest level that is still large
            # enough, instead of decoding the full resolution.
            for level in reversed(tif.series[0].levels[1:]):
                lh, lw = level.shape[level.axes.index("Y")], level.shape[
                    level.axes.index("X")
                ]
                if max(lh, lw) >= reduce_to:
                    page = level.pages[0] if level.pages else page
                    axes = getattr(page, "axes", axes)
                    factor = _reduction(lh, lw, reduce_to)
                    break
        arr = page.asarray()
    # Planar ("separate") colour TIFFs come as (samples, rows, cols).
    if arr.ndim == 3 and axes.startswith("S"):
        arr = np.moveaxis(arr, 0, -1)
    return _block_reduce(arr, factor)


def _read_pil(path, max_pixels, reduce_to):
    from PIL import Image

    with warnings.catch_warnings():
        # skleuk applies its own limit (_check_pixels) before decoding.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            im_file = Image.open(path)
        except Image.DecompressionBombError as exc:
            raise _TooLarge(_bomb_message(exc, max_pixels)) from exc
    with im_file as im:
        im.seek(0)
        width, height = im.size
        _check_pixels(height, width, max_pixels)
        factor = _reduction(height, width, reduce_to)
        if factor > 1 and im.format == "JPEG":
            # Decode at 1/2, 1/4 or 1/8 of the size (DCT scaling): memory is
            # bounded by the output, not the input.
            im.draft(None, (-(-width // factor), -(-height // factor)))
            factor = _reduction(im.size[1], im.size[0], reduce_to)
        im.load()
        if factor > 1 and im.mode in ("L", "LA", "RGB", "RGBA", "I", "F"):
            im = im.reduce(factor)  # box reduction, before any copy
            factor = 1
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
        return _block_reduce(np.array(im), factor)


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


def read_image(path, *, reduce_to=None, max_pixels=None):
    """Read one image file as a ``uint8`` RGB array.

    Parameters
    ----------
    path : str or path-like
        A TIFF (``.tif``, ``.tiff``), JPEG (``.jpg``, ``.jpeg``), PNG or BMP
        file. The extension is matched case-insensitively.
    reduce_to : int or None, default=None
        ``None`` reads the image at full resolution. An int allows decoding
        at a resolution reduced by an integer factor (JPEG draft mode, a
        reduced TIFF level, else box reduction right after decoding) as long
        as the longer side stays at least ``reduce_to`` pixels; use it when
        the image is going to be resized to ``reduce_to`` anyway.
    max_pixels : int or None, default=None
        Refuse (before decoding) an image with more than this many pixels.
        ``None``: the environment variable ``SKLEUK_MAX_IMAGE_PIXELS`` if
        set, else :data:`DEFAULT_MAX_IMAGE_PIXELS` (50 million).

    Returns
    -------
    image : ndarray of shape (height, width, 3), dtype uint8
        The pixels as stored. 16-bit data is scaled by ``255 / 65535``
        (full range, not per-image stretched), grayscale is replicated to
        RGB, transparency is composited onto white.

    Raises
    ------
    ImageReadError
        If the file is missing, is a directory or another non-regular file
        (FIFO, device, socket), has an unsupported extension, is corrupt or
        truncated, is not an image, or has more pixels than ``max_pixels``.
        The message names the file.

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
    limit = _resolve_max_pixels(max_pixels)
    reduce_to = _check_size(reduce_to, "reduce_to")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise _fail(path, "the file does not exist") from None
    except PermissionError as exc:
        raise _fail(path, "permission denied (its folder cannot be "
                    "searched)", exc) from exc
    except OSError as exc:
        raise _fail(
            path, f"the file cannot be accessed ({exc.strerror})", exc
        ) from exc
    if stat.S_ISDIR(mode):
        raise _fail(path, "it is a directory, not a file")
    if not stat.S_ISREG(mode):
        raise _fail(path, f"it is {_special_kind(mode)}, not a regular file")
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
            arr = reader(path, limit, reduce_to)
        except MemoryError:
            raise
        except _TooLarge as exc:
            raise _fail(path, str(exc)) from None
        except PermissionError as exc:
            raise _fail(path, "permission denied", exc) from exc
        except Exception as exc:  # any decoder failure
            errors.append(exc)
            continue
        return _to_uint8_rgb(arr, path)
    last = errors[-1]
    reason = f"{type(last).__name__}: {last}" if str(last) else type(last).__name__
    raise _fail(path, f"the file is corrupt or not a valid image ({reason})", last)


def _special_kind(mode):
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a special file"


def find_image_files(root):
    """Image files below ``root`` and what was left out.

    The walk of :func:`~skleuk.utils._walk._walk_files` (symbolic links
    followed but never above ``root``, hidden files left out, a folder that
    cannot be listed an error), keeping the files with one of
    :data:`IMAGE_EXTENSIONS`.

    Returns
    -------
    images : list of str
        Files with an image extension, sorted.
    n_ignored : int
        Files that are not images, hidden files included.
    skipped : list of str
        Special files and broken links (not warned about: the caller
        reports them once for all its folders).
    """
    files, skipped, n_hidden = _walk_files(root)
    images = [f for f in files if _is_image_path(f)]
    return images, len(files) - len(images) + n_hidden, skipped


def _check_size(size, name="size"):
    if size is None:
        return None
    if isinstance(size, bool) or not isinstance(size, Integral) or size < 1:
        raise ValueError(f"{name} must be None or a positive int, got {size!r}.")
    return int(size)


def _resize_one(image, size, pad_mode, warn=True):
    """Pad to square and resize one uint8 image; return uint8 (size, size, 3).
    ``warn``: warn here about a tiny image (else the caller does, by name)."""
    batch = image[np.newaxis]
    if image.shape[0] != image.shape[1]:
        batch = pad_to_square(check_images(batch), mode=pad_mode)
    if batch.shape[1:3] != (size, size):
        batch = check_images(batch)
        if warn:
            _warn_tiny(batch, (size, size))
        batch = resize_images(batch, (size, size), anti_aliasing=True)
    batch = np.asarray(batch)
    if batch.dtype != np.uint8:
        batch = np.round(np.clip(batch, 0.0, 1.0) * 255.0).astype(np.uint8)
    return batch[0]


def _read_and_resize(path, size, pad_mode, max_pixels=None):
    image = read_image(path, reduce_to=size, max_pixels=max_pixels)
    if size is None:
        return image
    return _resize_one(image, size, pad_mode)


def read_images(
    paths, size=None, *, pad_mode="reflect", n_jobs=None, max_pixels=None
):
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
    max_pixels : int or None, default=None
        Pixel limit of :func:`read_image` (``None``: the environment variable
        ``SKLEUK_MAX_IMAGE_PIXELS``, else :data:`DEFAULT_MAX_IMAGE_PIXELS`).
        With ``size``, large images are also decoded at reduced resolution
        (``reduce_to=size`` of :func:`read_image`), so memory is bounded by
        the output size rather than the file's.

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
    size = _check_size(size)
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}.")
    _resolve_max_pixels(max_pixels)
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
    tiny = {}

    def read_one(k, path):
        image = read_image(path, reduce_to=size, max_pixels=max_pixels)
        if size is None:
            return image
        if max(image.shape[:2]) * _MAX_UPSCALE < size:
            tiny[k] = image.shape[:2]
        return _resize_one(image, size, pad_mode, warn=False)

    if n_jobs in (None, 1) or len(paths) == 1:
        images = [read_one(k, p) for k, p in enumerate(paths)]
    else:
        from joblib import Parallel, delayed

        images = Parallel(n_jobs=n_jobs, prefer="threads")(
            delayed(read_one)(k, p) for k, p in enumerate(paths)
        )
    if tiny:
        k = min(tiny)
        warnings.warn(
            f"{len(tiny)} image file(s) are enlarged more than {_MAX_UPSCALE}x "
            f"to {size}x{size} pixels (e.g. {paths[k]!r}: "
            f"{tiny[k][0]}x{tiny[k][1]}); results on images this small are not "
            "meaningful.",
            UserWarning,
            stacklevel=2,
        )
    return stack_if_uniform(images)
