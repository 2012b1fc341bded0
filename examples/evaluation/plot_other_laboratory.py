"""
A model on another laboratory's smears
======================================

A model trained on one laboratory's smears learns its stain, camera and
magnification along with the cells. This example trains on one synthetic
"laboratory", predicts on a second one whose stain differs, and shows

1. what :class:`~skleuk.preprocessing.FamiliarityCheck` measures -- how far
   each image is from the training images -- and the
   :class:`~skleuk.exceptions.UnfamiliarImageWarning` the pipeline issues in
   ``predict`` on the foreign batch (and not on held-out images of its own
   laboratory);
2. the recommended way to train for other laboratories: pool the sources,
   give each image its source as its group, and validate with the source
   left out (:func:`~skleuk.model_selection.evaluate` with
   :class:`~sklearn.model_selection.LeaveOneGroupOut`).

The classifier is a logistic regression on cell features so that the
example runs in seconds; :func:`skleuk.make_pipeline` is used the same way.
See the user guide's :ref:`other_labs` for the figures measured on real
smears of four laboratories.
"""

# %%
# Two laboratories
# ----------------
# The second laboratory stains more strongly with eosin and less with
# haematoxylin: its images are the first's with their colour channels
# scaled.
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import LeaveOneGroupOut
from sklearn.pipeline import make_pipeline

from skleuk.datasets import make_blood_smears
from skleuk.exceptions import UnfamiliarImageWarning
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.model_selection import evaluate
from skleuk.preprocessing import FamiliarityCheck, Resizer


def laboratory(n, seed, stain=(1.0, 1.0, 1.0)):
    X, y = make_blood_smears(n, image_size=48, random_state=seed, return_X_y=True)
    return np.clip(X * np.asarray(stain), 0, 255).astype(np.uint8), y


X_a, y_a = laboratory(120, seed=0)
X_a_new, y_a_new = laboratory(32, seed=1)  # more of laboratory A
X_b, y_b = laboratory(32, seed=2, stain=(1.1, 0.8, 0.9))  # laboratory B

fig, axes = plt.subplots(2, 6, figsize=(9, 3.4))
for ax, image in zip(axes[0], X_a[:6], strict=True):
    ax.imshow(image)
    ax.axis("off")
for ax, image in zip(axes[1], X_b[:6], strict=True):
    ax.imshow(image)
    ax.axis("off")
axes[0, 0].set_title("laboratory A (training)", loc="left", fontsize=9)
axes[1, 0].set_title("laboratory B", loc="left", fontsize=9)
fig.tight_layout()

# %%
# Train on A, with the familiarity check first
# --------------------------------------------
pipe = make_pipeline(
    FamiliarityCheck(),
    Resizer(size=32),
    CellFeatureExtractor(),
    LogisticRegression(max_iter=1000),
)
pipe.fit(X_a, y_a)
check = pipe.named_steps["familiaritycheck"]

for name, X in [("laboratory A, new images", X_a_new), ("laboratory B", X_b)]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UnfamiliarImageWarning)
        pipe.predict(X)
    unfamiliar, share = check.check(X)
    print(
        f"{name}: {share:.0%} of the images unfamiliar; warning: "
        f"{[str(w.message)[:60] + '...' for w in caught] or 'none'}"
    )

# %%
# The score behind it: each image's distance to the training images, in
# units of the threshold (the 99th percentile of the training images'):
fig, ax = plt.subplots(figsize=(6, 2.6))
bins = np.linspace(0, max(5, check.unfamiliarity(X_b).max()), 40)
ax.hist(check.unfamiliarity(X_a_new), bins, alpha=0.7, label="laboratory A, new")
ax.hist(check.unfamiliarity(X_b), bins, alpha=0.7, label="laboratory B")
ax.axvline(1, color="k", ls=":", lw=1)
ax.set_xlabel("unfamiliarity (> 1: unlike the training images)")
ax.legend()
fig.tight_layout()

# %%
# Train for other laboratories: pool, group by source, leave one out
# ------------------------------------------------------------------
# Each fold trains on one laboratory and tests on the other: the estimate
# is that of a laboratory the model has not seen.
X = np.concatenate([X_a, X_b])
y = np.concatenate([y_a, y_b])
source = np.repeat(["A", "B"], [len(y_a), len(y_b)])
report = evaluate(
    make_pipeline(
        Resizer(size=32), CellFeatureExtractor(), LogisticRegression(max_iter=1000)
    ),
    X,
    y,
    groups=source,
    cv=LeaveOneGroupOut(),
)
print(report.info["protocol"])
print(report)
