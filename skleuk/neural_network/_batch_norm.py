"""Precise BatchNorm: set the moving statistics to exact training values."""

from __future__ import annotations

import keras
import numpy as np

__all__ = ["recalibrate_batch_norm"]


def _channel_moments(sub, X, axis, step):
    """Per-channel mean and variance of ``sub(X)`` in inference mode."""
    n = 0
    total = total_sq = None
    for start in range(0, X.shape[0], step):
        a = np.asarray(sub(X[start : start + step], training=False))
        a = a.astype(np.float64)
        channel = axis % a.ndim
        axes = tuple(i for i in range(a.ndim) if i != channel)
        if total is None:
            total = np.zeros(a.shape[channel])
            total_sq = np.zeros(a.shape[channel])
        total += a.sum(axis=axes)
        total_sq += np.square(a).sum(axis=axes)
        n += int(np.prod([a.shape[i] for i in axes]))
    mean = total / n
    return mean, np.maximum(total_sq / n - np.square(mean), 0.0)


def recalibrate_batch_norm(model, X, batch_size=None):
    """Set every BatchNormalization layer's statistics to their exact values.

    The moving mean and variance of each layer become the statistics of its
    inputs over ``X``, computed in inference mode with the current weights,
    layer after layer (later layers see recalibrated earlier ones).

    Parameters
    ----------
    model : keras.Model
        A functional model; changed in place.
    X : ndarray of shape (n_images, height, width, 3)
        The training images, as the model takes them.
    batch_size : int, default=None
        The fit's batch size; the forward passes use at least 256.
    """
    step = max(batch_size or 32, 256)
    for layer in model.layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            continue
        sub = keras.Model(model.inputs[0], layer.input)
        mean, var = _channel_moments(sub, X, layer.axis, step)
        layer.moving_mean.assign(mean.astype(layer.moving_mean.dtype))
        layer.moving_variance.assign(var.astype(layer.moving_variance.dtype))
