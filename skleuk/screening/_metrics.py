"""Precision and recall of detected cells against point or box annotations."""

from __future__ import annotations

from numbers import Real

import numpy as np
from scipy.optimize import linear_sum_assignment

__all__ = ["localisation_report", "match_detections"]


def _as_points(a, name, image):
    """(k, 2) centres and, for (k, 4) boxes, (k,) radii (else None)."""
    a = np.asarray(a, dtype=np.float64)
    if a.size == 0:
        return np.empty((0, 2)), np.empty(0)
    if a.ndim != 2 or a.shape[1] not in (2, 4) or not np.isfinite(a).all():
        raise ValueError(
            f"{name}[{image}]: expected finite (row, col) centres of shape "
            f"(n, 2) or boxes (row_min, col_min, row_max, col_max) of shape "
            f"(n, 4), got shape {a.shape}."
        )
    if a.shape[1] == 2:
        return a, None
    centres = np.c_[(a[:, 0] + a[:, 2]) / 2.0, (a[:, 1] + a[:, 3]) / 2.0]
    radii = np.maximum(a[:, 2] - a[:, 0], a[:, 3] - a[:, 1]) / 2.0
    return centres, radii


def _per_image(y, name):
    """A list of per-image arrays (a single 2-D array is one image)."""
    if isinstance(y, np.ndarray) and y.dtype != object and y.ndim == 2:
        return [y]
    try:
        return list(y)
    except TypeError:
        raise TypeError(
            f"{name} must be a list with one array of centres or boxes per image "
            f"(or one 2-D array for a single image), got {type(y).__name__}."
        ) from None


def match_detections(true, pred, radius):
    """One-to-one matching of detections to annotations within a radius.

    Parameters
    ----------
    true : array-like of shape (n_true, 2)
        Annotated centres ``(row, col)``.
    pred : array-like of shape (n_pred, 2)
        Detected centres ``(row, col)``.
    radius : float or array-like of shape (n_true,)
        A detection may match an annotation only when its centre lies within
        this distance of it (one value per annotation, or one for all).

    Returns
    -------
    pairs : ndarray of shape (n_matched, 2), int
        ``(index into true, index into pred)`` of each matched pair. The
        matching maximises the number of pairs, then minimises their total
        distance (Hungarian algorithm,
        :func:`scipy.optimize.linear_sum_assignment`).

    See Also
    --------
    localisation_report : Precision, recall and F1 over many images.

    Examples
    --------
    >>> from skleuk.screening import match_detections
    >>> match_detections([[10, 10], [50, 50]], [[12, 11], [90, 90]], 5)
    array([[0, 0]])
    """
    true = np.asarray(true, dtype=np.float64).reshape(-1, 2)
    pred = np.asarray(pred, dtype=np.float64).reshape(-1, 2)
    if not len(true) or not len(pred):
        return np.empty((0, 2), dtype=np.intp)
    radius = np.broadcast_to(np.asarray(radius, dtype=np.float64), (len(true),))
    d = np.linalg.norm(true[:, None, :] - pred[None, :, :], axis=-1)
    ok = d <= radius[:, None]
    # Any admissible pair costs less than every inadmissible one, so the
    # number of matches is maximised first, the distance second.
    big = 1.0 + len(true) * (float(d[ok].max()) if ok.any() else 1.0)
    cost = np.where(ok, d, big * 10.0)
    rows, cols = linear_sum_assignment(cost)
    keep = ok[rows, cols]
    return np.c_[rows[keep], cols[keep]].astype(np.intp)


