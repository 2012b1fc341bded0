"""Tests of tune_threshold: a threshold that reaches a target sensitivity."""

import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import TunedThresholdClassifierCV

from skleuk.model_selection import tune_threshold


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
