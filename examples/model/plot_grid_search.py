"""
Tuning the CNN: grid search over optimizer and epochs
=====================================================

The paper trains its network with either SGD or Adam for 30 epochs. Which
works better on *your* data is a question for cross-validation, and since
:func:`skleuk.make_pipeline` returns an ordinary scikit-learn
:class:`~sklearn.pipeline.Pipeline`, :class:`~sklearn.model_selection.GridSearchCV`
answers it directly: every step's parameters are reachable as
``<step>__<parameter>``, here ``cnn__optimizer`` and ``cnn__epochs``.

Two details make the search honest and affordable:

* the CNN declares itself a classifier, so ``roc_auc`` scoring works and
  integer ``cv`` values give *stratified* folds;
* ``memory=`` caches the fitted preprocessing steps, so the images are
  preprocessed once per fold, not once per candidate.

The example uses small synthetic images and few epochs so that it runs in a
couple of minutes on two CPU cores.
"""

# %%
# Data and pipeline
# -----------------
# Synthetic single-cell smears (:func:`skleuk.datasets.make_blood_smears`)
# with weakly separated classes (``class_sep=0.3``) so that the candidates
# differ, resized to 24x24 pixels for the CNN.
import os
import tempfile

import matplotlib.pyplot as plt
import numpy as np
from joblib import Memory
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears

QUICK = os.environ.get("SKLEUK_DOCS_BUILD") == "1"
n_samples, epochs_grid = (72, [3, 10]) if QUICK else (160, [5, 20])

data = make_blood_smears(
    n_samples=n_samples, image_size=64, class_sep=0.3, random_state=0
)
X, y = data.images, data.target

cache = tempfile.mkdtemp(prefix="skleuk-grid-")
pipe = make_pipeline(
    image_size=24, cnn__random_state=0, memory=Memory(cache, verbose=0)
)

# %%
# The search
# ----------
# Two optimizers x two training lengths, each scored by accuracy and by the
# area under the ROC curve over three stratified folds. ``refit="roc_auc"``
# retrains the best candidate on all the data.
param_grid = {"cnn__optimizer": ["sgd", "adam"], "cnn__epochs": epochs_grid}
search = GridSearchCV(
    pipe,
    param_grid,
    cv=StratifiedKFold(n_splits=3, shuffle=True, random_state=0),
    scoring=["accuracy", "roc_auc"],
    refit="roc_auc",
)
search.fit(X, y)
print("best parameters:", search.best_params_)
print(f"best cross-validated AUC: {search.best_score_:.3f}")

results = search.cv_results_
for i, params in enumerate(results["params"]):
    print(
        f"{params['cnn__optimizer']:>4}, {params['cnn__epochs']:>2} epochs: "
        f"accuracy {results['mean_test_accuracy'][i]:.3f} "
        f"± {results['std_test_accuracy'][i]:.3f}, "
        f"AUC {results['mean_test_roc_auc'][i]:.3f} "
        f"± {results['std_test_roc_auc'][i]:.3f}"
    )

# %%
# Results
# -------
# Mean ± standard deviation over the folds. On a few dozen images the folds
# disagree by several points, so differences between candidates smaller than
# that are noise. Which optimizer wins also depends on its learning rate
# (defaults: SGD 0.01, Adam 0.001): add ``cnn__learning_rate`` to the grid to
# compare them at their best.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), layout="constrained", sharex=True)
for ax, metric, label in zip(
    axes, ["accuracy", "roc_auc"], ["accuracy", "ROC AUC"], strict=True
):
    for optimizer, marker, shift in [("sgd", "o", -0.15), ("adam", "s", 0.15)]:
        rows = [
            i
            for i, p in enumerate(results["params"])
            if p["cnn__optimizer"] == optimizer
        ]
        epochs = [results["params"][i]["cnn__epochs"] for i in rows]
        ax.errorbar(
            np.add(epochs, shift),  # side by side
            results[f"mean_test_{metric}"][rows],
            yerr=results[f"std_test_{metric}"][rows],
            marker=marker,
            capsize=4,
            label=optimizer.upper() if optimizer == "sgd" else "Adam",
        )
    ax.set_xlabel("epochs")
    ax.set_ylabel(label)
    ax.set_xticks(epochs_grid)
    ax.set_ylim(0.4, 1.02)
    ax.axhline(0.5, color="grey", lw=0.8, ls=":")
    ax.set_title(f"Cross-validated {label}")
axes[0].legend(title="optimizer")
fig.suptitle("Grid search over the CNN's optimizer and training length")

# %%
# The refitted best pipeline predicts like any classifier:
proba = search.predict_proba(X[:5])
print(np.round(proba, 3))
print("columns:", [str(data.target_names[c]) for c in search.classes_])
