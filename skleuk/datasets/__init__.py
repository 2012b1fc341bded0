"""Data sets: synthetic smears, ALL-IDB and image-folder loaders.

skleuk ships no real patient data. :func:`make_blood_smears` generates
ALL-IDB2-like synthetic cell images; :func:`load_all_idb` and
:func:`load_image_folder` read a copy of a data set the user already has;
:func:`extract_cells` cuts single-cell crops from ALL_IDB1 smears;
:func:`load_dataset` recognises which of these layouts a folder holds. Every
loader returns ``uint8`` RGB images (or file names) in a
:class:`~sklearn.utils.Bunch`.
"""

from ..exceptions import AmbiguousDatasetError, ImageReadError
from ..utils._image_io import (
    DEFAULT_MAX_IMAGE_PIXELS,
    IMAGE_EXTENSIONS,
    read_image,
    read_images,
)
from ._all_idb import load_all_idb
from ._cells import extract_cells
from ._dataset import DATASET_KINDS, load_dataset
from ._folder import load_image_folder
from ._synthetic import make_blood_smears

__all__ = [
    "AmbiguousDatasetError",
    "DATASET_KINDS",
    "DEFAULT_MAX_IMAGE_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageReadError",
    "extract_cells",
    "load_all_idb",
    "load_dataset",
    "load_image_folder",
    "make_blood_smears",
    "read_image",
    "read_images",
]
