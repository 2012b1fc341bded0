"""
=====================================================
Screen whole smears: every white cell, one verdict
=====================================================

:class:`~skleuk.screening.SmearScreener` finds every white cell of a smear,
classifies each with a cell classifier and gives the smear a verdict from
its cells. This example first checks the localisation on real photographs
(the BCCD sample shipped with the tests, with annotated white-cell boxes),
then trains a screener from **image-level labels only** on small synthetic
smears and draws its overlay. See :ref:`screening`.
"""

# %%
# Every white cell of real photographs
# ------------------------------------
# :func:`~skleuk.screening.locate_white_cells` on the eight BCCD photographs,
# compared with the annotated boxes by
# :func:`~skleuk.screening.localisation_report` (a detection counts when its
# centre is within one cell radius of an annotated cell, one-to-one).

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle

from skleuk.datasets import make_blood_smears, read_image
from skleuk.screening import (
    SmearScreener,
    localisation_report,
    locate_white_cells,
    read_voc_boxes,
)


def find_bccd_folder():
    """The BCCD folder: $SKLEUK_BCCD_DIR, else the copies in tests/data/bccd."""
    if os.environ.get("SKLEUK_BCCD_DIR"):
        return Path(os.environ["SKLEUK_BCCD_DIR"])
    try:
        here = Path(__file__).resolve().parent
    except NameError:  # run interactively
        here = Path.cwd()
    for parent in (here, *here.parents):
        folder = parent / "tests" / "data" / "bccd"
        if folder.is_dir():
            return folder
    raise FileNotFoundError(
        "BCCD images not found: run from a skleuk checkout or set SKLEUK_BCCD_DIR."
    )


folder = find_bccd_folder()
jpegs = sorted((folder / "JPEGImages").glob("*.jpg"))
images = [read_image(f) for f in jpegs]
truth = [read_voc_boxes(folder / "Annotations" / (f.stem + ".xml")) for f in jpegs]
found = [locate_white_cells(image) for image in images]
report = localisation_report(truth, [cells.centres for cells in found])
print(
    f"{report['n_true']} annotated white cells, {report['n_pred']} found: "
    f"recall {report['recall']:.2f}, precision {report['precision']:.2f}"
)

fig, axes = plt.subplots(2, 4, figsize=(12, 5), layout="constrained")
for ax, image, boxes, cells in zip(axes.ravel(), images, truth, found, strict=True):
    ax.imshow(image)
    for r0, c0, r1, c1 in boxes:  # annotation: green
        ax.add_patch(Rectangle((c0, r0), c1 - c0, r1 - r0, fill=False, ec="lime"))
    for (r0, c0, r1, c1), border in zip(cells.boxes, cells.border, strict=True):
        ax.add_patch(
            Rectangle(
                (c0, r0), c1 - c0, r1 - r0, fill=False, ec="yellow", lw=2,
                ls="--" if border else "-",
            )
        )
    ax.set_axis_off()
fig.suptitle("annotated (green) and found (yellow; dashed: cut by the border)")

# %%
# Smears with image-level labels
# ------------------------------
# Real smears with image-level labels cannot be shipped, so small synthetic
# ones stand in: each is a 2x3 mosaic of synthetic cell fields
# (:func:`~skleuk.datasets.make_blood_smears`). A healthy smear holds only
# mature lymphocytes; an ALL smear holds lymphoblasts among them. Only the
# smear's label is given to the screener.

rng = np.random.default_rng(0)
cells, kind = make_blood_smears(
    n_samples=400, image_size=64, random_state=0, return_X_y=True
)
healthy_cells, blasts = cells[kind == 0], cells[kind == 1]


def make_smear(n_blasts):
    tiles = list(healthy_cells[rng.choice(len(healthy_cells), 6 - n_blasts)])
    tiles += list(blasts[rng.choice(len(blasts), n_blasts)])
    tiles = [tiles[i] for i in rng.permutation(6)]
    return np.vstack([np.hstack(tiles[:3]), np.hstack(tiles[3:])])


labels = np.array(["healthy", "ALL"] * 20)
smears = [make_smear(rng.integers(2, 5) if y == "ALL" else 0) for y in labels]

# %%
# The screener: a cell classifier on the crops, cells inheriting their
# smear's label, and the rule turning cell probabilities into the smear's
# chosen by inner cross-validation. Any scikit-learn classifier of crops
# works; a small linear model on 16x16 crops keeps this example fast. The
# default, ``SmearScreener()``, uses the CNN pipeline of
# :func:`skleuk.make_pipeline` in exactly the same way.

from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer, StandardScaler  # noqa: E402


def flatten(crops):
    return np.asarray(crops).reshape(len(crops), -1)


cell_model = make_pipeline(
    FunctionTransformer(flatten), StandardScaler(), LogisticRegression(C=0.01)
)
screener = SmearScreener(
    cell_model,
    crop_size=16,
    window=48,  # one magnification: a fixed window keeps relative cell sizes
    locate_params={"min_area": 40},  # nuclei of the small synthetic cells
    healthy_label="healthy",
    random_state=0,
)
screener.fit(smears[:30], labels[:30])
print("aggregation chosen:", screener.aggregation_)
for rule, scores in screener.cv_results_.items():
    print(f"  {rule:8s} balanced accuracy {scores['balanced_accuracy']:.2f}")
correct = screener.predict(smears[30:]) == labels[30:]
print(f"held-out smears: {correct.sum()} of {correct.size} correct")

# %%
# The overlay
# -----------
# :func:`~skleuk.plotting.plot_screening` boxes every cell in the colour of
# its blast probability, explains the line styles in a legend and writes
# the verdict and the smear's probability of not being healthy in the title.

from skleuk.plotting import plot_screening  # noqa: E402

results = screener.screen(smears[30:32])
fig, axes = plt.subplots(1, 2, figsize=(12, 4.5), layout="constrained")
for ax, result, smear in zip(axes, results, smears[30:32], strict=True):
    plot_screening(result, smear, ax=ax, colorbar=ax is axes[-1])
    print(
        f"{result.source}: {len(result.centres)} cells, {result.blast_count} "
        f"blast(s), verdict {result.verdict} "
        f"(P(not healthy) {result.probability:.2f})"
    )
plt.show()
