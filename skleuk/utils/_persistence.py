"""Persistence helpers: the version records stored with saved estimators.

Pickles (``pickle``, ``joblib``) of skleuk estimators store the Keras network
as bytes in Keras's own ``.keras`` format (see
``skleuk/neural_network/_persistence.py``), together with the versions of
skleuk, Keras, TensorFlow, SciKeras and scikit-learn that wrote them. Loading
under different versions emits an
:class:`~skleuk.neural_network.InconsistentVersionWarning`.

.. warning::
   Loading a pickle runs arbitrary code: only load files you trust. To share
   a trained network, prefer
   :meth:`~skleuk.neural_network.LightweightCNNClassifier.export_keras`, which
   writes only the Keras ``.keras`` file.
"""

from __future__ import annotations

import warnings
from importlib import metadata

from ..exceptions import InconsistentVersionWarning

__all__ = [
    "InconsistentVersionWarning",
    "check_saved_versions",
    "current_versions",
]

_PACKAGES = {
    "skleuk": "skleuk",
    "keras": "keras",
    "tensorflow": "tensorflow",
    "scikeras": "scikeras",
    "scikit-learn": "scikit-learn",
}


def _version(dist):
    if dist == "skleuk":
        from .._version import __version__

        return __version__
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "not installed"


def current_versions():
    """Return the versions of the packages a saved model depends on.

    Returns
    -------
    versions : dict
        ``{package: version}`` for skleuk, keras, tensorflow, scikeras and
        scikit-learn.

    Examples
    --------
    >>> from skleuk.utils._persistence import current_versions
    >>> sorted(current_versions())
    ['keras', 'scikeras', 'scikit-learn', 'skleuk', 'tensorflow']
    """
    return {name: _version(dist) for name, dist in _PACKAGES.items()}


def check_saved_versions(saved, estimator_name):
    """Warn when ``saved`` versions differ from the current ones.

    Parameters
    ----------
    saved : dict or None
        Versions recorded at save time (None: unknown, e.g. a pickle written
        before versions were recorded).
    estimator_name : str
        Used in the warning message.

    Returns
    -------
    differences : dict
        ``{package: (saved, current)}``; empty when all agree.
    """
    now = current_versions()
    if saved is None:
        differences = {"skleuk": ("unknown", now["skleuk"])}
    else:
        differences = {
            pkg: (saved.get(pkg, "unknown"), ver)
            for pkg, ver in now.items()
            if saved.get(pkg, "unknown") != ver
        }
    if differences:
        warnings.warn(
            InconsistentVersionWarning(estimator_name, differences), stacklevel=3
        )
    return differences
