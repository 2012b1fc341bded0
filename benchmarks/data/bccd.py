"""BCCD: 364 photographs of normal blood (640x480) with white-cell boxes.

The folder (Shenggan/BCCD_Dataset, MIT licence) holds ``JPEGImages/`` and
``Annotations/`` (Pascal VOC XML). Used as the fixed, external colour
reference of the Aria benchmarks and, with its boxes, for localisation and
red-cell size.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np


def _folder(path):
    path = Path(path)
    if not (path / "JPEGImages").is_dir():
        raise FileNotFoundError(f"{path} has no JPEGImages/: not a BCCD folder")
    return path


def reference(path, size=(224, 168)):
    """Every BCCD photograph, resized: uint8 ``(n, 168, 224, 3)``.

    The colour reference onto which :func:`benchmarks.data.aria.normalise`
    maps the Aria fields.
    """
    from PIL import Image

    files = sorted((_folder(path) / "JPEGImages").glob("*.jpg"))
    return np.stack([np.asarray(Image.open(f).convert("RGB").resize(size))
                     for f in files])


def boxes(xml_file, name="WBC"):
    """``(xmin, ymin, xmax, ymax)`` boxes of one class in one annotation file."""
    found = []
    for obj in ET.parse(xml_file).getroot().iter("object"):
        if obj.findtext("name") == name:
            bb = obj.find("bndbox")
            found.append(tuple(float(bb.findtext(k))
                               for k in ("xmin", "ymin", "xmax", "ymax")))
    return found


def load(path, name="WBC"):
    """Annotated photographs: file names, uint8 images and boxes of ``name``."""
    from skleuk.datasets import read_image

    path = _folder(path)
    names, images, found = [], [], []
    for jpg in sorted((path / "JPEGImages").glob("*.jpg")):
        xml = path / "Annotations" / (jpg.stem + ".xml")
        if xml.exists():
            names.append(jpg.name)
            images.append(read_image(jpg))
            found.append(boxes(xml, name))
    return names, np.stack(images), found
