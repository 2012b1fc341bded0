"""Utilities: the shared image validator, image estimator checks, versions."""

from ._show_versions import show_versions
from .validation import check_images

__all__ = ["check_images", "show_versions"]
