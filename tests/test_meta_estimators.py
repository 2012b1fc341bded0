"""Calibration, operating point and abstention on the whole image pipeline.

scikit-learn's meta-estimators (CalibratedClassifierCV, FrozenEstimator,
TunedThresholdClassifierCV) take 4-D image batches unchanged in
scikit-learn 1.6-1.9: they index samples along the first axis and leave
validation to the pipeline. These tests pin that down.
"""

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.calibration import CalibratedClassifierCV
from sklearn.exceptions import NotFittedError
from sklearn.frozen import FrozenEstimator
from sklearn.model_selection import FixedThresholdClassifier, cross_validate

from skleuk import make_pipeline
from skleuk.metrics import expected_calibration_error, get_abstention_scorers
from skleuk.model_selection import AbstainingClassifier, tune_threshold
from skleuk.neural_network.tests._data import TINY_CNN

TINY = {f"cnn__{k}": v for k, v in TINY_CNN.items()}


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(
        n_samples=24, image_size=32, random_state=0, return_X_y=True
    )


@pytest.fixture(scope="module")
def fitted(smears):
    # Adam (the CNN's default) learns enough in 2 epochs for the operating
    # point tests below; TINY's plain SGD barely moves the probabilities.
    X, y = smears
    return make_pipeline(
        image_size=16, cnn__random_state=0, **{**TINY, "cnn__optimizer": "adam"}
    ).fit(X, y)


def _pipe():
    return make_pipeline(image_size=16, cnn__random_state=0, **TINY)


@pytest.mark.parametrize("method", ["sigmoid", "isotonic", "temperature"])
def test_calibrated_pipeline_fits_on_images_and_round_trips(smears, method, tmp_path):
    X, y = smears
    cal = CalibratedClassifierCV(_pipe(), method=method, cv=2)
    cal = clone(cal).fit(X, y)
    proba = cal.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(1), 1, atol=1e-6)
    assert 0 <= expected_calibration_error(y, proba[:, 1]) <= 1
    path = tmp_path / "cal.joblib"
    joblib.dump(cal, path)
    again = joblib.load(path)
    np.testing.assert_allclose(again.predict_proba(X), proba, atol=1e-6)
    if method == "temperature":
        # temperature scaling: one positive scalar per fitted pipeline
        for calibrated in cal.calibrated_classifiers_:
            (calibrator,) = calibrated.calibrators
            assert np.isfinite(calibrator.beta_) and calibrator.beta_ > 0


def test_temperature_scaling_keeps_the_ranking(smears, fitted):
    """Dividing the logit by one temperature cannot reorder the cases."""
    X, y = smears
    cal = CalibratedClassifierCV(FrozenEstimator(fitted), method="temperature")
    q = cal.fit(X, y).predict_proba(X)[:, 1]
    p = fitted.predict_proba(X)[:, 1]
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(q[order]) >= -1e-9)


def test_prefit_calibration_with_frozen_estimator(smears, fitted):
    X, y = smears
    cal = CalibratedClassifierCV(FrozenEstimator(fitted), method="sigmoid")
    cal.fit(X, y)
    # the frozen pipeline is not refitted
    assert cal.calibrated_classifiers_[0].estimator.estimator is fitted
    assert cal.predict_proba(X).shape == (len(X), 2)


def test_prefit_calibration_of_unfitted_pipeline_is_one_line_error(smears):
    X, y = smears
    with pytest.raises(NotFittedError) as exc:
        CalibratedClassifierCV(FrozenEstimator(_pipe())).fit(X, y)
    assert "\n" not in str(exc.value)
    with pytest.raises(NotFittedError, match="must be fitted first") as exc:
        AbstainingClassifier(FrozenEstimator(_pipe())).fit(X, y)
    assert "\n" not in str(exc.value)


def test_thresholds_and_abstention_on_the_pipeline(smears, fitted):
    X, y = smears
    fixed = FixedThresholdClassifier(FrozenEstimator(fitted), threshold=0.0,
                                     response_method="predict_proba").fit(X, y)
    assert (fixed.predict(X) == 1).all()
    tuned = tune_threshold(FrozenEstimator(fitted), min_sensitivity=1.0, cv=2)
    tuned.fit(X, y)
    assert np.mean(tuned.predict(X)[y == 1] == 1) == 1.0
    abst = AbstainingClassifier(FrozenEstimator(fitted), band=(0.0, 1.0)).fit(X, y)
    p = fitted.predict_proba(X)[:, 1]
    assert np.array_equal(abst.predict(X) == -1, (p > 0) & (p < 1))


def test_abstaining_calibrated_pipeline_cross_validates(smears):
    X, y = smears
    clf = AbstainingClassifier(
        CalibratedClassifierCV(_pipe(), cv=2), band=(0.4, 0.6)
    )
    res = cross_validate(clf, X, y, cv=2,
                         scoring=get_abstention_scorers(pos_label=1))
    assert np.all((0 <= res["test_coverage"]) & (res["test_coverage"] <= 1))
