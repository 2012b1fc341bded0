"""Tiny labelled image batches with a planted, learnable signal (tests only)."""

import numpy as np

# The planted signal below is a position, which flips and rotations destroy:
# tests switch the (default) training-time augmentation off unless they are
# about it. Plain SGD, not the default Adam: tracing Keras's Adam update
# doubles the cost of a tiny fit (about 1.8 s against 0.9 s on 2 cores), and
# tests of plumbing do not need it; tests about Adam, its state or learning
# ask for it (``optimizer="adam"``).
TINY_CNN = {
    "augment": False,
    "optimizer": "sgd",
    "architecture": "light",
    "model__filters": 4,
    "model__dense_units": 8,
    "epochs": 2,
    "batch_size": 16,
}


def make_images(n=48, size=16, n_classes=2, labels=None, random_state=0):
    """Return ``(X uint8 (n, size, size, 3), y)`` with a class-specific bright patch.

    Class ``k`` has a bright square in its own position, plus noise; ``y``
    cycles through the classes (so every class is present and balanced).
    """
    rng = np.random.default_rng(random_state)
    if labels is None:
        labels = np.arange(n_classes)
    labels = np.asarray(labels)
    k = np.arange(n) % n_classes
    rng.shuffle(k)
    X = rng.integers(0, 90, size=(n, size, size, 3)).astype(np.uint8)
    half = size // 2
    corners = [(0, 0), (half, half), (0, half), (half, 0), (half // 2, half // 2)]
    for i, c in enumerate(k):
        r0, c0 = corners[c % len(corners)]
        X[i, r0 : r0 + half, c0 : c0 + half, c % 3] = 230
    return X, labels[k]


def tiny_cnn(**params):
    """:data:`TINY_CNN` updated with ``params`` (keyword arguments of the CNN)."""
    return {**TINY_CNN, **params}
