"""The ``.xyc`` annotation file format (ALL-IDB1 blast centroids).

Shared by the ALL-IDB loader (:func:`skleuk.datasets.load_all_idb`) and the
public reader :func:`skleuk.screening.read_xyc`.
"""

from __future__ import annotations

import numpy as np


def _read_xyc(path):
    """Parse an ALL-IDB ``.xyc`` file into an (k, 2) float array of (row, col)."""
    rows = []
    try:
        with open(path, encoding="utf-8-sig", errors="replace") as f:
            lines = f.read().splitlines()
    except OSError as exc:
        raise OSError(f"Cannot read annotation file {path!r}: {exc}") from exc
    for lineno, line in enumerate(lines, 1):
        text = line.strip()
        if not text:
            continue
        parts = text.replace(",", " ").split()
        try:
            if len(parts) != 2:
                raise ValueError
            x, y = float(parts[0]), float(parts[1])
            if not (np.isfinite(x) and np.isfinite(y)) or x < 0 or y < 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"Malformed annotation file {path!r}, line {lineno}: expected two "
                f"non-negative numbers 'x<TAB>y' (a blast centroid), got "
                f"{line!r}."
            ) from None
        rows.append((y, x))
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)
