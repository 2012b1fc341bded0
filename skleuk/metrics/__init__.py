"""Diagnostic metrics: sensitivity, specificity, error rate, per-class report.

These complement :mod:`sklearn.metrics` with the figures a leukemia
screening study reports (the paper's Table 4.3) and work as scikit-learn
scorers (see :func:`get_scorers`). :func:`class_roles` is the one rule
that says which class is the positive (leukaemic) one and which the healthy
one when the caller does not. For trusting a screening classifier:
calibration (:func:`expected_calibration_error`), an operating point
(:func:`specificity_at_sensitivity`) and abstention
(:func:`coverage_score`, :func:`risk_coverage_curve`).
"""

from ._abstention import (
    accuracy_at_coverage,
    coverage_score,
    covered_accuracy_score,
    get_abstention_scorers,
    risk_coverage_curve,
)
from ._calibration import expected_calibration_error
from ._class_roles import (
    HEALTHY_CLASS_NAMES,
    POSITIVE_CLASS_NAMES,
    ClassRoles,
    class_roles,
)
from ._classification import (
    diagnostic_report,
    error_rate,
    sensitivity_score,
    specificity_score,
)
from ._operating_point import (
    constrained_specificity_score,
    make_specificity_at_sensitivity_scorer,
    specificity_at_sensitivity,
)
from ._scorers import get_scorers

__all__ = [
    "HEALTHY_CLASS_NAMES",
    "POSITIVE_CLASS_NAMES",
    "ClassRoles",
    "accuracy_at_coverage",
    "class_roles",
    "diagnostic_report",
    "constrained_specificity_score",
    "coverage_score",
    "covered_accuracy_score",
    "error_rate",
    "expected_calibration_error",
    "get_abstention_scorers",
    "get_scorers",
    "make_specificity_at_sensitivity_scorer",
    "risk_coverage_curve",
    "sensitivity_score",
    "specificity_at_sensitivity",
    "specificity_score",
]
