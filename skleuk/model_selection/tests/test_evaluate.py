"""Tests of the cross-validated evaluation and its report."""

import json
import os

import numpy as np
import pytest
from PIL import Image
from sklearn import config_context
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.datasets import make_classification
from sklearn.exceptions import (
    FitFailedWarning,
    NotFittedError,
    UnsetMetadataPassedError,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.validation import check_is_fitted

from skleuk.model_selection import CrossValidationReport, evaluate


# ----------------------------------------------------------------------------
# stand-ins: a tiny image pipeline that records what it was fitted on
# ----------------------------------------------------------------------------
class RecordingFlattener(TransformerMixin, BaseEstimator):
    """Flatten images to features; remember the bytes of each fitted image."""

    def fit(self, X, y=None):
        self.fitted_keys_ = {np.asarray(x).tobytes() for x in X}
        self.n_fit_ = len(X)
        return self

    def transform(self, X):
        check_is_fitted(self)
        X = np.asarray(X, dtype=float)
        return X.reshape(len(X), -1) / 255.0


class PathReader(TransformerMixin, BaseEstimator):
    """Read image files (stand-in for skleuk.preprocessing.ImageReader)."""

    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return np.stack([np.asarray(Image.open(p).convert("RGB")) for p in X])


class HistoryLogReg(LogisticRegression):
    """A classifier exposing a Keras-like ``history_``."""

    def fit(self, X, y, sample_weight=None):
        super().fit(X, y, sample_weight=sample_weight)
        self.history_ = {
            "loss": [0.9, 0.6, 0.4],
            "accuracy": [0.5, 0.7, 0.8],
            "val_loss": [1.0, 0.8, 0.7],
            "val_accuracy": [0.5, 0.6, 0.7],
        }
        return self


def _images(n=36, size=8, n_classes=2, seed=0):
    """Random images whose brightness depends on the class (learnable)."""
    rng = np.random.RandomState(seed)
    y = np.arange(n) % n_classes
    base = 60 + 50 * y[:, None, None, None]
    X = np.clip(base + rng.randint(0, 90, size=(n, size, size, 3)), 0, 255)
    return X.astype(np.uint8), y


def _model(clf=None):
    return make_pipeline(RecordingFlattener(), clf or LogisticRegression(max_iter=200))


# ----------------------------------------------------------------------------
# folds
# ----------------------------------------------------------------------------
def test_fold_count_partition_and_no_leak():
    X, y = _images()
    model = _model()
    report = evaluate(model, X, y, cv=4, n_repeats=2, random_state=0,
                      return_estimators=True)
    assert report.n_folds == 8
    assert report.n_repeats == 2
    assert len(report.estimators_) == 8
    with pytest.raises(NotFittedError):  # the given estimator is never fitted
        check_is_fitted(model)
    for r in range(2):
        tests = [f["test_index"] for f in report.folds if f["repeat"] == r]
        assert len(tests) == 4
        # Test folds of one repetition partition the samples.
        assert sorted(np.concatenate(tests).tolist()) == list(range(len(y)))
    for f, est in zip(report.folds, report.estimators_, strict=True):
        train, test = f["train_index"], f["test_index"]
        assert not set(train) & set(test)
        assert len(train) + len(test) == len(y)
        # Preprocessing fitted on the training fold only...
        flattener = est[0]
        assert flattener.n_fit_ == len(train)
        # ...and no test image was ever in its own training fold.
        for i in test:
            assert X[i].tobytes() not in flattener.fitted_keys_
        # Stratified: both classes in every test fold.
        assert set(y[test]) == {0, 1}


def test_repeats_differ_and_random_state_reproduces():
    X, y = _images()
    a = evaluate(_model(), X, y, cv=3, n_repeats=2, random_state=1)
    b = evaluate(_model(), X, y, cv=3, n_repeats=2, random_state=1)
    fa = [f["test_index"].tolist() for f in a.folds]
    fb = [f["test_index"].tolist() for f in b.folds]
    assert fa == fb
    assert fa[:3] != fa[3:]  # the second repetition is reshuffled


def test_groups_respected():
    X, y = _images(n=40)
    groups = np.repeat(np.arange(10), 4)  # 4 consecutive samples per group
    report = evaluate(_model(), X, y, cv=5, groups=groups, random_state=0)
    assert "StratifiedGroupKFold" in report.info["protocol"]
    for f in report.folds:
        assert not set(groups[f["train_index"]]) & set(groups[f["test_index"]])
    np.testing.assert_array_equal(report.groups, groups)


def test_group_duplicates_keeps_copies_together():
    X, y = _images(n=30)
    # Samples 1 and 3 become exact copies of sample 0 (same class, 0 & 2 & 4).
    X[2] = X[0]
    X[4] = X[0]
    report = evaluate(_model(), X, y, cv=3, group_duplicates=True, random_state=0)
    for f in report.folds:
        together = {0, 2, 4}
        assert together <= set(f["test_index"]) or not together & set(
            f["test_index"]
        )
    assert report.groups[0] == report.groups[2] == report.groups[4]
    assert "near-duplicate" in report.info["protocol"]


def test_custom_splitter_and_errors():
    X, y = _images(n=20)
    report = evaluate(_model(), X, y, cv=KFold(2, shuffle=True, random_state=0))
    assert report.n_folds == 2
    with pytest.raises(ValueError, match="n_repeats > 1 needs an int cv"):
        evaluate(_model(), X, y, cv=KFold(2), n_repeats=2)
    with pytest.raises(ValueError, match="needs a classifier"):
        evaluate(RecordingFlattener(), X, y)
    with pytest.raises(ValueError, match="fewer than the 11 folds"):
        evaluate(_model(), X, y, cv=11)
    with pytest.raises(ValueError, match="at least two classes"):
        evaluate(_model(), X, np.zeros(20, int))
    with pytest.raises(ValueError, match="inconsistent"):
        evaluate(_model(), X, y[:-1])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"n_repeats": 0}, "n_repeats"),
        ({"n_repeats": 1.5}, "n_repeats"),
        ({"cv": 1}, "cv"),
        ({"cv": "five"}, "cv"),
        ({"group_duplicates": "yes"}, "group_duplicates"),
        ({"params": [("a", 1)]}, "params"),
        ({"error_score": "ignore"}, "error_score"),
        ({"n_jobs": "2"}, "n_jobs"),
        ({"progress": None}, "progress"),
        ({"random_state": "seed"}, "random_state"),
    ],
)
def test_invalid_parameters_name_the_parameter(kwargs, name):
    X, y = _images(n=12)
    with pytest.raises(InvalidParameterError, match=f"'{name}' parameter of evaluate"):
        evaluate(_model(), X, y, **kwargs)


