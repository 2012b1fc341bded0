"""Grad-CAM saliency overlays of a fitted pipeline."""

import matplotlib
import numpy as np

from skleuk.plotting import plot_saliency

matplotlib.use("Agg")


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
