"""Saving and loading fitted CNNs, pipelines and grid searches."""

import copy
import os
import pickle
import subprocess
import sys
import textwrap
import warnings

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold

import skleuk.neural_network._persistence as persistence_module
from skleuk import make_pipeline
from skleuk.neural_network import InconsistentVersionWarning, LightweightCNNClassifier
from skleuk.neural_network._persistence import KerasModelBytes
from skleuk.neural_network.tests._data import TINY_CNN, make_images
from skleuk.utils._persistence import current_versions

TINY = {f"cnn__{k}": v for k, v in TINY_CNN.items()}


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(
        n_samples=24, image_size=48, random_state=0, return_X_y=True
    )


@pytest.fixture(scope="module")
def fitted_pipeline(smears):
    X, y = smears
    return make_pipeline(
        image_size=16, cnn__random_state=0, **{**TINY, "cnn__augment": True}
    ).fit(X, y)


@pytest.fixture(scope="module")
def fitted_clf():
    # Adam, not TINY_CNN's plain SGD: its slot variables are optimizer state
    # that a pickle must carry.
    X, y = make_images(n=24, size=16, n_classes=3, labels=["Early", "Pre", "Pro"])
    params = {**TINY_CNN, "optimizer": "adam"}
    return LightweightCNNClassifier(**params, random_state=0).fit(X, y), X


def test_fresh_process_gives_identical_probabilities(fitted_pipeline, smears, tmp_path):
    X, y = smears
    grid = GridSearchCV(
        make_pipeline(image_size=16, cnn__random_state=0, **TINY),
        {"cnn__batch_size": [8]},  # one candidate: the pickle is the point
        cv=StratifiedKFold(2),
        scoring="roc_auc",
    ).fit(X, y)
    joblib.dump(fitted_pipeline, tmp_path / "pipe.joblib")
    joblib.dump(grid, tmp_path / "grid.joblib")
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "pipe_proba.npy", fitted_pipeline.predict_proba(X))
    np.save(tmp_path / "grid_proba.npy", grid.predict_proba(X))
    script = textwrap.dedent(
        """
        import sys, warnings
        import joblib, numpy as np
        from skleuk.neural_network import InconsistentVersionWarning
        warnings.simplefilter("error", InconsistentVersionWarning)
        d = sys.argv[1]
        X = np.load(d + "/X.npy")
        for name in ("pipe", "grid"):
            model = joblib.load(d + f"/{name}.joblib")
            expected = np.load(d + f"/{name}_proba.npy")
            got = model.predict_proba(X)
            assert np.array_equal(got, expected), (name, np.abs(got - expected).max())
        print("IDENTICAL")
        """
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3")
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "IDENTICAL" in result.stdout


def test_pickle_round_trip_in_process(fitted_clf):
    clf, X = fitted_clf
    with warnings.catch_warnings():
        warnings.simplefilter("error", InconsistentVersionWarning)
        restored = pickle.loads(pickle.dumps(clf))
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))
    np.testing.assert_array_equal(restored.classes_, clf.classes_)
    assert restored.get_params() == clf.get_params()
    assert restored.history_ == clf.history_
    twin = copy.deepcopy(clf)
    np.testing.assert_array_equal(twin.predict_proba(X), clf.predict_proba(X))
    # a restored classifier keeps training (optimizer state is saved too)
    restored.set_params(warm_start=True, epochs=1)
    restored.fit(X, clf.predict(X))
    assert restored.n_iter_ == clf.n_iter_ + 1
    # unfitted estimators pickle too
    blank = pickle.loads(pickle.dumps(LightweightCNNClassifier(epochs=3)))
    assert blank.epochs == 3 and not blank.__sklearn_is_fitted__()


def test_state_records_versions_and_holds_no_keras_objects(fitted_clf):
    clf, _ = fitted_clf
    state = clf.__getstate__()
    assert state["_skleuk_versions"] == current_versions()
    assert set(state["_skleuk_versions"]) == {
        "skleuk", "keras", "tensorflow", "scikeras", "scikit-learn"
    }
    assert isinstance(state["model_"], KerasModelBytes)
    assert state["model_"].data[:2] == b"PK"  # a .keras (zip) file
    assert "_fit_callbacks" not in state
    assert clf.model_ is not None  # the live estimator is unchanged


def test_other_versions_warn_on_load(fitted_clf, monkeypatch):
    clf, X = fitted_clf
    tampered = dict(current_versions(), keras="3.0.0", skleuk="0.0.1")
    monkeypatch.setattr(persistence_module, "current_versions", lambda: tampered)
    data = pickle.dumps(clf)
    monkeypatch.undo()
    with pytest.warns(InconsistentVersionWarning, match="keras 3.0.0") as record:
        restored = pickle.loads(data)
    (w,) = [r.message for r in record if isinstance(r.message,
                                                    InconsistentVersionWarning)]
    assert w.estimator_name == "LightweightCNNClassifier"
    assert set(w.differences) == {"keras", "skleuk"}
    assert w.differences["keras"][0] == "3.0.0"
    np.testing.assert_array_equal(restored.predict_proba(X), clf.predict_proba(X))


def test_missing_version_record_warns(fitted_clf):
    clf, _ = fitted_clf
    state = clf.__getstate__()
    del state["_skleuk_versions"]
    blank = LightweightCNNClassifier.__new__(LightweightCNNClassifier)
    with pytest.warns(InconsistentVersionWarning, match="unknown"):
        blank.__setstate__(state)


def test_corrupt_model_bytes_give_a_clear_error(fitted_clf):
    clf, _ = fitted_clf
    state = clf.__getstate__()
    state["model_"] = KerasModelBytes(b"not a keras file")
    blank = LightweightCNNClassifier.__new__(LightweightCNNClassifier)
    with pytest.raises(RuntimeError, match="Could not load the Keras network"):
        blank.__setstate__(state)


def test_export_keras_from_a_pipeline(fitted_pipeline, smears, tmp_path):
    import keras

    from skleuk.neural_network._augment import dihedral_views

    X, _ = smears
    cnn = fitted_pipeline.named_steps["cnn"]
    path = cnn.export_keras(tmp_path / "cnn.keras")
    model = keras.saving.load_model(path)
    features = fitted_pipeline[:-1].transform(X)
    # The file holds the bare network; with tta=True (the default recipe's)
    # the classifier averages it over the 8 flips and rotations.
    views = dihedral_views(features) if cnn.tta else [features]
    np.testing.assert_allclose(
        np.mean([model.predict(v, verbose=0) for v in views], axis=0),
        fitted_pipeline.predict_proba(X), atol=1e-6,
    )
    with pytest.raises(FileExistsError):
        cnn.export_keras(path)