class WeightRecorder(LogisticRegression):
    """Remembers the sample weights its fit was given."""

    def fit(self, X, y, sample_weight=None, note=None):
        self.sample_weight_ = sample_weight
        self.note_ = note
        return super().fit(X, y, sample_weight=sample_weight)


def test_params_sliced_per_fold():
    X, y = _images(n=24)
    weights = np.arange(1.0, 25.0)
    report = evaluate(
        _model(WeightRecorder(max_iter=200)), X, y, cv=3, random_state=0,
        params={"weightrecorder__sample_weight": weights,
                    "weightrecorder__note": "kept"},
        return_estimators=True,
    )
    for f, est in zip(report.folds, report.estimators_, strict=True):
        # Per-sample values follow the training fold; others pass unchanged.
        np.testing.assert_array_equal(est[-1].sample_weight_,
                                      weights[f["train_index"]])
        assert est[-1].note_ == "kept"


def test_params_follow_metadata_routing():
    X, y = _images(n=24)
    weights = np.arange(1.0, 25.0)
    with config_context(enable_metadata_routing=True):
        clf = WeightRecorder(max_iter=200).set_fit_request(sample_weight=True,
                                                           note=False)
        report = evaluate(_model(clf), X, y, cv=3, random_state=0,
                          params={"sample_weight": weights},
                          return_estimators=True)
        for f, est in zip(report.folds, report.estimators_, strict=True):
            np.testing.assert_array_equal(est[-1].sample_weight_,
                                          weights[f["train_index"]])
        # Metadata no step asked for is scikit-learn's error, naming the
        # step, raised by every fit (as in cross_validate).
        with pytest.raises(UnsetMetadataPassedError, match="WeightRecorder.fit"):
            evaluate(_model(WeightRecorder()), X, y, cv=3, error_score="raise",
                     params={"sample_weight": weights})


