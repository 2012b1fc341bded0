"""Keras model (de)serialisation for pickling the CNN.

:class:`~skleuk.neural_network.LightweightCNNClassifier` pickles its Keras
network as the bytes of a ``.keras`` file; the versions stored beside them
come from ``skleuk/utils/_persistence.py``.
"""

from __future__ import annotations

import os
import tempfile

__all__ = ["model_from_bytes", "model_to_bytes"]


def model_to_bytes(model):
    """Serialise a Keras model (architecture, weights, optimizer) to bytes.

    Uses Keras's own ``.keras`` zip format through the public
    ``Model.save``.

    Parameters
    ----------
    model : keras.Model
        The model.

    Returns
    -------
    data : bytes
        The content of a ``.keras`` file.
    """
    with tempfile.TemporaryDirectory(prefix="skleuk-") as tmp:
        path = os.path.join(tmp, "model.keras")
        model.save(path)
        with open(path, "rb") as f:
            return f.read()


def model_from_bytes(data):
    """Load a Keras model written by :func:`model_to_bytes`.

    Parameters
    ----------
    data : bytes
        Content of a ``.keras`` file.

    Returns
    -------
    model : keras.Model
        The compiled model, loaded with Keras's ``safe_mode=True``.
    """
    import keras

    from . import _augment  # noqa: F401  (registers layers)

    with tempfile.TemporaryDirectory(prefix="skleuk-") as tmp:
        path = os.path.join(tmp, "model.keras")
        with open(path, "wb") as f:
            f.write(data)
        return keras.saving.load_model(path, compile=True, safe_mode=True)
