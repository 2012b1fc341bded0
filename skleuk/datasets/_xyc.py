"""ALL_IDB1 blast annotations: the ``.xyc`` files beside the smears."""

from __future__ import annotations

import os
import warnings
from collections import defaultdict

import numpy as np

from ..utils._xyc import _read_xyc
from ._base import depth, few, list_files, same_content

__all__ = []


def _load_centroids(records, search_roots, root):
    """Find and parse the .xyc file of every ALL_IDB1 image."""
    roots = set(search_roots) | {root}
    for _, _, path in records:
        folder = os.path.dirname(path)
        roots.add(folder)
        roots.add(os.path.dirname(folder))
    # Walk only the outermost roots.
    roots = sorted(roots, key=len)
    outer = []
    for r in roots:
        if not any(r == o or r.startswith(o.rstrip(os.sep) + os.sep) for o in outer):
            outer.append(r)
    index = defaultdict(list)
    for r in outer:
        for f in list_files(r)[0]:
            if f.lower().endswith(".xyc"):
                stem = os.path.splitext(os.path.basename(f))[0].lower()
                index[stem].append(f)

    centroids = []
    missing_pos, missing_neg, contradicting = [], [], []
    for _, label, path in records:
        stem = os.path.splitext(os.path.basename(path))[0].lower()
        candidates = sorted(set(index.get(stem, [])), key=lambda p: (depth(p), p))
        if not candidates:
            if label == 1:
                missing_pos.append(os.path.basename(path))
                centroids.append(None)
            else:
                missing_neg.append(os.path.basename(path))
                centroids.append(np.empty((0, 2), dtype=np.float64))
            continue
        if len(candidates) > 1 and not same_content(candidates):
            raise ValueError(
                f"Annotation file {stem}.xyc appears in {len(candidates)} places "
                f"with different content: {few(candidates, 5)}. Point `path` at "
                "one copy of the data set."
            )
        c = _read_xyc(candidates[0])
        if label == 0 and len(c):
            contradicting.append(os.path.basename(candidates[0]))
        centroids.append(c)
    if missing_pos:
        warnings.warn(
            f"No .xyc annotation file found for {len(missing_pos)} ALL_IDB1 "
            f"image(s) labelled Y=1 (e.g. {few(missing_pos)}): their blast "
            "centroids are unknown and set to None (extract_cells skips these "
            f"smears). Searched below {few(outer)}.",
            UserWarning,
            stacklevel=3,
        )
    if contradicting:
        warnings.warn(
            f"{len(contradicting)} .xyc file(s) of healthy (Y=0) images list blast "
            f"centroids ({few(contradicting)}); in ALL-IDB they are empty. The "
            "centroids are returned as found.",
            UserWarning,
            stacklevel=3,
        )
    return centroids, missing_pos, missing_neg
