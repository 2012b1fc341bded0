"""Why an image gets no answer: the simple checks before any classifier.

A classifier answers every input, also an all-white page, a black frame, a
1x1 pixel or noise, and often confidently. :func:`referral_reason` says
when an image is not something a cell or smear model can answer: too
small, blank, or without any white cell that the package's detector
(:func:`locate_white_cells`) finds -- with a hint when the image is
grey-level, since the detector needs colour. ``skleuk predict`` and
``skleuk screen`` refer such images ("referred: <reason>") instead of giving
them a class.

These checks are deliberately simple and rule-based: they catch inputs
that are not smears at all. Images of real smears from another laboratory
pass them; telling how far such an image is from the training data is the
job of a learned familiarity score, which can be combined with these
checks (refer when either says so).
"""

from __future__ import annotations

import numpy as np

from ._screener import NO_CELL_VERDICT

__all__ = ["referral_reason", "referral_reasons"]

#: Smallest side, in pixels, of an image that is checked for cells at all.
MIN_SIDE = 16

#: Largest spread of pixel values (0-255 levels) still called blank, and
#: largest difference between colour channels still called grey-level:
#: JPEG noise on a flat or grey image stays within it.
_FLAT_LEVELS = 3


def _as_uint8(image):
    image = np.asarray(image)
    if image.dtype == np.uint8:
        return image
    if image.dtype == bool:
        return image.astype(np.uint8) * np.uint8(255)
    return np.round(np.clip(image.astype(np.float64), 0, 1) * 255).astype(np.uint8)


def _is_grey_level(image):
    """Whether the three colour channels of ``image`` are (nearly) equal."""
    im = _as_uint8(image).astype(np.int16)
    if im.ndim != 3 or im.shape[-1] < 3:
        return True
    spread = max(int(np.abs(im[..., 0] - im[..., 1]).max()),
                 int(np.abs(im[..., 1] - im[..., 2]).max()))
    return spread <= _FLAT_LEVELS


def referral_reason(image, *, min_size=MIN_SIDE, n_cells=None,
                    locate_params=None):
    """Why ``image`` should be referred rather than classified, or None.

    The checks, in order: the image is at least ``min_size`` pixels on
    each side; it is not blank (every pixel within three levels of one
    colour); and it holds at least one white cell -- found by
    :func:`locate_white_cells`, or as the caller says (``n_cells``). A
    grey-level image without a cell gets a hint: the detector looks for
    the stain's colour.

    Parameters
    ----------
    image : array-like of shape (height, width, 3)
        One RGB image, ``uint8`` or float in ``[0, 1]``.
    min_size : int, default=16
        Smallest height and width checked for cells.
    n_cells : int or None, default=None
        How many white cells the caller found in ``image`` (e.g. a
        :meth:`SmearScreener.screen` result's): the detector is not run
        again. ``None``: run it.
    locate_params : dict or None, default=None
        Keyword arguments of :func:`locate_white_cells`. Its ``split``
        defaults to ``False`` here: separating touching cells changes how
        many cells are found, never whether one is.

    Returns
    -------
    reason : str or None
        ``None`` when the image passes; else a short reason such as
        ``"too small: 1x1 pixels"``, ``"blank image"`` or
        ``"no white cell found"``.

    See Also
    --------
    locate_white_cells : The detector behind the cell check.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.screening import referral_reason
    >>> referral_reason(np.full((64, 64, 3), 255, np.uint8))
    'blank image: every pixel is (255, 255, 255)'
    >>> referral_reason(np.zeros((1, 1, 3), np.uint8))
    'too small: 1x1 pixels (at least 16 per side)'
    >>> rng = np.random.default_rng(0)
    >>> referral_reason(rng.integers(0, 256, (64, 64, 3), dtype=np.uint8))
    'no white cell found'
    >>> referral_reason(np.full((64, 64, 3), 128, np.uint8) + rng.integers(
    ...     0, 9, (64, 64, 1), dtype=np.uint8), n_cells=0)
    'no white cell found (grey-level image: the white-cell detector needs colour)'
    """
    image = _as_rgb(image)
    reason = _simple_reason(image, min_size)
    if reason is not None:
        return reason
    if n_cells is None:
        n_cells = int(_cells_found([image], locate_params)[0])
    return None if n_cells else _no_cell_reason(image)