class CountingLogReg(LogisticRegression):
    """Remembers how many samples of each class its fit saw."""

    def fit(self, X, y, sample_weight=None):
        self.fit_counts_ = np.bincount(y)
        return super().fit(X, y, sample_weight=sample_weight)


def test_imbalanced_learn_pipeline_with_a_sampler():
    # imbalanced-learn's Pipeline resamples while fitting only: evaluate must
    # predict through the fitted pipeline, not walk its steps (a sampler has
    # no transform).
    from imblearn.pipeline import make_pipeline as make_imb_pipeline
    from imblearn.under_sampling import RandomUnderSampler

    X, y = _images(n=40)
    y = (np.arange(40) % 4 == 0).astype(int)  # 10 positives, 30 negatives
    X[y == 1] = np.clip(X[y == 1].astype(int) + 60, 0, 255).astype(np.uint8)
    pipe = make_imb_pipeline(RecordingFlattener(),
                             RandomUnderSampler(random_state=0),
                             CountingLogReg(max_iter=200))
    report = evaluate(pipe, X, y, cv=2, random_state=0, return_estimators=True)
    for f, est in zip(report.folds, report.estimators_, strict=True):
        test, train = f["test_index"], f["train_index"]
        # Fitted on a balanced sample of the training fold...
        n_pos = int(np.sum(y[train] == 1))
        assert est[-1].fit_counts_.tolist() == [n_pos, n_pos]
        # ...and every held-out sample predicted, by the pipeline itself.
        np.testing.assert_array_equal(f["y_pred"], est.predict(X[test]))
        np.testing.assert_allclose(f["proba"], est.predict_proba(X[test]))
        assert f["train_accuracy"] == pytest.approx(
            np.mean(est.predict(X[train]) == y[train]))
    assert report.confusion_matrix.sum() == 40


class FailsOnWhite(LogisticRegression):
    """Raises when its training data holds an all-white image."""

    def fit(self, X, y, sample_weight=None):
        if np.any(np.all(np.asarray(X) == 1.0, axis=1)):
            raise ValueError("a white image")
        return super().fit(X, y, sample_weight=sample_weight)


def _with_white(n=30):
    X, y = _images(n=n)
    X[0] = 255  # in the training folds of all folds but one
    return X, y


def test_error_score_raise():
    X, y = _with_white()
    with pytest.raises(ValueError, match="a white image"):
        evaluate(_model(FailsOnWhite()), X, y, cv=3, random_state=0,
                 error_score="raise")


def test_error_score_nan_reports_the_failed_fits(tmp_path):
    X, y = _with_white()
    with pytest.warns(FitFailedWarning, match="2 fits failed out of a total of 3"):
        report = evaluate(_model(FailsOnWhite()), X, y, cv=3, random_state=0)
    assert report.n_failed_folds == 2
    fitted = [f for f in report.folds if f["fit_error"] is None]
    assert len(fitted) == 1 and 0 in fitted[0]["test_index"]
    failed = [f for f in report.folds if f["fit_error"] is not None]
    assert all("ValueError: a white image" in f["fit_error"] for f in failed)
    assert all(f["y_pred"] is None for f in failed)
    accuracy = report.fold_metrics["accuracy"]
    assert np.isnan(accuracy).sum() == 2
    # The pooled figures are those of the fitted fold.
    assert report.confusion_matrix.sum() == len(fitted[0]["test_index"])
    assert report.summary()["accuracy"]["mean"] == pytest.approx(
        np.mean(fitted[0]["y_pred"] == y[fitted[0]["test_index"]]))
    assert "FAILED FITS: 2 of 3" in report.to_text()
    again = CrossValidationReport.from_json(report.to_json())
    assert again.n_failed_folds == 2 and again.to_text() == report.to_text()
    written = report.save(tmp_path / "rep")
    assert "confusion_matrix" in written and "roc_curve" in written


def test_error_score_number_counts_failures():
    X, y = _with_white()
    with pytest.warns(FitFailedWarning):
        report = evaluate(_model(FailsOnWhite()), X, y, cv=3, random_state=0,
                          error_score=0)
    accuracy = report.fold_metrics["accuracy"]
    assert sorted(accuracy)[:2] == [0.0, 0.0]
    assert report.summary()["accuracy"]["mean"] == pytest.approx(accuracy.mean())
    assert "error_score=0" in report.to_text()


