"""Single-cell crops from ALL_IDB1 smears."""

from __future__ import annotations

import os
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.utils import Bunch, check_random_state

from ..utils._image_io import read_image
from ._all_idb import TARGET_NAMES, load_all_idb
from ._base import check_pad_mode, finish

__all__ = ["extract_cells"]


def _crop(padded, margin, center, crop_size):
    """Crop ``crop_size`` square centred on ``center`` from a padded image."""
    r0 = int(np.floor(center[0] + 0.5)) - crop_size // 2 + margin
    c0 = int(np.floor(center[1] + 0.5)) - crop_size // 2 + margin
    return padded[r0 : r0 + crop_size, c0 : c0 + crop_size]


def _touches_border(shape, center, crop_size):
    r0 = int(np.floor(center[0] + 0.5)) - crop_size // 2
    c0 = int(np.floor(center[1] + 0.5)) - crop_size // 2
    return r0 < 0 or c0 < 0 or r0 + crop_size > shape[0] or c0 + crop_size > shape[1]


def _check_smears(smears):
    if isinstance(smears, (str, os.PathLike)):
        return load_all_idb(smears, subset="ALL_IDB1", return_images=False)
    required = ("filenames", "target", "centroids")
    if not all(
        hasattr(smears, k) or (isinstance(smears, dict) and k in smears)
        for k in required
    ):
        raise TypeError(
            "smears must be the folder of an ALL_IDB1 copy or the Bunch returned "
            "by load_all_idb(path, subset='ALL_IDB1') (with filenames, target and "
            f"centroids); got {type(smears).__name__}."
        )
    if not (
        len(smears["filenames"]) == len(smears["target"]) == len(smears["centroids"])
    ):
        raise ValueError(
            "smears.filenames, smears.target and smears.centroids must have the "
            "same length."
        )
    return smears


_TITLE = (
    "ALL_IDB1 single-cell crops\n--------------------------\n\n"
    "Crops centred on annotated blasts (target 1) and on other white "
    "cells found by segmentation (target 0), cut from the ALL_IDB1 "
    "smears. Crops of the same smear must stay in one fold: use "
    "`groups`.\n\n"
)


def _check_params(
    crop_size, negatives, max_negatives_per_image, min_distance, pad_mode
):
    """Validate extract_cells' parameters; return the ``min_distance`` used."""
    if (
        isinstance(crop_size, bool)
        or not isinstance(crop_size, Integral)
        or crop_size < 2
    ):
        raise ValueError(f"crop_size must be an int >= 2, got {crop_size!r}.")
    if negatives not in ("auto", "none"):
        raise ValueError(f"negatives must be 'auto' or 'none', got {negatives!r}.")
    if max_negatives_per_image is not None and (
        isinstance(max_negatives_per_image, bool)
        or not isinstance(max_negatives_per_image, Integral)
        or max_negatives_per_image < 0
    ):
        raise ValueError(
            "max_negatives_per_image must be None or an int >= 0, got "
            f"{max_negatives_per_image!r}."
        )
    check_pad_mode(pad_mode)
    if min_distance is None:
        return crop_size / 2
    if (
        isinstance(min_distance, bool)
        or not isinstance(min_distance, Real)
        or (min_distance < 0)
    ):
        raise ValueError(f"min_distance must be None or >= 0, got {min_distance!r}.")
    return min_distance


def _inside(cents, h, w, path):
    """The centroids inside the ``h x w`` smear; warn about the others."""
    inside = (
        (cents[:, 0] >= 0) & (cents[:, 0] < h) & (cents[:, 1] >= 0) & (cents[:, 1] < w)
    )
    if not inside.all():
        warnings.warn(
            f"{int((~inside).sum())} blast centroid(s) of {str(path)!r} lie "
            f"outside the {w}x{h} image and were skipped (wrong .xyc file?).",
            UserWarning,
            stacklevel=3,
        )
    return cents[inside]


def _negatives(image, cents, detector_params, min_distance, max_negatives, rng):
    """Centres of the white cells of ``image`` that are not annotated blasts,
    and how many detected cells were dropped for lying near one."""
    from ..preprocessing import locate_white_cells

    found = locate_white_cells(image, **detector_params).centres
    found = np.asarray(found, dtype=np.float64).reshape(-1, 2)
    n_excluded = 0
    if len(found) and len(cents):
        d = np.linalg.norm(found[:, None, :] - cents[None, :, :], axis=-1)
        keep = d.min(axis=1) >= min_distance
        n_excluded = int((~keep).sum())
        found = found[keep]
    if max_negatives is not None and len(found) > max_negatives:
        pick = rng.choice(len(found), max_negatives, replace=False)
        found = found[np.sort(pick)]
    return found, n_excluded


