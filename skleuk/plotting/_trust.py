"""Figures for trusting a classifier: reliability, risk-coverage, saliency."""

from __future__ import annotations

import numpy as np

from ._figures import NothingToPlotError, _as_displayable, _get_image, _new_axes

__all__ = ["plot_reliability_diagram", "plot_risk_coverage", "plot_saliency"]


def _pooled(report):
    pooled = report._pooled_proba()
    if pooled is None:
        raise NothingToPlotError(
            "The report has no probabilities (the estimator has no predict_proba)."
        )
    return pooled


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


def _choose(y, pred, n_images):
    """Indices of up to n misclassified and n correctly classified images."""
    wrong = np.flatnonzero(pred != y)[:n_images]
    right = np.flatnonzero(pred == y)[:n_images]
    return [("misclassified", wrong), ("correct", right)]


def plot_saliency(
    estimator, X, y=None, *, n_images=4, alpha=0.45, cmap="jet", image_size=2.1
):
    """Overlay Grad-CAM maps on misclassified and correctly classified images.

    With ``y``, the first row shows up to ``n_images`` misclassified images
    and the second as many correctly classified ones, each with the map of
    the *predicted* class (what made the network decide so); without
    ``y``, the first ``n_images`` images.

    Parameters
    ----------
    estimator : fitted Pipeline
        See :func:`skleuk.inspection.saliency`.
    X : array-like of images, or file paths
        What ``estimator.predict`` takes (e.g. held-out images).
    y : array-like of shape (n_samples,), default=None
        True labels.
    n_images : int, default=4
        Images per row.
    alpha : float, default=0.45
        Opacity of the heat map.
    cmap : str, default="jet"
        Colour map of the heat map.
    image_size : float, default=2.1
        Size of one panel, in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure

    See Also
    --------
    skleuk.inspection.saliency : The maps.

    Examples
    --------
    >>> from skleuk import make_pipeline
    >>> from skleuk.datasets import make_blood_smears
    >>> from skleuk.plotting import plot_saliency
    >>> X, y = make_blood_smears(n_samples=20, image_size=32, random_state=0,
    ...                          return_X_y=True)
    >>> pipe = make_pipeline(image_size=16, architecture="light",
    ...                      cnn__epochs=1, cnn__random_state=0)
    >>> fig = plot_saliency(pipe.fit(X, y), X, y)  # doctest: +SKIP
    """
    import matplotlib.pyplot as plt

    from ..inspection import saliency

    pred = np.asarray(estimator.predict(X))
    if y is None:
        rows = [("images", np.arange(min(n_images, len(pred))))]
    else:
        y = np.asarray(y)
        if len(y) != len(pred):
            raise ValueError(f"y has {len(y)} labels for {len(pred)} images.")
        rows = _choose(y, pred, n_images)
    chosen = np.concatenate([idx for _, idx in rows]).astype(int)
    if chosen.size == 0:
        raise NothingToPlotError("No images to show.")
    subset = [X[i] for i in chosen]
    if isinstance(X, np.ndarray):
        subset = X[chosen]
    maps = saliency(estimator, subset, target=pred[chosen])
    n_cols = max(1, max(len(idx) for _, idx in rows))
    fig, axes = plt.subplots(
        len(rows), n_cols, squeeze=False, layout="constrained",
        figsize=(image_size * n_cols, image_size * len(rows) + 0.5),
    )
    for ax in axes.ravel():
        ax.axis("off")
    k = 0
    for r, (label, idx) in enumerate(rows):
        if len(idx) == 0:
            axes[r, 0].text(0.5, 0.5, f"no {label} images", ha="center",
                            va="center", transform=axes[r, 0].transAxes)
        for c, i in enumerate(idx):
            image = _as_displayable(_get_image(X, i)[0])
            ax = axes[r, c]
            ax.imshow(image)
            ax.imshow(maps[k], cmap=cmap, alpha=alpha, vmin=0, vmax=1)
            title = f"pred: {pred[i]}"
            if y is not None:
                title = f"true: {y[i]}\n{title}"
            ax.set_title(title, fontsize=9,
                         color="firebrick" if label == "misclassified" else "black")
            k += 1
        axes[r, 0].text(-0.08, 0.5, label, transform=axes[r, 0].transAxes,
                        rotation=90, ha="right", va="center", fontsize=10)
    fig.suptitle("Grad-CAM of the predicted class (Selvaraju et al. 2017)",
                 fontsize=10)
    return fig
