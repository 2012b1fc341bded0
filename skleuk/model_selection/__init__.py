"""Model selection for image data: evaluation, folds, operating point, abstention.

Near-duplicate images (the same cell cropped twice) must stay on one side
of every train/test split: :func:`find_duplicate_groups` returns group
labels for scikit-learn's group-aware splitters, and
:func:`make_stratified_cv` builds the stratified folds that keep them (and
any given groups) together. :func:`evaluate` cross-validates a pipeline
(stratified, optionally grouped and repeated) and returns a
:class:`CrossValidationReport` with the paper's tables and figures.
:func:`tune_threshold` chooses an operating point and
:class:`AbstainingClassifier` refers the cases it is unsure of.
"""

from ._abstention import AbstainingClassifier
from ._duplicates import find_duplicate_groups
from ._evaluate import evaluate
from ._operating_point import tune_threshold
from ._report import CrossValidationReport
from ._split import make_stratified_cv

__all__ = [
    "AbstainingClassifier",
    "CrossValidationReport",
    "evaluate",
    "find_duplicate_groups",
    "make_stratified_cv",
    "tune_threshold",
]
