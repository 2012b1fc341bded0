"""
Locating and cropping the white blood cell
==========================================

The last preprocessing step of the paper segments the white blood cell and
crops the image around it, so that the CNN looks at the cell rather than at
the red cells around it. :class:`~skleuk.preprocessing.WhiteCellCropper`
does this from the stain colour alone: white-cell nuclei take up the
purple/blue basic stain of a Romanowsky smear, red cells and the background
do not.

Here it runs on real blood smear photographs from the BCCD data set
(Wright-Giemsa stain, 640 x 480 JPEG, MIT licence), whose white cells are
annotated with boxes: we draw the located centre over the annotated box, then
show the crops. Eight of these photographs ship with skleuk's tests; set the
environment variable ``SKLEUK_BCCD_DIR`` to a folder of BCCD
``JPEGImages/`` and ``Annotations/`` to use others.

On all 170 BCCD photographs of ``benchmarks/bench_localisation.py``, the
located centre falls inside the annotated white-cell box in all 155 images
with exactly one annotated white cell (and in all 11 with two).
"""

# %%
# Loading the photographs and their white-cell boxes
# --------------------------------------------------
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from skleuk.datasets import read_image
from skleuk.preprocessing import WhiteCellCropper, locate_white_cells


def find_bccd_folder():
    """The BCCD folder: $SKLEUK_BCCD_DIR, else the copies in tests/data/bccd."""
    if os.environ.get("SKLEUK_BCCD_DIR"):
        return Path(os.environ["SKLEUK_BCCD_DIR"])
    try:
        here = Path(__file__).resolve().parent
    except NameError:  # run interactively
        here = Path.cwd()
    # sphinx-gallery runs examples from their own folder; search upwards for
    # the repository's tests/data/bccd.
    for parent in (here, *here.parents):
        folder = parent / "tests" / "data" / "bccd"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(
        "BCCD images not found: run from a skleuk checkout or set SKLEUK_BCCD_DIR."
    )


def wbc_boxes(xml_file):
    """White-cell boxes ``(xmin, ymin, xmax, ymax)`` of a Pascal VOC file."""
    boxes = []
    for obj in ET.parse(xml_file).getroot().iter("object"):
        if obj.findtext("name").strip() == "WBC":
            bb = obj.find("bndbox")
            boxes.append(
                [float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
            )
    return boxes


folder = find_bccd_folder()
jpegs = sorted((folder / "JPEGImages").glob("*.jpg"))[:8]
images = np.stack([read_image(f) for f in jpegs])
boxes = [wbc_boxes(folder / "Annotations" / (f.stem + ".xml")) for f in jpegs]
print(f"{len(images)} photographs of shape {images.shape[1:]} from {folder.name}/")

# %%
# What the cropper looks at
# -------------------------
# A white-cell nucleus absorbs green light much more than blue. The ratio
# ``(B - G) / (B + G + 0.1)`` is therefore high on nuclei, near zero on red
# cells and on the background, and does not depend on the brightness of the
# image. Per image, Otsu's method picks a threshold on it (never less than the
# image median plus ``min_contrast``), nucleus fragments closer than
# ``merge_distance`` are merged -- the lobes of a neutrophil are one cell --
# and small components (platelets) are dropped.
# :func:`~skleuk.preprocessing.locate_white_cells` returns every cell of
# one image (touching cells separated), with a label image on request.
image = images[0].astype(np.float32) / 255
ratio = (image[..., 2] - image[..., 1]) / (image[..., 2] + image[..., 1] + 0.1)
found = locate_white_cells(images[0], return_labels=True)
centroids, areas, labels = found.centres, found.nucleus_areas, found.labels

fig, axes = plt.subplots(1, 3, figsize=(12, 3.4))
axes[0].imshow(images[0])
axes[0].set_title(jpegs[0].name)
im = axes[1].imshow(ratio, cmap="magma")
fig.colorbar(im, ax=axes[1], fraction=0.035)
axes[1].set_title("stain ratio (B - G) / (B + G + 0.1)")
axes[2].imshow(images[0])
axes[2].contour(labels > 0, levels=[0.5], colors="yellow", linewidths=1)
axes[2].plot(centroids[:, 1], centroids[:, 0], "+", color="yellow", ms=14, mew=2)
axes[2].set_title(f"{len(centroids)} candidate(s), nucleus area {areas[0]:.0f} px")
for ax in axes:
    ax.set_axis_off()
fig.tight_layout()

# %%
# Located centres against the annotated boxes
# -------------------------------------------
# :meth:`~skleuk.preprocessing.WhiteCellCropper.locate` returns, for every
# image, the ``(row, col)`` centre of the selected cell in input pixels and
# whether a cell was found (otherwise the centre is the image centre). With
# the default ``selection="central"``, the candidate nearest the image centre
# is chosen among those at least a quarter of the largest one's size;
# ``"largest"`` takes the largest nucleus.
cropper = WhiteCellCropper()
centers, found = cropper.locate(images)


def inside(point, box):
    return box[0] <= point[1] <= box[2] and box[1] <= point[0] <= box[3]


fig, axes = plt.subplots(2, 4, figsize=(13, 5.2))
for ax, img, name, bxs, center, ok in zip(
    axes.ravel(), images, jpegs, boxes, centers, found, strict=True
):
    ax.imshow(img)
    for x0, y0, x1, y1 in bxs:
        ax.add_patch(
            Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, color="lime", lw=1.5)
        )
    ax.plot(center[1], center[0], "+" if ok else "x", color="yellow", ms=16, mew=2.5)
    hit = any(inside(center, b) for b in bxs)
    ax.set_title(f"{name.stem[-5:]}: {'inside' if hit else 'OUTSIDE'} the box")
    ax.set_axis_off()
