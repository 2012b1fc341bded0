"""Annotation readers, matching, localisation_report and locate_white_cells."""

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skleuk.screening import (
    localisation_report,
    locate_white_cells,
    match_detections,
    read_voc_boxes,
    read_xyc,
)
from skleuk.screening.tests._data import make_field

BCCD = Path(__file__).resolve().parents[3] / "tests" / "data" / "bccd"


# --------------------------------------------------------------- annotations


def test_read_xyc_swaps_to_row_col_and_accepts_empty(tmp_path):
    p = tmp_path / "Im001_1.xyc"
    p.write_text("10\t20\n\n30\t40\n")
    np.testing.assert_array_equal(read_xyc(p), [[20, 10], [40, 30]])
    e = tmp_path / "Im002_0.xyc"
    e.write_text("")
    assert read_xyc(e).shape == (0, 2)


def test_read_xyc_names_file_and_line(tmp_path):
    p = tmp_path / "bad.xyc"
    p.write_text("10\t20\nfoo\n")
    with pytest.raises(ValueError, match=r"bad\.xyc.*line 2"):
        read_xyc(p)


def test_read_voc_boxes_filters_label_and_is_zero_based(tmp_path):
    p = tmp_path / "a.xml"
    p.write_text(
        "<annotation>"
        "<object><name> WBC </name><bndbox><xmin>11</xmin><ymin>21</ymin>"
        "<xmax>61</xmax><ymax>81</ymax></bndbox></object>"
        "<object><name>RBC</name><bndbox><xmin>1</xmin><ymin>1</ymin>"
        "<xmax>5</xmax><ymax>5</ymax></bndbox></object></annotation>"
    )
    np.testing.assert_array_equal(read_voc_boxes(p), [[20, 10, 80, 60]])
    assert read_voc_boxes(p, label=None).shape == (2, 4)
    assert read_voc_boxes(p, label="Platelets").shape == (0, 4)


def test_read_voc_boxes_errors_name_the_file(tmp_path):
    p = tmp_path / "broken.xml"
    p.write_text("<annotation><object>")
    with pytest.raises(ValueError, match=r"broken\.xml.*not valid XML"):
        read_voc_boxes(p)
    q = tmp_path / "nobox.xml"
    q.write_text("<annotation><object><name>WBC</name></object></annotation>")
    with pytest.raises(ValueError, match=r"nobox\.xml"):
        read_voc_boxes(q)


def test_read_voc_boxes_on_bccd_sample():
    boxes = read_voc_boxes(BCCD / "Annotations" / "BloodImage_00031.xml")
    assert boxes.shape == (2, 4)
    assert (boxes[:, 2] > boxes[:, 0]).all() and (boxes[:, 3] > boxes[:, 1]).all()


# ------------------------------------------------------------------ matching


def test_match_is_one_to_one():
    # Two detections near one annotation: only one matches.
    pairs = match_detections([[10, 10]], [[11, 10], [10, 12]], 5)
    np.testing.assert_array_equal(pairs, [[0, 0]])


def test_match_maximises_the_number_of_pairs():
    # Greedy nearest matching would give 1 pair; the optimum is 2.
    true = [[0, 0], [0, 6]]
    pred = [[0, 3.5], [0, -3]]
    pairs = match_detections(true, pred, 4)
    assert len(pairs) == 2


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), max_size=6),
    st.lists(st.tuples(st.floats(0, 100), st.floats(0, 100)), max_size=6),
    st.floats(0.5, 30),
)
def test_match_contract(true, pred, radius):
    pairs = match_detections(true, pred, radius)
    assert len(set(pairs[:, 0])) == len(pairs) == len(set(pairs[:, 1]))
    assert len(pairs) <= min(len(true), len(pred))
    t, p = np.asarray(true).reshape(-1, 2), np.asarray(pred).reshape(-1, 2)
    for i, j in pairs:
        assert np.linalg.norm(t[i] - p[j]) <= radius + 1e-9
    # Swapping roles gives as many pairs.
    assert len(match_detections(pred, true, radius)) == len(pairs)


def test_report_counts_and_box_radius():
    truth = [np.array([[0, 0, 20, 20]]), np.empty((0, 4))]
    found = [np.array([[10, 21], [10, 10]]), np.array([[5, 5]])]
    rep = localisation_report(truth, found)
    # (10, 21) is 11 px from the box centre (radius 10): a false positive.
    assert (rep["n_true"], rep["n_pred"], rep["n_matched"]) == (1, 3, 1)
    assert rep["precision"] == pytest.approx(1 / 3)
    assert rep["recall"] == 1.0
    assert rep["f1"] == pytest.approx(0.5)
    np.testing.assert_array_equal(rep["per_image"][0]["false"], [0])
    np.testing.assert_array_equal(rep["per_image"][1]["false"], [0])
    assert localisation_report(truth, found, radius=12)["n_matched"] == 1


def test_report_centres_need_radius_and_lengths_must_agree():
    with pytest.raises(ValueError, match="radius"):
        localisation_report([[[1, 2]]], [[[1, 2]]])
    assert localisation_report([[[1, 2]]], [[[1, 2]]], radius=3)["recall"] == 1.0
    with pytest.raises(ValueError, match="1 image.*2"):
        localisation_report([[[1, 2]]], [[[1, 2]], []], radius=3)
    with pytest.raises(ValueError, match=r"y_pred\[0\].*shape"):
        localisation_report([[[1, 2]]], [[[1, 2, 3]]], radius=3)
    with pytest.raises(ValueError, match="radius"):
        localisation_report([[[1, 2]]], [[[1, 2]]], radius=-1)


