"""skleuk: detect Acute Lymphoblastic Leukemia in blood smear images.

A scikit-learn compatible implementation (and extension) of the lightweight
CNN method of Alkhouli & Joshi: preprocessing transformers, a SciKeras CNN
classifier, and honest evaluation, all as one :class:`sklearn.pipeline.Pipeline`.

Subpackages
-----------
datasets
    Built-in synthetic smears, ALL-IDB and image-folder loaders.
preprocessing
    Image transformers (colour normalisation, sharpening, averaging, cell
    cropping, geometry, scaling, file reading).
neural_network
    The lightweight CNN classifier (TensorFlow/Keras via SciKeras).
metrics
    Sensitivity, specificity, error rate, the per-class report, calibration
    error, specificity at a target sensitivity, abstention scores.
model_selection
    Cross-validated evaluation, near-duplicate grouping, a tuned operating
    point and an abstaining classifier.
plotting
    Confusion matrix, ROC curves, learning curves, misclassified cells,
    reliability diagram, accuracy-coverage curve, saliency overlays.
inspection
    Grad-CAM saliency maps of a fitted pipeline on the original images.
utils
    The shared image validator, estimator checks for images, versions.
"""

from ._version import __version__
from .utils import show_versions

__all__ = ["__version__", "make_pipeline", "show_versions"]


def __getattr__(name):
    # make_pipeline imports TensorFlow; keep `import skleuk` light.
    if name == "make_pipeline":
        from ._pipeline import make_pipeline

        return make_pipeline
    raise AttributeError(f"module 'skleuk' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + ["make_pipeline"])
