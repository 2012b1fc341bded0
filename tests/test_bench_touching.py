"""bench_touching on synthetic stand-ins: composing, scoring, rendering."""

import numpy as np
import pytest

from benchmarks import bench_touching as bench

PINK = (230, 184, 194)
PURPLE = (115, 64, 166)


def _crop(radius=30, size=120):
    crop = np.full((size, size, 3), PINK, np.uint8)
    rr, cc = np.mgrid[:size, :size]
    crop[(rr - size / 2) ** 2 + (cc - size / 2) ** 2 <= (1.6 * radius) ** 2] = (
        200, 200, 230)
    crop[(rr - size / 2) ** 2 + (cc - size / 2) ** 2 <= radius**2] = PURPLE
    return crop


def test_cut_cell_centres_the_nucleus_and_feathers_the_edge():
    cell = bench.cut_cell(_crop())
    assert cell["nucleus_r"] == pytest.approx(30, rel=0.1)
    assert cell["radius"] >= 1.45 * 30 * 0.9
    alpha = cell["rgba"][..., 3]
    r, c = np.round(cell["centre"]).astype(int)
    assert alpha[r, c] == 1.0 and alpha[0, 0] == 0.0
    assert bench.cut_cell(np.full((60, 60, 3), PINK, np.uint8)) is None


def test_compose_places_clusters_that_touch_and_overlap_by_at_most_a_third():
    cells = [bench.cut_cell(_crop(r)) for r in (24, 28, 32)]
    tile = np.full((480, 640, 3), PINK, np.uint8)
    tiles = [(tile, np.array([[10.0, 10.0, 60.0, 60.0]]))]
    rng = np.random.default_rng(0)
    image, truth, avoid = bench.compose(cells, tiles, rng, m=0.8, scale=0.8)
    assert image.shape == (*bench.CANVAS, 3) and image.dtype == np.uint8
    assert len(truth) >= 3 and avoid[20, 20] and not avoid[300, 300]
    d = np.linalg.norm(truth[:, None, :2] - truth[None, :, :2], axis=-1)
    limit = (truth[:, None, 2] + truth[None, :, 2]) * (1 - 1 / 3)
    off = ~np.eye(len(truth), dtype=bool)
    assert (d[off] >= limit[off] - 1e-6).all()
    # Every cell of a cluster touches another one of it (overlap >= 0).
    assert ((d <= truth[:, None, 2] + truth[None, :, 2] + 1e-6) & off).any()


def test_score_ignores_detections_on_avoided_cells_unless_on_a_pasted_one():
    truth = np.array([[50.0, 50.0, 20.0]])
    avoid = np.zeros((100, 200), bool)
    avoid[30:70, 40:200] = True  # a BCCD cell box under the pasted cell and beside
    found = type("F", (), {"centres": np.array([[55.0, 60.0], [50.0, 150.0],
                                                [10.0, 10.0]])})
    boxes, pred = bench._score(truth, found, avoid)
    assert boxes.tolist() == [[30.0, 30.0, 70.0, 70.0]]
    assert pred.tolist() == [[55.0, 60.0], [10.0, 10.0]]


def test_render_writes_the_table_and_the_overlay(tmp_path):
    report = {"recall": 0.9, "precision": 0.95, "n_true": 10, "n_images": 2,
              "count_error_median_abs": 1.0, "count_error_mean": -0.5,
              "count_exact": 0.5}
    results = {
        "touching": {**report, "split_false": report, "option": report,
                     "seconds_per_2592x1944": 0.3, "cells_in_2592x1944": 30,
                     "cpu_seconds_per_2592x1944": 0.2, "cpu_count": 2,
                     "load_average": [1.0, 1.0, 1.0]},
        "touching_round": report,
        "bccd": {"photos": {**report, "n_images": 3},
                 "mosaics": {**report, "n_mosaics": 1},
                 "option": {"photos": report, "mosaics": report}},
    }
    image = np.full((200, 300, 3), PINK, np.uint8)
    truth = np.array([[50.0, 60.0, 20.0], [50.0, 95.0, 20.0]])
    results["examples"] = [bench._example(image, truth, truth[:1, :2])]
    written = bench.render(results, tmp_path)
    assert [p.name for p in written] == ["touching.rst", "touching_overlay.png"]
    text = written[0].read_text()
    assert "split=False" in text and "0.900" in text and "median absolute 1.0" in text
    assert text.count("lobed=True") == 3
