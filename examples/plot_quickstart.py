"""
Quick start: detect leukemic cells in five steps
================================================

skleuk puts the whole method of Alkhouli & Joshi -- colour normalisation,
Laplacian sharpening, neighbourhood averaging, white-cell cropping,
resizing, scaling and the lightweight CNN -- into one scikit-learn
:class:`~sklearn.pipeline.Pipeline`, made by :func:`skleuk.make_pipeline`.
It is used like any scikit-learn classifier: ``fit`` on labelled images,
``predict`` on new ones, then measure.

This example trains it on built-in synthetic smears
(:func:`skleuk.datasets.make_blood_smears`: ``healthy`` lymphocytes and
``ALL`` lymphoblasts), so it runs anywhere; with your copy of ALL-IDB,
replace the data by :func:`skleuk.datasets.load_all_idb`.
"""

# %%
# 1. Data
# -------
# 260 images, like the ALL-IDB2 data set, as ``uint8`` RGB arrays of shape
# ``(n_images, height, width, 3)``. When the documentation is built the
# example uses fewer, smaller images and epochs to run in a couple of
# minutes on two CPU cores.
import os

import matplotlib.pyplot as plt
from sklearn.metrics import ConfusionMatrixDisplay
from sklearn.model_selection import train_test_split

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.metrics import diagnostic_report

QUICK = os.environ.get("SKLEUK_DOCS_BUILD") == "1"
n_samples, epochs = (160, 15) if QUICK else (260, 30)

data = make_blood_smears(n_samples=n_samples, image_size=128, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    data.images, data.target, test_size=0.25, stratify=data.target, random_state=0
)
print(f"{len(X_train)} training and {len(X_test)} test images of shape "
      f"{X_train.shape[1:]}; classes: {', '.join(data.target_names)}")

# %%
# 2. The pipeline
# ---------------
# Every step can be tuned with ``<step>__<parameter>``; here only the number
# of epochs and the seed. ``image_size`` (default 64) is the side of the
# images the CNN sees.
model = make_pipeline(cnn__epochs=epochs, cnn__random_state=0)
print([name for name, _ in model.steps])

# %%
# 3. Fit
# ------
# The preprocessing steps are fitted on the training images, then the CNN
# is trained on their output.
model.fit(X_train, y_train)

# %%
# 4. Predict
# ----------
# ``predict`` gives the class, ``predict_proba`` the probability of each
# class (columns in the order of ``model.classes_``).
y_pred = model.predict(X_test)
proba = model.predict_proba(X_test)

fig, axes = plt.subplots(2, 6, figsize=(10, 4), layout="constrained")
for ax, image, truth, pred, p in zip(
    axes.ravel(), X_test, y_test, y_pred, proba, strict=False
):
    ax.imshow(image)
    ax.set_axis_off()
    colour = "black" if truth == pred else "firebrick"
    ax.set_title(
        f"true: {data.target_names[truth]}\n"
        f"pred: {data.target_names[pred]} ({p[pred]:.2f})",
        fontsize=8,
        color=colour,
    )
fig.suptitle("Test images: true class, predicted class (probability)")

# %%
# 5. Measure
# ----------
# :func:`skleuk.metrics.diagnostic_report` gives, per class, every
# column of the paper's Table 4.3: accuracy, precision, sensitivity
# (recall), specificity, F1-score, error rate and support.
print(diagnostic_report(y_test, y_pred, target_names=data.target_names))

ConfusionMatrixDisplay.from_predictions(
    y_test, y_pred, display_labels=data.target_names, cmap="Blues"
)
plt.title("Confusion matrix on the test images")

# %%
# A single train/test split is a noisy estimate on a few hundred images:
# :func:`skleuk.model_selection.evaluate` cross-validates the pipeline and
# reports mean ± standard deviation (see
# :ref:`sphx_glr_auto_examples_evaluation_plot_cross_validation_report.py`).
# The ``skleuk demo`` command runs that evaluation and writes the report
# and its figures to a folder.
