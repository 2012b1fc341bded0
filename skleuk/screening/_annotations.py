"""Readers of cell annotations: ``.xyc`` centroid files and Pascal VOC boxes.

Coordinates follow the rest of skleuk: ``(row, col)`` in 0-based pixels of
the image. Boxes are ``(row_min, col_min, row_max, col_max)``.
"""

from __future__ import annotations

import os
import xml.etree.ElementTree as ET

import numpy as np

from ..utils._xyc import _read_xyc

__all__ = ["read_voc_boxes", "read_xyc"]


def read_xyc(path):
    """Read an ALL-IDB1-style ``.xyc`` centroid file.

    One cell per line, ``x<TAB>y`` in pixels of the image (column first);
    blank lines are skipped and an empty file means "no annotated cell".
    This is the reader :func:`skleuk.datasets.load_all_idb` uses.

    Parameters
    ----------
    path : str or path-like
        The ``.xyc`` file.

    Returns
    -------
    centres : ndarray of shape (n_cells, 2), float64
        ``(row, col)`` of each annotated cell (note the swap: the file holds
        ``x, y``).

    Raises
    ------
    OSError
        The file cannot be read (the message names it).
    ValueError
        A line is not two non-negative numbers (file and line named).

    See Also
    --------
    read_voc_boxes : Read Pascal VOC boxes.
    localisation_report : Compare detections with these centres.

    Examples
    --------
    >>> import os, tempfile
    >>> from skleuk.screening import read_xyc
    >>> path = os.path.join(tempfile.mkdtemp(), "Im001_1.xyc")
    >>> with open(path, "w") as f:
    ...     _ = f.write("120\\t45\\n300\\t210\\n")
    >>> read_xyc(path)
    array([[ 45., 120.],
           [210., 300.]])
    """
    return _read_xyc(os.fspath(path))


def read_voc_boxes(path, label="WBC"):
    """Read the boxes of one class from a Pascal VOC annotation file.

    Parameters
    ----------
    path : str or path-like
        The ``.xml`` file (as BCCD ships: ``<object><name>WBC</name>
        <bndbox><xmin>...``).
    label : str or None, default="WBC"
        Keep only objects with this ``<name>`` (surrounding blanks ignored);
        ``None`` keeps every object.

    Returns
    -------
    boxes : ndarray of shape (n_boxes, 4), float64
        ``(row_min, col_min, row_max, col_max)`` in 0-based pixels (VOC
        coordinates are 1-based, hence one is subtracted).

    Raises
    ------
    ValueError
        The file is not valid XML or a box lacks a coordinate (file named).
    OSError
        The file cannot be read.

    See Also
    --------
    read_xyc : Read centroid files.
    localisation_report : Compare detections with these boxes.

    Examples
    --------
    >>> import os, tempfile
    >>> from skleuk.screening import read_voc_boxes
    >>> path = os.path.join(tempfile.mkdtemp(), "a.xml")
    >>> with open(path, "w") as f:
    ...     _ = f.write("<annotation><object><name>WBC</name><bndbox>"
    ...                 "<xmin>11</xmin><ymin>21</ymin><xmax>61</xmax>"
    ...                 "<ymax>81</ymax></bndbox></object></annotation>")
    >>> read_voc_boxes(path)
    array([[20., 10., 80., 60.]])
    """
    path = os.fspath(path)
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as exc:
        raise ValueError(
            f"Cannot read annotation file {path!r}: not valid XML ({exc})."
        ) from None
    except OSError as exc:
        raise OSError(f"Cannot read annotation file {path!r}: {exc}") from exc
    boxes = []
    for obj in root.iter("object"):
        name = (obj.findtext("name") or "").strip()
        if label is not None and name != label:
            continue
        bb = obj.find("bndbox")
        try:
            x0, y0, x1, y1 = (
                float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")
            )
        except (AttributeError, TypeError, ValueError):
            raise ValueError(
                f"Malformed annotation file {path!r}: object {name!r} has no "
                "valid <bndbox> with xmin, ymin, xmax, ymax."
            ) from None
        boxes.append((y0 - 1, x0 - 1, y1 - 1, x1 - 1))
    return np.asarray(boxes, dtype=np.float64).reshape(-1, 4)
