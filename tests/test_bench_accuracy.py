"""The real-data accuracy benchmark's own mechanics, on tiny made-up images.

The benchmark itself needs the Aria images; these tests check what it
computes and renders from a run, so that a table in the docs cannot say
something the run did not measure.
"""

import json

import numpy as np
import pytest

bench = pytest.importorskip(
    "benchmarks.bench_accuracy", reason="run from the repository root")

TINY = ('light@16:epochs=1,batch_size=8,augment=false,optimizer="sgd",'
        'filters=4,dense_units=8')


@pytest.fixture(scope="module")
def tiny_fields():
    rng = np.random.default_rng(0)
    y = np.array(["Benign", "Malignant"] * 8)
    X = rng.integers(0, 256, (16, 16, 16, 3), dtype=np.uint8)
    X[y == "Malignant", 4:12, 4:12] //= 3  # a dark blob
    return X, y, np.arange(16)


@pytest.mark.parametrize("tta", [False, True])
def test_cross_validate_measures_the_other_tta_setting(tiny_fields, tta):
    """Each network is also scored with TTA switched the other way."""
    X, y, groups = tiny_fields
    res = bench.cross_validate_model(f"{TINY},tta={json.dumps(tta)}", X, y, groups,
                                     "field", folds=2)
    assert res["tta"] is tta
    ours, other = ("tta_", "no_tta_") if tta else ("no_tta_", "tta_")
    assert not any(k.startswith(ours) for k in res)
    for key in ("accuracy", "sensitivity", "specificity", "auc"):
        assert 0 <= res[other + key] <= 1
    assert 0 <= res["train_accuracy"] <= 1


def _results(rows, when="2026-12-01 00:00"):
    return {"when": when, "load_average": 1.0, "quick": False,
            "machine": {"cpu": {"model_name": "cpu", "cores": 2}},
            "data": {"n_fields": 4, "n_cells": 8, "per_class": 1, "folds": 2,
                     "max_cells": 2, "duplicates_grouped": 0, "classes": ["a"],
                     "border": 24, "cell_window": 64},
            "shortcut": {"raw": {"macro_f1": 0.9}, "normalised": {"macro_f1": 0.8}},
            "tasks": {"field-binary": rows}, "peak_rss_mib": 1.0}


def _row(model, **extra):
    return {"model": model, "accuracy": 0.9, "macro_f1": 0.9, "sensitivity": 0.9,
            "specificity": 0.8, "auc": 0.95, "log_loss": 0.3,
            "train_accuracy": 1.0, "seconds": 3.0, "model_seed": 0, **extra}


def test_fragment_labels_tta_columns_and_reused_rows():
    rows = [_row("paper-seed", tta=False, tta_accuracy=0.5, tta_auc=0.6,
                 reused_from="2026-11-30 10:00"),
            _row("default", tta=True, no_tta_accuracy=0.85, no_tta_auc=0.93)]
    text = bench.fragment(_results(rows))
    assert "no-TTA acc." in text and "TTA AUC" in text
    assert "``paper-seed`` (*)" in text and "``default``\n" in text
    assert "(*) Copied from the run of 2026-11-30 10:00" in text
    assert "0.850" in text and "0.500" in text


def test_variants_table_puts_each_network_without_and_with_tta_in_its_columns():
    rows = [_row("default", tta=True, no_tta_accuracy=0.7, no_tta_sensitivity=0.71,
                 no_tta_specificity=0.72, no_tta_auc=0.73),
            _row("light@64", tta=False, tta_accuracy=0.81, tta_sensitivity=0.82,
                 tta_specificity=0.83, tta_auc=0.84)]
    text = bench.variants_fragment([_results(rows)], tasks={"field-binary"})
    # accuracy, sensitivity, specificity, AUC, then with TTA the same four.
    cols = "\n     - ".join
    assert cols(["0.700", "0.710", "0.720", "0.730", "0.900", "0.900", "0.800",
                 "0.950"]) in text
    assert cols(["0.900", "0.900", "0.800", "0.950", "0.810", "0.820", "0.830",
                 "0.840"]) in text
    assert bench.variants_fragment([_results(rows)], tasks={"cell-binary"}).count(
        "* - field-binary") == 0


