"""Grad-CAM saliency maps of a fitted pipeline overlaid on its images."""

from __future__ import annotations

import numpy as np

from ._figures import NothingToPlotError, _as_displayable, _get_image

__all__ = ["plot_saliency"]


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
