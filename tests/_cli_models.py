"""Tiny model files of allow-listed types for the command-line tests.

They load without ``--trust-model`` (scikit-learn, NumPy and skleuk types
only) and train in seconds: skleuk's image reader and hand-crafted cell
features with a logistic regression for cells, a
:class:`~skleuk.screening.SmearScreener` over the same features for smears.
"""

import os

import numpy as np
from PIL import Image
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline

import skleuk
from skleuk.datasets import make_blood_smears
from skleuk.feature_extraction import CellFeatureExtractor
from skleuk.preprocessing import Resizer
from skleuk.preprocessing._reader import ImageReader
from skleuk.screening import SmearScreener
from skleuk.screening.tests._data import make_field, make_fields

#: A smear with two blasts and a healthy cell, and one with a healthy cell.
POSITIVE_CELLS = [(25, 30, 1), (70, 64, 1), (30, 100, 0)]
NEGATIVE_CELLS = [(40, 40, 0)]


def save_png(image, path):
    image = np.asarray(image)
    if image.dtype != np.uint8:
        image = np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    Image.fromarray(image).save(path)
    return str(path)


def save_cells(root, names, n=6, size=64, seed=0):
    """``root/<name>/`` with ``n`` synthetic cell images each."""
    data = make_blood_smears(n_samples=n * len(names), image_size=size,
                             random_state=seed)
    for k, name in enumerate(names):
        os.makedirs(root / name, exist_ok=True)
        for i in range(n):
            save_png(data.images[k * n + i], root / name / f"c{i}.png")
    return root


def cell_model(folder, path):
    """A cell model file trained on ``folder/ALL`` and ``folder/healthy``."""
    files = sorted(str(p) for p in folder.glob("*/*.png"))
    y = [0 if os.sep + "ALL" + os.sep in f else 1 for f in files]
    pipe = Pipeline([("reader", ImageReader(size=32)), ("resize", Resizer(size=16)),
                     ("features", CellFeatureExtractor()),
                     ("clf", LogisticRegression())]).fit(np.array(files), y)
    return skleuk.save_model(pipe, path, target_names=["ALL", "healthy"])


def screener(**kwargs):
    params = {"crop_size": 16, "window": 40, "cv": 2, "random_state": 0}
    params.update(kwargs)
    return SmearScreener(make_pipeline(CellFeatureExtractor(),
                                       LogisticRegression(C=10.0)), **params)


def screening_model(path, names=("Benign", "Malignant")):
    """A screening model file: class 0 (names[0]) healthy smears, class 1
    smears with blasts; the aggregation rule chosen by inner CV."""
    X, y = make_fields(n_per_class=6)
    s = screener().fit(X, y)
    return skleuk.save_model(
        s, path, target_names=list(names), input_kind="smears",
        extra={"aggregation": s.aggregation_, "threshold": float(s.threshold_)})


def positive_smear(path):
    return save_png(make_field(POSITIVE_CELLS), path)


def negative_smear(path):
    return save_png(make_field(NEGATIVE_CELLS), path)
