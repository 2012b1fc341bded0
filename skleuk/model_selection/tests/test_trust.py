"""Tests of tune_threshold and AbstainingClassifier (fast estimators)."""

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
from sklearn.model_selection import GridSearchCV, TunedThresholdClassifierCV
from sklearn.utils.estimator_checks import parametrize_with_checks

from skleuk.metrics import coverage_score, get_abstention_scorers
from skleuk.model_selection import AbstainingClassifier, tune_threshold


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


def test_tune_threshold_reaches_sensitivity_on_training_folds():
    X, y = make_classification(n_samples=400, random_state=0, flip_y=0.05)
    tuned = tune_threshold(LogisticRegression(), min_sensitivity=0.97, cv=4)
    assert isinstance(tuned, TunedThresholdClassifierCV)
    tuned.fit(X, y)
    assert tuned.best_score_ >= 0          # constraint met on the inner folds
    assert tuned.best_threshold_ < 0.5
    sens = np.mean(tuned.predict(X)[y == 1] == 1)
    assert sens >= 0.95
    # a higher target gives a lower (or equal) threshold
    stricter = tune_threshold(LogisticRegression(), min_sensitivity=0.995, cv=4)
    assert stricter.fit(X, y).best_threshold_ <= tuned.best_threshold_


def test_tune_threshold_pos_label_strings():
    X, y = make_classification(n_samples=200, random_state=1)
    names = np.array(["healthy", "ALL"])[y]
    tuned = tune_threshold(LogisticRegression(), min_sensitivity=0.95,
                           pos_label="ALL", cv=3).fit(X, names)
    assert np.mean(tuned.predict(X)[names == "ALL"] == "ALL") >= 0.93


def test_tune_threshold_rejects_prefit():
    with pytest.raises(ValueError, match="FrozenEstimator"):
        tune_threshold(LogisticRegression(), cv="prefit")
    with pytest.raises(ValueError, match="min_sensitivity"):
        tune_threshold(LogisticRegression(), min_sensitivity=2)


def test_report_has_brier_and_ece_per_fold_and_pooled(tmp_path):
    from sklearn.metrics import brier_score_loss

    from skleuk.metrics import expected_calibration_error
    from skleuk.model_selection import CrossValidationReport, evaluate

    X, y = make_classification(n_samples=90, random_state=0)
    report = evaluate(LogisticRegression(), X, y, cv=3, random_state=0)
    fm = report.fold_metrics
    for i, f in enumerate(report.folds):
        yt, p = y[f["test_index"]], f["proba"][:, 1]
        assert fm["brier"][i] == pytest.approx(brier_score_loss(yt, p))
        assert fm["ece"][i] == pytest.approx(expected_calibration_error(yt, p))
    cal = report.calibration()
    order = np.concatenate([f["test_index"] for f in report.folds])
    proba = np.concatenate([f["proba"][:, 1] for f in report.folds])
    assert cal["ece"] == pytest.approx(expected_calibration_error(y[order], proba))
    assert cal["brier"] == pytest.approx(brier_score_loss(y[order], proba))
    assert 0 <= cal["accuracy_at_coverage"] <= 1
    text = report.to_text()
    assert "ECE (10 bins)" in text and "Brier score" in text
    assert "Pooled out-of-fold: ECE" in text
    assert "Pooled out-of-fold: ECE" in report.to_markdown()
    again = CrossValidationReport.from_json(report.to_json())
    assert again.calibration() == pytest.approx(cal)
    written = report.save(tmp_path / "rep")
    assert {"reliability_diagram", "risk_coverage"} <= set(written)
    with pytest.raises(FileExistsError):
        report.save(tmp_path / "rep")


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