def referral_reasons(images, *, min_size=MIN_SIDE, locate_params=None):
    """:func:`referral_reason` of each of several images, in one pass.

    The same answers as ``[referral_reason(im, ...) for im in images]``,
    but the white-cell check runs once over all images of one size (the
    detector's batched segmentation), not image by image: what
    ``skleuk predict`` uses on each batch of files.

    Parameters
    ----------
    images : sequence of array-like of shape (height, width, 3)
        RGB images, ``uint8`` or float in ``[0, 1]``; sizes may differ.
    min_size : int, default=16
        Smallest height and width checked for cells.
    locate_params : dict or None, default=None
        Keyword arguments of :func:`locate_white_cells`, as in
        :func:`referral_reason`.

    Returns
    -------
    reasons : list of (str or None)
        Per image, ``None`` when it passes, else the reason.

    See Also
    --------
    referral_reason : The checks, for one image.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.screening import referral_reasons
    >>> rng = np.random.default_rng(0)
    >>> referral_reasons([np.zeros((8, 8, 3), np.uint8),
    ...                   rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)])
    ['too small: 8x8 pixels (at least 16 per side)', 'no white cell found']
    """
    images = [_as_rgb(im) for im in images]
    reasons = [_simple_reason(im, min_size) for im in images]
    todo = [i for i, r in enumerate(reasons) if r is None]
    if todo:
        found = _cells_found([images[i] for i in todo], locate_params)
        for i, ok in zip(todo, found, strict=True):
            if not ok:
                reasons[i] = _no_cell_reason(images[i])
    return reasons


def _as_rgb(image):
    image = _as_uint8(image)
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=-1)
    return image


def _simple_reason(image, min_size):
    """Too small or blank (None: the cell check decides)."""
    h, w = image.shape[:2]
    if min(h, w) < min_size:
        return f"too small: {h}x{w} pixels (at least {min_size} per side)"
    # Per channel, over contiguous rows (a reduction over the interleaved
    # channels of an (h, w, 3) array is ten times slower).
    channels = np.ascontiguousarray(image.reshape(h * w, -1).T)
    lo = channels.min(axis=1).astype(int)
    hi = channels.max(axis=1).astype(int)
    if int((hi - lo).max()) <= _FLAT_LEVELS:
        colour = tuple(int(v) for v in np.round((lo + hi) / 2))
        return f"blank image: every pixel is {colour}"
    return None


def _no_cell_reason(image):
    if _is_grey_level(image):
        return (f"{NO_CELL_VERDICT} (grey-level image: the white-cell "
                "detector needs colour)")
    return NO_CELL_VERDICT


#: Parameters of locate_white_cells that decide whether a cell is found (the
#: segmentation's); the others only shape what is returned about each cell.
_DETECTION = ("min_area", "merge_distance", "work_size", "min_contrast")


def _cells_found(images, locate_params):
    """Whether :func:`locate_white_cells` finds a cell in each image."""
    from ..preprocessing import WhiteCellCropper, locate_white_cells

    # Only whether a cell is found matters here, and that does not depend
    # on separating touching cells (a nucleus candidate is at least one
    # cell either way): skip the separation, about half the detector's
    # time on a crop.
    params = {"split": False, **(locate_params or {})}
    if params["split"] is False and set(params) <= {
            *_DETECTION, "split", "cell_scale", "return_labels"}:
        # Without separation, locate_white_cells finds a cell exactly when
        # its segmentation keeps a nucleus candidate -- what the cropper's
        # locate() reports, for all images of one size at once.
        cropper = WhiteCellCropper(**{k: params[k] for k in _DETECTION
                                      if k in params})
        return cropper.locate(images)[1].tolist()
    return [len(locate_white_cells(im, **params).centres) > 0 for im in images]