def _pad(image, margin, pad_mode):
    """``image`` padded by ``margin`` on every side (constant: white)."""
    width = ((margin, margin), (margin, margin), (0, 0))
    if pad_mode == "constant":
        return np.pad(image, width, mode="constant", constant_values=255)
    return np.pad(image, width, mode=pad_mode)


def _check_found(crops, skipped_unknown, negatives):
    """Warn about skipped ALL smears; raise when nothing was cut."""
    if skipped_unknown:
        warnings.warn(
            f"{len(skipped_unknown)} ALL smear(s) without blast annotations were "
            f"skipped (e.g. {', '.join(skipped_unknown[:3])}): without blast "
            "centroids neither positives nor safe negatives can be cut.",
            UserWarning,
            stacklevel=3,
        )
    if not crops:
        raise ValueError(
            "No cell crops could be extracted: no smear has usable blast "
            "centroids" + (" or detected white cells." if negatives == "auto" else ".")
        )


def extract_cells(
    smears,
    *,
    crop_size=257,
    negatives="auto",
    max_negatives_per_image=None,
    min_distance=None,
    pad_mode="reflect",
    random_state=None,
    detector_params=None,
    verbose=False,
):
    """Cut single-cell crops from ALL_IDB1 smears: blasts and other white cells.

    Positives (target 1, "ALL") are crops centred on the annotated blast
    centroids of the ``.xyc`` files. Negatives (target 0, "healthy") are
    crops centred on the other white cells that
    :func:`skleuk.preprocessing.locate_white_cells` finds in each
    smear: every white cell of a healthy (Y=0) smear, and in ALL smears the
    white cells farther than ``min_distance`` from every annotated blast.
    The result is the cell-level counterpart of ALL_IDB2 (which was cut from
    the same smears), with many more cells.

    Parameters
    ----------
    smears : str, path-like or Bunch
        A folder holding ALL_IDB1 (loaded with
        ``load_all_idb(path, subset="ALL_IDB1", return_images=False)``), or
        the Bunch such a call returned (``filenames``, ``target``,
        ``centroids``). Smears are read one at a time at full resolution.
    crop_size : int, default=257
        Side of the square crops, in pixels of the original smear. At ALL_IDB1
        magnification a blast is about 100-150 px across in a 2592x1944
        smear, and ALL_IDB2 was cut from these smears as 257x257 crops: the
        default makes crops framed like ALL_IDB2 (one cell plus surrounding
        red cells). The 1712x1368 smears (Im001-Im033) are used as they are,
        without rescaling.
    negatives : {"auto", "none"}, default="auto"
        ``"auto"``: add the non-blast white cells found by the segmentation
        step as negatives. ``"none"``: only blast crops.
    max_negatives_per_image : int or None, default=None
        Keep at most this many negatives per smear, drawn at random with
        ``random_state``; ``None`` keeps all.
    min_distance : float or None, default=None
        A detected white cell closer than this (in pixels) to an annotated
        blast is taken to be that blast and is not used as a negative.
        ``None``: ``crop_size / 2`` (about one blast diameter).
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        How crops that reach past the smear border are completed (``numpy.pad``
        mode; ``"constant"`` pads with white). Such crops are kept and
        flagged in ``padded``, never silently dropped.
    random_state : int, RandomState instance or None, default=None
        Controls the choice of negatives with ``max_negatives_per_image``.
    detector_params : dict or None, default=None
        Keyword arguments for ``locate_white_cells``, added to (and overriding)
        the defaults for whole ALL_IDB1 smears: ``min_area`` of
        ``(0.15 * crop_size) ** 2`` pixels (about 1500 px for 257, smaller
        than any white-cell nucleus at this magnification, larger than
        platelets) and ``work_size=512``.
    verbose : bool, default=False
        Print a summary.

    Returns
    -------
    cells : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with:

        images : ndarray of shape (n_cells, crop_size, crop_size, 3), uint8
            The crops, smear by smear, blasts first within a smear.
        target : ndarray of int, shape (n_cells,)
            1 for an annotated blast in the centre, 0 for another white cell.
        target_names : list of str
            ``["healthy", "ALL"]``, as ALL_IDB2 (1: the centre cell is a blast).
        groups : ndarray of int, shape (n_cells,)
            Index of the source smear in ``smears.filenames``. Crops of one
            smear share cells, background and patient: pass ``groups`` to
            :class:`~sklearn.model_selection.GroupKFold` or
            :class:`~sklearn.model_selection.StratifiedGroupKFold` so that all
            crops of a smear stay in one fold.
        source : ndarray of str, shape (n_cells,)
            File name of the source smear of each crop.
        center : ndarray of shape (n_cells, 2), float64
            Crop centre ``(row, col)`` in pixels of the source smear.
        padded : ndarray of bool, shape (n_cells,)
            Whether the crop reached past the smear border and was padded.
        DESCR : str
            What was extracted and skipped.

    Raises
    ------
    ValueError
        If no cell could be extracted.

    Warns
    -----
    UserWarning
        For ALL smears with unknown centroids (no ``.xyc`` file, or an empty
        one; the smear is skipped because its white cells could be
        unannotated blasts) and for
        centroids outside their smear (skipped).

    See Also
    --------
    load_all_idb : Loads the smears and their centroids.
    skleuk.model_selection.find_duplicate_groups : Group near-duplicate crops.

    Notes
    -----
    Negatives in ALL smears assume the ``.xyc`` files list every blast; an
    unannotated blast would become a negative. The default ``min_distance``
    also drops a normal white cell touching a blast (its crop would show the
    blast too). Crops of neighbouring cells overlap: always split by
    ``groups``.

    Examples
    --------
    A synthetic stand-in for an ALL_IDB1 Bunch (one smear, one blast):

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from sklearn.utils import Bunch
    >>> from skleuk.datasets import extract_cells
    >>> path = os.path.join(tempfile.mkdtemp(), "Im001_1.jpg")
    >>> Image.fromarray(np.full((120, 160, 3), 220, np.uint8)).save(path)
    >>> smears = Bunch(filenames=np.array([path]), target=np.array([1]),
    ...                centroids=[np.array([[60.0, 80.0]])])
    >>> cells = extract_cells(smears, crop_size=32, negatives="none")
    >>> cells.images.shape, cells.target.tolist(), cells.groups.tolist()
    ((1, 32, 32, 3), [1], [0])
    """
    min_distance = _check_params(
        crop_size, negatives, max_negatives_per_image, min_distance, pad_mode
    )
    smears = _check_smears(smears)
    rng = check_random_state(random_state)
    detector_params = {
        "min_area": int(round((0.15 * crop_size) ** 2)),
        "work_size": 512,
        **(detector_params or {}),
    }
    crop_size = int(crop_size)
    margin = crop_size // 2 + 1
    crops, target, groups, source, centers, padded = [], [], [], [], [], []
    skipped_unknown, skipped_outside, n_excluded = [], 0, 0
    for i, (path, label, cents) in enumerate(
        zip(smears["filenames"], smears["target"], smears["centroids"], strict=True)
    ):
        if cents is not None:
            cents = np.asarray(cents, dtype=np.float64).reshape(-1, 2)
        if cents is None or (label == 1 and not len(cents)):
            # An ALL smear without (or with empty) annotations: its white
            # cells could be unannotated blasts, so nothing is cut from it.
            skipped_unknown.append(os.path.basename(str(path)))
            continue
        image = read_image(path)
        h, w = image.shape[:2]
        positives = _inside(cents, h, w, path)
        skipped_outside += len(cents) - len(positives)
        negs = np.empty((0, 2))
        if negatives == "auto":
            negs, excluded = _negatives(
                image,
                cents,
                detector_params,
                min_distance,
                max_negatives_per_image,
                rng,
            )
            n_excluded += excluded
        centres = np.concatenate([positives, negs])
        if not len(centres):
            continue
        padded_image = _pad(image, margin, pad_mode)
        for c in centres:
            crops.append(_crop(padded_image, margin, c, crop_size))
            padded.append(_touches_border((h, w), c, crop_size))
        centers.append(centres)
        target.extend([1] * len(positives) + [0] * len(negs))
        groups.extend([i] * len(centres))
        source.extend([str(path)] * len(centres))
    _check_found(crops, skipped_unknown, negatives)
    target = np.asarray(target, dtype=np.int64)
    n_pos = int(target.sum())
    text = (
        f"{len(target)} crops of {crop_size}x{crop_size} px from "
        f"{len(set(groups))} smears: {n_pos} annotated blasts (target 1) and "
        f"{len(target) - n_pos} other white cells (target 0); "
        f"{int(np.sum(padded))} crops reach past the smear border and were padded "
        f"({pad_mode}); {n_excluded} detected cells within {min_distance:g} px of a "
        f"blast were not used as negatives; {len(skipped_unknown)} smears without "
        f"centroids and {skipped_outside} centroids outside their image skipped."
    )
    bunch = Bunch(
        images=np.ascontiguousarray(np.stack(crops)),
        target=target,
        target_names=list(TARGET_NAMES),
        groups=np.asarray(groups, dtype=np.int64),
        source=np.asarray(source),
        center=np.concatenate(centers).astype(np.float64),
        padded=np.asarray(padded, dtype=bool),
    )
    return finish(bunch, title=_TITLE, text=text, verbose=verbose)
