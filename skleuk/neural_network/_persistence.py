"""Keras model (de)serialisation for pickling the CNN.

:class:`~skleuk.neural_network.LightweightCNNClassifier` pickles its Keras
network as the bytes of a ``.keras`` file; the versions stored beside them
come from ``skleuk/utils/_persistence.py``.
"""

from __future__ import annotations

import os
import tempfile

from ..utils._persistence import check_saved_versions, current_versions

__all__ = [
    "KerasModelBytes",
    "model_from_bytes",
    "model_to_bytes",
    "pack_state",
    "unpack_state",
]


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


class KerasModelBytes:
    """Pickle payload: a Keras model as ``.keras`` file bytes."""

    __slots__ = ("data",)

    def __init__(self, data):
        self.data = data

    def __getstate__(self):
        return {"data": self.data}

    def __setstate__(self, state):
        self.data = state["data"]


def pack_state(state, transient=()):
    """The pickled state of an estimator: the network as bytes, plus versions.

    Parameters
    ----------
    state : dict
        The estimator's ``__dict__`` (not changed).
    transient : iterable of str, default=()
        Attributes left out (rebuilt after loading).

    Returns
    -------
    state : dict
        A copy with ``model_`` as :class:`KerasModelBytes` and the versions
        of the packages under ``"_skleuk_versions"``.
    """
    state = {k: v for k, v in state.items() if k not in set(transient)}
    model = state.get("model_")
    if model is not None:
        state["model_"] = KerasModelBytes(model_to_bytes(model))
    state["_skleuk_versions"] = current_versions()
    return state


def unpack_state(state, estimator_name):
    """Inverse of :func:`pack_state`: check the versions, load the network.

    Warns with :class:`~skleuk.exceptions.InconsistentVersionWarning` when the
    versions differ; raises RuntimeError naming the saving versions when
    the network cannot be loaded.
    """
    state = dict(state)
    versions = state.pop("_skleuk_versions", None)
    check_saved_versions(versions, estimator_name)
    model = state.get("model_")
    if isinstance(model, KerasModelBytes):
        try:
            state["model_"] = model_from_bytes(model.data)
        except Exception as exc:
            saved = versions or {}
            raise RuntimeError(
                f"Could not load the Keras network of this {estimator_name} "
                f"(saved with keras {saved.get('keras', 'unknown')}, tensorflow "
                f"{saved.get('tensorflow', 'unknown')}): {exc}"
            ) from exc
    return state