def test_report_counts_a_cluster_found_as_one_once():
    # Three touching cells, one detection in the middle: one-to-one matching
    # credits one cell, the count is two short.
    truth = [[[10, 10], [10, 30], [10, 50]], [[5, 5]]]
    found = [[[10, 31]], [[5, 6], [40, 40]]]
    rep = localisation_report(truth, found, unit="diameter", cell_diameter=20)
    assert rep["n_matched"] == 2 and rep["recall"] == 0.5
    assert [im["count_error"] for im in rep["per_image"]] == [-2, 1]
    assert rep["count_error_median_abs"] == 1.5
    assert rep["count_error_mean"] == -0.5 and rep["count_exact"] == 0.0


def test_report_radius_in_cell_diameters():
    truth, found = [[[0, 0]]], [[[0, 7]]]
    assert localisation_report(truth, found, radius=0.5, unit="diameter",
                               cell_diameter=10)["recall"] == 0.0
    assert localisation_report(truth, found, radius=0.75, unit="diameter",
                               cell_diameter=10)["recall"] == 1.0
    # Per-image diameters; boxes give their own (the longer side).
    rep = localisation_report([[[0, 0]], [[0, 0]]], [[[0, 7]], [[0, 7]]],
                              unit="diameter", cell_diameter=[10, 20])
    assert [im["n_matched"] for im in rep["per_image"]] == [0, 1]
    box = [[[0, 0, 20, 10]]]  # 20 high, 10 wide: diameter 20
    assert localisation_report(box, [[[10, 9]]], radius=0.25,
                               unit="diameter")["recall"] == 1.0
    assert localisation_report(box, [[[10, 11]]], radius=0.25,
                               unit="diameter")["recall"] == 0.0
    with pytest.raises(ValueError, match="cell_diameter"):
        localisation_report(truth, found, unit="diameter")
    with pytest.raises(ValueError, match="cell_diameter"):
        localisation_report(truth, found, unit="diameter", cell_diameter=-1)
    with pytest.raises(ValueError, match="unit"):
        localisation_report(truth, found, radius=3, unit="cm")


def test_report_empty_everything_is_zero_not_nan():
    rep = localisation_report([np.empty((0, 2))], [np.empty((0, 2))], radius=5)
    assert (rep["precision"], rep["recall"], rep["f1"]) == (0.0, 0.0, 0.0)


# -------------------------------------------------------------- localisation


def test_locate_every_cell_of_a_field():
    cells_in = [(20, 25, 0), (70, 60, 1), (30, 100, 0)]
    im = make_field(cells_in, red_cells=8)
    cells = locate_white_cells(im)
    rep = localisation_report([[c[:2] for c in cells_in]], [cells.centres], radius=5)
    assert rep["precision"] == rep["recall"] == 1.0
    assert len(cells.boxes) == len(cells.radii) == len(cells.border) == 3
    assert not cells.border.any() and not cells.overlap.any()
    # Boxes hold their centres; areas sorted decreasing (the blast first).
    assert (cells.boxes[:, :2] <= cells.centres).all()
    assert (cells.centres <= cells.boxes[:, 2:]).all()
    assert np.all(np.diff(cells.nucleus_areas) <= 0)
    np.testing.assert_allclose(cells.centres[0], [70, 60], atol=1)


def test_locate_flags_cells_cut_by_the_border():
    im = make_field([(2, 60, 0), (60, 60, 0)])
    cells = locate_white_cells(im)
    assert len(cells.centres) == 2
    top = np.argmin(cells.centres[:, 0])
    assert cells.border[top] and not cells.border[1 - top]


def test_locate_splits_touching_cells():
    # Two nuclei touching each other: one region, two deep peaks.
    im = make_field([(48, 50, 1), (48, 68, 1)], red_cells=0)
    split = locate_white_cells(im)
    assert len(split.centres) == 2 and split.overlap.all()
    cols = np.sort(split.centres[:, 1])
    np.testing.assert_allclose(cols, [50, 68], atol=2)
    whole = locate_white_cells(im, split=False)
    assert len(whole.centres) == 1 and not whole.overlap.any()


def test_locate_no_cell_is_empty_not_an_error():
    im = make_field([], red_cells=10)
    cells = locate_white_cells(im)
    assert cells.centres.shape == (0, 2) and cells.boxes.shape == (0, 4)
    assert cells.shape == im.shape[:2]


def test_locate_radius_follows_magnification():
    small = locate_white_cells(make_field([(48, 64, 0)], radius=6))
    large = locate_white_cells(make_field([(96, 128, 0)], shape=(192, 256), radius=12))
    assert large.radii[0] / small.radii[0] == pytest.approx(2.0, rel=0.1)


def test_locate_on_bccd_sample_finds_the_annotated_cells():
    from skleuk.datasets import read_image

    stems = sorted(p.stem for p in (BCCD / "JPEGImages").glob("*.jpg"))
    truth = [read_voc_boxes(BCCD / "Annotations" / f"{s}.xml") for s in stems]
    found = [
        locate_white_cells(read_image(BCCD / "JPEGImages" / f"{s}.jpg")).centres
        for s in stems
    ]
    rep = localisation_report(truth, found)
    assert rep["recall"] == 1.0
    assert rep["precision"] >= 0.8
