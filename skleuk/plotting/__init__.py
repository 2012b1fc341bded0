"""Figures of a cross-validation report: the pictures to look at first.

Confusion matrix, ROC curves with AUC (per fold, mean with its standard
deviation band, pooled), per-epoch learning curves, a grid of the
misclassified images, the reliability diagram and the accuracy-coverage
curve, each drawn from a
:class:`~skleuk.model_selection.CrossValidationReport` with matplotlib and
scikit-learn's display classes; the overlay of a screened smear
(:func:`plot_screening`); and Grad-CAM saliency maps of a fitted pipeline
overlaid on its images (:func:`plot_saliency`).
"""

from ._abstention import plot_risk_coverage
from ._calibration import plot_reliability_diagram
from ._figures import (
    NothingToPlotError,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_roc_curve,
)
from ._saliency import plot_saliency
from ._screening import plot_screening

__all__ = [
    "NothingToPlotError",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_reliability_diagram",
    "plot_risk_coverage",
    "plot_roc_curve",
    "plot_saliency",
    "plot_screening",
]
