"""Figures of a cross-validation report (matplotlib).

Every function takes a :class:`~skleuk.model_selection.CrossValidationReport`
(and optionally the matplotlib axes to draw into) and returns the
:class:`matplotlib.figure.Figure`. scikit-learn's display classes draw the
confusion matrix and ROC curves.
"""

from __future__ import annotations

import os

import numpy as np

from ..exceptions import NothingToPlotError

__all__ = [
    "NothingToPlotError",
    "plot_confusion_matrix",
    "plot_learning_curves",
    "plot_misclassified",
    "plot_roc_curve",
]


def _new_axes(ax, figsize):
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return ax.figure, ax


def _pooled(report):
    """Pooled out-of-fold ``(y_true, proba)`` of ``report``, or NothingToPlotError."""
    pooled = report.pooled_proba()
    if pooled is None:
        raise NothingToPlotError(
            "The report has no probabilities (the estimator has no predict_proba)."
        )
    return pooled


def plot_confusion_matrix(
    report, *, normalize=None, ax=None, cmap="Blues", colorbar=True
):
    """Plot the pooled out-of-fold confusion matrix.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate`.
    normalize : {"true", "pred", "all"} or None, default=None
        Show counts (None) or fractions over true classes (rows), predicted
        classes (columns) or all samples.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure by default.
    cmap : str or Colormap, default="Blues"
        Colour map.
    colorbar : bool, default=True
        Draw a colour bar.

    Returns
    -------
    fig : matplotlib.figure.Figure

    See Also
    --------
    sklearn.metrics.ConfusionMatrixDisplay : Does the drawing.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> from skleuk.plotting import plot_confusion_matrix
    >>> X, y = make_classification(n_samples=40, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    >>> fig = plot_confusion_matrix(report)
    """
    from sklearn.metrics import ConfusionMatrixDisplay

    if normalize not in (None, "true", "pred", "all"):
        raise ValueError(
            f"normalize must be None, 'true', 'pred' or 'all'; got {normalize!r}."
        )
    cm = report.confusion_matrix.astype(float)
    if normalize == "true":
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    elif normalize == "pred":
        cm = cm / np.maximum(cm.sum(axis=0, keepdims=True), 1)
    elif normalize == "all":
        cm = cm / max(cm.sum(), 1)
    fig, ax = _new_axes(ax, (4.8, 4.2))
    disp = ConfusionMatrixDisplay(cm, display_labels=report.target_names)
    disp.plot(
        ax=ax,
        cmap=cmap,
        colorbar=colorbar,
        values_format=".0f" if normalize is None else ".2f",
        xticks_rotation=45 if max(len(t) for t in report.target_names) > 10 else 0,
    )
    n_rep = report.n_repeats
    what = "counts" if normalize is None else f"normalised over {normalize}"
    ax.set_title(
        "Out-of-fold confusion matrix\n"
        f"({report.n_folds} folds pooled, {what}"
        + (f", each sample x{n_rep}" if n_rep > 1 else "")
        + ")",
        fontsize=10,
    )
    return fig


