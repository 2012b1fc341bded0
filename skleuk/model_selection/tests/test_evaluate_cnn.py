"""evaluate() with skleuk's CNN: one network pass per fold side, n_jobs."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from skleuk.model_selection import AbstainingClassifier, evaluate
from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny


class CountingIdentity(TransformerMixin, BaseEstimator):
    """Passes images through; counts ``transform`` calls (class-wide)."""

    calls = 0

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        type(self).calls += 1
        return X


def _pipe(**params):
    params.setdefault("epochs", 1)
    return Pipeline([("identity", CountingIdentity()),
                     ("cnn", LightweightCNNClassifier(**tiny(**params)))])


@pytest.fixture
def network_passes(monkeypatch):
    """Count the CNN's network passes (``predict_proba`` calls; ``predict``
    makes one)."""
    counter = {"n": 0}
    original = LightweightCNNClassifier.predict_proba

    def counting(self, X):
        counter["n"] += 1
        return original(self, X)

    monkeypatch.setattr(LightweightCNNClassifier, "predict_proba", counting)
    CountingIdentity.calls = 0
    return counter


@pytest.fixture(scope="module")
def serial_run():
    """A seeded serial evaluate() and its pass counts (shared, read-only)."""
    X, y = make_images(n=24, size=16, random_state=0)
    counter = {"n": 0}
    original = LightweightCNNClassifier.predict_proba

    def counting(self, X):
        counter["n"] += 1
        return original(self, X)

    CountingIdentity.calls = 0
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(LightweightCNNClassifier, "predict_proba", counting)
        report = evaluate(_pipe(random_state=0), X, y, cv=2, random_state=0,
                          return_estimators=True)
    return X, y, report, {"network": counter["n"],
                          "preprocessing": CountingIdentity.calls}


def test_one_network_pass_per_fold_side(serial_run):
    X, y, report, passes = serial_run
    # Train fold and test fold: one network pass and one preprocessing
    # pass each (fit_transform during fit is one more per fold).
    assert passes["network"] == 2 * 2
    assert passes["preprocessing"] == 3 * 2
    # ...and the predictions are exactly what predict/predict_proba give.
    for f, est in zip(report.folds, report.estimators_, strict=True):
        X_test = X[f["test_index"]]
        np.testing.assert_array_equal(f["y_pred"], est.predict(X_test))
        np.testing.assert_allclose(f["proba"], est.predict_proba(X_test),
                                   rtol=1e-12)


def test_abstaining_classifier_keeps_its_predict(network_passes):
    # Its predict is not the argmax of predict_proba (it abstains).
    X, y = make_images(n=24, size=16, random_state=0)
    cnn = LightweightCNNClassifier(**tiny(random_state=0, epochs=1))
    clf = AbstainingClassifier(cnn, band=(0.45, 0.55))
    report = evaluate(clf, X, y, cv=2, random_state=0, return_estimators=True)
    assert network_passes["n"] == 2 * 2 * 2  # predict_proba and predict
    for f, est in zip(report.folds, report.estimators_, strict=True):
        np.testing.assert_array_equal(f["y_pred"], est.predict(X[f["test_index"]]))


@pytest.mark.slow
def test_seeded_cnn_same_report_with_n_jobs_2(serial_run):
    X, y, one, _ = serial_run  # n_jobs=None: serial
    two = evaluate(_pipe(random_state=0), X, y, cv=2, random_state=0, n_jobs=2)
    for a, b in zip(one.folds, two.folds, strict=True):
        np.testing.assert_array_equal(a["test_index"], b["test_index"])
        np.testing.assert_array_equal(a["y_pred"], b["y_pred"])
        np.testing.assert_array_equal(a["proba"], b["proba"])
        assert a["train_loss"] == b["train_loss"]
        assert a["history"] == b["history"]
