"""The reliability diagram of a report"s probabilities."""

from __future__ import annotations

import numpy as np

from ._figures import _new_axes, _pooled

__all__ = ["plot_reliability_diagram"]


def plot_reliability_diagram(report, *, n_bins=10, strategy="uniform", ax=None):
    """Plot the reliability diagram of the pooled out-of-fold probabilities.

    Observed frequency against mean predicted probability per bin: a
    calibrated model lies on the diagonal. Binary problems show the
    positive class (:class:`sklearn.calibration.CalibrationDisplay`);
    multi-class ones the top-label confidence against accuracy. The legend
    gives the expected calibration error.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate`.
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins or bins of equal counts.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure by default.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    NothingToPlotError
        If the report has no probabilities.

    See Also
    --------
    sklearn.calibration.CalibrationDisplay : Does the drawing.
    skleuk.metrics.expected_calibration_error : The number in the legend.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> from skleuk.plotting import plot_reliability_diagram
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=3, random_state=0)
    >>> fig = plot_reliability_diagram(report)
    """
    from sklearn.calibration import CalibrationDisplay, calibration_curve

    from ..metrics import expected_calibration_error

    y_true, proba = _pooled(report)
    fig, ax = _new_axes(ax, (4.6, 4.2))
    if report.is_binary:
        p = proba[:, report.pos_index]
        ece = expected_calibration_error(y_true, p, n_bins=n_bins, strategy=strategy,
                                         pos_label=report.pos_label)
        CalibrationDisplay.from_predictions(
            y_true, p, n_bins=n_bins, strategy=strategy, pos_label=report.pos_label,
            ax=ax, name=f"out-of-fold (ECE {ece:.3f})",
        )
        ax.set_xlabel(f"Mean predicted probability of {report.pos_name}")
        ax.set_ylabel(f"Fraction of {report.pos_name}")
    else:
        conf = proba.max(axis=1)
        hit = report.classes[np.argmax(proba, axis=1)] == y_true
        ece = expected_calibration_error(y_true, proba, n_bins=n_bins,
                                         strategy=strategy, classes=report.classes)
        frac, mean = calibration_curve(hit, conf, n_bins=n_bins, strategy=strategy)
        ax.plot([0, 1], [0, 1], "k:", label="Perfectly calibrated")
        ax.plot(mean, frac, "s-", label=f"out-of-fold (ECE {ece:.3f})")
        ax.set_xlabel("Mean top-label probability")
        ax.set_ylabel("Accuracy")
        ax.legend(loc="upper left")
    ax.set_title("Reliability diagram")
    return fig
