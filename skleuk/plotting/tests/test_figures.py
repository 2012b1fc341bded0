"""Tests of the report figures."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from skleuk.model_selection import CrossValidationReport  # noqa: E402
from skleuk.plotting import (  # noqa: E402
    NothingToPlotError,
    plot_confusion_matrix,
    plot_learning_curves,
    plot_misclassified,
    plot_roc_curve,
)

HISTORY = {"loss": [0.9, 0.5, 0.3], "accuracy": [0.5, 0.7, 0.9],
           "val_loss": [1.0, 0.7, 0.6], "val_accuracy": [0.4, 0.6, 0.7]}


def _report(n_classes=2, history=True, proba=True, X=None):
    """A hand-made 2-fold report on 8 samples."""
    y = np.array([0, 1] * 4) if n_classes == 2 else np.array([0, 1, 2, 0, 1, 2])
    n = len(y)
    idx = np.arange(n)
    rng = np.random.RandomState(0)
    folds = []
    for k, test in enumerate([idx[: n // 2], idx[n // 2 :]]):
        train = np.setdiff1d(idx, test)
        p = rng.dirichlet(np.ones(n_classes), size=len(test))
        p[:, :] = 0.5 * p + 0.5 * np.eye(n_classes)[y[test]]  # mostly right
        pred = p.argmax(1)
        pred[0] = (y[test][0] + 1) % n_classes  # one sure mistake per fold
        p[0] = np.eye(n_classes)[pred[0]] * 0.8 + 0.2 / n_classes
        folds.append({
            "repeat": 0, "fold": k, "train_index": train, "test_index": test,
            "y_pred": pred, "proba": p if proba else None,
            "history": dict(HISTORY) if history else None,
        })
    names = ["healthy", "ALL"] if n_classes == 2 else ["a", "b", "c"]
    return CrossValidationReport(y, folds, classes=np.arange(n_classes),
                                 target_names=names, X=X)


def _texts(fig):
    out = []
    for ax in fig.axes:
        out += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        out += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
        out += [t.get_text() for t in ax.texts]
        leg = ax.get_legend()
        if leg is not None:
            out += [t.get_text() for t in leg.get_texts()]
    if fig._suptitle is not None:
        out.append(fig._suptitle.get_text())
    return " | ".join(out)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_confusion_matrix_counts_and_labels():
    report = _report()
    fig = plot_confusion_matrix(report)
    text = _texts(fig)
    assert "healthy" in text and "ALL" in text
    assert "True label" in text and "Predicted label" in text
    values = sorted(int(t.get_text()) for t in fig.axes[0].texts)
    assert sorted(report.confusion_matrix.ravel().tolist()) == values
    fig = plot_confusion_matrix(report, normalize="true", colorbar=False)
    assert all("." in t.get_text() for t in fig.axes[0].texts)
    with pytest.raises(ValueError, match="normalize"):
        plot_confusion_matrix(report, normalize="rows")


def test_roc_binary_folds_mean_and_ax():
    report = _report()
    fig, ax = plt.subplots()
    out = plot_roc_curve(report, ax=ax, show_pooled=True)
    assert out is fig
    text = _texts(fig)
    assert "Fold 1 (AUC =" in text and "Fold 2 (AUC =" in text
    assert "Mean ROC (AUC =" in text and "± 1 std. dev." in text
    assert "Pooled out-of-fold" in text
    assert "positive class: ALL" in text
    assert "1 - specificity" in text and "sensitivity" in text


def test_roc_multiclass_one_vs_rest():
    fig = plot_roc_curve(_report(n_classes=3))
    text = _texts(fig)
    for name in "abc":
        assert f"{name} vs rest (AUC =" in text


def test_roc_needs_scores():
    with pytest.raises(NothingToPlotError, match="no ROC"):
        plot_roc_curve(_report(proba=False))


def test_learning_curves():
    fig = plot_learning_curves(_report())
    assert len(fig.axes) == 2
    text = _texts(fig)
    assert "Loss per epoch" in text and "Accuracy per epoch" in text
    assert "train (mean of 2 folds)" in text
    assert "validation split (mean of 2 folds)" in text
    assert "held-out fold" in text and "after fit (predict)" in text
    # Mean of identical fold histories is the history itself.
    line = next(ln for ln in fig.axes[0].lines if ln.get_linewidth() > 2)
    np.testing.assert_allclose(line.get_ydata(), HISTORY["loss"])
    with pytest.raises(NothingToPlotError, match="No training history"):
        plot_learning_curves(_report(history=False))
    fig, axes = plt.subplots(1, 1)
    plot_learning_curves(_report(), metrics=["loss"], axes=[axes])
    with pytest.raises(ValueError, match="Need 2 axes"):
        plot_learning_curves(_report(), axes=[axes])


def test_misclassified_arrays_sorted_by_confidence():
    X = np.random.RandomState(0).randint(0, 255, size=(8, 6, 6, 3)).astype(np.uint8)
    report = _report(X=X)
    mistakes = report.misclassified()
    assert len(mistakes) == 2
    assert mistakes[0]["proba"] >= mistakes[1]["proba"]
    fig = plot_misclassified(report)
    text = _texts(fig)
    assert "true: " in text and "pred: " in text
    assert f"({mistakes[0]['proba']:.2f})" in text
    assert "2 of 2 shown" in text and "2 errors in 8 images" in text
    shown = [ax for ax in fig.axes if ax.images]
    assert len(shown) == 2
    first = shown[0].images[0].get_array()
    np.testing.assert_array_equal(first, X[mistakes[0]["index"]])
    fig = plot_misclassified(report, max_images=1)
    assert len([ax for ax in fig.axes if ax.images]) == 1


def test_misclassified_reads_only_shown_files(tmp_path):
    paths = []
    for i in range(8):
        p = tmp_path / f"cell{i}.png"
        Image.fromarray(np.full((5, 5, 3), 20 * i, np.uint8)).save(p)
        paths.append(str(p))
    report = _report(X=paths)
    index = report.misclassified()[0]["index"]
    for i in range(len(paths)):  # delete every file that is not shown first
        if i != index:
            (tmp_path / f"cell{i}.png").unlink()
    fig = plot_misclassified(report, max_images=1)
    assert f"cell{index}.png" in _texts(fig)


def test_misclassified_needs_images():
    with pytest.raises(NothingToPlotError, match="No images"):
        plot_misclassified(_report())
    with pytest.raises(NothingToPlotError, match="feature vectors"):
        plot_misclassified(_report(), X=np.zeros((8, 3)))


def test_save_figures(tmp_path):
    report = _report(history=False)  # no history: that figure is skipped
    written = report.save_figures(tmp_path)
    assert sorted(written) == ["confusion_matrix", "reliability_diagram",
                               "risk_coverage", "roc_curve"]
    for path in written.values():
        with Image.open(path) as im:
            assert im.size[0] > 300
    with pytest.raises(FileExistsError):
        report.save_figures(tmp_path)
