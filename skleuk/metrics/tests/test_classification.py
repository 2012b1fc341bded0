"""Tests of the diagnostic metrics against hand-computed confusion matrices."""

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import (
    confusion_matrix,
    precision_recall_fscore_support,
    roc_auc_score,
)
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate

from skleuk.metrics import (
    diagnostic_report,
    error_rate,
    get_scorers,
    sensitivity_score,
    specificity_score,
)


def _from_confusion(cm, labels=None):
    """Build (y_true, y_pred) realising the confusion matrix ``cm``."""
    cm = np.asarray(cm)
    labels = np.arange(len(cm)) if labels is None else np.asarray(labels)
    y_true, y_pred = [], []
    for i in range(len(cm)):
        for j in range(len(cm)):
            y_true += [labels[i]] * int(cm[i, j])
            y_pred += [labels[j]] * int(cm[i, j])
    return np.asarray(y_true), np.asarray(y_pred)


# Binary: TN=5, FP=1, FN=1, TP=3 (positive class 1).
CM2 = [[5, 1], [1, 3]]
# Three classes, rows = truth, columns = prediction, N = 17.
CM3 = [[4, 1, 0], [2, 3, 1], [0, 1, 5]]
# Per class (one-vs-rest):     TP FN FP TN
#   class 0:                    4  1  2 10
#   class 1:                    3  3  2  9
#   class 2:                    5  1  1 10
SPEC3 = np.array([10 / 12, 9 / 11, 10 / 11])
SENS3 = np.array([4 / 5, 3 / 6, 5 / 6])
PREC3 = np.array([4 / 6, 3 / 5, 5 / 6])
F13 = np.array([8 / 11, 6 / 11, 10 / 12])
ACC3 = np.array([14 / 17, 12 / 17, 15 / 17])
SUPPORT3 = np.array([5, 6, 6])


def test_from_confusion_helper():
    y_true, y_pred = _from_confusion(CM3)
    assert_allclose(confusion_matrix(y_true, y_pred), CM3)


def test_binary_hand_computed():
    y_true, y_pred = _from_confusion(CM2)
    assert specificity_score(y_true, y_pred) == pytest.approx(5 / 6)
    assert sensitivity_score(y_true, y_pred) == pytest.approx(3 / 4)
    assert error_rate(y_true, y_pred) == pytest.approx(2 / 10)
    # Swapping the positive class swaps sensitivity and specificity.
    assert specificity_score(y_true, y_pred, pos_label=0) == pytest.approx(3 / 4)
    assert sensitivity_score(y_true, y_pred, pos_label=0) == pytest.approx(5 / 6)


def test_binary_string_labels_pos_label():
    y_true, y_pred = _from_confusion(CM2, labels=["healthy", "ALL"])
    assert specificity_score(y_true, y_pred, pos_label="ALL") == pytest.approx(5 / 6)
    assert sensitivity_score(y_true, y_pred, pos_label="ALL") == pytest.approx(3 / 4)
    with pytest.raises(ValueError, match="pos_label=1 is not a valid label"):
        specificity_score(y_true, y_pred)


def test_multiclass_hand_computed():
    y_true, y_pred = _from_confusion(CM3)
    assert_allclose(specificity_score(y_true, y_pred, average=None), SPEC3)
    assert_allclose(sensitivity_score(y_true, y_pred, average=None), SENS3)
    assert specificity_score(y_true, y_pred, average="macro") == pytest.approx(
        SPEC3.mean()
    )
    assert specificity_score(y_true, y_pred, average="weighted") == pytest.approx(
        np.average(SPEC3, weights=SUPPORT3)
    )
    assert specificity_score(y_true, y_pred, average="micro") == pytest.approx(
        29 / 34
    )
    assert error_rate(y_true, y_pred) == pytest.approx(5 / 17)
    # labels selects and orders the classes.
    assert_allclose(
        specificity_score(y_true, y_pred, labels=[2, 0], average=None),
        SPEC3[[2, 0]],
    )
    with pytest.raises(ValueError, match="average='binary'"):
        specificity_score(y_true, y_pred)


