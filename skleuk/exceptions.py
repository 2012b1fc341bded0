"""Exceptions and warnings raised by skleuk.

Like :mod:`sklearn.exceptions`, this module holds every exception and warning
class of the library in one place, with no dependency on the rest of skleuk
(importing it imports neither TensorFlow nor scikit-image). Each class is
also importable from the subpackage that raises it, as before:
:class:`ImageReadError` from :mod:`skleuk.datasets`,
:class:`NothingToPlotError` from :mod:`skleuk.plotting` and
:class:`InconsistentVersionWarning` from :mod:`skleuk.neural_network`.
"""

__all__ = [
    "ImageReadError",
    "InconsistentVersionWarning",
    "NothingToPlotError",
]


class ImageReadError(OSError, ValueError):
    """An image file could not be read.

    Subclasses both :class:`OSError` and :class:`ValueError`, so
    ``except OSError`` and ``except ValueError`` both catch it. The message
    always names the file; the path is also available as ``filename``.

    Examples
    --------
    >>> from skleuk.datasets import read_image
    >>> from skleuk.exceptions import ImageReadError
    >>> try:
    ...     read_image("no_such_file.png")
    ... except ImageReadError as exc:
    ...     print(exc.filename)
    no_such_file.png
    """

    def __init__(self, message, filename=None):
        super().__init__(message)
        self.filename = filename

    def __str__(self):
        return self.args[0]


class NothingToPlotError(ValueError):
    """The report lacks what a figure needs (scores, history or images).

    Examples
    --------
    >>> from skleuk.exceptions import NothingToPlotError
    >>> issubclass(NothingToPlotError, ValueError)
    True
    """


class InconsistentVersionWarning(UserWarning):
    """Warning raised when a saved estimator is loaded under other versions.

    A pickled :class:`~skleuk.neural_network.LightweightCNNClassifier`
    records the versions of skleuk, Keras, TensorFlow, SciKeras and
    scikit-learn that saved it. When any differs at load time this warning
    is emitted: the model may load but behave differently, or fail. Refit it
    under the current versions, or pin the saving environment's versions.

    Parameters
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    differences : dict
        ``{package: (saved_version, current_version)}`` for each package
        whose version changed.

    Attributes
    ----------
    estimator_name : str
        Class name of the loaded estimator.
    differences : dict
        ``{package: (saved_version, current_version)}``.

    Examples
    --------
    >>> from skleuk.exceptions import InconsistentVersionWarning
    >>> w = InconsistentVersionWarning("LightweightCNNClassifier",
    ...                                {"keras": ("3.0.0", "3.15.1")})
    >>> "keras 3.0.0" in str(w)
    True
    """

    def __init__(self, estimator_name, differences):
        self.estimator_name = estimator_name
        self.differences = dict(differences)

    def __str__(self):
        parts = ", ".join(
            f"{pkg} {saved} (now {now})"
            for pkg, (saved, now) in sorted(self.differences.items())
        )
        return (
            f"This {self.estimator_name} was saved with {parts}. It may give "
            "different results or fail; refit it with the current versions or "
            "load it in an environment with the saving versions."
        )