def test_every_fit_failing_is_an_error():
    X, y = _images(n=30)
    X[:] = 255
    with pytest.raises(ValueError, match="All the 3 fits failed"):
        evaluate(_model(FailsOnWhite()), X, y, cv=3, random_state=0)


def test_n_jobs_gives_the_same_report():
    X, y = _images(n=24)
    one = evaluate(_model(), X, y, cv=3, n_repeats=2, random_state=0)
    two = evaluate(_model(), X, y, cv=3, n_repeats=2, random_state=0, n_jobs=2,
                   return_estimators=True)
    assert [(f["repeat"], f["fold"]) for f in two.folds] == [
        (r, k) for r in range(2) for k in range(3)
    ]
    for a, b in zip(one.folds, two.folds, strict=True):
        np.testing.assert_array_equal(a["test_index"], b["test_index"])
        np.testing.assert_array_equal(a["y_pred"], b["y_pred"])
        np.testing.assert_array_equal(a["proba"], b["proba"])
        assert a["train_accuracy"] == b["train_accuracy"]
    # Everything but the timings is the same.
    assert _without_times(one) == _without_times(two)
    assert len(two.estimators_) == 6
    check_is_fitted(two.estimators_[0])


def _without_times(report):
    return [
        {k: v for k, v in f.items() if k not in ("fit_time", "predict_time")}
        for f in report.to_dict()["folds"]
    ]


# ----------------------------------------------------------------------------
# metrics of the report
# ----------------------------------------------------------------------------
def test_report_numbers_match_direct_computation():
    X, y = _images(n=40)
    report = evaluate(_model(), X, y, cv=4, random_state=0, return_estimators=True)
    fm = report.fold_metrics
    for i, (f, est) in enumerate(zip(report.folds, report.estimators_, strict=True)):
        test, train = f["test_index"], f["train_index"]
        pred = est.predict(X[test])
        np.testing.assert_array_equal(f["y_pred"], pred)
        tn = np.sum((y[test] == 0) & (pred == 0))
        assert fm["specificity"][i] == pytest.approx(tn / np.sum(y[test] == 0))
        assert fm["accuracy"][i] == pytest.approx(np.mean(pred == y[test]))
        assert fm["error_rate"][i] == pytest.approx(1 - fm["accuracy"][i])
        # Train metrics measured after fit with predict (no augmentation).
        assert fm["train_accuracy"][i] == pytest.approx(
            np.mean(est.predict(X[train]) == y[train])
        )
        proba = est.predict_proba(X[test])
        expected = -np.mean(np.log(proba[np.arange(len(test)), y[test]]))
        assert fm["log_loss"][i] == pytest.approx(expected)
    summary = report.summary()
    assert summary["accuracy"]["mean"] == pytest.approx(fm["accuracy"].mean())
    assert summary["accuracy"]["std"] == pytest.approx(fm["accuracy"].std())
    cm = report.confusion_matrix
    assert cm.sum() == len(y)
    all_pred = np.empty_like(y)
    for f in report.folds:
        all_pred[f["test_index"]] = f["y_pred"]
    assert cm[1, 1] == np.sum((y == 1) & (all_pred == 1))
    assert cm[0, 1] == np.sum((y == 0) & (all_pred == 1))


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


def test_string_labels_pos_label_and_target_names():
    X, y = _images(n=24)
    labels = np.array(["ALL", "healthy"])[1 - y]  # 1 -> "ALL"
    report = evaluate(_model(), X, labels, cv=3, random_state=0, pos_label="ALL")
    assert report.pos_label == "ALL"
    assert report.pos_index == 0
    assert report.target_names == ["ALL", "healthy"]
    assert "Positive class: ALL" in report.to_text()
    with pytest.raises(ValueError, match="pos_label='blast'"):
        evaluate(_model(), X, labels, cv=3, pos_label="blast")


def test_decision_function_only_classifier():
    X, y = _images(n=24)
    report = evaluate(_model(LinearSVC()), X, y, cv=3, random_state=0)
    assert report.folds[0]["proba"] is None
    assert report.folds[0]["decision"] is not None
    assert np.isfinite(report.fold_metrics["roc_auc"]).all()
    assert np.isnan(report.fold_metrics["log_loss"]).all()
    assert report.roc_curves()["mean"] is not None


