"""Overlay of a screened smear: every cell boxed, coloured by probability."""

from __future__ import annotations

import os

import numpy as np

from ._figures import NothingToPlotError, _as_displayable, _new_axes

__all__ = ["plot_screening"]

# Longest side, in pixels, of the image actually drawn.
_DISPLAY_PIXELS = 1200


def plot_screening(
    result,
    image=None,
    *,
    ax=None,
    cmap="coolwarm",
    colorbar=True,
    annotate=True,
    figsize=(8, 6),
    title=None,
    legend=True,
):
    """Draw a smear with every detected white cell boxed and coloured.

    Each cell gets a box and a dot on its centre (the cells of a cluster of
    touching cells, whose boxes overlap, are marked one by one). Each box is
    coloured by the cell's probability of being a blast (of not
    being ``healthy_label_``) and labelled with it (labels stay inside the
    image); cells flagged as cut by the border are drawn dashed, cells split
    from touching ones dotted, as the legend under the image says. The
    title gives the verdict, the smear's probability of not being healthy
    and the blast count.

    Parameters
    ----------
    result : Bunch
        One item of :meth:`skleuk.screening.SmearScreener.screen`.
    image : array-like of shape (height, width, 3) or None, default=None
        The smear. ``None``: read from ``result.source`` when it is a file
        path.
    ax : matplotlib Axes or None, default=None
        Where to draw; a new figure when None.
    cmap : str or Colormap, default="coolwarm"
        Colour map of the probabilities (0 to 1).
    colorbar : bool, default=True
        Add a colour bar.
    annotate : bool, default=True
        Write each cell's probability next to its box.
    figsize : tuple of 2 floats, default=(8, 6)
        Size of a new figure.
    title : str or None, default=None
        The title (``None``: source, verdict, probability and blast count);
        ``skleuk screen`` gives the decision, e.g. ``"Malignant -- P(Malignant)
        0.57 >= 0.55"``.
    legend : bool, default=True
        Explain the line styles (whole cell, cut by the border, split from
        touching cells) under the image.

    Returns
    -------
    fig : matplotlib.figure.Figure
        The figure drawn into.

    Raises
    ------
    NothingToPlotError
        No ``image`` given and ``result.source`` is not a readable file.

    See Also
    --------
    skleuk.screening.SmearScreener : Gives the results drawn here.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from sklearn.utils import Bunch
    >>> from skleuk.plotting import plot_screening
    >>> result = Bunch(
    ...     source="X[0]", boxes=np.array([[10., 10., 40., 40.]]),
    ...     probabilities=np.array([[0.2, 0.8]]), border=np.array([False]),
    ...     overlap=np.array([False]), verdict="ALL", probability=0.8,
    ...     blast_count=1, found=True, healthy_column=0)
    >>> fig = plot_screening(result, np.ones((64, 64, 3)))
    >>> fig.axes[0].get_title()
    'X[0]: ALL -- P(not healthy) 0.80, 1 blast(s) of 1 cell(s)'
    """
    import matplotlib as mpl
    from matplotlib.lines import Line2D
    from matplotlib.patches import Rectangle

    if image is None:
        source = result.get("source")
        if source is None or not os.path.isfile(str(source)):
            raise NothingToPlotError(
                "plot_screening needs the smear image: pass image=, or screen "
                "file paths so that result.source is the file."
            )
        from ..utils._image_io import read_image

        image = read_image(source)
    fig, ax = _new_axes(ax, figsize)
    image = np.asarray(image)
    h, w = image.shape[:2]
    # Large smears are shown decimated (the figure has far fewer pixels
    # anyway), in the coordinates of the full image.
    step = max(1, int(max(h, w) // _DISPLAY_PIXELS))
    ax.imshow(
        _as_displayable(image[::step, ::step]),
        extent=(-0.5, w - 0.5, h - 0.5, -0.5),
        interpolation="antialiased",
    )
    cmap = mpl.colormaps[cmap] if isinstance(cmap, str) else cmap
    norm = mpl.colors.Normalize(0.0, 1.0)
    P = np.asarray(result["probabilities"])
    col = result.get("healthy_column", 0)
    p_blast = 1.0 - P[:, col] if len(P) else np.empty(0)
    for k, (r0, c0, r1, c1) in enumerate(np.asarray(result["boxes"])):
        style = "--" if result["border"][k] else (":" if result["overlap"][k] else "-")
        colour = cmap(norm(p_blast[k]))
        ax.add_patch(
            Rectangle((c0, r0), c1 - c0, r1 - r0, fill=False, ec=colour, lw=2, ls=style)
        )
        if annotate:
            # Above the box, or inside it at the top edge: never over the
            # title or outside the image.
            above = r0 - 2 > 0.05 * h
            ax.text(
                min(max(c0, 0), w - 1),
                r0 - 2 if above else max(r0, 0) + 2,
                f"{p_blast[k]:.2f}",
                color="black",
                fontsize=8,
                va="bottom" if above else "top",
                ha="left" if c0 < 0.9 * w else "right",
                bbox={"fc": colour, "alpha": 0.8, "lw": 0, "pad": 1},
                clip_on=True,
            )
    centres = result.get("centres")
    if centres is not None and len(centres):
        # Each cell's centre: the cells of a cluster, whose boxes overlap,
        # stay countable one by one.
        centres = np.asarray(centres, dtype=float).reshape(-1, 2)
        ax.scatter(centres[:, 1], centres[:, 0], s=22, c=cmap(norm(p_blast)),
                   edgecolors="black", linewidths=0.8, zorder=3)
    n = len(P)
    if title is None:
        source = _one_line(result["source"])
        if result.get("found", n > 0):
            title = (
                f"{source}: {result['verdict']} -- P(not healthy) "
                f"{result['probability']:.2f}, {result['blast_count']} blast(s) "
                f"of {n} cell(s)"
            )
        else:
            title = f"{source}: {result['verdict']}"
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    if legend:
        styles = [("-", "whole cell"), ("--", "cut by the border"),
                  (":", "split from touching cells")]
        ax.legend(
            handles=[Line2D([], [], color="0.3", lw=2, ls=ls, label=text)
                     for ls, text in styles],
            loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8,
            frameon=False, title="boxes: one per white cell, labelled P(blast)",
            title_fontsize=8,
        )
    if colorbar:
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, fraction=0.046, pad=0.02, label="P(blast)")
    return fig


def _one_line(text):
    """``text`` with control characters (a newline in a file name) escaped."""
    import re

    return re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m.group())[1:-1], str(text))