def plot_roc_curve(
    report, *, ax=None, show_folds=True, show_mean=True, show_pooled=False
):
    """Plot the ROC curve(s) with their AUC.

    For a binary problem: one curve per fold, their interpolated mean with
    a ±1 standard deviation band, and optionally the pooled curve of all
    out-of-fold scores. For more classes: the pooled one-vs-rest curve of
    every class.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate`.
    ax : matplotlib Axes, default=None
        Axes to draw into; a new figure by default.
    show_folds : bool, default=True
        Draw each fold's curve (binary).
    show_mean : bool, default=True
        Draw the mean curve and its standard deviation band (binary).
    show_pooled : bool, default=False
        Draw the pooled curve (binary; always drawn for multi-class).

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    NothingToPlotError
        If the estimator gave neither probabilities nor decision values.

    See Also
    --------
    sklearn.metrics.RocCurveDisplay : Draws each curve.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> from skleuk.plotting import plot_roc_curve
    >>> X, y = make_classification(n_samples=40, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    >>> fig = plot_roc_curve(report)
    """
    from sklearn.metrics import RocCurveDisplay

    curves = report.roc_curves()
    if curves is None:
        raise NothingToPlotError(
            "The estimator gave no probabilities or decision values: no ROC curve."
        )
    fig, ax = _new_axes(ax, (5.2, 5.0))
    if report.is_binary:
        folds = curves["folds"]
        label_folds = len(folds) <= 10
        if show_folds:
            for c in folds:
                name = f"Fold {c['fold'] + 1}" + (
                    f" / rep. {c['repeat'] + 1}" if report.n_repeats > 1 else ""
                )
                RocCurveDisplay(fpr=c["fpr"], tpr=c["tpr"], roc_auc=c["auc"]).plot(
                    ax=ax,
                    name=name if label_folds else None,
                    curve_kwargs={"alpha": 0.35, "lw": 1,
                                  **({} if label_folds else {"label": "_nolegend_"})},
                )
        mean = curves["mean"]
        if show_mean and mean is not None:
            ax.plot(
                mean["fpr"],
                mean["tpr"],
                color="C3",
                lw=2.2,
                label=f"Mean ROC (AUC = {mean['auc']:.3f} ± {mean['auc_std']:.3f})",
            )
            lo = np.clip(mean["tpr"] - mean["tpr_std"], 0, 1)
            hi = np.clip(mean["tpr"] + mean["tpr_std"], 0, 1)
            ax.fill_between(mean["fpr"], lo, hi, color="C3", alpha=0.15,
                            label="± 1 std. dev.")
        pooled = curves["pooled"]
        if show_pooled and pooled is not None:
            RocCurveDisplay(fpr=pooled["fpr"], tpr=pooled["tpr"],
                            roc_auc=pooled["auc"]).plot(
                ax=ax, name="Pooled out-of-fold",
                curve_kwargs={"color": "k", "lw": 1.5, "ls": "--"},
            )
        title = f"ROC curve, positive class: {report.pos_name}"
    else:
        for k, entry in enumerate(curves["per_class"]):
            pooled = entry["pooled"]
            if pooled is None:
                continue
            RocCurveDisplay(fpr=pooled["fpr"], tpr=pooled["tpr"],
                            roc_auc=pooled["auc"]).plot(
                ax=ax, name=f"{entry['name']} vs rest",
                curve_kwargs={"color": f"C{k % 10}", "lw": 1.8},
            )
        title = "One-vs-rest ROC curves (pooled out-of-fold)"
    ax.plot([0, 1], [0, 1], ls=":", color="grey", lw=1, label="Chance (AUC = 0.5)")
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("False positive rate (1 - specificity)")
    ax.set_ylabel("True positive rate (sensitivity)")
    ax.set_title(title, fontsize=10)
    ax.legend(loc="lower right", fontsize=7.5)
    return fig


def _history_key(history, metric):
    """The history key of a metric ('loss' or 'accuracy')."""
    if metric in history:
        return metric
    if metric == "accuracy":
        for k in history:
            if not k.startswith("val_") and "acc" in k:
                return k
    return None


# History metric -> (train fold after fit, held-out fold) in fold_metrics.
_AFTER_FIT = {"loss": ("train_loss", "log_loss"),
              "accuracy": ("train_accuracy", "accuracy")}


def _plot_after_fit(ax, report, metric):
    """Mark, at each fold's last epoch, the values measured after fitting."""
    fm = report.fold_metrics
    train_key, val_key = _AFTER_FIT[metric]
    xs, train, val = [], [], []
    for i, h in enumerate(report.histories):
        if not h:
            continue
        key = _history_key(h, metric)
        if key is None:
            continue
        xs.append(len(h[key]))
        train.append(fm[train_key][i])
        val.append(fm[val_key][i])
    if not xs:
        return
    ax.scatter(xs, train, marker="o", s=28, facecolor="none", edgecolor="C0",
               zorder=3, label="training fold, after fit (predict)")
    ax.scatter(xs, val, marker="D", s=22, color="C3", zorder=3,
               label="held-out fold")


