"""Loader for a user's local copy of ALL-IDB (ALL_IDB1 smears, ALL_IDB2 cells)."""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.utils import Bunch

from ._base import (
    check_folder,
    check_loader_params,
    class_counts,
    depth,
    few,
    finish,
    is_image_file,
    list_files,
    read_bunch_images,
    same_content,
)
from ._xyc import _load_centroids

__all__ = ["load_all_idb"]

TARGET_NAMES = ["healthy", "ALL"]

# ImXXX_Y.ext -- XXX a counter, Y the label (0 healthy, 1 ALL/blast).
_NAME_RE = re.compile(r"^im(\d+)_([01])\.(tiff?|jpe?g|png|bmp)$", re.IGNORECASE)
# A folder naming the subset: ALL_IDB1, ALL-IDB2, all_idb_1, "ALL IDB2", ...
_SUBSET_DIR_RE = re.compile(r"^all[\s_-]*idb[\s_-]*([12])$", re.IGNORECASE)

_EXPECTED = {
    "ALL_IDB1": {"n": 108, 1: 49, 0: 59, "centroids": 510},
    "ALL_IDB2": {"n": 260, 1: 130, 0: 130},
}

_LAYOUTS = {
    "ALL_IDB1": (
        "ALL_IDB1/im/ImXXX_Y.jpg (+ ALL_IDB1/xyc/ImXXX_Y.xyc)",
        "ALL_IDB1/ALL_IDB1/im/ImXXX_Y.jpg",
        "ALL_IDB1/ImXXX_Y.jpg (no im/ level)",
        "the im/ folder itself",
    ),
    "ALL_IDB2": (
        "ALL_IDB2/img/ImXXX_Y.tif",
        "ALL_IDB2/ALL_IDB2/img/ImXXX_Y.tif",
        "ALL_IDB2/ImXXX_Y.tif (no img/ level)",
        "the img/ folder itself",
    ),
}

_DESCR_HEAD = {
    "ALL_IDB1": """\
ALL-IDB1: whole peripheral blood smears
---------------------------------------

Acute Lymphoblastic Leukemia Image Database, subset 1 (Labati, Piuri and
Scotti, "ALL-IDB: the acute lymphoblastic leukemia image database for image
processing", ICIP 2011; Universita degli Studi di Milano). Released on
request for research only; skleuk never ships or downloads it.

108 JPEG smears named ImXXX_Y.jpg: Y=1 (49 images) from ALL patients, with
at least one blast; Y=0 (59 images) healthy. Blast centroids come from
ImXXX_Y.xyc files (one "x<TAB>y" line per blast; 510 in total); skleuk
returns them as (row, col) = (y, x). Sizes differ: most smears are
2592x1944, Im001-Im033 (all Y=1) are 1712x1368 and one Y=0 image is
1226x652, so the raw size predicts the label for a third of the positives.
Images are only returned resized to one square size (pad to square, then
resize); even then, the 1712x1368 smears show cells at a different scale.
For cell-level learning use skleuk.datasets.extract_cells. Training on
ALL_IDB2 and testing on ALL_IDB1 (or the reverse) leaks: the ALL_IDB2 crops
were cut from these smears.
""",
    "ALL_IDB2": """\
ALL-IDB2: single-cell crops
---------------------------

Acute Lymphoblastic Leukemia Image Database, subset 2 (Labati, Piuri and
Scotti, "ALL-IDB: the acute lymphoblastic leukemia image database for image
processing", ICIP 2011; Universita degli Studi di Milano). Released on
request for research only; skleuk never ships or downloads it.

260 TIFF crops named ImXXX_Y.tif (the data set's readme says .jpg), each
centred on one white cell: Y=1 (Im001-Im130) the cell is a blast, Y=0
(Im131-Im260) it is not. Crops are 257x257 except about ten cut at the
border of the source smear (for example 193x257). The crops were cut from
ALL_IDB1 smears (do not train on one subset and test on the other), and
the set holds one exact duplicate pair and several near-duplicates (the
same cell cropped with a small shift): group them with
skleuk.model_selection.find_duplicate_groups before cross-validation.
""",
}


def _normalise_subset(subset):
    if isinstance(subset, str):
        m = re.fullmatch(r"all[\s_-]*idb[\s_-]*([12])", subset.strip(), re.I)
        if m:
            return f"ALL_IDB{m.group(1)}"
    raise ValueError(
        f"subset must be 'ALL_IDB1' (whole smears) or 'ALL_IDB2' (cell crops), "
        f"got {subset!r}."
    )


