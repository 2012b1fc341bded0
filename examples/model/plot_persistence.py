"""
Saving and loading a trained model
==================================

A trained pipeline can be saved in three ways:

* **joblib** (or pickle) saves the whole fitted pipeline -- preprocessing and
  CNN -- in one file, ready for ``predict`` after ``joblib.load``. The file
  records the versions of skleuk, Keras, TensorFlow, SciKeras and
  scikit-learn; loading it under different ones warns with
  :class:`~skleuk.neural_network.InconsistentVersionWarning`.
  **Loading a pickle runs arbitrary code: only load files you trust.**
* :func:`skleuk.save_model` writes the same joblib file with the class
  names and metadata, and :func:`skleuk.load_model` reads it through an
  allow-list of scikit-learn, NumPy, Keras and skleuk types: a file holding
  anything else is refused before any of it runs. ``skleuk train`` and
  ``skleuk predict`` use them.
* :meth:`~skleuk.neural_network.LightweightCNNClassifier.export_keras` writes
  the bare network in Keras's own ``.keras`` format, which Keras loads
  without running code -- the format to share a network or to serve it
  outside Python's scikit-learn stack. It holds only the network: apply the
  same preprocessing, and keep ``classes_`` (the order of its outputs).
"""

# %%
# Train a small pipeline
# ----------------------
import os
import tempfile
from pathlib import Path

import joblib
import keras
import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import train_test_split

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears

QUICK = os.environ.get("SKLEUK_DOCS_BUILD") == "1"
n_samples, epochs = (80, 5) if QUICK else (160, 15)

data = make_blood_smears(n_samples=n_samples, image_size=64, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(
    data.images, data.target, test_size=0.25, stratify=data.target, random_state=0
)
model = make_pipeline(image_size=24, cnn__epochs=epochs, cnn__random_state=0)
model.fit(X_train, y_train)
proba = model.predict_proba(X_test)

# %%
# joblib: the whole pipeline
# --------------------------
# ``joblib.dump`` stores the network inside the file in Keras's format, so the
# loaded pipeline predicts exactly the same probabilities -- also in another
# Python process on the same platform.
folder = Path(tempfile.mkdtemp(prefix="skleuk-models-"))
joblib.dump(model, folder / "pipeline.joblib")
loaded = joblib.load(folder / "pipeline.joblib")
proba_joblib = loaded.predict_proba(X_test)
print("identical probabilities after joblib.load:",
      np.array_equal(proba, proba_joblib))

# %%
# A model file that runs no code
# ------------------------------
# :func:`skleuk.save_model` keeps the class names and what the model takes;
# :func:`skleuk.load_model` loads only allow-listed types (the CNN's network
# is Keras's own format inside the file), so it gives the same probabilities
# -- and refuses a file that would run a command, without running it.
import pickle  # noqa: E402

import skleuk  # noqa: E402
from skleuk.exceptions import UntrustedModelError  # noqa: E402

skleuk.save_model(model, folder / "model.joblib", input_kind="images",
                  target_names=[str(n) for n in data.target_names])
saved = skleuk.load_model(folder / "model.joblib")
print("classes:", saved.target_names, "| same probabilities:",
      np.array_equal(proba, saved.estimator.predict_proba(X_test)))


class Hostile:
    def __reduce__(self):
        return (os.system, ("echo this never runs",))


with open(folder / "hostile.joblib", "wb") as f:
    pickle.dump({"format": "skleuk-model", "estimator": Hostile()}, f)
try:
    skleuk.load_model(folder / "hostile.joblib")
except UntrustedModelError as exc:
    print("refused:", exc.types)

# %%
# Keras format: the network alone
# -------------------------------
# The network's input is the output of the preprocessing steps
# (``model[:-1]``); its output columns follow ``classes_``. An existing file
# is never overwritten unless ``overwrite=True`` is passed.
cnn = model.named_steps["cnn"]
path = cnn.export_keras(folder / "cnn.keras")
try:
    cnn.export_keras(path)
except FileExistsError as exc:
    print("refused:", exc)

network = keras.saving.load_model(path)  # safe_mode: no code is run
features = model[:-1].transform(X_test)
proba_keras = network.predict(features, verbose=0)
print("classes (output columns):", [str(data.target_names[c]) for c in cnn.classes_])
print("largest difference to the pipeline:", np.abs(proba_keras - proba).max())

for name in ("pipeline.joblib", "model.joblib", "cnn.keras"):
    print(f"{name}: {(folder / name).stat().st_size / 1024:.0f} KiB")

# %%
# The three agree
# ---------------
# Probability of ``ALL`` for each test image: from the trained pipeline, the
# pipeline loaded with joblib and the exported Keras network.
positive = list(cnn.classes_).index(1)
fig, ax = plt.subplots(figsize=(4.5, 4), layout="constrained")
ax.plot([0, 1], [0, 1], color="grey", lw=0.8, ls=":")
ax.scatter(proba[:, positive], proba_joblib[:, positive], s=40, label="joblib.load")
ax.scatter(
    proba[:, positive], proba_keras[:, positive], s=12, marker="x",
    label=".keras + preprocessing",
)
ax.set_xlabel(f"P({data.target_names[1]}), trained pipeline")
ax.set_ylabel(f"P({data.target_names[1]}), reloaded")
ax.set_title("Reloaded models give the same probabilities")
ax.legend()
