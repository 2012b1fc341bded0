"""The lightweight CNN classifier (TensorFlow/Keras through SciKeras).

:class:`LightweightCNNClassifier` is the network of Alkhouli & Joshi as a
scikit-learn classifier of image batches; :func:`build_lightweight_cnn`
builds its Keras model and :func:`count_flops` measures a model's cost;
:func:`cpu_has_native_bf16` tells whether ``dtype_policy="auto"`` picks
bfloat16 on this CPU; :class:`EpochSnapshots` and :func:`epoch_scorer` score
several epoch counts from one fit.
Importing this subpackage imports TensorFlow (once per process without its
start-up log noise, see ``_tf_logs.py``).
"""

from ._tf_logs import import_tensorflow

import_tensorflow()

from ..exceptions import InconsistentVersionWarning  # noqa: E402
from ._architectures import (  # noqa: E402
    ARCHITECTURES,
    build_lightweight_cnn,
    count_flops,
)
from ._augment import (  # noqa: E402
    AUGMENT_DEFAULTS,
    RandomColorJitter,
    RandomDihedral,
    RandomStain,
)
from ._cnn import LightweightCNNClassifier  # noqa: E402
from ._snapshots import EpochSnapshots, epoch_scorer  # noqa: E402
from ._training import cpu_has_native_bf16  # noqa: E402

__all__ = [
    "ARCHITECTURES",
    "AUGMENT_DEFAULTS",
    "EpochSnapshots",
    "InconsistentVersionWarning",
    "LightweightCNNClassifier",
    "RandomColorJitter",
    "RandomDihedral",
    "RandomStain",
    "build_lightweight_cnn",
    "count_flops",
    "cpu_has_native_bf16",
    "epoch_scorer",
]
