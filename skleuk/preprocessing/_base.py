"""Moved to :mod:`skleuk.base`.

:class:`~skleuk.base.BaseImageTransformer` is public in :mod:`skleuk.base`;
this private path keeps working for code that imported it from here.
"""

from ..base import BaseImageTransformer
from ..utils._image_ops import apply_by_shape, stack_if_uniform

__all__ = ["BaseImageTransformer", "apply_by_shape", "stack_if_uniform"]