def localisation_report(y_true, y_pred, *, radius=None, unit="pixels",
                        cell_diameter=None):
    """Precision, recall, F1 and count error of detected cells.

    Each annotation matches at most one detection and each detection at most
    one annotation (one-to-one, Hungarian algorithm:
    :func:`match_detections`), within a radius of the annotated centre: a
    cluster found as one detection counts once, however many cells it
    holds. Unmatched detections are false positives, unmatched annotations
    false negatives, pooled over all images. The count error of an image is
    its number of detections minus its number of annotations.

    Parameters
    ----------
    y_true : list of array-like
        Per image, the annotated cells: centres ``(n, 2)`` as ``(row,
        col)`` (e.g. from :func:`read_xyc`) or boxes ``(n, 4)`` as
        ``(row_min, col_min, row_max, col_max)`` (e.g. from
        :func:`read_voc_boxes`). A single 2-D array is one image.
    y_pred : list of array-like
        Per image, the detected cells, centres or boxes (the box centre is
        used), in the same order as ``y_true``.
    radius : float or None, default=None
        The matching radius, in ``unit``. ``None``: half a cell diameter
        (with ``unit="pixels"`` and boxes: half the longer side of each
        annotated box, the same; with centres ``radius`` or
        ``unit="diameter"`` with ``cell_diameter`` is required).
    unit : {"pixels", "diameter"}, default="pixels"
        ``"diameter"``: ``radius`` is a fraction of the cell diameter --
        the longer side of each annotated box, or ``cell_diameter``.
    cell_diameter : float, array-like or None, default=None
        The cell diameter in pixels for centre annotations with
        ``unit="diameter"``: one value, or one per image (e.g. twice the
        median radius that :func:`locate_white_cells` finds in it).

    Returns
    -------
    report : dict
        ``precision``, ``recall``, ``f1`` (floats; 0.0 where undefined),
        ``n_true``, ``n_pred``, ``n_matched`` (ints), the count error over
        images: ``count_error_median_abs`` (median of ``|n_pred - n_true|``),
        ``count_error_mean`` (signed mean: negative when cells are missed
        or clusters found as one) and ``count_exact`` (fraction of images
        counted exactly), and ``per_image``: a list of dicts with
        ``n_true``, ``n_pred``, ``n_matched``, ``count_error``, ``pairs``
        (matched ``(true, pred)`` index pairs), ``missed`` (indices of
        unmatched annotations) and ``false`` (indices of unmatched
        detections).

    Raises
    ------
    ValueError
        Different numbers of images, arrays of the wrong shape, centres
        without a radius or cell diameter, a bad ``unit``.

    See Also
    --------
    match_detections : The matching of one image.
    locate_white_cells : Detect every white cell of a smear.

    Examples
    --------
    >>> from skleuk.screening import localisation_report
    >>> truth = [[[0, 0, 20, 20]], [[40, 40, 60, 60], [0, 0, 20, 20]]]
    >>> found = [[[9, 11]], [[51, 49], [80, 80]]]
    >>> report = localisation_report(truth, found)
    >>> report["precision"], report["recall"], report["n_matched"]
    (0.6666666666666666, 0.6666666666666666, 2)

    Two touching cells found as one: recall 1/2, count error -1.

    >>> report = localisation_report([[[10, 10], [10, 30]]], [[[10, 19]]],
    ...                              radius=0.5, unit="diameter", cell_diameter=20)
    >>> report["recall"], report["count_error_mean"]
    (0.5, -1.0)
    """
    if radius is not None and (
        isinstance(radius, bool) or not isinstance(radius, Real) or radius <= 0
    ):
        raise ValueError(f"radius must be None or a positive number, got {radius!r}.")
    if unit not in ("pixels", "diameter"):
        raise ValueError(f"unit must be 'pixels' or 'diameter', got {unit!r}.")
    y_true = _per_image(y_true, "y_true")
    y_pred = _per_image(y_pred, "y_pred")
    if len(y_true) != len(y_pred):
        raise ValueError(
            f"y_true holds {len(y_true)} image(s) but y_pred {len(y_pred)}: give "
            "one array of cells per image in both (an empty one for no cell)."
        )
    diameters = None
    if cell_diameter is not None:
        diameters = np.broadcast_to(
            np.asarray(cell_diameter, dtype=np.float64), (len(y_true),)
        )
        if not (np.isfinite(diameters) & (diameters > 0)).all():
            raise ValueError(
                f"cell_diameter must be positive and finite, got {cell_diameter!r}."
            )
    per_image = []
    n_true = n_pred = n_matched = 0
    for i, (t, p) in enumerate(zip(y_true, y_pred, strict=True)):
        tc, tr = _as_points(t, "y_true", i)
        pc, _ = _as_points(p, "y_pred", i)
        if unit == "pixels" and radius is not None:
            r = float(radius)
        else:
            fraction = 0.5 if radius is None else float(radius)
            if diameters is not None:
                r = fraction * diameters[i]
            elif tr is not None:
                r = fraction * 2.0 * tr
            elif len(tc):
                raise ValueError(
                    f"y_true[{i}] holds centres, not boxes: pass radius= (in "
                    "pixels) or unit='diameter' with cell_diameter= (the cell "
                    "diameter in pixels) to say how close a detection must be."
                )
            else:
                r = 0.0
        pairs = match_detections(tc, pc, r)
        per_image.append(
            {
                "n_true": len(tc),
                "n_pred": len(pc),
                "n_matched": len(pairs),
                "count_error": len(pc) - len(tc),
                "pairs": pairs,
                "missed": np.setdiff1d(np.arange(len(tc)), pairs[:, 0]),
                "false": np.setdiff1d(np.arange(len(pc)), pairs[:, 1]),
            }
        )
        n_true += len(tc)
        n_pred += len(pc)
        n_matched += len(pairs)
    precision = n_matched / n_pred if n_pred else 0.0
    recall = n_matched / n_true if n_true else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    errors = np.array([im["count_error"] for im in per_image], dtype=np.float64)
    if not errors.size:
        errors = np.zeros(1)
    return {
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "n_true": int(n_true),
        "n_pred": int(n_pred),
        "n_matched": int(n_matched),
        "count_error_median_abs": float(np.median(np.abs(errors))),
        "count_error_mean": float(errors.mean()),
        "count_exact": float(np.mean(errors == 0)),
        "per_image": per_image,
    }
