"""plot_screening: the overlay of a screened smear."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from skleuk.plotting import NothingToPlotError, plot_screening  # noqa: E402
from skleuk.screening import SmearScreener  # noqa: E402
from skleuk.screening.tests._data import make_field, make_fields  # noqa: E402


def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


@pytest.fixture(scope="module")
def screener():
    cells = make_pipeline(FunctionTransformer(_flatten), LogisticRegression(C=10.0))
    s = SmearScreener(cells, aggregation="mean", crop_size=12, window=40)
    return s.fit(*make_fields(4))


def test_overlay_boxes_colours_and_title(screener, tmp_path):
    field = make_field([(25, 30, 1), (70, 64, 0), (2, 100, 0)], seed=7)
    path = tmp_path / "smear.png"
    Image.fromarray(np.round(field * 255).astype(np.uint8)).save(path)
    res = screener.screen([path])[0]
    fig = plot_screening(res)  # image read from the file
    ax = fig.axes[0]
    rects = ax.patches
    assert len(rects) == len(res.centres) == 3
    assert str(path) in ax.get_title() and "blast(s) of 3 cell(s)" in ax.get_title()
    # Colour follows the blast probability; the blast is the likeliest.
    p = 1 - res.probabilities[:, res.healthy_column]
    assert np.argmax(p) == 0
    expected = matplotlib.colormaps["coolwarm"](p)
    np.testing.assert_allclose([r.get_edgecolor() for r in rects], expected)
    # The border cell is dashed.
    styles = [r.get_linestyle() for r in rects]
    assert [s != "-" for s in styles] == res.border.tolist()
    assert len(fig.axes) == 2  # colour bar
    plt.close(fig)


def test_overlay_marks_each_cell_of_a_cluster(screener):
    # Two touching blasts and a healthy cell: three boxes, three centre dots
    # at the cells' centres, coloured like their boxes.
    field = make_field([(48, 40, 1), (48, 62, 1), (40, 105, 0)], seed=3)
    res = screener.screen([field])[0]
    assert len(res.centres) == 3 and res.overlap.sum() == 2
    fig = plot_screening(res, field, colorbar=False)
    ax = fig.axes[0]
    dots = ax.collections[-1].get_offsets()
    np.testing.assert_allclose(np.asarray(dots), res.centres[:, ::-1])
    np.testing.assert_allclose(ax.collections[-1].get_facecolors(),
                               [r.get_edgecolor() for r in ax.patches])
    plt.close(fig)


def test_overlay_without_cells_and_into_given_axes(screener):
    empty = make_field([])
    res = screener.screen([empty])[0]
    fig, ax = plt.subplots()
    out = plot_screening(res, empty, ax=ax, colorbar=False)
    assert out is fig and not ax.patches
    assert ax.get_title() == "X[0]: no white cell found"
    plt.close(fig)
    with pytest.raises(NothingToPlotError, match="image="):
        plot_screening(res)


def test_large_smear_is_drawn_decimated_in_full_coordinates(screener):
    big = np.kron(make_field([(25, 30, 1), (70, 64, 0)], seed=8), np.ones((30, 30, 1)))
    res = screener.screen([big[::30, ::30]])[0]
    res.boxes = res.boxes * 30  # the boxes of the full-size smear
    fig = plot_screening(res, big)
    ax = fig.axes[0]
    assert ax.images[0].get_array().shape[1] < big.shape[1]  # decimated
    assert ax.get_xlim() == (-0.5, big.shape[1] - 0.5)
    assert ax.get_ylim() == (big.shape[0] - 0.5, -0.5)
    x0, y0 = ax.patches[0].get_xy()
    assert x0 == res.boxes[0, 1] and y0 == res.boxes[0, 0]
    plt.close(fig)
