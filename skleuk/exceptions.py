"""Exceptions and warnings raised by skleuk.

Like :mod:`sklearn.exceptions`, this module holds every exception and warning
class of the library in one place, with no dependency on the rest of skleuk
(importing it imports neither TensorFlow nor scikit-image). Each class is
also importable from the subpackage that raises it, as before:
:class:`ImageReadError` and :class:`AmbiguousDatasetError` from
:mod:`skleuk.datasets`,
:class:`NothingToPlotError` from :mod:`skleuk.plotting`,
:class:`UntrustedModelError` from :func:`skleuk.load_model` and
:class:`InconsistentVersionWarning` from :mod:`skleuk.neural_network`;
:class:`UnfamiliarImageWarning` from :mod:`skleuk.preprocessing` (issued
by its :class:`~skleuk.preprocessing.FamiliarityCheck`).
"""

__all__ = [
    "AmbiguousDatasetError",
    "ImageReadError",
    "InconsistentVersionWarning",
    "NothingToPlotError",
    "UnfamiliarImageWarning",
    "UntrustedModelError",
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


class UnfamiliarImageWarning(UserWarning):
    """Images unlike those the model was trained on (another laboratory?).

    Issued by :class:`skleuk.preprocessing.FamiliarityCheck` -- a step of
    the pipeline, so by its ``predict``/``predict_proba`` -- when more than
    its ``max_unfamiliar_fraction`` of a batch is further from the training
    images (colour, darkness, texture) than all but 1 % of them. A model is
    often confidently wrong on another laboratory's smears: check a few of
    its calls by eye, and train on pooled sources or fine-tune on local
    images (see the user guide's *Using a model on another laboratory's
    smears*). Silence it with :func:`warnings.filterwarnings` once checked.

    Parameters
    ----------
    share : float
        Share of the batch's images that are unfamiliar.
    n_images : int
        Size of the batch.

    Attributes
    ----------
    share : float
        Share of the batch's images that are unfamiliar.
    n_images : int
        Size of the batch.

    Examples
    --------
    >>> from skleuk.exceptions import UnfamiliarImageWarning
    >>> print(UnfamiliarImageWarning(0.75, 32))  # doctest: +ELLIPSIS
    24 of 32 images (75 %) look unlike the training images...
    """

    def __init__(self, share, n_images):
        self.share = float(share)
        self.n_images = int(n_images)
        super().__init__(share, n_images)

    def __str__(self):
        k = int(round(self.share * self.n_images))
        return (
            f"{k} of {self.n_images} images ({self.share:.0%}) look unlike the "
            "training images (colour, darkness or texture: another laboratory, "
            "stain, camera or magnification?); the model's calls on them may be "
            "confidently wrong. Check some by eye; see the user guide 'Using a "
            "model on another laboratory's smears'."
        ).replace("%)", " %)")


class AmbiguousDatasetError(ValueError):
    """A data folder fits more than one layout, so its kind cannot be guessed.

    Raised by :func:`skleuk.datasets.load_dataset` with ``kind="auto"`` when
    the folder could be read two ways (for example ALL_IDB2 files named
    ``ImXXX_Y`` inside class subfolders), which would give different labels.
    Pass one of ``kinds`` explicitly.

    Parameters
    ----------
    message : str
        What was found, naming the folder and each layout.
    path : str
        The folder.
    kinds : tuple of str
        The kinds that fit.

    Attributes
    ----------
    path : str
        The folder.
    kinds : tuple of str
        The kinds that fit, each a valid ``kind`` of ``load_dataset``.

    Examples
    --------
    >>> from skleuk.exceptions import AmbiguousDatasetError
    >>> exc = AmbiguousDatasetError("two layouts", "data", ("all-idb2", "folder"))
    >>> isinstance(exc, ValueError), exc.kinds
    (True, ('all-idb2', 'folder'))
    """

    def __init__(self, message, path=None, kinds=()):
        super().__init__(message)
        self.path = path
        self.kinds = tuple(kinds)


class UntrustedModelError(ValueError):
    """A model file holds a type skleuk does not load without your trust.

    Raised by :func:`skleuk.load_model` (and ``skleuk predict``/``screen``)
    when the file names a function or class outside the allow-list of
    scikit-learn, NumPy, Keras and skleuk types. Nothing from the file was
    imported or run. Load it with ``trusted=`` (command line:
    ``--trust-model``) only if you trust where it came from.

    Parameters
    ----------
    types : list of str
        ``"module.name"`` of every refused function or class.
    path : str or None, default=None
        The file.

    Attributes
    ----------
    types : list of str
        The refused names.
    path : str or None
        The file.

    Examples
    --------
    >>> from skleuk.exceptions import UntrustedModelError
    >>> exc = UntrustedModelError(["posix.system"], "evil.joblib")
    >>> isinstance(exc, ValueError), exc.types
    (True, ['posix.system'])
    >>> "trusted=['posix.system']" in str(exc)
    True
    """

    def __init__(self, types, path=None):
        self.types = list(types)
        self.path = path
        where = f"model file {path!r}" if path is not None else "the model file"
        super().__init__(
            f"refusing to load {where}: it holds {', '.join(self.types)}, "
            "which skleuk does not load without your trust (only "
            "scikit-learn, NumPy, Keras and skleuk types are loaded by "
            "default); loading it could run code. If you trust the file, "
            f"pass trusted={self.types!r} (or trusted=True; on the command "
            "line: --trust-model)."
        )
