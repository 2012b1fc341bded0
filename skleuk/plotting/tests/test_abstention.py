"""The accuracy-coverage curve of a report."""

import matplotlib
import numpy as np
import pytest
from sklearn.datasets import make_classification
from sklearn.linear_model import LogisticRegression

from skleuk.model_selection import evaluate
from skleuk.plotting import plot_risk_coverage

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def report():
    X, y = make_classification(n_samples=90, random_state=0)
    return evaluate(LogisticRegression(), X, y, cv=3, random_state=0)


def test_risk_coverage_plot(report):
    import matplotlib.pyplot as plt

    fig = plot_risk_coverage(report, coverage=0.8)
    line = fig.axes[0].lines[0]
    x, yv = line.get_data()
    assert x[-1] == 1.0 and np.all((0 <= yv) & (yv <= 1))
    plt.close(fig)
