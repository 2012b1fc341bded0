"""
Cross-validation report: the paper's tables and figures
=======================================================

The paper evaluates its network with 5-fold cross-validation and reports
per-fold training and validation accuracy and loss (its Table 4.2), then
per-class accuracy, precision, sensitivity, specificity, F1-score and
error rate (its Table 4.3). :func:`skleuk.model_selection.evaluate` does
that for any pipeline, honestly:

* a fresh clone of the pipeline is fitted on each training fold, so the
  preprocessing (colour statistics, scaling) never sees the validation
  images;
* folds are stratified, and can be grouped (``groups=`` or
  ``group_duplicates=True``) so that near-duplicate crops of the same cell
  never sit on both sides of a split;
* training accuracy and loss are measured after fitting with ``predict``,
  i.e. without augmentation, on the training fold.

The returned :class:`~skleuk.model_selection.CrossValidationReport` holds
every fold's predictions; it prints the tables, draws the figures
(:mod:`skleuk.plotting`) and saves itself as text, Markdown, HTML and JSON.
"""

# %%
# Evaluate the default pipeline
# -----------------------------
# Synthetic smears stand in for ALL-IDB2 here. ``early_stopping=True``
# makes the CNN hold out 10 % of each training fold and record its loss
# per epoch, which the learning curves below show. The documentation
# build uses fewer images, epochs and folds (``SKLEUK_DOCS_BUILD``).
import os
import tempfile

import matplotlib.pyplot as plt

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.model_selection import CrossValidationReport, evaluate
from skleuk.plotting import (
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_roc_curve,
)

QUICK = os.environ.get("SKLEUK_DOCS_BUILD") == "1"
n_samples, epochs, folds = (160, 15, 3) if QUICK else (260, 30, 5)

data = make_blood_smears(n_samples=n_samples, image_size=128, random_state=0)
model = make_pipeline(
    cnn__epochs=epochs,
    cnn__early_stopping=True,
    cnn__n_iter_no_change=epochs,  # record every epoch; keep the best weights
    cnn__random_state=0,
)
report = evaluate(
    model,
    data.images,
    data.target,
    cv=folds,
    random_state=0,
    target_names=data.target_names,
)

# %%
# The tables
# ----------
# ``print(report)`` shows the per-fold table (Table 4.2), the validation
# metrics as mean ± standard deviation over the folds, the confusion
# matrix of all out-of-fold predictions pooled, and the per-class report
# (Table 4.3). In a notebook the report displays as HTML tables.
print(report)

# %%
# The numbers are also available programmatically:
summary = report.summary()
for metric in ("accuracy", "sensitivity", "specificity", "roc_auc"):
    print(f"{metric:>12}: {summary[metric]['mean']:.3f} "
          f"± {summary[metric]['std']:.3f}")

# %%
# Confusion matrix
# ----------------
# Every image is predicted exactly once, by the model that did not see it.
plot_confusion_matrix(report)

# %%
# ROC curves
# ----------
# One curve per fold, their mean (interpolated on a common false-positive
# grid) with a ±1 standard deviation band, and the AUC of each.
plot_roc_curve(report)

# %%
# Learning curves
# ---------------
# Loss and accuracy per epoch of each fold's training (thin lines) and
# their mean (thick): solid on the training data, dashed on the 10 %
# validation split the CNN held out of its training fold.
plot_learning_curves(report)

# %%
# The misclassified images
# ------------------------
# The mistakes a pathologist should look at first: the out-of-fold images
# the model got wrong, most confident first, with the probability it gave
# the wrong class.
plot_misclassified(report, max_images=8)

# %%
# Save and reload
# ---------------
# ``report.save(folder)`` writes ``report.txt``, ``report.md``,
# ``report.html`` (with the figures) and ``report.json``; nothing is
# overwritten unless ``overwrite=True``. The JSON file reloads into the same
# report, figures included (images given as file paths are re-read).
folder = tempfile.mkdtemp()
written = report.save(folder)
print(sorted(os.path.basename(p) for p in written.values()))
plt.close("all")  # save() drew the figures again; keep the page tidy

reloaded = CrossValidationReport.from_json(written["json"])
print(reloaded.summary()["accuracy"] == report.summary()["accuracy"])
