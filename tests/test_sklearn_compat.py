"""scikit-learn behaviour of the CNN classifier and of the whole pipeline.

SciKeras 0.13 predates scikit-learn's estimator tags: without our own
``__sklearn_tags__`` a KerasClassifier is not a classifier for scikit-learn
>= 1.7, so ``cv=5`` silently uses unstratified KFold and ``roc_auc`` scoring
fails (NaN). These tests pin the fixed behaviour.
"""

import numpy as np
import pytest
import sklearn
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    StratifiedKFold,
    check_cv,
    cross_validate,
)
from sklearn.utils import estimator_checks, get_tags

from skleuk import make_pipeline
from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network.tests._data import TINY_CNN, make_images, tiny_cnn

PIPE_CNN = {f"cnn__{k}": v for k, v in TINY_CNN.items()}


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    X, y = make_blood_smears(
        n_samples=30, image_size=48, random_state=0, return_X_y=True
    )
    return X, y


def tiny_pipeline(**params):
    return make_pipeline(image_size=16, **{**PIPE_CNN, **params})


def test_tags_declare_an_image_classifier():
    clf = LightweightCNNClassifier()
    tags = get_tags(clf)
    assert tags.estimator_type == "classifier"
    assert tags.classifier_tags is not None
    assert tags.classifier_tags.multi_class
    assert not tags.classifier_tags.multi_label
    assert tags.target_tags.required
    assert not tags.input_tags.two_d_array and tags.input_tags.three_d_array
    assert tags.requires_fit
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_classifier(make_pipeline())


@pytest.mark.parametrize(
    "check",
    [
        "check_parameters_default_constructible",
        "check_no_attributes_set_in_init",
        "check_get_params_invariance",
        "check_set_params",
        "check_estimator_repr",
        "check_valid_tag_types",
        "check_estimator_cloneable",
        "check_do_not_raise_errors_in_init_or_set_params",
    ],
)
def test_sklearn_api_checks_without_data(check):
    getattr(estimator_checks, check)("LightweightCNNClassifier",
                                     LightweightCNNClassifier())


def test_cv_5_is_stratified():
    y = np.repeat([0, 1], 20)  # sorted labels: plain KFold would split by class
    cv = check_cv(5, y, classifier=is_classifier(LightweightCNNClassifier()))
    assert isinstance(cv, StratifiedKFold)
    cv = check_cv(5, y, classifier=is_classifier(make_pipeline()))
    assert isinstance(cv, StratifiedKFold)
    assert not isinstance(check_cv(5, y, classifier=False), StratifiedKFold)


def test_cross_validate_accuracy_and_auc_are_finite_and_folds_stratified():
    # cv=3, not 5: an integer cv all the same, two fits fewer
    X, y = make_images(n=24, size=16, n_classes=2)
    order = np.argsort(y, kind="stable")  # sorted labels
    X, y = X[order], y[order]
    clf = LightweightCNNClassifier(**TINY_CNN, random_state=0)
    res = cross_validate(
        clf, X, y, cv=3, scoring=["accuracy", "roc_auc"], return_indices=True,
        error_score="raise",
    )
    assert np.all(np.isfinite(res["test_roc_auc"]))
    assert np.all(np.isfinite(res["test_accuracy"]))
    assert len(res["indices"]["test"]) == 3
    for test in res["indices"]["test"]:
        np.testing.assert_array_equal(np.bincount(y[test]), [4, 4])
    # what KFold would have done with these sorted labels
    assert any(len(np.unique(y[test])) == 1 for _, test in KFold(3).split(X, y))


def test_cross_validate_pipeline_with_auc(smears):
    X, y = smears
    res = cross_validate(
        tiny_pipeline(cnn__epochs=1), X, y, cv=3, scoring=["accuracy", "roc_auc"],
        error_score="raise",
    )
    assert np.all(np.isfinite(res["test_roc_auc"]))


def test_multiclass_roc_auc_ovr_with_string_labels():
    X, y = make_images(n=36, size=16, n_classes=3, labels=["Early", "Pre", "Pro"])
    res = cross_validate(
        LightweightCNNClassifier(**tiny_cnn(epochs=1)), X, y, cv=3,
        scoring=["roc_auc_ovr", "accuracy"], error_score="raise",
    )
    assert np.all(np.isfinite(res["test_roc_auc_ovr"]))


def test_grid_search_over_optimizer_and_epochs(smears):
    X, y = smears
    # Two candidates that differ in both routed parameters (not the 2x2
    # product: four more fits check nothing more).
    grid = GridSearchCV(
        tiny_pipeline(cnn__random_state=0),
        [{"cnn__optimizer": ["sgd"], "cnn__epochs": [1]},
         {"cnn__optimizer": ["adam"], "cnn__epochs": [2]}],
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
        scoring=["accuracy", "roc_auc"],
        refit="roc_auc",
        error_score="raise",
    ).fit(X, y)
    results = grid.cv_results_
    assert results["params"] == [
        {"cnn__epochs": 1, "cnn__optimizer": "sgd"},
        {"cnn__epochs": 2, "cnn__optimizer": "adam"},
    ]
    assert np.all(np.isfinite(results["mean_test_roc_auc"]))
    assert np.all(np.isfinite(results["mean_test_accuracy"]))
    assert grid.best_params_["cnn__optimizer"] in ("sgd", "adam")
    best = grid.best_estimator_.named_steps["cnn"]  # the routed values reached it
    assert best.n_iter_ == grid.best_params_["cnn__epochs"]
    assert type(best.model_.optimizer).__name__.lower() == best.optimizer
    assert grid.predict_proba(X).shape == (len(X), 2)
    assert is_classifier(grid)


def test_metadata_routing_of_sample_weight():
    clf = LightweightCNNClassifier()
    routing = clf.get_metadata_routing()
    assert "sample_weight" in routing.fit.requests
    with sklearn.config_context(enable_metadata_routing=True):
        clf = (
            LightweightCNNClassifier(**tiny_cnn(epochs=1))
            .set_fit_request(sample_weight=True)
            .set_score_request(sample_weight=False)
        )
        X, y = make_images(n=20, size=16)
        res = cross_validate(
            clf, X, y, cv=2, params={"sample_weight": np.ones(20)},
            error_score="raise",
        )
        assert np.all(np.isfinite(res["test_score"]))


def test_clone_of_a_fitted_classifier_is_unfitted():
    X, y = make_images(n=20, size=16)
    clf = LightweightCNNClassifier(**tiny_cnn(epochs=1)).fit(X, y)
    twin = clone(clf)
    assert not twin.__sklearn_is_fitted__()
    assert twin.get_params() == clf.get_params()
