"""Loader for a user's local copy of ALL-IDB (ALL_IDB1 smears, ALL_IDB2 cells)."""

from __future__ import annotations

import hashlib
import os
import re
import warnings
from collections import Counter, defaultdict

import numpy as np
from sklearn.utils import Bunch

from ..utils._image_io import (
    _PAD_MODES,
    IMAGE_EXTENSIONS,
    _check_size,
    _warn_skipped,
    read_images,
)
from ..utils._image_io import _walk_files as _walk_regular_files

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


def _hidden(name):
    # macOS zips carry __MACOSX/.../._Im001_1.tif resource forks, which have
    # an image extension but are not images; dot files and folders are skipped.
    return name.startswith(".") or name == "__MACOSX"


def _walk_files(root):
    """Regular files under ``root`` (recursive, sorted, hidden files and
    folders skipped, symlinks followed with a cycle guard; FIFOs, devices,
    sockets and broken links skipped with a warning)."""
    files, skipped, _ = _walk_regular_files(root, _hidden)
    _warn_skipped(skipped, root, stacklevel=4)
    return files


def _digest(path):
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _same_content(paths):
    sizes = {os.path.getsize(p) for p in paths}
    if len(sizes) > 1:
        return False
    return len({_digest(p) for p in paths}) == 1


def _depth(path):
    return os.path.abspath(path).count(os.sep)


def _few(items, k=3):
    items = [str(i) for i in items]
    text = ", ".join(repr(i) for i in items[:k])
    return text + (f" and {len(items) - k} more" if len(items) > k else "")


def _handle_unexpected(unexpected, subset, on_unexpected):
    if not unexpected or on_unexpected == "ignore":
        return
    msg = (
        f"{len(unexpected)} image file(s) in the {subset} folders do not follow "
        f"the ImXXX_Y naming (Y = 0 or 1), so their label is unknown: "
        f"{_few(unexpected)}."
    )
    if on_unexpected == "raise":
        raise ValueError(
            msg + " Rename or remove them, or pass on_unexpected='warn' to skip "
            "them with a warning."
        )
    warnings.warn(msg + " They were skipped.", UserWarning, stacklevel=3)


