"""The Aria screening benchmark's table: what it renders from a run."""

import pytest

bench = pytest.importorskip(
    "benchmarks.bench_screening", reason="run from the repository root")


def _figures(acc, **extra):
    return {"accuracy": acc, "balanced_accuracy": acc, "macro_f1": acc,
            "roc_auc": 0.99, **extra}


def _run(field_view):
    task = {"screener": _figures(0.981), "colour_histogram": _figures(0.884)}
    if field_view:
        task.update(cells_only=_figures(0.969), field_only=_figures(0.956))
    return {"n_fields": 8, "per_class": {"Benign": 2, "Early": 2, "Pre": 2,
                                         "Pro": 2},
            "folds": 2, "cell_window": 64, "aggregation": "mean",
            "cell_params": {}, "field_view": field_view,
            "tasks": {"4class": task}}


def test_field_view_rows_are_the_halves_of_the_same_screener():
    text = bench.aria_fragment([("a.json", _run(True)), ("b.json", _run(False))])
    rows = text.split("   * - ")[2:]
    labels = [row.split("\n     - ")[2] for row in rows]
    assert labels == ["screener, cells + field view", "cells-only", "field-only",
                      "colour-histogram", "screener", "colour-histogram"]
    assert "0.981" in rows[0] and "0.969" in rows[1] and "0.956" in rows[2]
    assert "Rendered from ``a.json``, ``b.json``." in text
    assert "model seed" not in text
    seeded = {**_run(True), "model_seed": 1}
    assert "``make_pipeline()``, model seed 1" in bench.aria_fragment([("c", seeded)])
