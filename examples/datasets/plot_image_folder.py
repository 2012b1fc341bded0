"""
Working with image files instead of arrays
==========================================

Real data sets live on disk as image files, often one sub-folder per class
(``root/healthy/*.png``, ``root/ALL/*.png``). This example

1. writes a few synthetic smear images to a temporary folder in that layout,
2. loads it with :func:`skleuk.datasets.load_image_folder` — as pixels, or as
   *file paths* only,
3. trains a pipeline whose first step,
   :class:`~skleuk.preprocessing.ImageReader`, reads the files itself, so the
   pipeline is fitted on, cross-validated on and predicts from paths.

Working on paths keeps memory low (each fold reads only its own images)
and lets many machines share one image folder (see the user guide's
"Scaling out" page).
"""

# %%
# A folder with one sub-folder per class
# --------------------------------------
# We write 24 synthetic smear crops as PNG files: the ``healthy`` ones in
# ``root/healthy/``, the ``ALL`` ones in ``root/ALL/``.
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from skleuk.datasets import load_image_folder, make_blood_smears

smears = make_blood_smears(n_samples=24, image_size=64, random_state=0)
root = tempfile.mkdtemp(prefix="skleuk_folder_")
for i, (image, label) in enumerate(zip(smears.images, smears.target, strict=True)):
    folder = os.path.join(root, smears.target_names[label])
    os.makedirs(folder, exist_ok=True)
    Image.fromarray(image).save(os.path.join(folder, f"cell_{i:03d}.png"))

for name in sorted(os.listdir(root)):
    print(f"{name}/: {len(os.listdir(os.path.join(root, name)))} files")

# %%
# Loading pixels, or only the file names
# --------------------------------------
# ``load_image_folder`` takes the class names from the sub-folder names (in
# sorted order unless ``classes=`` says otherwise). ``return_images=False``
# reads no pixel at all: it returns the paths and the labels.
data = load_image_folder(root, classes=["healthy", "ALL"])
print(data.images.shape, data.target_names, data.class_counts)

paths = load_image_folder(root, classes=["healthy", "ALL"], return_images=False)
print(paths.filenames[:2])

# %%
# A pipeline that reads its own images
# ------------------------------------
# :func:`skleuk.make_pipeline` builds the paper's system; with
# ``reader=True`` its first step is an :class:`~skleuk.preprocessing.ImageReader`,
# so every step downstream receives image batches while the pipeline itself
# is given paths. We keep the network tiny (the light architecture, two
# epochs) so the example runs in seconds; it shows the mechanics, not a
# useful model.
from skleuk import make_pipeline

pipe = make_pipeline(
    reader=True, architecture="light", cnn__epochs=2, cnn__random_state=0
)
print([name for name, _ in pipe.steps])

X_paths, y = paths.filenames, paths.target
pipe.fit(X_paths[::2], y[::2])
proba = pipe.predict_proba(X_paths[1::2])
print(proba.shape)

# %%
# Predictions on files
# --------------------
# The held-out images, read back from disk for display, with their true
# class and the predicted probability of ``ALL``.
test_paths = X_paths[1::2]
fig, axes = plt.subplots(2, 6, figsize=(9, 4.0))
for ax, path, p, label in zip(
    axes.ravel(), test_paths, proba[:, 1], y[1::2], strict=True
):
    ax.imshow(np.asarray(Image.open(path)))
    ax.set_title(f"true: {paths.target_names[label]}\nP(ALL) = {p:.2f}", fontsize=8)
    ax.set_axis_off()
fig.suptitle("Predicted from file paths (tiny model, 2 epochs)")
fig.tight_layout()
plt.show()

# %%
# The temporary folder is no longer needed.
import shutil

shutil.rmtree(root)
