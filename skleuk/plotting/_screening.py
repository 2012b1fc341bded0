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
):
    """Draw a smear with every detected white cell boxed and coloured.

    Each box is coloured by the cell's probability of being a blast (of not
    being ``healthy_label_``); cells flagged as cut by the border are drawn
    dashed, cells split from touching ones dotted. The title gives the
    verdict, its probability and the blast count.

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
    'X[0]: ALL (p=0.80), 1 blast(s) of 1 cell(s)'
    """
    import matplotlib as mpl
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
            ax.text(
                c0,
                r0 - 2,
                f"{p_blast[k]:.2f}",
                color="black",
                fontsize=8,
                va="bottom",
                ha="left",
                bbox={"fc": colour, "alpha": 0.8, "lw": 0, "pad": 1},
            )
    n = len(P)
    if result.get("found", n > 0):
        title = (
            f"{result['source']}: {result['verdict']} "
            f"(p={result['probability']:.2f}), {result['blast_count']} blast(s) "
            f"of {n} cell(s)"
        )
    else:
        title = f"{result['source']}: {result['verdict']}"
    ax.set_title(title, fontsize=10)
    ax.set_axis_off()
    if colorbar:
        sm = mpl.cm.ScalarMappable(norm=norm, cmap=cmap)
        fig.colorbar(sm, ax=ax, fraction=0.046, pad=0.02, label="blast probability")
    return fig
