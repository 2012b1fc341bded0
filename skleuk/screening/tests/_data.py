"""Tiny synthetic smear fields for the screening tests."""

import numpy as np

PINK = (0.9, 0.7, 0.75)
RED_CELL = (0.85, 0.55, 0.6)
# healthy / blast / a third kind (multi-class tests)
NUCLEUS = {0: (0.45, 0.25, 0.6), 1: (0.35, 0.3, 0.85), 2: (0.55, 0.2, 0.7)}
CYTOPLASM = (0.75, 0.75, 0.9)


def make_field(cells, shape=(96, 128), radius=7, red_cells=0, seed=0):
    """A pink field with white cells ``(row, col, kind)``, kind 0 or 1."""
    rng = np.random.default_rng(seed)
    h, w = shape
    rr, cc = np.mgrid[:h, :w]
    im = np.empty((h, w, 3))
    im[:] = PINK
    for r, c in rng.uniform([0, 0], [h, w], size=(red_cells, 2)):
        im[(rr - r) ** 2 + (cc - c) ** 2 <= (0.9 * radius) ** 2] = RED_CELL
    for r, c, kind in cells:  # cytoplasm first: no cell covers a nucleus
        rad = radius * (1.0, 1.3, 1.15)[kind]
        im[(rr - r) ** 2 + (cc - c) ** 2 <= (1.5 * rad) ** 2] = CYTOPLASM
    for r, c, kind in cells:
        rad = radius * (1.0, 1.3, 1.15)[kind]
        im[(rr - r) ** 2 + (cc - c) ** 2 <= rad**2] = NUCLEUS[kind]
    im += rng.normal(0, 0.01, im.shape)
    return np.clip(im, 0, 1).astype(np.float32)


def make_fields(n_per_class=6, shape=(96, 128), seed=0):
    """Smears of class 0 (healthy cells only) and 1 (two of three blasts)."""
    rng = np.random.default_rng(seed)
    X, y = [], []
    spots = [(25, 30), (70, 64), (30, 100)]
    for label in (0, 1):
        for _ in range(n_per_class):
            kinds = [0, 0, 0] if label == 0 else [1, 1, 0]
            jitter = rng.integers(-4, 5, size=(3, 2))
            cells = [
                (r + dr, c + dc, k)
                for (r, c), (dr, dc), k in zip(spots, jitter, kinds, strict=True)
            ]
            X.append(make_field(cells, shape, seed=int(rng.integers(1 << 30))))
            y.append(label)
    return X, np.array(y)


def flatten(X):
    """Crops to rows (a picklable step of the cheap cell model)."""
    return np.asarray(X).reshape(len(X), -1)


def cheap_cell_model():
    """A fast sklearn cell classifier on tiny crops, for tests."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import FunctionTransformer

    return make_pipeline(FunctionTransformer(flatten), LogisticRegression(C=10.0))
