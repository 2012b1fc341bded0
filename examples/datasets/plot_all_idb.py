"""
Loading your copy of ALL-IDB
============================

ALL-IDB (Labati, Piuri and Scotti, ICIP 2011) is released on request, for
research only, so skleuk never ships or downloads it. Point the environment
variable ``SKLEUK_ALL_IDB`` at the folder where you unpacked it (any folder
above ``ALL_IDB1`` / ``ALL_IDB2`` works, also re-packaged copies with an
extra nesting level) and run this example::

    SKLEUK_ALL_IDB=~/data/ALL-IDB python examples/datasets/plot_all_idb.py

Without it -- as when the documentation is built -- the example writes a tiny
**synthetic stand-in** in the official layout (``ALL_IDB2/img/ImXXX_Y.tif``,
``ALL_IDB1/im/ImXXX_Y.jpg`` + ``ALL_IDB1/xyc/ImXXX_Y.xyc``) from
:func:`~skleuk.datasets.make_blood_smears` and runs the same code on it. The
figures are then of synthetic cells, not of ALL-IDB.

The example shows

1. :func:`~skleuk.datasets.load_all_idb` on ALL_IDB2 (single-cell crops of
   mixed sizes) and what it reports,
2. :func:`~skleuk.model_selection.find_duplicate_groups`, which finds the
   duplicate and shifted near-duplicate crops so that cross-validation can
   keep them on one side of every split,
3. ALL_IDB1 smears with their blast centroids, and
   :func:`~skleuk.datasets.extract_cells`, which cuts ALL_IDB2-like crops of
   blasts and of other white cells from them, with the smear as group.
"""

# %%
# Where is the data?
# ------------------
import os
import tempfile
import warnings

import matplotlib.pyplot as plt
import numpy as np
import tifffile
from PIL import Image
from sklearn.model_selection import StratifiedGroupKFold
from sklearn.utils import Bunch

from skleuk.datasets import (
    extract_cells,
    load_all_idb,
    make_blood_smears,
    read_image,
)
from skleuk.model_selection import find_duplicate_groups


def write_stand_in(root):
    """A tiny synthetic folder in the official ALL-IDB layout."""
    # ALL_IDB2: 8 blasts (Im001-Im008) and 8 other cells (Im131-Im138),
    # 128x128 except two cut "at the border" -- as in the real data set.
    cells = make_blood_smears(
        n_samples=16, image_size=144, shuffle=False, random_state=0
    )
    img_dir = os.path.join(root, "ALL_IDB2", "img")
    os.makedirs(img_dir)
    crops = [im[8:136, 8:136] for im in cells.images]
    crops[3] = crops[3][:100]  # smaller crops
    crops[12] = crops[12][:, 20:]
    crops[5] = crops[1].copy()  # an exact duplicate pair
    crops[6] = cells.images[2][4:132, 12:140]  # near-duplicate: shifted 4/4 px
    counters = {1: 1, 0: 131}  # Y=1: Im001.., Y=0: Im131..
    for crop, label in zip(crops, cells.target, strict=True):
        name = f"Im{counters[label]:03d}_{label}.tif"
        counters[label] += 1
        tifffile.imwrite(os.path.join(img_dir, name), crop, photometric="rgb")

    # ALL_IDB1: two "smears" tiled from cell images; one ALL, one healthy.
    # The .xyc files list the blast centroids as x<TAB>y.
    tiles = make_blood_smears(
        n_samples=24, image_size=128, shuffle=False, random_state=1
    )
    os.makedirs(os.path.join(root, "ALL_IDB1", "im"))
    os.makedirs(os.path.join(root, "ALL_IDB1", "xyc"))
    order = {1: [12, 0, 13, 1, 14, 2, 15, 3, 16, 4, 17, 5], 0: list(range(12))}
    for number, label in [(1, 1), (40, 0)]:
        idx = order[label]
        smear = np.concatenate(
            [np.concatenate(tiles.images[idx[4 * r : 4 * r + 4]], 1) for r in range(3)]
        )
        Image.fromarray(smear).save(
            os.path.join(root, "ALL_IDB1", "im", f"Im{number:03d}_{label}.jpg"),
            quality=92,
        )
        lines = [
            f"{128 * (k % 4) + 64}\t{128 * (k // 4) + 64}\n"
            for k, t in enumerate(idx)
            if tiles.target[t] == 1
        ]
        xyc = os.path.join(root, "ALL_IDB1", "xyc", f"Im{number:03d}_{label}.xyc")
        with open(xyc, "w") as f:
            f.writelines(lines)


root = os.environ.get("SKLEUK_ALL_IDB")
if root and os.path.isdir(root):
    stand_in = False
    print(f"Reading the ALL-IDB copy at {root}")
else:
    stand_in = True
    print(
        "SKLEUK_ALL_IDB is not set (or not a folder), so there is no ALL-IDB "
        "to read.\nALL-IDB is available on request from the Universita degli "
        "Studi di Milano; set SKLEUK_ALL_IDB to your copy to run this example "
        "on it.\nBelow: the same code on a tiny SYNTHETIC STAND-IN in the "
        "ALL-IDB layout."
    )
    root = tempfile.mkdtemp(prefix="skleuk_all_idb_stand_in_")
    write_stand_in(root)
