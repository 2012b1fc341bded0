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
feature_extraction
    Hand-crafted colour, HOG and nucleus features (the classical baseline).
neural_network
    The lightweight CNN classifier (TensorFlow/Keras via SciKeras).
metrics
    Sensitivity, specificity, error rate, the per-class report, calibration
    error, specificity at a target sensitivity, abstention scores.
model_selection
    Cross-validated evaluation, near-duplicate grouping, a tuned operating
    point and an abstaining classifier.
ensemble
    Seed averaging: one pipeline fitted with several seeds, probabilities
    averaged.
screening
    Whole smears: every white cell located, classified and counted, an
    image-level verdict, localisation against point/box annotations.
plotting
    Confusion matrix, ROC curves, learning curves, misclassified cells,
    screening overlays, reliability diagram, accuracy-coverage curve,
    saliency overlays.
inspection
    Grad-CAM saliency maps of a fitted pipeline on the original images.
utils
    The shared image validator, estimator checks for images, versions.

The pipeline
------------
:func:`make_pipeline` builds the whole system (its recipes are
:data:`RECIPES`; :data:`DEFAULT_IMAGE_SIZE` and :data:`DEFAULT_ARCHITECTURE`
are the default recipe's input size and network);
:func:`make_baseline_pipeline` the classical baseline.

Model files
-----------
:func:`save_model` writes a fitted estimator with its class names and
metadata; :func:`load_model` reads it back through an allow-list of types,
so that a hostile file runs no code (``skleuk train``/``predict`` use them).

Configuration
-------------
:func:`set_config`, :func:`get_config` and :func:`config_context` choose
package-wide backends (whether preprocessing may use OpenCV), as
:func:`sklearn.set_config` does for scikit-learn.
"""

from ._config import config_context, get_config, set_config
from ._version import __version__
from .utils import show_versions
from .utils._model_file import load_model, save_model

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "DEFAULT_IMAGE_SIZE",
    "RECIPES",
    "__version__",
    "config_context",
    "get_config",
    "load_model",
    "make_baseline_pipeline",
    "make_pipeline",
    "save_model",
    "set_config",
    "show_versions",
]

# Served from ``_pipeline`` on first use: make_pipeline imports TensorFlow
# when called, and ``import skleuk`` stays light.
_PIPELINE_NAMES = (
    "DEFAULT_ARCHITECTURE",
    "DEFAULT_IMAGE_SIZE",
    "RECIPES",
    "make_baseline_pipeline",
    "make_pipeline",
)


def __getattr__(name):
    if name in _PIPELINE_NAMES:
        from . import _pipeline

        return getattr(_pipeline, name)
    raise AttributeError(f"module 'skleuk' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_PIPELINE_NAMES))
