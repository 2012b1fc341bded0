"""Diagnostic metrics: sensitivity, specificity, error rate, per-class report.

These complement :mod:`sklearn.metrics` with the figures a leukemia
screening study reports (the paper's Table 4.3) and work as scikit-learn
scorers (see :func:`get_scorers`).
"""

from ._classification import (
    classification_report,
    error_rate,
    get_scorers,
    sensitivity_score,
    specificity_score,
)

__all__ = [
    "classification_report",
    "error_rate",
    "get_scorers",
    "sensitivity_score",
    "specificity_score",
]