def test_bad_arguments():
    with pytest.raises(ValueError, match="average must be"):
        specificity_score([0, 1], [0, 1], average="samples")
    with pytest.raises(ValueError, match="zero_division"):
        specificity_score([0, 1], [0, 1], zero_division=2)
    with pytest.raises(ValueError, match="target type 'continuous'"):
        specificity_score([0.5, 1.5], [0, 1])
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        error_rate([0, 1, 1], [0, 1])


@pytest.mark.parametrize(
    "zero_division, expected", [(0.0, 0.0), (1.0, 1.0), (np.nan, np.nan)]
)
def test_specificity_no_negatives(zero_division, expected):
    # Every sample is positive: specificity (tn / (tn + fp)) is 0/0.
    y_true, y_pred = [1, 1, 1], [1, 0, 1]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = specificity_score(y_true, y_pred, zero_division=zero_division)
    assert_allclose(value, expected)


def test_specificity_no_negatives_warns():
    with pytest.warns(UndefinedMetricWarning, match="Specificity is ill-defined"):
        assert specificity_score([1, 1, 1], [1, 0, 1]) == 0.0


def test_nan_zero_division_excluded_from_average():
    # Class 2 is every sample's truth in a 1-class y_true: only class 0 and
    # 1 appear in predictions; class 2's specificity is undefined.
    y_true, y_pred = [2, 2, 2, 2], [2, 0, 1, 2]
    spec = specificity_score(y_true, y_pred, average=None, zero_division=np.nan)
    # classes 0 and 1 have 4 negatives each, 1 false positive each.
    assert_allclose(spec, [3 / 4, 3 / 4, np.nan])
    macro = specificity_score(y_true, y_pred, average="macro", zero_division=np.nan)
    assert macro == pytest.approx(3 / 4)


def test_report_binary_hand_computed():
    y_true, y_pred = _from_confusion(CM2, labels=["healthy", "ALL"])
    rep = diagnostic_report(
        y_true, y_pred, labels=["healthy", "ALL"], output_dict=True
    )
    assert list(rep) == [
        "healthy",
        "ALL",
        "macro avg",
        "weighted avg",
        "accuracy",
        "error-rate",
    ]
    allrow = rep["ALL"]
    assert allrow["sensitivity"] == pytest.approx(3 / 4)
    assert allrow["specificity"] == pytest.approx(5 / 6)
    assert allrow["precision"] == pytest.approx(3 / 4)
    assert allrow["f1-score"] == pytest.approx(3 / 4)
    assert allrow["accuracy"] == pytest.approx(8 / 10)
    assert allrow["error-rate"] == pytest.approx(2 / 10)
    assert allrow["support"] == 4
    healthy = rep["healthy"]
    assert healthy["sensitivity"] == pytest.approx(5 / 6)
    assert healthy["specificity"] == pytest.approx(3 / 4)
    assert healthy["precision"] == pytest.approx(5 / 6)
    assert healthy["support"] == 6
    assert rep["accuracy"] == pytest.approx(0.8)
    assert rep["error-rate"] == pytest.approx(0.2)
    assert rep["macro avg"]["specificity"] == pytest.approx((5 / 6 + 3 / 4) / 2)
    assert rep["weighted avg"]["sensitivity"] == pytest.approx(0.8)
    assert rep["weighted avg"]["support"] == 10


def test_report_multiclass_hand_computed():
    y_true, y_pred = _from_confusion(CM3)
    rep = diagnostic_report(
        y_true, y_pred, target_names=["a", "b", "c"], output_dict=True
    )
    for i, name in enumerate("abc"):
        row = rep[name]
        assert row["accuracy"] == pytest.approx(ACC3[i])
        assert row["error-rate"] == pytest.approx(1 - ACC3[i])
        assert row["precision"] == pytest.approx(PREC3[i])
        assert row["sensitivity"] == pytest.approx(SENS3[i])
        assert row["specificity"] == pytest.approx(SPEC3[i])
        assert row["f1-score"] == pytest.approx(F13[i])
        assert row["support"] == SUPPORT3[i]
    assert rep["macro avg"]["f1-score"] == pytest.approx(F13.mean())
    assert rep["weighted avg"]["precision"] == pytest.approx(
        np.average(PREC3, weights=SUPPORT3)
    )
    assert rep["accuracy"] == pytest.approx(12 / 17)
    text = diagnostic_report(y_true, y_pred, target_names=["a", "b", "c"])
    header = text.splitlines()[0].split()
    assert header == [
        "accuracy",
        "precision",
        "sensitivity",
        "specificity",
        "f1-score",
        "error-rate",
        "support",
    ]
    # Row "b": 0.71 0.60 0.50 0.82 0.55 0.29 6
    row_b = next(line for line in text.splitlines() if line.strip().startswith("b "))
    assert row_b.split() == ["b", "0.71", "0.60", "0.50", "0.82", "0.55", "0.29", "6"]
    assert text.splitlines()[-1].split() == ["accuracy", "0.71", "0.29", "17"]


