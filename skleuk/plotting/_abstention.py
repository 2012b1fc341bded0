"""The accuracy-coverage curve of a report: what referring uncertain cases buys."""

from __future__ import annotations

import numpy as np

from ._figures import _new_axes, _pooled

__all__ = ["plot_risk_coverage"]


def plot_risk_coverage(report, *, coverage=0.9, ax=None):
    """Plot accuracy of the decided cases against the share decided.

    The risk-coverage curve of selective classification
    (:func:`skleuk.metrics.risk_coverage_curve`) drawn as accuracy (``1 -
    risk``): refer the least confident cases to a pathologist and read how
    accurate the rest is. Each point's confidence threshold is chosen on
    the pooled out-of-fold predictions themselves, so the curve is an
    optimistic summary; choose a band on training data
    (:class:`~skleuk.model_selection.AbstainingClassifier`) to deploy.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate`.
    coverage : float, default=0.9
        Coverage marked with a dotted line and quoted in the legend.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure by default.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    NothingToPlotError
        If the report has no probabilities.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> from skleuk.plotting import plot_risk_coverage
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=3, random_state=0)
    >>> fig = plot_risk_coverage(report)
    """
    from ..metrics import accuracy_at_coverage, risk_coverage_curve

    y_true, proba = _pooled(report)
    fig, ax = _new_axes(ax, (4.8, 3.6))
    cov, risk, _ = risk_coverage_curve(y_true, proba, classes=report.classes)
    acc = accuracy_at_coverage(y_true, proba, coverage, classes=report.classes)
    ax.step(np.r_[0.0, cov], np.r_[1.0 - risk[0], 1.0 - risk], where="post",
            label="out-of-fold")
    ax.axvline(coverage, color="grey", ls=":", lw=1,
               label=f"coverage {coverage:g}: accuracy {acc:.3f}")
    ax.set_xlim(0, 1.01)
    ax.set_xlabel("Coverage (share of cases decided)")
    ax.set_ylabel("Accuracy on the decided cases")
    ax.set_title("Accuracy against coverage")
    ax.legend(loc="lower left", fontsize=8)
    return fig
