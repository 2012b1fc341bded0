"""Whole-smear screening speed: one 2592x1944 smear file, end to end.

The smear is a mosaic of 4x4 BCCD photographs (640x480: the cell size of an
ALL-IDB1 smear at that resolution), edge-padded to 2592x1944 and written as
JPEG. A :class:`skleuk.screening.SmearScreener` with the default cell
pipeline (trained one epoch on arbitrary labels: only the time counts)
screens it from the file -- read, locate every white cell, crop, classify,
aggregate -- once to warm up, then ``REPEAT`` times; the parts are timed
alone, each the best of ``REPEAT`` runs.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from pathlib import Path

import numpy as np

from ._common import list_table, timed

NEEDS = ("bccd",)
SMEAR_SHAPE = (1944, 2592)
REPEAT = 3


def make_smear(bccd, grid=4):
    """A 2592x1944 uint8 smear of ``grid`` x ``grid`` BCCD photographs; its files."""
    from skleuk.datasets import read_image

    files = sorted((Path(bccd) / "JPEGImages").glob("*.jpg"))[: grid * grid]
    tiles = [read_image(f) for f in files]
    h, w = tiles[0].shape[:2]
    mosaic = np.zeros((grid * h, grid * w, 3), np.uint8)
    for k, t in enumerate(tiles):
        r, c = divmod(k, grid)
        mosaic[r * h : (r + 1) * h, c * w : (c + 1) * w] = t
    ph, pw = SMEAR_SHAPE[0] - mosaic.shape[0], SMEAR_SHAPE[1] - mosaic.shape[1]
    pad = ((ph // 2, ph - ph // 2), (pw // 2, pw - pw // 2), (0, 0))
    return np.pad(mosaic, pad, "edge"), files


def _best(func, repeat):
    times = [timed(func) for _ in range(repeat)]
    return min(t for t, _ in times), times[-1][1]


def run(data, *, quick=False, seed=0):
    """Seconds to screen the smear end to end, and of its parts."""
    from PIL import Image

    from skleuk import make_pipeline
    from skleuk.datasets import read_image
    from skleuk.screening import SmearScreener, locate_white_cells

    repeat = 1 if quick else REPEAT
    smear, files = make_smear(data["bccd"])
    path = Path(tempfile.mkdtemp()) / "smear_2592x1944.jpg"
    Image.fromarray(smear).save(path, quality=95)
    screener = SmearScreener(make_pipeline(cnn__epochs=1, cnn__random_state=seed),
                             aggregation="mean")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        screener.fit([read_image(f) for f in files[:8]], [0, 1] * 4)
    screener.screen([path])  # warm-up (graph tracing)
    end_to_end, result = _best(lambda: screener.screen([path])[0], repeat)
    t_read, image = _best(lambda: read_image(path), repeat)
    t_locate, located = _best(lambda: locate_white_cells(image), repeat)
    side = screener.crop_size
    crops = np.stack([image[:side, :side]] * max(1, len(result.centres)))
    t_classify, _ = _best(lambda: screener.cell_model_.predict_proba(crops), repeat)
    return {"smear_shape": list(SMEAR_SHAPE), "n_cells": int(len(result.centres)),
            "n_located": int(len(located.centres)), "crop_size": side,
            "repeat": repeat, "seconds_end_to_end": end_to_end,
            "seconds_read": t_read, "seconds_locate": t_locate,
            "seconds_classify": t_classify, "cpu_count": os.cpu_count()}


def render(results, out):
    """``screening_speed.rst``: the table of seconds."""
    r = results
    rows = [("end to end, from the file", r["seconds_end_to_end"]),
            ("read and decode the JPEG", r["seconds_read"]),
            ("locate every white cell", r["seconds_locate"]),
            (f"classify {r['n_cells']} crops", r["seconds_classify"])]
    lines = [
        f"One {r['smear_shape'][1]}x{r['smear_shape'][0]} smear (JPEG; 4x4 BCCD "
        f"photographs, {r['n_cells']} white cells found) screened by "
        f"``SmearScreener`` with the default cell pipeline (crops of "
        f"{r['crop_size']} px), each time the best of {r['repeat']} runs on "
        f"{r['cpu_count']} CPU cores shared with other jobs (load average "
        f"{results['load_average'][0]:.1f}; {results['date']}):",
        "", list_table(["step", "seconds"], [[s, f"{t:.2f}"] for s, t in rows]),
    ]
    path = out / "screening_speed.rst"
    path.write_text("\n".join(lines))
    return [path]
