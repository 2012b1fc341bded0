"""locate_white_cells: touching cells separated one by one, bad input."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skleuk.preprocessing import locate_white_cells

PINK = (0.90, 0.72, 0.76)
PURPLE = (0.45, 0.25, 0.65)


def field(discs, shape=(160, 200), background=PINK):
    """Purple nuclei ``(row, col, radius)`` on a pink field (later on top)."""
    h, w = shape
    image = np.empty((h, w, 3), dtype=np.float32)
    image[:] = background
    rr, cc = np.mgrid[:h, :w]
    for r, c, rad in discs:
        image[(rr - r) ** 2 + (cc - c) ** 2 <= rad**2] = PURPLE
    return image


def cluster(k, radius, overlap, centre=(80, 100)):
    """``k`` nuclei in a row, centres ``2 * radius * (1 - overlap)`` apart."""
    step = 2 * radius * (1 - overlap)
    c0 = centre[1] - step * (k - 1) / 2
    return [(centre[0], c0 + i * step, radius) for i in range(k)]


def n_matched(found, discs, tol):
    d = np.linalg.norm(found[:, None] - np.array(discs)[None, :, :2], axis=-1)
    return int((d.min(axis=0) <= tol).sum()) if len(found) else 0


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.2])
def test_a_row_of_touching_nuclei_gives_one_cell_each(k, overlap):
    discs = cluster(k, 10, overlap, centre=(80, 100))
    discs += [(30, 30, 10), (130, 170, 10)]  # two single cells set the scale
    cells = locate_white_cells(field(discs))
    assert len(cells.centres) == k + 2
    assert n_matched(cells.centres, discs, 10) == k + 2
    assert cells.overlap.sum() == k


def test_an_l_shaped_cluster_gives_one_cell_each():
    blob = [(70, 80, 9), (86, 80, 9), (86, 96, 9), (86, 112, 9)]
    singles = [(20, 20, 9), (20, 180, 9), (140, 20, 9), (140, 180, 9)]
    discs = blob + singles
    cells = locate_white_cells(field(discs), min_area=100)
    assert len(cells.centres) == 8
    assert n_matched(cells.centres, discs, 9) == 8


def test_scale_follows_the_magnification():
    small = locate_white_cells(field(cluster(3, 10, 0.15) + [(20, 20, 10)]))
    big = locate_white_cells(
        field(cluster(3, 20, 0.15, centre=(160, 200)) + [(40, 40, 20)],
              shape=(320, 400))
    )
    assert len(small.centres) == len(big.centres) == 4
    assert big.cell_scale / small.cell_scale == pytest.approx(2.0, rel=0.15)
    assert np.median(big.radii) / np.median(small.radii) == pytest.approx(2, rel=0.15)


def test_lobes_of_one_nucleus_are_not_separated():
    # A neutrophil-like nucleus: three small lobes close together, beside
    # round single nuclei that set the scale.
    lobes = [(80, 92, 5), (74, 102, 5), (84, 108, 5)]
    discs = lobes + [(30, 30, 10), (130, 170, 10)]
    cells = locate_white_cells(field(discs))
    assert len(cells.centres) == 3
    assert not cells.overlap.any()


@pytest.mark.parametrize("gap", [24, 26, 28])
def test_touching_lobed_nuclei_give_one_cell_each_with_lobed(gap):
    # Two granulocyte-like cells, three lobes each, the lobes of one cell
    # touching those of the other: no deep distance peak per cell, but one
    # peak per cell of the nucleus mask smoothed at the cell scale.
    def lobes(r, c):
        return [(r - 7, c - 6, 6.5), (r + 7, c - 6, 6.5), (r, c + 7, 6.5)]

    singles = [(30, 30, 10), (130, 170, 10), (30, 170, 10), (130, 30, 10)]
    image = field(lobes(80, 80) + lobes(80, 80 + gap) + singles)
    assert len(locate_white_cells(image).centres) == 5  # the default: one
    cells = locate_white_cells(image, lobed=True)
    assert len(cells.centres) == 6
    truth = [(80, 80 - 5 / 3, 0), (80, 80 + gap - 5 / 3, 0)] + singles
    assert n_matched(cells.centres, truth, 8) == 6
    assert cells.overlap.sum() == 2


def test_an_elongated_nucleus_is_one_cell():
    image = field([(40, 40, 10)])
    image[75:90, 50:150] = PURPLE  # a long bar of even width
    cells = locate_white_cells(image)
    assert len(cells.centres) == 2


def test_split_false_keeps_clusters_whole():
    discs = cluster(3, 10, 0.2) + [(30, 30, 10)]
    assert len(locate_white_cells(field(discs), split=False).centres) == 2


def test_labels_mark_each_cell_and_hold_its_centre():
    discs = cluster(3, 10, 0.25) + [(30, 30, 10)]
    cells = locate_white_cells(field(discs), return_labels=True)
    labels = cells.labels
    assert labels.shape == (160, 200) and labels.dtype == np.int32
    assert set(np.unique(labels)) == set(range(len(cells.centres) + 1))
    for i, (r, c) in enumerate(np.rint(cells.centres).astype(int)):
        assert labels[r, c] == i + 1
        area = (labels == i + 1).sum()
        assert area == pytest.approx(cells.nucleus_areas[i], rel=0.05)
    assert (cells.boxes[:, :2] <= cells.centres).all()
    assert (cells.centres <= cells.boxes[:, 2:]).all()


@settings(max_examples=15, deadline=None)
@given(
    k=st.integers(2, 5),
    radius=st.integers(10, 16),
    overlap=st.floats(0.0, 0.15),
    flip=st.booleans(),
)
def test_clusters_count_right_at_any_scale_and_orientation(k, radius, overlap, flip):
    discs = cluster(k, radius, overlap, centre=(120, 160))
    discs += [(30, 30, radius), (210, 290, radius)]
    image = field(discs, shape=(240, 320))
    if flip:
        image = np.ascontiguousarray(image.transpose(1, 0, 2))
        discs = [(c, r, rad) for r, c, rad in discs]
    cells = locate_white_cells(image, min_area=100)
    assert len(cells.centres) == k + 2
    assert n_matched(cells.centres, discs, radius) == k + 2


# ------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "image",
    [
        np.ones((64, 64, 3)),  # all white
        np.zeros((64, 64, 3)),  # all black
        np.ones((1, 1, 3)),  # one pixel
        np.zeros((1, 1, 3), np.uint8),
        np.ones((1, 500, 3)) * 0.5,  # one row
        np.tile(np.asarray(PURPLE, np.float32), (80, 80, 1)),  # only nucleus
        np.tile(np.asarray(PINK, np.float32), (80, 80, 1)),  # no cell
    ],
    ids=["white", "black", "pixel", "pixel-uint8", "row", "only-nucleus", "empty"],
)
@pytest.mark.parametrize("lobed", [False, True])
def test_degenerate_images_give_no_cell(image, lobed):
    cells = locate_white_cells(image, lobed=lobed, return_labels=True)
    assert cells.centres.shape == (0, 2) and cells.boxes.shape == (0, 4)
    assert cells.radii.shape == cells.nucleus_areas.shape == (0,)
    assert cells.shape == image.shape[:2] and not cells.labels.any()


def test_an_image_of_nothing_but_cells_gives_no_cell():
    # Touching nuclei cover the image but for a thin grid: without
    # background the per-image threshold has nothing to stand out from.
    discs = [(r, c, 11) for r in range(10, 160, 20) for c in range(10, 200, 20)]
    for lobed in (False, True):
        cells = locate_white_cells(field(discs), lobed=lobed)
        assert cells.centres.shape == (0, 2)


def test_a_large_smear_is_handled():
    image = np.zeros((3000, 4000, 3), np.uint8)
    image[:] = (230, 184, 194)
    rr, cc = np.ogrid[:3000, :4000]
    for r, c in [(1000, 1000), (1000, 1090), (2000, 3000)]:
        image[(rr - r) ** 2 + (cc - c) ** 2 <= 50**2] = (115, 64, 166)
    for lobed in (False, True):
        cells = locate_white_cells(image, lobed=lobed)
        assert len(cells.centres) == 3
        assert cells.overlap.sum() == 2


def test_bad_arguments_are_named():
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="cell_scale"):
        locate_white_cells(field([]), cell_scale=0.5)
    with pytest.raises(InvalidParameterError, match="lobed"):
        locate_white_cells(field([]), lobed="yes")
    with pytest.raises(ValueError, match="image"):
        locate_white_cells(np.ones((4, 4, 3)) * 255)
    with pytest.raises(ValueError):
        locate_white_cells(np.ones((4, 4, 3)) * np.nan)
