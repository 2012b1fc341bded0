"""Tests of the operating-point metrics (specificity at a sensitivity)."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_curve
from sklearn.model_selection import GridSearchCV, cross_validate

from skleuk.metrics import (
    constrained_specificity_score,
    make_specificity_at_sensitivity_scorer,
    specificity_at_sensitivity,
)


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
