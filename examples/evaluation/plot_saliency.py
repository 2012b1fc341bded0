"""
Where does the network look? Grad-CAM saliency maps
===================================================

:func:`skleuk.inspection.saliency` computes Grad-CAM maps (Selvaraju et
al. 2017) of the ``cnn`` step of a fitted pipeline and maps them back
through the ``crop`` and ``resize`` steps onto the original images, so they
can be overlaid on what was given to ``predict``.
:func:`skleuk.plotting.plot_saliency` shows misclassified and correctly
classified images side by side.

A saliency map shows what the class score is sensitive to, not why the
cell is malignant. Grad-CAM passes the model-randomisation sanity check of
Adebayo et al. (2018) -- randomising the weights changes the map, which
skleuk's tests check -- but a map that looks plausible does not make a
prediction right. Outside the crop window the map is zero: the network
never saw those pixels.
"""

# %%
# Fit a small pipeline on synthetic smears
# ----------------------------------------
import matplotlib.pyplot as plt
from sklearn.model_selection import train_test_split

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.inspection import saliency
from skleuk.plotting import plot_saliency

X, y = make_blood_smears(n_samples=160, image_size=64, class_sep=0.3,
                         random_state=0, return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.3, stratify=y, random_state=0)
pipe = make_pipeline(image_size=32, architecture="light", cnn__epochs=8,
                     cnn__random_state=0).fit(X_train, y_train)

# %%
# The maps have the shape of the input images
# -------------------------------------------
maps = saliency(pipe, X_test[:4])
print(X_test[:4].shape, "->", maps.shape)

# %%
# Misclassified (top) and correctly classified (bottom) test images, each
# with the map of the class the network predicted.
plot_saliency(pipe, X_test, y_test, n_images=4)
plt.show()
