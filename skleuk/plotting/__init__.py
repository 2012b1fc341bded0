"""Figures of a cross-validation report: the pictures to look at first.

Confusion matrix, ROC curves with AUC (per fold, mean with its standard
deviation band, pooled), per-epoch learning curves and a grid of the
misclassified images, each drawn from a
:class:`~skleuk.model_selection.CrossValidationReport` with matplotlib and
scikit-learn's display classes; and the overlay of a screened smear
(:func:`plot_screening`).
"""

from ._figures import (
    NothingToPlotError,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_roc_curve,
)
from ._screening import plot_screening

__all__ = [
    "NothingToPlotError",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_roc_curve",
    "plot_screening",
]
