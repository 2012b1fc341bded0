"""Image file reading, now in :mod:`skleuk.utils._image_io`.

Kept so that the old private import path keeps working; the public names are
exported by :mod:`skleuk.datasets` as before.
"""

from ..utils._image_io import (  # noqa: F401
    _PAD_MODES,
    DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_EXTENSIONS,
    ImageReadError,
    _check_size,
    _is_hidden,
    _read_and_resize,
    _resize_one,
    _walk_files,
    _warn_skipped,
    read_image,
    read_images,
)

__all__ = [
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageReadError",
    "read_image",
    "read_images",
]