def test_compare_table_lists_every_seed_then_the_mean_and_skips_baselines():
    from benchmarks._accuracy_compare import compare_fragment

    s0 = _results([_row("colour-histogram"), _row("default"),
                   _row("wide@64:epochs=120", accuracy=0.96)])
    s1 = _results([_row("default", model_seed=1, accuracy=0.8),
                   _row("wide@64:epochs=120", model_seed=1, accuracy=0.94)])
    s1["tasks"]["cell-4class"] = [_row("default", model_seed=1, accuracy=0.7,
                                       sensitivity=None)]
    text = compare_fragment([s0, s1], baselines=bench.BASELINES)
    assert "colour-histogram" not in text
    rows = text.split("   * - ")[2:]
    # Per task, per model: its seeds in order, then their mean.
    assert [r.split("\n")[1:3] for r in rows] == [
        ["     - ``default``", "     - 0"], ["     - ``default``", "     - 1"],
        ["     - ``default``", "     - mean of 2"],
        ["     - ``wide@64:epochs=120``", "     - 0"],
        ["     - ``wide@64:epochs=120``", "     - 1"],
        ["     - ``wide@64:epochs=120``", "     - mean of 2"],
        ["     - ``default``", "     - 1"]]
    assert rows[2].split("\n")[3] == "     - 0.850"  # (0.9 + 0.8) / 2
    assert rows[5].split("\n")[3] == "     - 0.950"
    # A figure a row lacks is left blank, not zero.
    assert rows[6].split("\n")[5] == "     - "
    # "file:model;model" keeps only those models of that file.
    from benchmarks._accuracy_compare import parse_named

    assert parse_named("a.json") == ("a.json", None)
    assert parse_named("a.json:default;x@1:k=1,j=2") == (
        "a.json", {"default", "x@1:k=1,j=2"})
    only = compare_fragment([s0, s1], baselines=bench.BASELINES,
                            models=[{"default"}, None])
    assert only.count("wide@64:epochs=120``\n     - 0") == 0
    assert only.count("wide@64:epochs=120``\n     - 1") == 1


def test_reuse_copies_rows_of_the_same_data_and_refuses_others(monkeypatch):
    earlier = _results([_row("paper-seed")])
    monkeypatch.setattr(bench, "load_fields", lambda *a: (
        np.zeros((4, 80, 80, 3), np.uint8), np.array(["a"] * 4), ["f"] * 4))
    monkeypatch.setattr(bench, "normalise", lambda X, ref: X[:, 8:-8, 8:-8])
    monkeypatch.setattr(bench, "bccd_reference", lambda: None)
    monkeypatch.setattr(bench, "cut_cells", lambda X, y, g, m, w: (
        np.zeros((8, 64, 64, 3), np.uint8), np.repeat(y, 2), np.repeat(g, 2),
        np.repeat(np.arange(4), 2)))
    with pytest.raises(SystemExit, match="--reuse"):
        bench.run("nowhere", per_class=1, folds=2, max_cells=2, models=["paper-seed"],
                  tasks=["field-binary"], shortcut=False,
                  reuse=(earlier, {"paper-seed"}))
    # Same data and folds: the row is copied, marked, and nothing is fitted.
    kwargs = dict(per_class=1, folds=2, max_cells=2, tasks=["field-binary"],
                  shortcut=False)
    earlier["data"] = bench.run("nowhere", models=[], **kwargs)["data"]
    out = bench.run("nowhere", models=["paper-seed"],
                    reuse=(earlier, {"paper-seed"}), **kwargs)
    (row,) = out["tasks"]["field-binary"]
    assert row["reused_from"] == earlier["when"] and row["accuracy"] == 0.9
    # Other cell windows are other data.
    with pytest.raises(SystemExit, match="--reuse"):
        bench.run("nowhere", models=["paper-seed"], cell_windows="inside",
                  reuse=(earlier, {"paper-seed"}), **kwargs)
    # Grey-level input is other data too.
    with pytest.raises(SystemExit, match="--reuse"):
        bench.run("nowhere", models=["paper-seed"], grey=True,
                  reuse=(earlier, {"paper-seed"}), **kwargs)
    # Results from before round 5 have no "cell_windows": they reflected;
    # from before round 9 no "input": they were in colour.
    del earlier["data"]["cell_windows"], earlier["data"]["input"]
    out = bench.run("nowhere", models=["paper-seed"], reuse=(earlier, {"paper-seed"}),
                    **kwargs)
    assert out["tasks"]["field-binary"][0]["reused_from"] == earlier["when"]


def _field_with_cells(centres, size=100):
    """A light field with dark-violet round nuclei at ``centres``."""
    rr, cc = np.mgrid[:size, :size]
    field = np.full((size, size, 3), (225, 215, 220), np.uint8)
    for r, c in centres:
        field[(rr - r) ** 2 + (cc - c) ** 2 < 100] = (90, 40, 150)
    return field


