"""
Synthetic blood smears
======================

:func:`skleuk.datasets.make_blood_smears` draws single-cell crops that look
like the ALL-IDB2 images: one white cell near the centre of a field of red
blood cells (pale pink discs with a central pallor) on a pale plasma
background. The class is the maturity of that white cell:

* **healthy** (class 0): a mature lymphocyte -- small, with a dense dark
  round nucleus of coarse chromatin and a thin rim of pale blue cytoplasm;
* **ALL** (class 1): a lymphoblast -- large, with a large paler nucleus of
  fine chromatin filling most of the cell, 1-3 nucleoli and sometimes an
  indented outline.

Stain, illumination, blur, noise, magnification and the red cells around
the white cell vary from image to image independently of the class, and an
automatic white balance makes the mean colour of an image useless for
predicting its class. The data set needs no download, so every example in
this gallery can run anywhere.
"""

# %%
# A grid of images per class
# --------------------------
# Each row shows images of one class, at the default size of 128 pixels
# (pass ``image_size=257`` for images shaped like the ALL-IDB2 crops).
import matplotlib.pyplot as plt
import numpy as np

from skleuk.datasets import make_blood_smears


def plot_grid(smears, n_per_class=6, title=None):
    """Show ``n_per_class`` images of every class, one row per class."""
    names = smears.target_names
    fig, axes = plt.subplots(
        len(names),
        n_per_class,
        figsize=(1.6 * n_per_class, 1.75 * len(names)),
        squeeze=False,
    )
    for k, name in enumerate(names):
        index = np.flatnonzero(smears.target == k)[:n_per_class]
        for ax, i in zip(axes[k], index, strict=False):
            ax.imshow(smears.images[i])
        for ax in axes[k]:
            ax.set_xticks([])
            ax.set_yticks([])
        axes[k, 0].set_ylabel(f"{k}: {name}")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


smears = make_blood_smears(n_samples=24, image_size=128, random_state=0)
print(smears.images.shape, smears.images.dtype, smears.target_names)
plot_grid(smears, title="make_blood_smears(image_size=128)")

# %%
# More classes: a graded morphology axis
# --------------------------------------
# With ``n_classes > 2`` the classes are evenly spaced between the mature
# lymphocyte and the lymphoblast. Four classes are named like the B-ALL
# subtypes of the public "Blood cells cancer (ALL)" images.
smears4 = make_blood_smears(n_samples=24, n_classes=4, image_size=96, random_state=0)
plot_grid(smears4, title="make_blood_smears(n_classes=4)")

# %%
# Without nuisance variation
# --------------------------
# ``nuisance=0`` switches off stain, illumination, noise and white-balance
# variation: what is left is the morphology the classes differ by.
clean = make_blood_smears(n_samples=12, image_size=128, nuisance=0, random_state=0)
plot_grid(clean, title="make_blood_smears(nuisance=0)")

plt.show()