def _subset_of(dirpath):
    """Return ("ALL_IDB1"|"ALL_IDB2", folder) of the innermost folder naming a
    subset among ``dirpath`` and its ancestors, or (None, None)."""
    head = os.path.abspath(dirpath)
    while True:
        name = os.path.basename(head)
        m = _SUBSET_DIR_RE.match(name)
        if m:
            return f"ALL_IDB{m.group(1)}", head
        parent = os.path.dirname(head)
        if parent == head:
            return None, None
        head = parent


def _handle_unexpected(unexpected, subset, on_unexpected):
    if not unexpected or on_unexpected == "ignore":
        return
    msg = (
        f"{len(unexpected)} image file(s) in the {subset} folders do not follow "
        f"the ImXXX_Y naming (Y = 0 or 1), so their label is unknown: "
        f"{few(unexpected)}."
    )
    if on_unexpected == "raise":
        raise ValueError(
            msg + " Rename or remove them, or pass on_unexpected='warn' to skip "
            "them with a warning."
        )
    warnings.warn(msg + " They were skipped.", UserWarning, stacklevel=3)


def _select(root, subset, image_files):
    """The image files of ``subset`` under ``root``: those in a folder named
    after it, else (no such folder) every untagged one.

    Returns (mine, tags, notes, search_roots); ``tags`` maps each image file
    to the subset its folders name (or None).
    """
    tags, tag_roots = {}, {}
    for f in image_files:
        tags[f], tag_roots[f] = _subset_of(os.path.dirname(f))
    notes = []
    mine = [f for f in image_files if tags[f] == subset]
    if mine:
        n_outside = sum(1 for f in image_files if tags[f] is None)
        if n_outside:
            notes.append(
                f"ignored {n_outside} image file(s) outside any {subset} folder"
            )
        return mine, tags, notes, sorted({tag_roots[f] for f in mine})
    mine = [f for f in image_files if tags[f] is None]
    if mine and any(_NAME_RE.match(os.path.basename(f)) for f in mine):
        notes.append(
            f"no folder named {subset} found; read ImXXX_Y files under "
            f"{root!r} as {subset}"
        )
    return mine, tags, notes, [root]


def _not_found(root, subset, files, image_files, tags, mine):
    """The error for a folder without any ImXXX_Y file of ``subset``."""
    other = "ALL_IDB1" if subset == "ALL_IDB2" else "ALL_IDB2"
    n_other = sum(
        1
        for f in image_files
        if tags[f] == other and _NAME_RE.match(os.path.basename(f))
    )
    found = (
        f" It holds {n_other} {other} image(s): did you mean subset={other!r}?"
        if n_other
        else ""
    )
    bad = [os.path.basename(f) for f in mine]
    found += f" Image files with other names found: {few(bad)}." if bad else ""
    layouts = "; ".join(_LAYOUTS[subset])
    return FileNotFoundError(
        f"No {subset} images found under {root!r} ({len(files)} file(s) "
        f"searched recursively). Expected files named ImXXX_Y.tif/.tiff/"
        f".jpg/.jpeg (Y = 0 or 1, any case) in one of these layouts below "
        f"the given folder: {layouts}.{found}"
    )


def _check_subset_guess(root, subset, files, named):
    """Warn when files not named by a subset folder look like the other one."""
    n_tif = sum(os.path.splitext(f)[1].lower() in (".tif", ".tiff") for f in named)
    has_xyc = any(f.lower().endswith(".xyc") for f in files)
    if subset == "ALL_IDB2" and has_xyc:
        warnings.warn(
            f"The files under {root!r} come with .xyc annotation files, like "
            "ALL_IDB1 smears, but were loaded as ALL_IDB2 cell crops. Check "
            "the subset argument.",
            UserWarning,
            stacklevel=4,
        )
    elif subset == "ALL_IDB1" and not has_xyc and n_tif == len(named):
        warnings.warn(
            f"The files under {root!r} are TIFF without .xyc annotations, like "
            "ALL_IDB2 cell crops, but were loaded as ALL_IDB1 smears. Check "
            "the subset argument.",
            UserWarning,
            stacklevel=4,
        )