def test_plain_features_classifier():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(30, 3))
    y = (X[:, 0] > 0).astype(int)
    report = evaluate(LogisticRegression(), X, y, cv=3, random_state=0)
    assert report.summary()["accuracy"]["mean"] > 0.7
    assert report.histories == [None, None, None]


def test_multiclass_report():
    X, y = _images(n=36, n_classes=3)
    report = evaluate(_model(), X, y, cv=3, random_state=0,
                      target_names=["a", "b", "c"])
    assert report.pos_label is None
    assert report.confusion_matrix.shape == (3, 3)
    roc = report.roc_curves()
    assert [e["name"] for e in roc["per_class"]] == ["a", "b", "c"]
    rep = report.diagnostic_report(output_dict=True)
    assert set(rep) >= {"a", "b", "c", "macro avg", "weighted avg"}
    assert "Multi-class" in report.to_text()


def test_history_recorded():
    X, y = _images(n=24)
    report = evaluate(_model(HistoryLogReg(max_iter=200)), X, y, cv=2,
                      random_state=0)
    assert report.histories[0]["val_loss"] == [1.0, 0.8, 0.7]


def test_file_paths(tmp_path):
    X, y = _images(n=20)
    paths = []
    for i, im in enumerate(X):
        p = tmp_path / f"im{i:02d}.png"
        Image.fromarray(im).save(p)
        paths.append(str(p))
    model = make_pipeline(PathReader(), RecordingFlattener(), LogisticRegression())
    report = evaluate(model, paths, y, cv=2, random_state=0)
    assert report.n_folds == 2
    d = report.to_dict()
    assert d["X_paths"] == paths
    again = CrossValidationReport.from_dict(d)
    assert again.X == paths


def test_progress_bar(capsys):
    X, y = _images(n=20)
    evaluate(_model(), X, y, cv=2, random_state=0, progress=True)
    err = capsys.readouterr().err
    assert "cross-validation" in err
    assert "2/2" in err


# ----------------------------------------------------------------------------
# renderings and persistence
# ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def report():
    X, y = _images(n=30)
    return evaluate(_model(HistoryLogReg(max_iter=200)), X, y, cv=3, n_repeats=2,
                    random_state=0, target_names=["healthy", "ALL"])


def test_text_markdown_html(report):
    text = str(report)
    assert text.startswith("Cross-validation report (3 folds x 2 repeats)")
    for needle in ("Table 4.2", "Table 4.3", "Sensitivity", "Specificity",
                   "ROC AUC", "Error rate", "healthy", "mean ± std"):
        assert needle in text
    md = report.to_markdown({"roc_curve": "roc_curve.png"})
    assert "| Repeat | Fold |" in md
    assert "![roc_curve](roc_curve.png)" in md
    html = report.to_html()
    assert html.startswith("<!DOCTYPE html>")
    assert "<table>" in html and "Specificity" in html
    assert "<h1>" in report._repr_html_()


def test_json_round_trip(report, tmp_path):
    text = report.to_json()
    # Strict JSON: no NaN literals.
    d = json.loads(text, parse_constant=lambda c: pytest.fail(f"non-JSON {c}"))
    assert d["summary"]["accuracy"]["mean"] == pytest.approx(
        report.summary()["accuracy"]["mean"]
    )
    assert d["confusion_matrix"] == report.confusion_matrix.tolist()
    again = CrossValidationReport.from_json(text)
    assert again.to_text() == report.to_text()
    path = tmp_path / "r.json"
    report.to_json(path)
    assert CrossValidationReport.from_json(path).to_text() == report.to_text()
    with pytest.raises(FileExistsError, match="already exists"):
        report.to_json(path)
    report.to_json(path, overwrite=True)
    with pytest.raises(ValueError, match="Not a skleuk"):
        CrossValidationReport.from_json('{"a": 1}')


def test_save_writes_everything_and_refuses_overwrite(report, tmp_path):
    out = tmp_path / "out"
    written = report.save(out)
    for key in ("text", "markdown", "html", "json", "confusion_matrix",
                "roc_curve", "learning_curves", "misclassified"):
        assert os.path.getsize(written[key]) > 0, key
    assert "confusion_matrix.png" in (out / "report.html").read_text()
    before = (out / "report.txt").read_text()
    with pytest.raises(FileExistsError):
        report.save(out)
    assert (out / "report.txt").read_text() == before
    report.save(out, overwrite=True)