fig.suptitle("annotated white cell (green box) and located centre (yellow +)")
fig.tight_layout()

n_hit = sum(
    any(inside(c, b) for b in bxs) for c, bxs in zip(centers, boxes, strict=True)
)
print(f"centre inside a white-cell box in {n_hit} of {len(images)} photographs")

# %%
# The crops
# ---------
# ``transform`` cuts a ``crop_size`` x ``crop_size`` window around each centre.
# A float ``crop_size`` is a fraction of the shorter side of the images seen in
# ``fit`` (here 0.6 x 480 = 288 pixels), resolved once in ``crop_size_`` so
# that every later call returns the same size. Windows reaching beyond the
# image are padded with white (``pad_mode="constant"``), never shrunk, so the
# cell stays in the centre. ``n_fallback_`` counts the training images in
# which no cell was found.
crops = cropper.fit_transform(images)
print(
    f"crops: {crops.shape}, crop_size_={cropper.crop_size_}, "
    f"n_fallback_={cropper.n_fallback_}"
)

# %%
# With ``mask_background=True`` everything outside the cell -- approximated by
# the nucleus grown by half its equivalent radius -- is replaced by
# ``fill_value`` (white by default), removing the neighbouring red cells.
masked = WhiteCellCropper(mask_background=True).fit_transform(images)

fig, axes = plt.subplots(2, 8, figsize=(15, 4.2))
for j in range(8):
    axes[0, j].imshow(crops[j])
    axes[1, j].imshow(masked[j])
    axes[0, j].set_title(jpegs[j].stem[-5:], fontsize=9)
for ax in axes.ravel():  # keep the frame: white padding is part of the crop
    ax.set_xticks([])
    ax.set_yticks([])
axes[0, 0].set_ylabel("crop")
axes[1, 0].set_ylabel("masked")
fig.tight_layout()
plt.show()

# %%
# In the default pipeline the cropper is the first step (in the paper's
# recipe it comes after colour normalisation, sharpening and averaging), and
# a :class:`~skleuk.preprocessing.Resizer` brings its crops to the CNN's
# input size. The same segmentation finds every white cell of a
# whole smear with :func:`~skleuk.preprocessing.locate_white_cells`, which
# :func:`~skleuk.datasets.extract_cells` uses on ALL-IDB1 images.