tag = " (synthetic stand-in)" if stand_in else ""

# %%
# ALL_IDB2: single-cell crops
# ---------------------------
# ``load_all_idb`` finds the ``ImXXX_Y`` files below ``root``, takes the label
# ``Y`` from the name (1: the centre cell is a blast) and reports what it
# found. A copy that is not the complete data set (260 crops, 130 per class)
# gives a warning -- the stand-in always does. The crops are not all the
# same size, so ``images`` is a list; ``size=`` would pad and resize them.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    idb2 = load_all_idb(root, subset="ALL_IDB2")
for w in caught:
    print("Warning:", w.message)
print(idb2.DESCR.split("This copy")[-1].strip("-\n "))
print("Class counts:", idb2.class_counts)
print("Sizes:", sorted({im.shape[:2] for im in idb2.images}))

# %%
# Duplicates and near-duplicates
# ------------------------------
# ALL_IDB2 holds an exact duplicate pair and several near-duplicates (the
# same cell cropped with a small shift). Random K-fold splits would test on
# cells seen in training. ``find_duplicate_groups`` groups them; the groups
# go to a group-aware splitter.
groups = find_duplicate_groups(idb2.images)
n_groups = groups.max() + 1
print(f"{len(groups)} crops in {n_groups} groups")
shared = [g for g in range(n_groups) if np.sum(groups == g) > 1]
for g in shared:
    print("  same cell:", [os.path.basename(f) for f in idb2.filenames[groups == g]])

n_splits = min(5, int(min(np.bincount(idb2.target))))
cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=0)
for train, test in cv.split(idb2.filenames, idb2.target, groups):
    assert not set(groups[train]) & set(groups[test])
print(f"{n_splits} folds, no group on both sides of a split")

fig, axes = plt.subplots(2, 8, figsize=(12, 3.4))
show = np.r_[np.flatnonzero(idb2.target == 1)[:8], np.flatnonzero(idb2.target == 0)[:8]]
for ax, i in zip(axes.ravel(), show, strict=False):
    ax.imshow(idb2.images[i])
    name = os.path.basename(idb2.filenames[i])
    dup = "  dup" if groups[i] in shared else ""
    ax.set_title(f"{name}\ngroup {groups[i]}{dup}", fontsize=7)
    ax.axis("off")
fig.suptitle(f"ALL_IDB2{tag}: top row Y=1 (blast), bottom row Y=0")
fig.tight_layout()

# %%
# ALL_IDB1: whole smears and blast centroids
# ------------------------------------------
# The smears differ in size and the size predicts the label, so
# ``load_all_idb`` returns ALL_IDB1 pixels only resized (``size=``); here we
# only need the file names and the centroids, given as ``(row, col)`` (the
# ``.xyc`` files hold ``x<TAB>y``).
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # a partial copy in the stand-in
    idb1 = load_all_idb(root, subset="ALL_IDB1", return_images=False)
print(f"{len(idb1.filenames)} smears, class counts {idb1.class_counts}")
print("Blasts per smear:", [len(c) if c is not None else None for c in idb1.centroids])

# %%
# Single-cell crops from the smears
# ---------------------------------
# ``extract_cells`` cuts a crop around every annotated blast (target 1) and
# around the other white cells it finds (target 0), ``crop_size`` pixels of
# the smear (257 px at ALL_IDB1 magnification, like ALL_IDB2). ``groups`` is
# the index of the smear: crops of one smear must stay in one fold. On the
# real data we take three smears of each class to keep the example quick.
if stand_in:
    some = idb1
    crop_size = 128
else:
    pick = np.r_[
        np.flatnonzero(idb1.target == 1)[:3], np.flatnonzero(idb1.target == 0)[:3]
    ]
    some = Bunch(
        filenames=idb1.filenames[pick],
        target=idb1.target[pick],
        centroids=[idb1.centroids[i] for i in pick],
    )
    crop_size = 257
cells = extract_cells(some, crop_size=crop_size, random_state=0)
print(cells.DESCR.split("\n\n")[-1])

smear = read_image(some["filenames"][0])
fig, (ax0, ax1) = plt.subplots(
    1, 2, figsize=(12, 4.5), gridspec_kw={"width_ratios": [1.3, 1]}
)
ax0.imshow(smear)
blasts = some["centroids"][0]
ax0.plot(blasts[:, 1], blasts[:, 0], "y+", ms=14, mew=2, label="blast (.xyc)")
mine = cells.groups == 0
neg = cells.center[mine & (cells.target == 0)]
ax0.plot(neg[:, 1], neg[:, 0], "cx", ms=10, mew=2, label="other white cell")
ax0.legend(loc="lower right", fontsize=8)
ax0.set_title(f"{os.path.basename(some['filenames'][0])}{tag}")
ax0.axis("off")
blank = np.full_like(cells.images[0], 255)
rows = []
for label in (1, 0):  # top row: up to 4 blasts, bottom row: up to 4 others
    row = list(cells.images[cells.target == label][:4])
    rows.append(np.concatenate(row + [blank] * (4 - len(row)), axis=1))
mosaic = np.concatenate(rows)
ax1.imshow(mosaic)
ax1.set_title("extract_cells: top row blasts (1), bottom row others (0)")
ax1.axis("off")
fig.tight_layout()
plt.show()
