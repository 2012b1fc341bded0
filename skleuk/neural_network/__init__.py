"""The lightweight CNN classifier (TensorFlow/Keras through SciKeras).

:class:`LightweightCNNClassifier` is the network of Alkhouli & Joshi as a
scikit-learn classifier of image batches; :func:`build_lightweight_cnn`
builds its Keras model and :func:`count_flops` measures a model's cost;
:func:`cpu_has_native_bf16` tells whether ``dtype_policy="auto"`` picks
bfloat16 on this CPU.
Importing this subpackage imports TensorFlow.
"""

from ..exceptions import InconsistentVersionWarning
from ._architectures import ARCHITECTURES, build_lightweight_cnn, count_flops
from ._augment import AUGMENT_DEFAULTS, RandomColorJitter, RandomDihedral
from ._cnn import LightweightCNNClassifier
from ._precision import cpu_has_native_bf16

__all__ = [
    "ARCHITECTURES",
    "AUGMENT_DEFAULTS",
    "InconsistentVersionWarning",
    "LightweightCNNClassifier",
    "RandomColorJitter",
    "RandomDihedral",
    "build_lightweight_cnn",
    "count_flops",
    "cpu_has_native_bf16",
]
