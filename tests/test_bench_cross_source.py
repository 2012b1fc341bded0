"""Mechanics of benchmarks/bench_cross_source.py and its data modules."""

import numpy as np
import pytest
from PIL import Image

bench = pytest.importorskip("benchmarks.bench_cross_source")
deepapl = pytest.importorskip("benchmarks.data.deepapl")
pbc = pytest.importorskip("benchmarks.data.pbc")


def test_configurations_leave_each_source_out_and_train_single_sources():
    source = np.array(["aria"] * 4 + ["deepapl"] * 4 + ["pbc"] * 2)
    heldout = np.array([0, 1, 0, 1, 0, 0, 1, 1, 0, 1], bool)
    configs = bench.configurations(source, heldout)
    assert set(configs) == {"loso:aria", "loso:deepapl", "loso:pbc",
                            "single:aria", "single:deepapl"}  # fmt: skip
    train, test = configs["loso:aria"]
    assert "aria" not in set(source[train]) and not heldout[train].any()
    assert set(test) == set(np.flatnonzero((source == "aria") | heldout))
    train, test = configs["single:deepapl"]
    assert set(source[train]) == {"deepapl"} and not heldout[train].any()
    assert not set(train) & set(test)
    assert set(train) | set(test) == set(range(10))


def test_metrics_of_a_source_without_blasts_use_the_held_out_blasts():
    y = np.array(["non-blast"] * 4)
    p = np.array([0.1, 0.2, 0.6, 0.3])
    pred = np.where(p >= 0.5, "blast", "non-blast")
    types = np.array(["lymphocyte", "lymphocyte", "neutrophil", "monocyte"])
    m = bench._metrics(y, p, pred, types, blasts_elsewhere=np.array([0.9, 0.5]))
    assert m["auc_kind"] == "vs held-out blasts"
    assert m["auc"] == pytest.approx(7 / 8)  # 0.6 beats the blast at 0.5
    assert m["sensitivity"] is None
    assert m["specificity"] == pytest.approx(0.75)
    assert m["specificity_lymphocytes"] == 1.0
    assert sum(m["hist_non_blast"]) == 4 and sum(m["hist_blast"]) == 0


def _jpg(path, colour):
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((40, 36, 3), colour, np.uint8)).save(path)


def test_deepapl_drops_crops_under_two_cell_types_and_groups_by_patient(tmp_path):
    root = tmp_path / "All"
    for patient in ("P1", "P2"):
        slides = root / patient / "Signed slides"
        _jpg(slides / "Blast, no lineage spec" / "a.jpg", (120, 60, 160))
        _jpg(slides / "Lymphocyte" / "b.jpg", (200, 150, 180))
        _jpg(slides / "Smudge cells" / "c.jpg", (200, 200, 200))  # not used
    _jpg(root / "P1" / "Signed slides" / "Monocyte" / "a.jpg", (1, 2, 3))  # twice
    _jpg(root / "P1" / "Unsigned slides" / "Lymphocyte" / "u.jpg", (0, 0, 0))
    data = deepapl.load(root, size=16)
    assert data["X"].shape == (3, 16, 16, 3)
    assert sorted(data["groups"]) == ["P1", "P2", "P2"]
    assert sorted(data["y"]) == ["blast", "non-blast", "non-blast"]


def test_pbc_keeps_the_mature_white_cells(tmp_path):
    for kind in ("lymphocyte", "platelet", "ig", "neutrophil"):
        _jpg(tmp_path / kind / "x.jpg", (200, 150, 180))
    data = pbc.load(tmp_path, size=8)
    assert sorted(data["cell_type"]) == ["lymphocyte", "neutrophil"]
    assert set(data["y"]) == {"non-blast"}


def test_render_writes_the_tables_and_the_figure(tmp_path):
    y = np.array(["blast", "non-blast"])
    m = bench._metrics(y, np.array([0.8, 0.3]), y, np.array(["x", "y"]))
    m["unseen"] = True
    results = {
        "per_class": 1, "seed": 0, "epochs": 1, "quick": True,
        "variants": {"default": {"loso:aria": {"per_source": {"aria": m}}}},
        "familiarity": {"loso:aria": {"aria": {"unseen": True, "n": 2,
                                               "cells_flagged": 0.5,
                                               "batches_flagged": 1.0}}},
    }  # fmt: skip
    paths = bench.render(results, tmp_path)
    names = sorted(p.name for p in paths)
    assert names == ["cross_source.rst", "cross_source_familiarity.rst",
                     "cross_source_scores.png"]  # fmt: skip
    assert "all but aria" in (tmp_path / "cross_source.rst").read_text()


def test_other_variants_are_compared_in_one_table_not_one_page_each(tmp_path):
    y = np.array(["blast", "non-blast"])
    good = bench._metrics(y, np.array([0.8, 0.3]), y, np.array(["x", "y"]))
    bad = bench._metrics(y, np.array([0.3, 0.8]), y[::-1], np.array(["x", "y"]))
    for m in (good, bad):
        m["unseen"] = True
    results = {
        "per_class": 1, "seed": 0, "epochs": 1, "quick": True,
        "variants": {"default": {"loso:aria": {"per_source": {"aria": good}}},
                     "stain": {"loso:aria": {"per_source": {"aria": bad}}}},
    }  # fmt: skip
    names = sorted(p.name for p in bench.render(results, tmp_path))
    assert names == ["cross_source.rst", "cross_source_scores.png",
                     "cross_source_variants.rst"]  # fmt: skip
    assert "'default'" in (tmp_path / "cross_source.rst").read_text()
    variants = (tmp_path / "cross_source_variants.rst").read_text()
    assert "stain: AUC" in variants and "0.00 / 0.00 / 0.00" in variants