def _one_per_number(subset, named, notes):
    """``(number, label, path)`` records sorted by number, each image once:
    identical copies in other folders are used once (from the copy nearest
    the top, with a warning), conflicting copies raise."""
    by_number = defaultdict(list)
    for f in named:
        m = _NAME_RE.match(os.path.basename(f))
        by_number[int(m.group(1))].append((int(m.group(2)), f))
    records, dup_examples, n_dup = [], [], 0
    for number in sorted(by_number):
        entries = by_number[number]
        if len(entries) == 1:
            records.append((number, entries[0][0], entries[0][1]))
            continue
        labels = {lab for lab, _ in entries}
        paths = sorted((p for _, p in entries), key=lambda p: (depth(p), p))
        if len(labels) > 1:
            raise ValueError(
                f"Image number {number:03d} appears with different labels: "
                f"{few(paths, 5)}. The label of that image is ambiguous; "
                "remove the wrong copy or point `path` at one copy."
            )
        if not same_content(paths):
            raise ValueError(
                f"Image number {number:03d} appears in {len(paths)} places with "
                f"different content: {few(paths, 5)}. skleuk cannot tell which "
                "copy is right: point `path` at one copy of the data set."
            )
        n_dup += len(paths) - 1
        if len(dup_examples) < 2:
            dup_examples.append(" = ".join(repr(p) for p in paths))
        records.append((number, entries[0][0], paths[0]))
    if n_dup:
        msg = (
            f"{n_dup} {subset} file(s) were found a second time in another folder "
            f"with identical content (for example {'; '.join(dup_examples)}); "
            "each image is used once, from the copy nearest the top."
        )
        warnings.warn(msg, UserWarning, stacklevel=4)
        notes.append(f"{n_dup} identical copies in other folders were used once")
    return records


def _find_images(root, subset, on_unexpected):
    """Locate the subset's ImXXX_Y files under ``root``.

    Returns (records, notes, search_roots) where records is a list of
    (number, label, path) sorted by number.
    """
    files = list_files(root)[0]
    image_files = [f for f in files if is_image_file(f)]
    mine, tags, notes, search_roots = _select(root, subset, image_files)
    named = [f for f in mine if _NAME_RE.match(os.path.basename(f))]
    if not named:
        raise _not_found(root, subset, files, image_files, tags, mine)
    unexpected = [f for f in mine if not _NAME_RE.match(os.path.basename(f))]
    _handle_unexpected(unexpected, subset, on_unexpected)
    if unexpected:
        notes.append(f"skipped {len(unexpected)} file(s) not named ImXXX_Y")
    if tags[named[0]] is None:  # a sanity check when no folder named the subset
        _check_subset_guess(root, subset, files, named)
    return _one_per_number(subset, named, notes), notes, search_roots


def _check_counts(subset, counts, n, centroids=None):
    exp = _EXPECTED[subset]
    if n != exp["n"] or counts.get(1, 0) != exp[1] or counts.get(0, 0) != exp[0]:
        warnings.warn(
            f"Found {n} {subset} images ({counts.get(1, 0)} ALL, "
            f"{counts.get(0, 0)} healthy); the complete {subset} has {exp['n']} "
            f"({exp[1]} ALL, {exp[0]} healthy). Your copy may be partial or "
            "modified; results are not comparable with published figures.",
            UserWarning,
            stacklevel=3,
        )


def _add_centroids(bunch, records, search_roots, root):
    """Set ``bunch.centroids`` (ALL_IDB1); return the summary sentences."""
    centroids, missing_pos, missing_neg = _load_centroids(records, search_roots, root)
    bunch.centroids = centroids
    n_c = sum(len(c) for c in centroids if c is not None)
    summary = [f"{n_c} blast centroids (complete set: 510)."]
    if missing_pos:
        summary.append(
            f"{len(missing_pos)} ALL smears have no .xyc file (centroids None)."
        )
    if missing_neg:
        summary.append(
            f"{len(missing_neg)} healthy smears have no .xyc file (no blasts)."
        )
    return summary


