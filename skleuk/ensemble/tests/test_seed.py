import pickle

import numpy as np
import pytest
from sklearn.base import clone, is_classifier
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import make_pipeline as sk_pipeline
from sklearn.preprocessing import StandardScaler

from skleuk.ensemble import SeedEnsembleClassifier


def _data(n=60, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


def _sgd():
    return SGDClassifier(loss="log_loss", max_iter=5, tol=None)


def test_mean_of_members_and_distinct_seeds():
    X, y = _data()
    ens = SeedEnsembleClassifier(_sgd(), n_estimators=4, random_state=0).fit(X, y)
    assert ens.fit(X, y) is ens
    assert len(ens.estimators_) == 4 and len(set(ens.seeds_.tolist())) == 4
    seeds = [m.random_state for m in ens.estimators_]
    assert seeds == ens.seeds_.tolist()
    members = np.stack([m.predict_proba(X) for m in ens.estimators_])
    # Different seeds give different members, and the ensemble is their mean.
    assert not np.allclose(members[0], members[1])
    np.testing.assert_allclose(ens.predict_proba(X), members.mean(axis=0))
    np.testing.assert_array_equal(
        ens.predict(X), ens.classes_[members.mean(axis=0).argmax(axis=1)]
    )


def test_reproducible_and_independent_of_n_jobs():
    X, y = _data()
    a = SeedEnsembleClassifier(_sgd(), n_estimators=3, random_state=7).fit(X, y)
    b = SeedEnsembleClassifier(_sgd(), n_estimators=3, random_state=7, n_jobs=2)
    b.fit(X, y)
    np.testing.assert_array_equal(a.seeds_, b.seeds_)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(X))


def test_every_random_state_in_a_pipeline_is_set():
    X, y = _data()
    pipe = sk_pipeline(StandardScaler(), _sgd())
    ens = SeedEnsembleClassifier(pipe, n_estimators=2, random_state=0).fit(X, y)
    assert ens.seed_params_ == ["sgdclassifier__random_state"]
    for member, seed in zip(ens.estimators_, ens.seeds_, strict=True):
        assert member[-1].random_state == seed


def test_estimator_without_random_state_is_refused():
    from sklearn.neighbors import KNeighborsClassifier

    X, y = _data()
    with pytest.raises(ValueError, match="no random_state parameter"):
        SeedEnsembleClassifier(KNeighborsClassifier()).fit(X, y)


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_n_estimators_is_validated(bad):
    X, y = _data()
    with pytest.raises(ValueError, match="n_estimators"):
        SeedEnsembleClassifier(_sgd(), n_estimators=bad).fit(X, y)


def test_sklearn_protocol():
    X, y = _data()
    ens = SeedEnsembleClassifier(LogisticRegression(), n_estimators=2, random_state=0)
    assert is_classifier(ens)
    assert clone(ens).get_params()["n_estimators"] == 2
    res = cross_validate(ens, X, y, cv=3, scoring=["accuracy", "roc_auc"])
    assert np.all(res["test_accuracy"] > 0.6)
    grid = GridSearchCV(ens, {"estimator__C": [0.1, 1.0]}, cv=3).fit(X, y)
    assert grid.best_params_["estimator__C"] in (0.1, 1.0)
    fitted = ens.fit(X, y)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.predict_proba(X), fitted.predict_proba(X))


def test_unfitted_predict_raises():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        SeedEnsembleClassifier(_sgd()).predict(np.zeros((2, 4)))


def test_cnn_pipeline_members_differ_and_average():
    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(
        n_samples=24, image_size=32, random_state=0, return_X_y=True
    )
    pipe = make_pipeline(image_size=16, cnn__epochs=1, cnn__batch_size=8,
                         cnn__optimizer="sgd")  # SGD traces in half the time
    ens = SeedEnsembleClassifier(pipe, n_estimators=2, random_state=0).fit(X, y)
    assert "cnn__random_state" in ens.seed_params_
    p = np.stack([m.predict_proba(X) for m in ens.estimators_])
    assert not np.allclose(p[0], p[1])
    np.testing.assert_allclose(ens.predict_proba(X), p.mean(axis=0), rtol=1e-6)
