"""Tests of the abstention metrics (coverage, risk-coverage)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate

from skleuk.metrics import (
    accuracy_at_coverage,
    coverage_score,
    covered_accuracy_score,
    get_abstention_scorers,
    risk_coverage_curve,
)


def test_coverage_and_covered_accuracy():
    y = [0, 1, 1, 0, 1]
    pred = [0, -1, 0, -1, 1]
    assert coverage_score(y, pred) == 0.6
    assert_allclose(covered_accuracy_score(y, pred), 2 / 3)
    assert np.isnan(covered_accuracy_score([0, 1], [-1, -1]))
    # string labels with a string reject label
    assert coverage_score(["a", "b"], ["a", "refer"], reject_label="refer") == 0.5
    # object arrays mixing labels and -1
    pred = np.array(["a", -1], dtype=object)
    assert covered_accuracy_score(["a", "b"], pred) == 1.0


def test_abstention_scorers_count_abstentions_separately():
    from skleuk.model_selection import AbstainingClassifier

    X, y = make_classification(n_samples=200, random_state=0, flip_y=0.1)
    res = cross_validate(
        AbstainingClassifier(LogisticRegression(), band=(0.25, 0.75)), X, y, cv=3,
        scoring={**get_abstention_scorers(pos_label=1), "accuracy": "accuracy"},
    )
    assert np.all(res["test_coverage"] < 1)
    # plain accuracy counts every abstention as an error
    assert np.all(res["test_covered_accuracy"] > res["test_accuracy"])
    for k in ("covered_sensitivity", "covered_specificity"):
        assert np.all((0 <= res[f"test_{k}"]) & (res[f"test_{k}"] <= 1))


def _tie_aware_error(y, P):
    """1 - the share of each row's tied top classes that is true, averaged."""
    top = P == P.max(axis=1, keepdims=True)
    return np.mean(1 - top[np.arange(len(y)), y] / top.sum(axis=1))


@given(st.lists(st.tuples(st.integers(0, 2), st.floats(0, 1), st.floats(0, 1),
                          st.floats(0, 1)), min_size=1, max_size=40))
def test_risk_coverage_curve_properties(rows):
    y = np.array([r[0] for r in rows])
    P = np.array([r[1:] for r in rows]) + 1e-9
    P = P / P.sum(axis=1, keepdims=True)
    cov, risk, thr = risk_coverage_curve(y, P, classes=[0, 1, 2])
    assert np.all(np.diff(cov) > 0) and cov[-1] == 1.0
    assert np.all(np.diff(thr) < 0)
    assert np.all((0 <= risk) & (risk <= 1))
    # full coverage: risk is the plain error rate
    # (a tie between top classes is right for the share of them that is true)
    assert_allclose(risk[-1], _tie_aware_error(y, P))
    # each point: the error rate of the samples at least as confident
    conf = P.max(axis=1)
    for c, r, t in zip(cov, risk, thr, strict=True):
        sel = conf >= t
        assert_allclose(c, sel.mean())
        assert_allclose(r, _tie_aware_error(y[sel], P[sel]))


@given(st.lists(st.tuples(st.integers(0, 2), st.sampled_from([0.0, 0.25, 0.5, 1.0]),
                          st.sampled_from([0.0, 0.25, 0.5, 1.0]),
                          st.sampled_from([0.0, 0.5, 1.0])), min_size=1, max_size=30),
       st.permutations([0, 1, 2]))
def test_risk_coverage_curve_does_not_depend_on_the_column_order(rows, perm):
    # Coarse values: many ties between top classes (argmax took the first).
    y = np.array([r[0] for r in rows])
    P = np.array([r[1:] for r in rows]) + 0.25
    P = P / P.sum(axis=1, keepdims=True)
    a = risk_coverage_curve(y, P, classes=[0, 1, 2])
    b = risk_coverage_curve(y, P[:, perm], classes=np.array([0, 1, 2])[perm])
    for u, v in zip(a, b, strict=True):
        assert_allclose(u, v)
    assert_allclose(accuracy_at_coverage(y, P, 1.0, classes=[0, 1, 2]),
                    1 - _tie_aware_error(y, P))


def test_risk_coverage_binary_half_is_half_an_error():
    # p = 0.5 for the positive class: a coin flip, whatever the column order.
    cov, risk, thr = risk_coverage_curve([1, 0], [0.5, 0.5], classes=[0, 1])
    assert cov.tolist() == [1.0] and risk.tolist() == [0.5] and thr.tolist() == [0.5]


@settings(deadline=None)
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=1,
                max_size=40), st.floats(0.01, 1))
def test_accuracy_at_coverage_binary(pairs, coverage):
    y = np.array([a for a, _ in pairs])
    p = np.array([b for _, b in pairs])
    acc = accuracy_at_coverage(y, p, coverage, classes=[0, 1])
    cov, risk, _ = risk_coverage_curve(y, p, classes=[0, 1])
    if (cov <= coverage + 1e-12).any():
        assert 0 <= acc <= 1
    else:
        assert np.isnan(acc)


def test_risk_coverage_errors():
    with pytest.raises(ValueError, match="one column per class"):
        risk_coverage_curve([0, 1, 2], np.full((3, 2), 0.5))
    with pytest.raises(ValueError, match="coverage must be"):
        accuracy_at_coverage([0, 1], [0.2, 0.8], 0)