def load_all_idb(
    path,
    subset="ALL_IDB2",
    *,
    return_images=True,
    size=None,
    return_X_y=False,
    pad_mode="reflect",
    on_unexpected="warn",
    n_jobs=None,
    verbose=False,
):
    """Load a local copy of ALL-IDB (ALL_IDB1 smears or ALL_IDB2 cells).

    ALL-IDB is distributed on request only; skleuk never downloads it. Point
    ``path`` at any folder above the images: the official archive
    (``ALL_IDB2/img/ImXXX_Y.tif``, ``ALL_IDB1/im/ImXXX_Y.jpg`` with
    ``ALL_IDB1/xyc/ImXXX_Y.xyc``), re-packaged copies nested one level
    deeper (``ALL_IDB2/ALL_IDB2/img/``) or without the ``im``/``img`` level,
    the ``img`` folder itself, or the folder holding both ``ALL_IDB1`` and
    ``ALL_IDB2`` are all found. Hidden files and folders (including the
    ``__MACOSX/._ImXXX_Y.tif`` forks of archives made on a Mac) are skipped.

    Parameters
    ----------
    path : str or path-like
        A folder containing the subset, at any depth.
    subset : {"ALL_IDB2", "ALL_IDB1"}, default="ALL_IDB2"
        ``"ALL_IDB2"``: 260 single-cell crops, label of the centre cell.
        ``"ALL_IDB1"``: 108 whole smears, patient-level label, with blast
        centroids. Files are assigned to a subset by the nearest enclosing
        folder named ``ALL_IDB1``/``ALL_IDB2`` (also ``ALL-IDB2`` etc.);
        when no such folder exists, every ``ImXXX_Y`` file under ``path`` is
        taken as the requested subset.
    return_images : bool, default=True
        Read the images. ``False`` returns only ``filenames`` (for
        :class:`~skleuk.preprocessing.ImageReader` or
        :func:`~skleuk.datasets.extract_cells`).
    size : int or None, default=None
        ``None`` returns images at their own size: for ALL_IDB2 a 4-D array
        if all crops share one size, otherwise (as in the full data set,
        where about ten crops are smaller) a **list** of 3-D arrays, which
        every skleuk step accepts. An int applies the size rule of
        :func:`~skleuk.datasets.read_images`: pad to a square (with
        ``pad_mode``), then anti-aliased resize to ``size x size``. For
        ALL_IDB1 with ``return_images=True`` a ``size`` is **required**:
        raw smear sizes differ and predict the label, so they must never
        reach a model.
    return_X_y : bool, default=False
        Return ``(images, target)`` (or ``(filenames, target)`` with
        ``return_images=False``) instead of a Bunch.
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        Padding used by the size rule (``"constant"`` pads with white).
    on_unexpected : {"warn", "raise", "ignore"}, default="warn"
        What to do with image files in the subset's folders whose name does
        not follow ``ImXXX_Y`` (their label is unknown): skip them with a
        warning, raise a :class:`ValueError`, or skip them silently. Such
        files are never given a label.
    n_jobs : int or None, default=None
        Threads used to read the files.
    verbose : bool, default=False
        Print a one-line summary of what was found.

    Returns
    -------
    data : :class:`~sklearn.utils.Bunch`
        Dictionary-like object with:

        images : ndarray of shape (n, h, w, 3) or list of ndarray, uint8
            Only with ``return_images=True``.
        filenames : ndarray of str, shape (n,)
            Absolute paths, sorted by image number. Always present.
        target : ndarray of int, shape (n,)
            ``Y`` from the file name: 0 healthy, 1 ALL (ALL_IDB2: the centre
            cell is a blast).
        target_names : list of str
            ``["healthy", "ALL"]``.
        class_counts : dict
            ``{"healthy": n0, "ALL": n1}`` as found.
        centroids : list of ndarray of shape (k_i, 2) or None
            ALL_IDB1 only. Blast centroids as ``(row, col)`` in pixels of the
            **original** smear (the ``.xyc`` files hold ``x<TAB>y``, so
            ``row = y`` and ``col = x``), float64, even when ``size``
            resizes the returned images. Healthy smears without a ``.xyc``
            file get an empty ``(0, 2)`` array; ALL smears without one get
            ``None`` (unknown, with a warning).
        subset : str
            The subset loaded.
        DESCR : str
            Description of the data set and of what was found.

    (images, target) or (filenames, target) : tuple
        With ``return_X_y=True``.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist or holds no image of the subset (the
        message lists the layouts searched).
    ValueError
        If the same image number appears twice with different content or
        labels, an ``.xyc`` line is malformed (file and line named), an
        ALL_IDB1 load asks for images without ``size``, or a file name is
        unexpected and ``on_unexpected="raise"``.
    ImageReadError
        If an image file is corrupt (the message names the file).

    Warns
    -----
    UserWarning
        When the counts differ from the complete data set (a partial copy:
        108 smears 49/59 for ALL_IDB1, 260 crops 130/130 for ALL_IDB2), when
        files with unexpected names are skipped, when identical copies of an
        image are found in two folders (each is used once), and when ALL
        smears have no ``.xyc`` file.

    See Also
    --------
    extract_cells : Single-cell crops from the ALL_IDB1 smears.
    skleuk.model_selection.find_duplicate_groups : Groups for
        cross-validation that keep near-duplicate crops together.

    Notes
    -----
    Evaluating on ALL-IDB honestly needs care: ALL_IDB2 contains duplicate and
    near-duplicate crops (use :func:`~skleuk.model_selection.find_duplicate_groups`
    as ``groups``), its crops come from the ALL_IDB1 smears (do not mix the
    subsets across train/test), and ALL_IDB1 image size predicts the label.

    Examples
    --------
    A tiny stand-in for the official ``ALL_IDB2/img`` layout:

    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.datasets import load_all_idb
    >>> root = tempfile.mkdtemp()
    >>> img_dir = os.path.join(root, "ALL_IDB2", "img")
    >>> os.makedirs(img_dir)
    >>> for name in ["Im001_1.tif", "Im002_1.tif", "Im131_0.tif"]:
    ...     Image.fromarray(np.zeros((8, 8, 3), np.uint8)).save(
    ...         os.path.join(img_dir, name))
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")  # "partial copy": 3 of 260 files
    ...     data = load_all_idb(root, subset="ALL_IDB2")
    >>> data.images.shape, data.target.tolist(), data.class_counts
    ((3, 8, 8, 3), [1, 1, 0], {'healthy': 1, 'ALL': 2})
    """
    subset = _normalise_subset(subset)
    size = check_loader_params(size, pad_mode)
    if on_unexpected not in ("warn", "raise", "ignore"):
        raise ValueError(
            f"on_unexpected must be 'warn', 'raise' or 'ignore', got {on_unexpected!r}."
        )
    root = check_folder(
        path,
        name="path",
        what="ALL-IDB folder",
        file_hint="ALL-IDB path {root!r} is a file; pass the folder that contains "
        f"the {subset} images.",
    )
    if subset == "ALL_IDB1" and return_images and size is None:
        raise ValueError(
            "ALL_IDB1 smears differ in size (2592x1944, 1712x1368 for Im001-"
            "Im033 which are all ALL, one 1226x652), and the raw size predicts "
            "the label, so they are only returned resized: pass size=... (pad "
            "to square + resize), or return_images=False for the filenames. For "
            "cell-level data use skleuk.datasets.extract_cells."
        )

    records, notes, search_roots = _find_images(root, subset, on_unexpected)
    bunch = Bunch(
        filenames=np.array([p for _, _, p in records]),
        target=np.array([lab for _, lab, _ in records], dtype=np.int64),
        target_names=list(TARGET_NAMES),
        subset=subset,
    )
    bunch.class_counts = counts = class_counts(bunch.target, TARGET_NAMES)
    summary = [
        f"Loaded from {root!r}: {len(records)} {subset} images, "
        f"{counts['ALL']} ALL (Y=1) and {counts['healthy']} healthy (Y=0)."
    ]
    if subset == "ALL_IDB1":
        summary += _add_centroids(bunch, records, search_roots, root)
    _check_counts(subset, Counter(bunch.target.tolist()), len(records))

    if return_images:
        images = read_bunch_images(bunch, size=size, pad_mode=pad_mode, n_jobs=n_jobs)
        shapes = Counter(f"{im.shape[1]}x{im.shape[0]}" for im in images)
        summary.append(
            "Image sizes (width x height): "
            + ", ".join(f"{s} ({k})" for s, k in shapes.most_common())
            + (
                f"; resized with pad-to-square ({pad_mode}) + resize to {size}."
                if size
                else "."
            )
        )
    summary.extend(n[0].upper() + n[1:] + "." for n in notes)
    return finish(
        bunch,
        title=_DESCR_HEAD[subset] + "\nThis copy\n---------\n\n",
        text=" ".join(summary),
        verbose=verbose,
        return_X_y=return_X_y,
    )
