"""The reliability diagram of a report."""

import matplotlib
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from skleuk.model_selection import evaluate
from skleuk.plotting import (
    NothingToPlotError,
    plot_reliability_diagram,
    plot_risk_coverage,
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


def test_nothing_to_plot_without_probabilities():
    X, y = make_classification(n_samples=40, random_state=0)
    rep = evaluate(LinearSVC(), X, y, cv=2, random_state=0)
    with pytest.raises(NothingToPlotError, match="no probabilities"):
        plot_reliability_diagram(rep)
    with pytest.raises(NothingToPlotError, match="no probabilities"):
        plot_risk_coverage(rep)
