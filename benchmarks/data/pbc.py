"""PBC normal white cells (Hospital Clinic Barcelona): load, normalise, cut cells.

The folder (``PBC_dataset_normal_DIB``) holds one folder per cell type
(``basophil``, ``eosinophil``, ``erythroblast``, ``ig``, ``lymphocyte``,
``monocyte``, ``neutrophil``, ``platelet``) of CellaVision crops of about
360x363 pixels, the cell in the middle (17,092 images of healthy donors,
CC BY 4.0, Acevedo et al. 2020). No patient is recorded, so every crop is
its own group.

For the cross-source benchmark's *blast vs non-blast white cell* task every
crop of :data:`NON_BLAST_TYPES` (the mature white cells) is a non-blast;
erythroblasts, immature granulocytes (``ig``) and platelets are left out.
There are no blasts: this source tests specificity on another laboratory's
normal cells.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .deepapl import read_crop, sample

NON_BLAST_TYPES = ("lymphocyte", "neutrophil", "monocyte", "eosinophil", "basophil")


def files(path):
    """Paths and cell types of every crop of :data:`NON_BLAST_TYPES`."""
    path = Path(path)
    paths, types = [], []
    for name in NON_BLAST_TYPES:
        found = sorted(p for p in (path / name).glob("*")
                       if p.suffix.lower() in (".jpg", ".jpeg", ".png"))
        paths += found
        types += [name] * len(found)
    if not paths:
        raise FileNotFoundError(f"no <cell type>/*.jpg under {path}: "
                                "not the PBC_dataset_normal_DIB folder")
    return paths, np.array(types)


def load(path, per_class=None, size=64, random_state=0, context=None):
    """Non-blast crops: ``X``, ``y`` (all ``"non-blast"``), ``groups``, ``cell_type``.

    ``per_class`` crops at most are drawn with a seeded generator (the
    source has one class). Each image is the centred square of its crop,
    resized to ``size`` pixels (or, with ``context``, a window of that many
    nucleus diameters: :func:`benchmarks.data.deepapl.read_crop`); its
    group is its file name.
    """
    paths, types = files(path)
    y = np.full(len(paths), "non-blast")
    keep = sample(y, per_class, np.random.default_rng(random_state))
    X = np.stack([read_crop(paths[i], size, context) for i in keep])
    return {"X": X, "y": y[keep], "groups": np.array([paths[i].stem for i in keep]),
            "cell_type": types[keep]}
