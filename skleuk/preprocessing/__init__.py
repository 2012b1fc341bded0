"""Image transformers: file reading, colour and stain, filters, magnification,
cell cropping, geometry, scaling.

Every step is a scikit-learn transformer on batches of RGB images
``(n_images, height, width, 3)`` (``uint8`` or float in ``[0, 1]``) that
returns ``float32`` images, so the steps chain in a
:class:`sklearn.pipeline.Pipeline` in front of the classifier.
"""

from ..exceptions import UnfamiliarImageWarning
from ._color import ColorNormalizer
from ._familiarity import EmbeddingFamiliarity, FamiliarityCheck, image_description
from ._filters import LaplacianSharpener, NeighborhoodAverager
from ._geometry import CenterCropper, PadToSquare, Resizer
from ._localise import locate_white_cells
from ._magnification import MagnificationNormalizer, estimate_rbc_diameter
from ._reader import ImageReader
from ._scaling import ImageScaler
from ._segmentation import WhiteCellCropper
from ._stain import StainNormalizer

__all__ = [
    "CenterCropper",
    "ColorNormalizer",
    "EmbeddingFamiliarity",
    "FamiliarityCheck",
    "ImageReader",
    "ImageScaler",
    "LaplacianSharpener",
    "MagnificationNormalizer",
    "NeighborhoodAverager",
    "PadToSquare",
    "Resizer",
    "StainNormalizer",
    "UnfamiliarImageWarning",
    "WhiteCellCropper",
    "estimate_rbc_diameter",
    "image_description",
    "locate_white_cells",
]
