"""Tests of the calibration, operating-point and abstention metrics."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve
from sklearn.model_selection import GridSearchCV, cross_validate

from skleuk.metrics import (
    accuracy_at_coverage,
    constrained_specificity_score,
    coverage_score,
    covered_accuracy_score,
    expected_calibration_error,
    get_abstention_scorers,
    make_specificity_at_sensitivity_scorer,
    risk_coverage_curve,
    specificity_at_sensitivity,
)

probs = st.lists(st.floats(0, 1), min_size=1, max_size=60)


# --------------------------------------------------------------------------
# expected calibration error
# --------------------------------------------------------------------------
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


# --------------------------------------------------------------------------
# operating point
# --------------------------------------------------------------------------
@given(st.lists(st.tuples(st.integers(0, 1), st.floats(0, 1)), min_size=2,
                max_size=40), st.floats(0, 1))
def test_specificity_at_sensitivity_is_best_feasible_threshold(pairs, target):
    y = np.array([a for a, _ in pairs])
    s = np.array([b for _, b in pairs])
    if y.all() or not y.any():
        with pytest.raises(ValueError, match="both positive and negative"):
            specificity_at_sensitivity(y, s, min_sensitivity=target)
        return
    got = specificity_at_sensitivity(y, s, min_sensitivity=target)
    # brute force over every threshold (predict positive when s >= t)
    best = 0.0
    for t in np.r_[np.unique(s), np.inf]:
        pred = s >= t
        sens = pred[y == 1].mean()
        if sens >= target - 1e-12:
            best = max(best, (~pred[y == 0]).mean())
    assert_allclose(got, best)
    assert 0.0 <= got <= 1.0


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 1)), min_size=1,
                max_size=40), st.floats(0, 1))
def test_constrained_specificity_orders_feasible_above_infeasible(pairs, target):
    y = np.array([a for a, _ in pairs])
    pred = np.array([b for _, b in pairs])
    score = constrained_specificity_score(y, pred, min_sensitivity=target)
    sens = pred[y == 1].mean() if (y == 1).any() else 1.0
    if sens >= target - 1e-12:
        assert 0.0 <= score <= 1.0
    else:
        assert -1.0 <= score < 0.0
        assert_allclose(score, sens - 1.0)


def test_specificity_at_sensitivity_scorer_in_cross_validate_and_grid_search():
    X, y = make_classification(n_samples=150, random_state=0)
    scorer = make_specificity_at_sensitivity_scorer(0.9)
    res = cross_validate(LogisticRegression(), X, y, cv=3,
                         scoring={"spec@sens90": scorer})
    assert np.all((0 <= res["test_spec@sens90"]) & (res["test_spec@sens90"] <= 1))
    gs = GridSearchCV(LogisticRegression(), {"C": [0.01, 1.0]}, cv=3,
                      scoring=scorer).fit(X, y)
    assert np.isfinite(gs.best_score_)
    # same as reading the ROC curve by hand
    clf = LogisticRegression().fit(X, y)
    fpr, tpr, _ = roc_curve(y, clf.predict_proba(X)[:, 1])
    assert_allclose(scorer(clf, X, y), 1 - fpr[tpr >= 0.9].min())


@pytest.mark.parametrize("bad", [-0.1, 1.5, "0.9", True])
def test_min_sensitivity_validated(bad):
    with pytest.raises(ValueError, match="min_sensitivity must be a number"):
        make_specificity_at_sensitivity_scorer(bad)


# --------------------------------------------------------------------------
# abstention
# --------------------------------------------------------------------------
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


def test_ece_top_label_tie_counts_half_right_whatever_the_column_order():
    # found by hypothesis: a 0.5/0.5 row used to be "predicted" as the first
    # column, so swapping the columns changed the ECE from 0.031 to 0.531
    P = np.array([[0.5, 0.5], [0.4375, 0.5625]])
    a = expected_calibration_error([0, 0], P, classes=[0, 1])
    b = expected_calibration_error([1, 1], P[:, ::-1], classes=[0, 1])
    # bin [0.5, 0.6): confidences 0.5 and 0.5625, hits 0.5 and 0
    assert a == pytest.approx(b)
    assert a == pytest.approx(abs((0.5 + 0.0) - (0.5 + 0.5625)) / 2)
