"""DeepAPL single-cell crops (Johns Hopkins): load, normalise, cut cells, groups.

The folder (``Data/All`` of the DeepAPL release) holds one folder per
patient, ``<patient>/Signed slides/<cell type>/*.jpg``: CellaVision crops of
about 360x363 pixels with the white cell in the middle. ``Unsigned slides``
(not reviewed by a pathologist) are skipped. The patient is the
cross-validation group. About 33 file names appear under two cell types of
one patient: every copy of them is dropped (their label is ambiguous).

The common task of the cross-source benchmark is *blast vs non-blast white
cell*: ``"Blast, no lineage spec"`` (myeloid blasts) against the mature
white cells of :data:`NON_BLAST_TYPES`; the other folders (smudge cells,
platelets, erythroblasts, immature granulocytes, artefacts...) are left out.
No licence grant: development use only, nothing derived from it is
committed.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

BLAST_TYPES = ("Blast, no lineage spec",)
#: Mature white cells: the non-blast class of the common task.
NON_BLAST_TYPES = (
    "Lymphocyte",
    "Lymphocyte, variant",
    "Segmented neutrophils",
    "Band neutrophils",
    "Monocyte",
    "Eosinophils",
    "Basophil",
)


def files(path):
    """Every usable crop: ``(paths, cell types, patients)``, sorted.

    Crops whose file name appears under two cell types of one patient are
    dropped (all copies).
    """
    path = Path(path)
    found = sorted(path.glob("*/Signed slides/*/*"))
    found = [p for p in found if p.suffix.lower() in (".jpg", ".jpeg", ".png")]
    if not found:
        raise FileNotFoundError(f"no <patient>/Signed slides/<cell type>/*.jpg under "
                                f"{path}: not DeepAPL's Data/All folder")
    keys = Counter((p.parts[-4], p.name) for p in found)
    found = [p for p in found if keys[(p.parts[-4], p.name)] == 1]
    return (found, np.array([p.parts[-2] for p in found]),
            np.array([p.parts[-4] for p in found]))


def read_crop(file, size, context=None):
    """A square of a crop, resized to ``size`` pixels (uint8 RGB).

    ``context=None``: the centred square of the crop (the cell with its
    neighbourhood as CellaVision framed it). A number: a square of
    ``context`` times the equivalent diameter of the largest white-cell
    nucleus (:func:`skleuk.preprocessing.locate_white_cells`) around it,
    reflect-padded beyond the crop -- the same cell size in every source.
    """
    from PIL import Image

    with Image.open(file) as im:
        im = im.convert("RGB")
        if context is not None:
            return cell_window(np.asarray(im), size, context)
        w, h = im.size
        s = min(w, h)
        left, top = (w - s) // 2, (h - s) // 2
        im = im.crop((left, top, left + s, top + s))
        return np.asarray(im.resize((size, size), Image.Resampling.LANCZOS))


def cell_window(image, size, context, centre=None, diameter=None):
    """A window of ``context`` nucleus diameters around a white cell.

    ``centre``/``diameter`` default to the largest nucleus that
    :func:`skleuk.preprocessing.locate_white_cells` finds (the image's centre
    and a third of its shorter side when none is found).
    """
    from PIL import Image

    if centre is None or diameter is None:
        from skleuk.preprocessing import locate_white_cells

        found = locate_white_cells(image, split=False)
        centres, areas = found.centres, found.nucleus_areas
        if len(areas):
            k = int(np.argmax(areas))
            centre, diameter = centres[k], 2 * np.sqrt(areas[k] / np.pi)
        else:
            centre = (image.shape[0] / 2, image.shape[1] / 2)
            diameter = min(image.shape[:2]) / 3
    half = max(2, int(round(context * diameter / 2)))
    pad = np.pad(image, ((half, half), (half, half), (0, 0)), mode="reflect")
    r, c = (int(round(v)) for v in centre)
    win = pad[r : r + 2 * half, c : c + 2 * half]
    win = Image.fromarray(win).resize((size, size), Image.Resampling.LANCZOS)
    return np.asarray(win)


def sample(labels, per_class, rng):
    """Indices of at most ``per_class`` samples of each label, sorted."""
    keep = []
    for label in np.unique(labels):
        idx = np.flatnonzero(labels == label)
        if per_class is not None and per_class < len(idx):
            idx = rng.choice(idx, per_class, replace=False)
        keep.append(idx)
    return np.sort(np.concatenate(keep))


def load(path, per_class=None, size=64, random_state=0, context=None):
    """Blast and non-blast crops of the common task.

    Parameters
    ----------
    path : path-like
        DeepAPL's ``Data/All`` folder.
    per_class : int or None
        At most this many crops of each class (blast, non-blast), drawn with
        a seeded generator; None: all.
    size : int
        Side of the returned images (the centred square of each crop,
        resized).
    random_state : int
        Seed of the draw.
    context : float or None
        None: the centred square of each crop; a number: a window of that
        many nucleus diameters around the cell (:func:`read_crop`).

    Returns
    -------
    dict
        ``X`` uint8 ``(n, size, size, 3)``, ``y`` (``"blast"`` /
        ``"non-blast"``), ``groups`` (the patient), ``cell_type``.
    """
    paths, types, patients = files(path)
    use = np.isin(types, BLAST_TYPES + NON_BLAST_TYPES)
    paths = [p for p, u in zip(paths, use, strict=True) if u]
    types, patients = types[use], patients[use]
    y = np.where(np.isin(types, BLAST_TYPES), "blast", "non-blast")
    keep = sample(y, per_class, np.random.default_rng(random_state))
    X = np.stack([read_crop(paths[i], size, context) for i in keep])
    return {"X": X, "y": y[keep], "groups": patients[keep], "cell_type": types[keep]}
