"""Tests of the calibration metric (expected calibration error)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from skleuk.metrics import expected_calibration_error

probs = st.lists(st.floats(0, 1), min_size=1, max_size=60)


def test_ece_of_calibrated_synthetic_probabilities_is_near_zero():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=200_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    assert expected_calibration_error(y, p) < 0.005
    assert expected_calibration_error(y, p, strategy="quantile") < 0.005


def test_ece_of_overconfident_probabilities_is_large():
    rng = np.random.default_rng(0)
    p = rng.uniform(size=20_000)
    y = (rng.uniform(size=p.size) < p).astype(int)
    sharp = np.where(p > 0.5, 0.99, 0.01)   # same ranking, overconfident
    assert expected_calibration_error(y, sharp) > 0.2


@given(probs, st.data(), st.integers(1, 20))
def test_ece_bounded(p, data, n_bins):
    y = data.draw(st.lists(st.integers(0, 1), min_size=len(p), max_size=len(p)))
    ece = expected_calibration_error(y, p, n_bins=n_bins)
    assert 0.0 <= ece <= 1.0


@given(probs, st.data())
def test_ece_one_bin_is_gap_of_means(p, data):
    y = np.asarray(
        data.draw(st.lists(st.integers(0, 1), min_size=len(p), max_size=len(p)))
    )
    ece = expected_calibration_error(y, p, n_bins=1)
    assert_allclose(ece, abs(np.mean(y) - np.mean(p)), atol=1e-12)


@given(probs, st.data())
def test_ece_two_column_top_label_matches_symmetric_binary(p, data):
    # For two classes, top-label ECE of [1-p, p] equals the binary ECE of the
    # confidence max(p, 1-p) against correctness -- check invariance under
    # swapping the class columns and labels.
    y = np.asarray(
        data.draw(st.lists(st.integers(0, 1), min_size=len(p), max_size=len(p)))
    )
    p = np.asarray(p)
    P = np.column_stack([1 - p, p])
    a = expected_calibration_error(y, P, classes=[0, 1])
    b = expected_calibration_error(1 - y, P[:, ::-1], classes=[0, 1])
    assert_allclose(a, b, atol=1e-12)


def test_ece_errors():
    with pytest.raises(ValueError, match="probabilities in"):
        expected_calibration_error([0, 1], [0.5, 1.5])
    with pytest.raises(ValueError, match="pos_label"):
        expected_calibration_error(["a", "b"], [0.5, 0.5])
    assert expected_calibration_error(["a", "b"], [0.0, 1.0], pos_label="b") == 0.0
    with pytest.raises(ValueError, match="columns"):
        expected_calibration_error([0, 1, 2], np.full((3, 2), 0.5))


def test_ece_top_label_tie_counts_half_right_whatever_the_column_order():
    # found by hypothesis: a 0.5/0.5 row used to be "predicted" as the first
    # column, so swapping the columns changed the ECE from 0.031 to 0.531
    P = np.array([[0.5, 0.5], [0.4375, 0.5625]])
    a = expected_calibration_error([0, 0], P, classes=[0, 1])
    b = expected_calibration_error([1, 1], P[:, ::-1], classes=[0, 1])
    # bin [0.5, 0.6): confidences 0.5 and 0.5625, hits 0.5 and 0
    assert a == pytest.approx(b)
    assert a == pytest.approx(abs((0.5 + 0.0) - (0.5 + 0.5625)) / 2)