@pytest.mark.parametrize("windows", ["inside", "reflect"])
def test_cut_cells_windows_near_the_border(windows):
    # One cell in the middle, one against the top-left corner.
    X = np.stack([_field_with_cells([(50, 50), (6, 8)])])
    cells, cy, cg, src = bench.cut_cells(X, np.array(["Pro"]), np.array([7]), 3,
                                         windows)
    assert cells.shape == (2, 64, 64, 3) and list(cy) == ["Pro"] * 2
    assert list(cg) == [7, 7] and list(src) == [0, 0]
    windows_of_field = [X[0, r:r + 64, c:c + 64] for r in range(37) for c in range(37)]
    inside = [any(np.array_equal(w, v) for v in windows_of_field) for w in cells]
    if windows == "inside":
        # Every window is a piece of the field: the corner one is off-centre.
        assert all(inside)
        assert np.array_equal(cells[1], X[0, :64, :64])
    else:
        # Centred: the corner cell's window mirrors the field beyond its border,
        # so it holds more nucleus than the cell has in the field.
        assert inside[0] and not inside[1]
        nucleus = (X[0, :20, :20, 1] == 40).sum()
        assert (cells[1][..., 1] == 40).sum() > 1.5 * nucleus


def test_cut_cells_rejects_unknown_windows():
    with pytest.raises(ValueError, match="windows"):
        bench.cut_cells(np.zeros((1, 80, 80, 3), np.uint8), np.array(["a"]),
                        np.array([0]), 1, "wrap")


def test_tta_table_pairs_each_networks_scores_without_and_with_tta():
    rows = [_row("default", tta=True, no_tta_accuracy=0.8, no_tta_macro_f1=0.8,
                 no_tta_auc=0.9, no_tta_specificity=0.7),
            _row("light@64:x=1", tta=False, tta_accuracy=0.85, tta_macro_f1=0.8,
                 tta_auc=0.9, tta_specificity=0.8),
            _row("paper-seed", tta=False, tta_accuracy=0.1),
            _row("hog-svm")]
    # The same fit in a second file (a candidate that became the default).
    text = bench.tta_fragment([("r.json", _results(rows)),
                               ("s.json", _results(rows[1:2]))])
    assert "0.800 -> 0.900" in text and "0.900 -> 0.850" in text
    assert "paper-seed``\n" not in text and "hog-svm``\n" not in text
    assert "higher in 1, equal in 0 and lower in 1 of 2" in text


def test_to_grey_keeps_shape_and_dtype_and_puts_the_grey_level_in_every_channel():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, (3, 8, 9, 3), dtype=np.uint8)
    X[0] = 255  # white stays white
    grey = bench.to_grey(X)
    assert grey.shape == X.shape and grey.dtype == np.uint8
    assert (grey == grey[..., :1]).all()
    assert (grey[0] == 255).all()
    # Brightness is kept: the grey level follows the luminance.
    lum = X[1:] @ np.array([0.2125, 0.7154, 0.0721])
    assert np.abs(grey[1:, ..., 0] - lum).max() <= 1


def test_grey_input_cuts_the_cells_in_colour_and_shows_every_model_grey(
        monkeypatch):
    fields = np.stack([_field_with_cells([(50, 50)])] * 4)
    monkeypatch.setattr(bench, "load_fields", lambda *a: (
        fields, np.array(["Benign", "Pro"] * 2), ["f"] * 4))
    monkeypatch.setattr(bench, "normalise", lambda X, ref: X)
    monkeypatch.setattr(bench, "bccd_reference", lambda: None)
    cut = bench.cut_cells
    seen = []

    def cut_cells(X, *args):
        assert not (X == X[..., :1]).all()  # still in colour: cells are found
        return cut(X, *args)

    def cross_validate_model(name, Z, *args, **kwargs):
        seen.append(Z)
        return {"model": name, "macro_f1": 0.5, "accuracy": 0.5}

    monkeypatch.setattr(bench, "cut_cells", cut_cells)
    monkeypatch.setattr(bench, "cross_validate_model", cross_validate_model)
    out = bench.run("nowhere", per_class=1, folds=2, max_cells=1, grey=True,
                    models=["colour-histogram"],
                    tasks=["field-binary", "cell-binary"])
    assert out["data"]["input"] == "grey" and out["data"]["n_cells"] == 4
    assert set(out["shortcut"]) == {"raw", "grey"}
    # raw and grey shortcut fields, then the fields, then the cells
    assert len(seen) == 4 and seen[3].shape == (4, 64, 64, 3)
    assert not (seen[0] == seen[0][..., :1]).all()  # the raw fields
    for Z in seen[1:]:
        assert (Z == Z[..., :1]).all()
