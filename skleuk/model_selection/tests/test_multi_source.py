"""Training on pooled sources: the source column through evaluate and grid search.

The recommended way to train a model meant for other laboratories (see the
user guide's *Using a model on another laboratory's smears*): pool the
sources, give each image its source as its group, and validate with the
source left out.
"""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, GroupKFold, LeaveOneGroupOut
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skleuk.datasets import make_blood_smears
from skleuk.model_selection import evaluate


def _pooled(
    n_per_source=24, tints=((1.0, 1.0, 1.0), (1.0, 0.9, 1.05), (0.9, 1.0, 0.95))
):
    """Synthetic smears of three 'laboratories', each with its own tint."""
    Xs, ys, sources = [], [], []
    for k, tint in enumerate(tints):
        X, y = make_blood_smears(
            n_per_source, image_size=16, random_state=k, return_X_y=True
        )
        Xs.append(np.clip(X * np.asarray(tint), 0, 255).astype(np.uint8))
        ys.append(y)
        sources += [f"lab{k}"] * n_per_source
    return np.concatenate(Xs), np.concatenate(ys), np.array(sources)


def _model(C=1.0):
    return make_pipeline(
        FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255.0),
        LogisticRegression(C=C, max_iter=200),
    )


def test_leave_one_source_out_tests_each_source_alone():
    X, y, source = _pooled()
    report = evaluate(_model(), X, y, groups=source, cv=LeaveOneGroupOut())
    assert report.n_folds == 3
    for fold in report.folds:
        tested = set(source[fold["test_index"]])
        trained = set(source[fold["train_index"]])
        assert len(tested) == 1 and not tested & trained
    assert list(report.groups) == list(source)
    # the protocol names the folds made (get_n_splits() needs the groups)
    assert report.info["protocol"].startswith("3-fold LeaveOneGroupOut")


def test_an_int_cv_with_source_groups_keeps_sources_whole():
    X, y, source = _pooled()
    report = evaluate(_model(), X, y, groups=source, cv=3, random_state=0)
    for fold in report.folds:
        assert not set(source[fold["test_index"]]) & set(source[fold["train_index"]])


def test_a_left_out_source_with_one_class_is_scored():
    # a source of normal cells only (e.g. a healthy-donor collection)
    X, y, source = _pooled()
    only_healthy = (source != "lab2") | (y == y.min())
    X, y, source = X[only_healthy], y[only_healthy], source[only_healthy]
    report = evaluate(_model(), X, y, groups=source, cv=LeaveOneGroupOut())
    assert report.n_folds == 3
    metrics = report.fold_metrics
    assert np.isfinite(metrics["accuracy"]).all()
    assert np.isnan(metrics["roc_auc"][2])  # one class: no AUC, no error


def test_grid_search_with_source_groups():
    X, y, source = _pooled()
    search = GridSearchCV(
        _model(), {"logisticregression__C": [0.1, 1.0]}, cv=GroupKFold(3)
    )
    search.fit(X, y, groups=source)
    assert search.n_splits_ == 3
    assert set(search.cv_results_) >= {"split0_test_score", "mean_test_score"}


@pytest.mark.slow
def test_the_default_pipeline_with_leave_one_source_out():
    from skleuk import make_pipeline as make_skleuk_pipeline

    X, y, source = _pooled(12)
    pipe = make_skleuk_pipeline(image_size=16, cnn__epochs=1, cnn__random_state=0)
    report = evaluate(pipe, X, y, groups=source, cv=LeaveOneGroupOut())
    assert report.n_folds == 3
