"""
Calibrated probabilities, an operating point and abstention
===========================================================

A screening tool is used at an operating point ("miss at most 1 in 20
leukaemias"), its probabilities are read as probabilities, and it should
say "not sure" rather than guess. scikit-learn has the machinery; this
example applies it to the whole image pipeline:

* :class:`~sklearn.calibration.CalibratedClassifierCV` calibrates the
  pipeline's probabilities (sigmoid and temperature scaling here;
  ``"isotonic"`` works the same way);
* :func:`skleuk.model_selection.tune_threshold` (a
  :class:`~sklearn.model_selection.TunedThresholdClassifierCV`) chooses the
  decision threshold that reaches a target sensitivity, on images the
  network was not trained on;
* :class:`skleuk.model_selection.AbstainingClassifier` refers the cases
  whose calibrated probability lies in an uncertainty band.

One network is trained; the others only fit a calibrator, a threshold or
a band on held-out validation images (:class:`~sklearn.frozen.FrozenEstimator`).
Tiny synthetic smears and a light network keep it under a minute; the
numbers are those of this toy problem, not of real smears (see
:ref:`screening-aid` for those).
"""

# %%
# Data and pipeline
# -----------------
# A harder-than-default synthetic problem (``class_sep=0.5``), split into
# training images (for the network), validation images (for the calibrator,
# the threshold and the band: the network has not seen them) and test
# images (for measuring everything).
import matplotlib.pyplot as plt
import numpy as np
from sklearn.calibration import CalibratedClassifierCV, CalibrationDisplay
from sklearn.frozen import FrozenEstimator
from sklearn.metrics import brier_score_loss
from sklearn.model_selection import train_test_split

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.metrics import (
    coverage_score,
    covered_accuracy_score,
    expected_calibration_error,
    risk_coverage_curve,
    sensitivity_score,
    specificity_score,
)
from skleuk.model_selection import AbstainingClassifier, tune_threshold

X, y = make_blood_smears(n_samples=240, image_size=64, class_sep=0.5,
                         random_state=0, return_X_y=True)
X_train, X_rest, y_train, y_rest = train_test_split(
    X, y, train_size=0.5, stratify=y, random_state=0)
X_val, X_test, y_val, y_test = train_test_split(
    X_rest, y_rest, test_size=0.6, stratify=y_rest, random_state=0)
pipe = make_pipeline(image_size=32, architecture="light", cnn__epochs=15,
                     cnn__random_state=0).fit(X_train, y_train)

# %%
# Calibration
# -----------
# :class:`~sklearn.frozen.FrozenEstimator` keeps the fitted pipeline as it
# is: ``CalibratedClassifierCV`` then only fits the calibrator, on the
# validation images (this replaces the removed ``cv="prefit"``). Without a
# separate validation set, ``CalibratedClassifierCV(pipe, cv=3)`` fits the
# pipeline on internal folds of the training images instead; both take the
# 4-D image batch as it is.
#
# ``method="temperature"`` (scikit-learn 1.8+) is temperature scaling (Guo et
# al. 2017): one scalar :math:`T` divides the network's logit, so the
# ranking of the cases -- and the ROC curve -- cannot change; sigmoid
# (Platt) scaling also fits an offset, which can correct a bias towards one
# class. Both wrap the whole pipeline; no network parameter is involved.
# :math:`T > 1` means the network was over-confident, :math:`T < 1`
# under-confident -- the default recipe's label smoothing (0.1) keeps its
# probabilities away from 0 and 1 on purpose, so :math:`T < 1` is common.
calibrated = CalibratedClassifierCV(FrozenEstimator(pipe), method="sigmoid")
calibrated.fit(X_val, y_val)
temperature = CalibratedClassifierCV(FrozenEstimator(pipe), method="temperature")
temperature.fit(X_val, y_val)
T = 1 / temperature.calibrated_classifiers_[0].calibrators[0].beta_
print(f"fitted temperature T = {T:.2f}")
p_raw = pipe.predict_proba(X_test)[:, 1]
p_cal = calibrated.predict_proba(X_test)[:, 1]
p_temp = temperature.predict_proba(X_test)[:, 1]
curves = [("uncalibrated", p_raw), ("sigmoid", p_cal), ("temperature", p_temp)]
for name, p in curves:
    print(f"{name:>12}: ECE {expected_calibration_error(y_test, p):.3f}, "
          f"Brier {brier_score_loss(y_test, p):.3f}")

fig, ax = plt.subplots(figsize=(4.5, 4.2), layout="constrained")
for name, p in curves:
    CalibrationDisplay.from_predictions(y_test, p, n_bins=5, ax=ax, name=name)
ax.set_title("Reliability on the test images")

# %%
# With a few dozen validation images the calibrator itself is noisy, and a
# lower ECE on 72 test images is weak evidence. In a cross-validated report,
# :func:`~skleuk.model_selection.evaluate` gives the ECE and Brier score per
# fold and pooled, and :func:`~skleuk.plotting.plot_reliability_diagram`
# draws the same figure from it.
#
# An operating point
# ------------------
# The threshold reaching a sensitivity of 0.95 on the validation images
# (``tune_threshold`` splits them 3 ways and averages; the frozen pipeline
# is not refitted). On the test images the sensitivity is an honest
# estimate -- it can miss the target.
tuned = tune_threshold(FrozenEstimator(calibrated), min_sensitivity=0.95, cv=3)
tuned.fit(X_val, y_val)
for name, model in [("threshold 0.5", calibrated), ("tuned", tuned)]:
    pred = model.predict(X_test)
    print(f"{name:>13}: sensitivity {sensitivity_score(y_test, pred):.3f}, "
          f"specificity {specificity_score(y_test, pred):.3f}")
print(f"tuned threshold: {tuned.best_threshold_:.3f}")

# %%
# Abstention
# ----------
# Refer the cases whose calibrated probability lies in ``(0.2, 0.8)``.
abstain = AbstainingClassifier(FrozenEstimator(calibrated), band=(0.2, 0.8))
pred = abstain.fit(X_val, y_val).predict(X_test)
print(f"coverage {coverage_score(y_test, pred):.2f}, accuracy on the decided "
      f"cases {covered_accuracy_score(y_test, pred):.3f} "
      f"(all cases: {np.mean(calibrated.predict(X_test) == y_test):.3f})")

# %%
# Every band at once: the accuracy of the decided cases against the share
# decided (the risk-coverage curve of selective classification).
fig, ax = plt.subplots(figsize=(4.8, 3.4), layout="constrained")
cov, risk, _ = risk_coverage_curve(y_test, p_cal)
ax.step(cov, 1 - risk, where="post")
ax.set_xlabel("coverage")
ax.set_ylabel("accuracy on the decided cases")
plt.show()