def plot_learning_curves(report, *, metrics=("loss", "accuracy"), axes=None):
    """Plot per-epoch training curves of every fold (Keras classifiers).

    Each fold is a thin line -- training solid, and dashed the validation
    split the classifier held out of its training fold (``val_*`` entries,
    e.g. with ``early_stopping=True``) -- and the mean over folds a thick
    one. Markers at each fold's last epoch show the loss and accuracy
    measured after fitting, with ``predict``, on the training fold (circles)
    and on the held-out fold (diamonds): a gap between the training curve
    and the circles means the network behaves differently in inference
    mode (dropout, batch normalisation) than while training.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate` on a pipeline
        whose final step records ``history_``.
    metrics : sequence of str, default=("loss", "accuracy")
        The history entries to plot, one panel each.
    axes : sequence of matplotlib Axes, default=None
        One Axes per metric; a new figure by default.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    NothingToPlotError
        If no fold recorded a training history (e.g. a non-Keras classifier).

    Examples
    --------
    >>> from skleuk.model_selection import CrossValidationReport
    >>> from skleuk.plotting import plot_learning_curves
    >>> fold = {"train_index": [0, 1], "test_index": [2, 3], "y_pred": [0, 1],
    ...         "history": {"loss": [0.9, 0.5, 0.3], "accuracy": [.5, .7, .9]}}
    >>> report = CrossValidationReport([0, 1, 0, 1], [fold], classes=[0, 1])
    >>> fig = plot_learning_curves(report)
    """
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    histories = [h for h in report.histories if h]
    if not histories:
        raise NothingToPlotError(
            "No training history: the classifier records none (history_)."
        )
    metrics = list(metrics)
    if axes is None:
        fig, axes = plt.subplots(
            1, len(metrics), figsize=(4.6 * len(metrics), 3.8), layout="constrained",
            squeeze=False,
        )
        axes = axes[0]
    else:
        axes = list(np.ravel(axes))
        if len(axes) != len(metrics):
            raise ValueError(f"Need {len(metrics)} axes, got {len(axes)}.")
        fig = axes[0].figure
    for ax, metric in zip(axes, metrics, strict=True):
        drew = False
        for kind, style, color in (("train", "-", "C0"),
                                   ("validation split", "--", "C1")):
            series = []
            for h in histories:
                key = _history_key(h, metric)
                if key is None:
                    continue
                if kind != "train":
                    key = "val_" + key
                if key in h:
                    series.append(np.asarray(h[key], dtype=float))
            if not series:
                continue
            for s in series:
                ax.plot(np.arange(1, len(s) + 1), s, style, color=color, lw=0.8,
                        alpha=0.35)
            n_ep = max(len(s) for s in series)
            padded = np.full((len(series), n_ep), np.nan)
            for i, s in enumerate(series):
                padded[i, : len(s)] = s
            mean = np.nanmean(padded, axis=0)
            ax.plot(np.arange(1, n_ep + 1), mean, style, color=color, lw=2.2,
                    label=f"{kind} (mean of {len(series)} folds)")
            drew = True
        if drew and metric in _AFTER_FIT:
            _plot_after_fit(ax, report, metric)
        if not drew:
            ax.text(0.5, 0.5, f"no '{metric}' recorded", ha="center",
                    va="center", transform=ax.transAxes)
        ax.set_xlabel("Epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric.replace("_", " ").capitalize())
        ax.set_title(f"{metric.replace('_', ' ').capitalize()} per epoch",
                     fontsize=10)
        ax.grid(alpha=0.3)
        if drew:
            ax.legend(fontsize=8)
    return fig


def _get_image(X, index):
    from ..utils.validation import is_path_sequence

    if is_path_sequence(X):
        from ..utils._image_io import read_image

        path = X[index]
        return read_image(path), os.path.basename(os.fspath(path))
    image = np.asarray(X[index])
    return image, None


def _as_displayable(image):
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.dtype.kind == "f":
        lo, hi = float(np.min(image)), float(np.max(image))
        if lo < 0 or hi > 1:  # standardised data: rescale for display
            image = (image - lo) / (hi - lo if hi > lo else 1.0)
    return image


def plot_misclassified(
    report, X=None, *, repeat=0, max_images=16, n_cols=4, image_size=2.1
):
    """Show the misclassified images, most confident mistakes first.

    Each panel shows the image with its true class and the predicted class
    with the probability the model gave it -- the cells a pathologist should
    look at first.

    Parameters
    ----------
    report : CrossValidationReport
        The result of :func:`~skleuk.model_selection.evaluate`.
    X : array-like of images or sequence of file paths, default=None
        The evaluated images, in the order given to ``evaluate``; by default
        the report's own ``X`` (kept by ``evaluate``; file paths also survive
        JSON). Only the shown images are read from files.
    repeat : int, default=0
        Which repetition's out-of-fold predictions to use.
    max_images : int, default=16
        Show at most this many images.
    n_cols : int, default=4
        Images per row.
    image_size : float, default=2.1
        Size of one panel, in inches.

    Returns
    -------
    fig : matplotlib.figure.Figure

    Raises
    ------
    NothingToPlotError
        If no images are available (or ``X`` is not images).

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.model_selection import CrossValidationReport
    >>> from skleuk.plotting import plot_misclassified
    >>> images = np.zeros((4, 8, 8, 3), dtype=np.uint8)
    >>> fold = {"train_index": [0, 1], "test_index": [2, 3], "y_pred": [1, 1],
    ...         "proba": [[0.2, 0.8], [0.4, 0.6]]}
    >>> report = CrossValidationReport([0, 1, 0, 1], [fold], classes=[0, 1],
    ...                                target_names=["healthy", "ALL"])
    >>> fig = plot_misclassified(report, images)
    """
    import matplotlib.pyplot as plt

    X = report.X if X is None else X
    if X is None:
        raise NothingToPlotError(
            "No images: pass X (the images or file paths given to evaluate)."
        )
    if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind in "fiub":
        raise NothingToPlotError("X holds feature vectors, not images.")
    mistakes = report.misclassified(repeat=repeat)
    n_total = len(mistakes)
    shown = mistakes[: max(int(max_images), 0)]
    if not shown:
        fig, ax = plt.subplots(figsize=(4, 1.5), layout="constrained")
        ax.axis("off")
        ax.text(0.5, 0.5, "No misclassified images", ha="center", va="center",
                fontsize=12)
        return fig
    n_cols = max(1, min(n_cols, len(shown)))
    n_rows = int(np.ceil(len(shown) / n_cols))
    fig, axes = plt.subplots(
        n_rows, n_cols, figsize=(image_size * n_cols, image_size * n_rows + 0.6),
        squeeze=False, layout="constrained",
    )
    for ax in axes.ravel():
        ax.axis("off")
    for ax, m in zip(axes.ravel(), shown, strict=False):
        image, name = _get_image(X, m["index"])
        image = _as_displayable(image)
        if image.ndim not in (2, 3):
            raise NothingToPlotError("X does not hold images.")
        ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
        prob = "" if np.isnan(m["proba"]) else f" ({m['proba']:.2f})"
        ax.set_title(
            f"true: {m['true_name']}\npred: {m['pred_name']}{prob}",
            fontsize=9, color="firebrick",
        )
        caption = name if name is not None else f"sample {m['index']}"
        ax.text(0.5, -0.04, caption, transform=ax.transAxes, ha="center",
                va="top", fontsize=7)
    n_seen = sum(len(f["test_index"]) for f in report.folds
                 if f["repeat"] == repeat and f.get("fit_error") is None)
    errors = f"{n_total} error{'s' if n_total != 1 else ''} in {n_seen} images"
    fig.suptitle(
        f"Misclassified out-of-fold images ({errors})\n"
        f"{len(shown)} of {n_total} shown, most confident first",
        fontsize=10,
    )
    return fig
