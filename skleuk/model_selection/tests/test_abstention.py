"""Tests of AbstainingClassifier: referring the cases it is unsure of."""

import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.datasets import make_classification
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from skleuk.metrics import coverage_score, get_abstention_scorers
from skleuk.model_selection import AbstainingClassifier


class _FixedProba(ClassifierMixin, BaseEstimator):
    """Returns the probability stored in column 0 of X (for logic tests)."""

    def __init__(self, classes=(0, 1)):
        self.classes = classes

    def fit(self, X, y=None):
        self.classes_ = np.asarray(self.classes)
        return self

    def predict_proba(self, X):
        X = np.asarray(X, dtype=float)
        if len(self.classes) == 2:
            return np.column_stack([1 - X[:, 0], X[:, 0]])
        return X

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


bands = st.tuples(st.floats(0, 1), st.floats(0, 1)).map(sorted).map(tuple)


prob_lists = st.lists(st.floats(0, 1), min_size=1, max_size=50)


@given(prob_lists, bands)
def test_band_logic(p, band):
    p = np.asarray(p)
    clf = AbstainingClassifier(_FixedProba(), band=band).fit(p[:, None], None)
    pred = clf.predict(p[:, None])
    low, high = band
    np.testing.assert_array_equal(pred[p >= high], 1)
    np.testing.assert_array_equal(pred[(p <= low) & (p < high)], 0)
    np.testing.assert_array_equal(pred[(p > low) & (p < high)], -1)


@given(prob_lists, bands, bands)
def test_wider_band_never_covers_more(p, a, b):
    p = np.asarray(p)[:, None]
    outer = (min(a[0], b[0]), max(a[1], b[1]))
    inner = (max(a[0], min(b[0], outer[1])), min(a[1], outer[1]))
    inner = (min(inner), max(inner))
    cov_outer = coverage_score(p[:, 0], AbstainingClassifier(
        _FixedProba(), band=outer).fit(p, None).predict(p))
    cov_inner = coverage_score(p[:, 0], AbstainingClassifier(
        _FixedProba(), band=inner).fit(p, None).predict(p))
    assert cov_outer <= cov_inner


@given(prob_lists, st.floats(0, 1))
def test_degenerate_band_is_a_threshold(p, t):
    p = np.asarray(p)
    pred = AbstainingClassifier(_FixedProba(), band=(t, t)).fit(
        p[:, None], None).predict(p[:, None])
    np.testing.assert_array_equal(pred, (p >= t).astype(int))


@given(st.lists(st.tuples(st.floats(0.01, 1), st.floats(0.01, 1), st.floats(0.01, 1)),
                min_size=1, max_size=30), st.floats(0, 1))
def test_multiclass_decides_on_top_probability(rows, high):
    P = np.asarray(rows)
    P = P / P.sum(1, keepdims=True)
    clf = AbstainingClassifier(_FixedProba(classes=("a", "b", "c")),
                               band=(0.0, high), reject_label="refer")
    pred = clf.fit(P, None).predict(P)
    decided = P.max(1) >= high
    assert np.all((pred == "refer") == ~decided)
    np.testing.assert_array_equal(pred[decided],
                                  np.array(["a", "b", "c"])[P[decided].argmax(1)])


def test_string_classes_with_numeric_reject_label_give_object_array():
    clf = AbstainingClassifier(_FixedProba(classes=("healthy", "ALL")),
                               band=(0.3, 0.7), pos_label="ALL")
    # pos_label "ALL" is classes_[1] -> probability column 1
    pred = clf.fit(np.zeros((1, 1)), None).predict(np.array([[0.1], [0.5], [0.9]]))
    assert pred.tolist() == ["healthy", -1, "ALL"]
    assert pred.dtype == object


def test_pos_label_first_class_flips_the_column():
    clf = AbstainingClassifier(_FixedProba(), band=(0.3, 0.7), pos_label=0)
    # column of class 0 is 1 - x
    pred = clf.fit(np.zeros((1, 1)), None).predict(np.array([[0.1], [0.5], [0.9]]))
    assert pred.tolist() == [0, -1, 1]


@pytest.mark.parametrize(
    "params, match",
    [
        ({"band": (0.8, 0.2)}, "band must be a pair"),
        ({"band": (0.2, 1.2)}, "band must be a pair"),
        ({"band": (0.2,)}, "band must be a pair"),
        ({"reject_label": 1}, "reject_label=1 is one of the classes"),
        ({"pos_label": 3}, "pos_label=3 is not one of the classes"),
    ],
)
def test_misuse_errors(params, match):
    with pytest.raises(ValueError, match=match):
        AbstainingClassifier(_FixedProba(), **params).fit(np.zeros((2, 1)), None)


def test_frozen_unfitted_estimator_one_line_error():
    with pytest.raises(NotFittedError, match="unfitted FrozenEstimator") as exc:
        AbstainingClassifier(FrozenEstimator(LogisticRegression())).fit(
            np.zeros((4, 2)), [0, 1, 0, 1])
    assert "\n" not in str(exc.value)


def test_frozen_fitted_estimator_is_not_refitted():
    X, y = make_classification(n_samples=100, random_state=0)
    lr = LogisticRegression().fit(X, y)
    clf = AbstainingClassifier(FrozenEstimator(lr), band=(0.5, 0.5)).fit(X[:10], y[:10])
    np.testing.assert_array_equal(clf.predict(X), lr.predict(X))


def test_sklearn_api_clone_pickle_grid_search():
    X, y = make_classification(n_samples=120, random_state=0)
    clf = AbstainingClassifier(LogisticRegression(), band=(0.3, 0.7))
    assert clone(clf).get_params()["band"] == (0.3, 0.7)
    clf.fit(X, y)
    again = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(again.predict(X), clf.predict(X))
    np.testing.assert_allclose(again.predict_proba(X), clf.predict_proba(X))
    assert np.isfinite(clf.score(X, y))
    gs = GridSearchCV(clf, {"estimator__C": [0.1, 1.0]}, cv=3,
                      scoring=get_abstention_scorers(), refit="covered_accuracy")
    gs.fit(X, y)
    assert set(gs.best_params_) == {"estimator__C"}
    assert hasattr(clf, "decision_function")


_BY_DESIGN = {
    "check_classifiers_classes": "reject_label=-1 may not be a class (the "
    "check uses labels -1 and 1): a one-line ValueError by design",
    "check_classifiers_train": "with more than two classes a case is referred "
    "when its top probability is below band[1], so predict may return -1",
}


@parametrize_with_checks(
    [AbstainingClassifier(LogisticRegression(), band=(0.5, 0.5))],
    expected_failed_checks=lambda est: _BY_DESIGN,
)
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
