"""Print the versions of Python, skleuk and its dependencies (for bug reports)."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

__all__ = ["show_versions"]

_DEPENDENCIES = (
    "skleuk",
    "tensorflow",
    "tensorflow-cpu",
    "keras",
    "scikeras",
    "scikit-learn",
    "scikit-image",
    "numpy",
    "scipy",
    "joblib",
    "matplotlib",
    "pillow",
    "tifffile",
)


def _get_deps_info():
    info = {}
    for name in _DEPENDENCIES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = None
    return info


def show_versions(as_dict=False):
    """Print (or return) the versions of Python, the platform and dependencies.

    TensorFlow, Keras, SciKeras and scikit-learn versions interact; paste this
    output into every bug report.

    Parameters
    ----------
    as_dict : bool, default=False
        Return a dict ``{"system": {...}, "dependencies": {...}}`` instead of
        printing.

    Returns
    -------
    dict or None
        The versions when ``as_dict=True``.

    Examples
    --------
    >>> from skleuk import show_versions
    >>> info = show_versions(as_dict=True)
    >>> sorted(info)
    ['dependencies', 'system']
    """
    system = {
        "python": sys.version.replace("\n", " "),
        "executable": sys.executable,
        "machine": platform.platform(),
    }
    deps = _get_deps_info()
    if as_dict:
        return {"system": system, "dependencies": deps}
    print("\nSystem:")
    for k, v in system.items():
        print(f"{k:>12}: {v}")
    print("\nPython dependencies:")
    for k, v in deps.items():
        if v is not None or k != "tensorflow-cpu":
            print(f"{k:>14}: {v}")
    return None
