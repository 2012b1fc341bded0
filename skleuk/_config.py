"""Package-wide configuration of skleuk (modelled on :func:`sklearn.set_config`).

A backend choice that is not an estimator parameter: whether the
preprocessing steps may call OpenCV. Like scikit-learn's configuration, the
settings live in a :class:`threading.local` copy of the global defaults, so
that :func:`config_context` in one thread does not change another thread's
settings.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager

__all__ = ["config_context", "get_config", "set_config"]

_OPENCV_CHOICES = ("auto", True, False)

_global_config = {"opencv": "auto"}
_threadlocal = threading.local()


def _get_threadlocal_config():
    """This thread's configuration (a copy of the global one at first use)."""
    if not hasattr(_threadlocal, "global_config"):
        _threadlocal.global_config = _global_config.copy()
    return _threadlocal.global_config


def _check_opencv(opencv):
    # `True`/`False` only: 1 and 0 compare equal to them but are not choices.
    if not (opencv == "auto" or opencv is True or opencv is False):
        raise ValueError(
            "The 'opencv' option must be 'auto', True or False; got "
            f"{opencv!r}."
        )
    return opencv


def get_config():
    """Return the current skleuk configuration (of this thread).

    Returns
    -------
    config : dict
        Keys are the parameter names of :func:`set_config`; a copy, so
        changing it changes nothing.

    See Also
    --------
    set_config : Change the configuration.
    config_context : Change it temporarily.

    Examples
    --------
    >>> import skleuk
    >>> skleuk.get_config()["opencv"]
    'auto'
    """
    return _get_threadlocal_config().copy()


def set_config(opencv=None):
    """Set the skleuk configuration (of this thread).

    Parameters
    ----------
    opencv : {"auto", True, False}, default=None
        Whether the preprocessing steps may run OpenCV where it computes the
        same result as their numpy code (up to float32 rounding):
        :class:`~skleuk.preprocessing.LaplacianSharpener`,
        :class:`~skleuk.preprocessing.NeighborhoodAverager` and
        :class:`~skleuk.preprocessing.Resizer`, for the settings that OpenCV
        supports (the others run numpy). ``"auto"`` (the default) uses
        OpenCV when ``import cv2`` works; ``True`` requires it (a step then
        raises :class:`ImportError` if OpenCV is not installed); ``False``
        runs numpy and scipy only. OpenCV is an optional dependency: ``pip
        install skleuk[opencv]`` (or ``opencv-python-headless``). None
        leaves the setting unchanged.

    See Also
    --------
    get_config : The current configuration.
    config_context : Change the configuration within a ``with`` block.

    Notes
    -----
    The setting applies to this thread, and to every thread that has not
    read the configuration yet (those take the last :func:`set_config`
    setting of any thread; :func:`config_context` changes this thread
    only). It does not travel to worker processes (joblib's default
    backend, Dask): set it there, or rely on the default.

    Examples
    --------
    >>> import skleuk
    >>> skleuk.set_config(opencv=False)
    >>> skleuk.get_config()["opencv"]
    False
    >>> skleuk.set_config(opencv="auto")
    """
    local_config = _get_threadlocal_config()
    if opencv is not None:
        opencv = _check_opencv(opencv)
        local_config["opencv"] = opencv
        # New threads start from the last setting, as in scikit-learn.
        _global_config["opencv"] = opencv


@contextmanager
def config_context(*, opencv=None):
    """Change the skleuk configuration within a ``with`` block.

    The previous configuration (of this thread) is restored on exit, also
    when the block raises.

    Parameters
    ----------
    opencv : {"auto", True, False}, default=None
        See :func:`set_config`. None leaves the setting unchanged.

    Yields
    ------
    None

    See Also
    --------
    set_config : Change the configuration for good.
    get_config : The current configuration.

    Examples
    --------
    >>> import numpy as np
    >>> import skleuk
    >>> from skleuk.preprocessing import NeighborhoodAverager
    >>> X = np.random.default_rng(0).random((2, 16, 16, 3), dtype=np.float32)
    >>> with skleuk.config_context(opencv=False):  # numpy only
    ...     numpy_out = NeighborhoodAverager(size=3).fit_transform(X)
    >>> out = NeighborhoodAverager(size=3).fit_transform(X)  # OpenCV if installed
    >>> bool(np.abs(out - numpy_out).max() <= 1e-5)
    True
    >>> skleuk.get_config()["opencv"]
    'auto'
    """
    old_config = get_config()
    local_config = _get_threadlocal_config()
    if opencv is not None:
        local_config["opencv"] = _check_opencv(opencv)
    try:
        yield
    finally:
        local_config.clear()
        local_config.update(old_config)
