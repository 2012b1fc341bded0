"""The lightweight CNN classifier (TensorFlow/Keras through SciKeras).

:class:`LightweightCNNClassifier` is the network of Alkhouli & Joshi as a
scikit-learn classifier of image batches; :func:`build_lightweight_cnn`
builds its Keras model and :func:`count_flops` measures a model's cost.
Importing this subpackage imports TensorFlow.
"""

from ..utils._persistence import InconsistentVersionWarning
from ._architectures import ARCHITECTURES, build_lightweight_cnn, count_flops
from ._augment import AUGMENT_DEFAULTS, RandomColorJitter, RandomDihedral
from ._cnn import LightweightCNNClassifier

__all__ = [
    "ARCHITECTURES",
    "AUGMENT_DEFAULTS",
    "InconsistentVersionWarning",
    "LightweightCNNClassifier",
    "RandomColorJitter",
    "RandomDihedral",
    "build_lightweight_cnn",
    "count_flops",
]