def test_report_target_names_mismatch():
    with pytest.raises(ValueError, match="does not match size of target_names"):
        diagnostic_report([0, 1], [0, 1], target_names=["a", "b", "c"])


@given(
    st.lists(
        st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=1, max_size=40
    )
)
def test_report_agrees_with_sklearn(pairs):
    y_true = np.array([p[0] for p in pairs])
    y_pred = np.array([p[1] for p in pairs])
    labels = np.unique(np.concatenate([y_true, y_pred]))
    rep = diagnostic_report(y_true, y_pred, output_dict=True, zero_division=0.0)
    p, r, f, s = precision_recall_fscore_support(
        y_true, y_pred, labels=labels, zero_division=0.0
    )
    for i, lab in enumerate(labels):
        row = rep[str(lab)]
        assert row["precision"] == pytest.approx(p[i])
        assert row["sensitivity"] == pytest.approx(r[i])
        assert row["f1-score"] == pytest.approx(f[i])
        assert row["support"] == s[i]
        # Specificity of class k == sensitivity of "not k".
        neg_true, neg_pred = y_true != lab, y_pred != lab
        if neg_true.any():
            expected = np.sum(neg_true & neg_pred) / np.sum(neg_true)
            assert row["specificity"] == pytest.approx(expected)
        assert row["accuracy"] == pytest.approx(np.mean(neg_true == neg_pred))


def _binary_data(labels=(0, 1)):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(60, 4))
    y01 = (X[:, 0] + 0.8 * rng.normal(size=60) > 0).astype(int)
    return X, np.asarray(labels)[y01]


def test_scorers_in_cross_validate_match_direct_computation():
    X, y = _binary_data(labels=("ALL", "healthy"))
    # "ALL" sorts first: a pos_label that is classes_[0] checks the AUC sign.
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scorers = get_scorers(pos_label="ALL")
    res = cross_validate(
        LogisticRegression(), X, y, cv=cv, scoring=scorers, return_estimator=True
    )
    for k, (_, test) in enumerate(cv.split(X, y)):
        est = res["estimator"][k]
        pred = est.predict(X[test])
        proba = est.predict_proba(X[test])[:, list(est.classes_).index("ALL")]
        assert res["test_specificity"][k] == pytest.approx(
            specificity_score(y[test], pred, pos_label="ALL")
        )
        assert res["test_sensitivity"][k] == pytest.approx(
            sensitivity_score(y[test], pred, pos_label="ALL")
        )
        assert res["test_neg_error_rate"][k] == pytest.approx(
            -error_rate(y[test], pred)
        )
        assert res["test_roc_auc"][k] == pytest.approx(
            roc_auc_score(y[test] == "ALL", proba)
        )
    assert res["test_roc_auc"].mean() > 0.7


def test_scorers_in_grid_search_multiclass():
    rng = np.random.RandomState(1)
    X = rng.normal(size=(60, 3))
    y = np.argmax(X + 0.5 * rng.normal(size=X.shape), axis=1)
    search = GridSearchCV(
        LogisticRegression(),
        {"C": [0.01, 1.0]},
        cv=3,
        scoring=get_scorers(average="macro"),
        refit="specificity",
    )
    search.fit(X, y)
    assert set(search.cv_results_) >= {
        "mean_test_specificity",
        "mean_test_roc_auc",
        "mean_test_f1",
    }
    assert 0.5 < search.cv_results_["mean_test_specificity"].max() <= 1.0
    with pytest.raises(ValueError, match="average must be"):
        get_scorers(average=None)
