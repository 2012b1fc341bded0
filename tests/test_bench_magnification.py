"""Mechanics of benchmarks/bench_magnification.py's white-cell ruler table."""

import numpy as np
import pytest

bench = pytest.importorskip("benchmarks.bench_magnification")


def test_ruler_spread_is_the_distribution_of_measured_over_reference():
    ruler = np.array([10.0, 10.5, 15.0, np.nan, 20.0])
    reference = np.array([10.0, 10.0, 10.0, 10.0, np.nan])
    r = bench._ruler_spread(ruler, reference)
    assert r["n"] == 3  # NaN on either side is left out
    assert r["median"] == pytest.approx(1.05)
    assert r["within_10pct"] == pytest.approx(2 / 3)
    assert r["within_25pct"] == pytest.approx(2 / 3)


def test_white_cell_ruler_on_synthetic_smears():
    rng = np.random.default_rng(0)
    rr, cc = np.mgrid[:96, :96]

    def smear(nucleus_radius):
        X = np.full((96, 96, 3), 240, np.uint8)
        for r, c in rng.uniform(6, 90, size=(30, 2)):
            X[(rr - r) ** 2 + (cc - c) ** 2 <= 16] = (215, 140, 150)
        X[(rr - 48) ** 2 + (cc - 48) ** 2 <= nucleus_radius**2] = (115, 75, 180)
        return X

    X = np.stack([smear(9) for _ in range(3)])
    B = np.stack([smear(6) for _ in range(3)])
    from skleuk.preprocessing import estimate_rbc_diameter

    d, f = estimate_rbc_diameter(X)
    db, fb = estimate_rbc_diameter(B)
    truth = np.full(3, 8.0)
    w = bench.white_cell_ruler(X, d, f, B, truth, db, fb)
    # Bigger nuclei in the first set: a larger learnt ratio, and measuring
    # the second set with it underestimates its red cells.
    assert w["ratio_aria"] > w["ratio_bccd"] > 0
    assert w["bccd_with_aria_ratio"]["median"] < w["bccd_vs_annotated"]["median"]
    assert w["bccd_vs_annotated"]["median"] == pytest.approx(1.0)
    text = "\n".join(bench._white_cell_lines(w))
    assert text.count("   * - ") == 5 and "ratio learnt on" in text
    assert bench._white_cell_lines(None) == []
