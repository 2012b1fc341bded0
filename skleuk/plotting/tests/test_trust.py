"""Reliability diagram, accuracy-coverage curve and saliency overlay."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skleuk.model_selection import evaluate
from skleuk.plotting import (
    NothingToPlotError,
    plot_reliability_diagram,
    plot_risk_coverage,
    plot_saliency,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def report():
    X, y = make_classification(n_samples=90, random_state=0)
    return evaluate(LogisticRegression(), X, y, cv=3, random_state=0)


@pytest.fixture(scope="module")
def multiclass_report():
    X, y = make_classification(n_samples=120, n_classes=3, n_informative=4,
                               random_state=0)
    return evaluate(LogisticRegression(), X, y, cv=3, random_state=0)


def test_reliability_diagram(report, multiclass_report):
    import matplotlib.pyplot as plt

    for rep in (report, multiclass_report):
        fig = plot_reliability_diagram(rep)
        labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
        assert any("ECE" in t for t in labels)
        plt.close(fig)


def test_risk_coverage_plot(report):
    import matplotlib.pyplot as plt

    fig = plot_risk_coverage(report, coverage=0.8)
    line = fig.axes[0].lines[0]
    x, yv = line.get_data()
    assert x[-1] == 1.0 and np.all((0 <= yv) & (yv <= 1))
    plt.close(fig)


def test_nothing_to_plot_without_probabilities():
    X, y = make_classification(n_samples=40, random_state=0)
    rep = evaluate(LinearSVC(), X, y, cv=2, random_state=0)
    with pytest.raises(NothingToPlotError, match="no probabilities"):
        plot_reliability_diagram(rep)
    with pytest.raises(NothingToPlotError, match="no probabilities"):
        plot_risk_coverage(rep)


def test_saliency_overlay_rows():
    import matplotlib.pyplot as plt

    from skleuk import make_pipeline
    from skleuk.datasets import make_blood_smears
    from skleuk.neural_network.tests._data import TINY_CNN

    X, y = make_blood_smears(n_samples=16, image_size=32, random_state=0,
                             return_X_y=True)
    tiny = {f"cnn__{k}": v for k, v in TINY_CNN.items()}
    pipe = make_pipeline(image_size=16, cnn__random_state=0, **tiny).fit(X, y)
    pred = pipe.predict(X)
    fig = plot_saliency(pipe, X, y, n_images=3)
    axes = np.array(fig.axes).reshape(2, -1)
    n_wrong = min(3, int(np.sum(pred != y)))
    n_right = min(3, int(np.sum(pred == y)))
    assert sum(len(ax.images) == 2 for ax in axes[0]) == n_wrong
    assert sum(len(ax.images) == 2 for ax in axes[1]) == n_right
    plt.close(fig)
    fig = plot_saliency(pipe, X, n_images=2)
    assert sum(len(ax.images) == 2 for ax in fig.axes) == 2
    plt.close(fig)