def _find_images(root, subset, on_unexpected):
    """Locate the subset's ImXXX_Y files under ``root``.

    Returns (records, notes, search_roots) where records is a list of
    (number, label, path) sorted by number.
    """
    other = "ALL_IDB1" if subset == "ALL_IDB2" else "ALL_IDB2"
    files = _walk_files(root)
    image_files = [
        f for f in files if os.path.splitext(f)[1].lower() in IMAGE_EXTENSIONS
    ]
    tags = {}
    tag_roots = {}
    for f in image_files:
        tag, tag_root = _subset_of(os.path.dirname(f))
        tags[f] = tag
        tag_roots[f] = tag_root
    notes = []
    mine = [f for f in image_files if tags[f] == subset]
    if mine:
        n_outside = sum(1 for f in image_files if tags[f] is None)
        if n_outside:
            notes.append(
                f"ignored {n_outside} image file(s) outside any {subset} folder"
            )
        search_roots = sorted({tag_roots[f] for f in mine})
    else:
        mine = [f for f in image_files if tags[f] is None]
        if mine and any(_NAME_RE.match(os.path.basename(f)) for f in mine):
            notes.append(
                f"no folder named {subset} found; read ImXXX_Y files under "
                f"{root!r} as {subset}"
            )
        search_roots = [root]
    named = [f for f in mine if _NAME_RE.match(os.path.basename(f))]
    if not named:
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
        found += f" Image files with other names found: {_few(bad)}." if bad else ""
        layouts = "; ".join(_LAYOUTS[subset])
        raise FileNotFoundError(
            f"No {subset} images found under {root!r} ({len(files)} file(s) "
            f"searched recursively). Expected files named ImXXX_Y.tif/.tiff/"
            f".jpg/.jpeg (Y = 0 or 1, any case) in one of these layouts below "
            f"the given folder: {layouts}.{found}"
        )
    unexpected = [f for f in mine if not _NAME_RE.match(os.path.basename(f))]
    _handle_unexpected(unexpected, subset, on_unexpected)
    if unexpected:
        notes.append(f"skipped {len(unexpected)} file(s) not named ImXXX_Y")

    # A sanity check when the subset was not named by a folder.
    if tags[named[0]] is None:
        n_tif = sum(os.path.splitext(f)[1].lower() in (".tif", ".tiff") for f in named)
        has_xyc = any(f.lower().endswith(".xyc") for f in files)
        if subset == "ALL_IDB2" and has_xyc:
            warnings.warn(
                f"The files under {root!r} come with .xyc annotation files, like "
                "ALL_IDB1 smears, but were loaded as ALL_IDB2 cell crops. Check "
                "the subset argument.",
                UserWarning,
                stacklevel=3,
            )
        elif subset == "ALL_IDB1" and not has_xyc and n_tif == len(named):
            warnings.warn(
                f"The files under {root!r} are TIFF without .xyc annotations, like "
                "ALL_IDB2 cell crops, but were loaded as ALL_IDB1 smears. Check "
                "the subset argument.",
                UserWarning,
                stacklevel=3,
            )

    by_number = defaultdict(list)
    for f in named:
        m = _NAME_RE.match(os.path.basename(f))
        by_number[int(m.group(1))].append((int(m.group(2)), f))
    records = []
    dup_examples = []
    n_dup = 0
    for number in sorted(by_number):
        entries = by_number[number]
        if len(entries) > 1:
            labels = {lab for lab, _ in entries}
            paths = sorted((p for _, p in entries), key=lambda p: (_depth(p), p))
            if len(labels) > 1:
                raise ValueError(
                    f"Image number {number:03d} appears with different labels: "
                    f"{_few(paths, 5)}. The label of that image is ambiguous; "
                    "remove the wrong copy or point `path` at one copy."
                )
            if not _same_content(paths):
                raise ValueError(
                    f"Image number {number:03d} appears in {len(paths)} places with "
                    f"different content: {_few(paths, 5)}. skleuk cannot tell which "
                    "copy is right: point `path` at one copy of the data set."
                )
            n_dup += len(paths) - 1
            if len(dup_examples) < 2:
                dup_examples.append(" = ".join(repr(p) for p in paths))
            records.append((number, entries[0][0], paths[0]))
        else:
            records.append((number, entries[0][0], entries[0][1]))
    if n_dup:
        msg = (
            f"{n_dup} {subset} file(s) were found a second time in another folder "
            f"with identical content (for example {'; '.join(dup_examples)}); "
            "each image is used once, from the copy nearest the top."
        )
        warnings.warn(msg, UserWarning, stacklevel=3)
        notes.append(f"{n_dup} identical copies in other folders were used once")
    return records, notes, search_roots


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
        for f in _walk_files(r):
            if f.lower().endswith(".xyc"):
                stem = os.path.splitext(os.path.basename(f))[0].lower()
                index[stem].append(f)

    centroids = []
    missing_pos, missing_neg, contradicting = [], [], []
    for _, label, path in records:
        stem = os.path.splitext(os.path.basename(path))[0].lower()
        candidates = sorted(set(index.get(stem, [])), key=lambda p: (_depth(p), p))
        if not candidates:
            if label == 1:
                missing_pos.append(os.path.basename(path))
                centroids.append(None)
            else:
                missing_neg.append(os.path.basename(path))
                centroids.append(np.empty((0, 2), dtype=np.float64))
            continue
        if len(candidates) > 1 and not _same_content(candidates):
            raise ValueError(
                f"Annotation file {stem}.xyc appears in {len(candidates)} places "
                f"with different content: {_few(candidates, 5)}. Point `path` at "
                "one copy of the data set."
            )
        c = _read_xyc(candidates[0])
        if label == 0 and len(c):
            contradicting.append(os.path.basename(candidates[0]))
        centroids.append(c)
    if missing_pos:
        warnings.warn(
            f"No .xyc annotation file found for {len(missing_pos)} ALL_IDB1 "
            f"image(s) labelled Y=1 (e.g. {_few(missing_pos)}): their blast "
            "centroids are unknown and set to None (extract_cells skips these "
            f"smears). Searched below {_few(outer)}.",
            UserWarning,
            stacklevel=3,
        )
    if contradicting:
        warnings.warn(
            f"{len(contradicting)} .xyc file(s) of healthy (Y=0) images list blast "
            f"centroids ({_few(contradicting)}); in ALL-IDB they are empty. The "
            "centroids are returned as found.",
            UserWarning,
            stacklevel=3,
        )
    return centroids, missing_pos, missing_neg


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
    size = _check_size(size)
    if on_unexpected not in ("warn", "raise", "ignore"):
        raise ValueError(
            f"on_unexpected must be 'warn', 'raise' or 'ignore', got {on_unexpected!r}."
        )
    if pad_mode not in _PAD_MODES:
        raise ValueError(f"pad_mode must be one of {_PAD_MODES}, got {pad_mode!r}.")
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a folder path, got {type(path).__name__}.")
    root = os.path.abspath(os.fspath(path))
    if not os.path.exists(root):
        raise FileNotFoundError(f"ALL-IDB folder {root!r} does not exist.")
    if not os.path.isdir(root):
        raise NotADirectoryError(
            f"ALL-IDB path {root!r} is a file; pass the folder that contains "
            f"the {subset} images."
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
    filenames = np.array([p for _, _, p in records])
    target = np.array([lab for _, lab, _ in records], dtype=np.int64)
    counts = Counter(target.tolist())
    class_counts = {"healthy": counts.get(0, 0), "ALL": counts.get(1, 0)}

    bunch = Bunch(
        filenames=filenames,
        target=target,
        target_names=list(TARGET_NAMES),
        class_counts=class_counts,
        subset=subset,
    )
    summary = [
        f"Loaded from {root!r}: {len(records)} {subset} images, "
        f"{class_counts['ALL']} ALL (Y=1) and {class_counts['healthy']} healthy "
        "(Y=0)."
    ]
    if subset == "ALL_IDB1":
        centroids, missing_pos, missing_neg = _load_centroids(
            records, search_roots, root
        )
        bunch.centroids = centroids
        n_c = sum(len(c) for c in centroids if c is not None)
        summary.append(f"{n_c} blast centroids (complete set: 510).")
        if missing_pos:
            summary.append(
                f"{len(missing_pos)} ALL smears have no .xyc file (centroids None)."
            )
        if missing_neg:
            summary.append(
                f"{len(missing_neg)} healthy smears have no .xyc file (no blasts)."
            )
    _check_counts(subset, counts, len(records))

    if return_images:
        images = read_images(filenames, size, pad_mode=pad_mode, n_jobs=n_jobs)
        bunch.images = images
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
    text = " ".join(summary)
    bunch.DESCR = _DESCR_HEAD[subset] + "\nThis copy\n---------\n\n" + text + "\n"
    if verbose:
        print(text)
    if return_X_y:
        return (bunch.images if return_images else filenames), target
    return bunch
