"""ImageReader: the pipeline step that turns file paths into images."""

from __future__ import annotations

import os
from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions

from ..base import BaseImageTransformer
from ..utils._image_io import read_images
from ..utils._image_ops import PAD_MODES as _PAD_MODES
from ..utils.validation import check_images, is_path_sequence

__all__ = ["ImageReader"]


class ImageReader(BaseImageTransformer):
    """Read image files: a pipeline step from file paths to an image batch.

    Put it first in a :class:`~sklearn.pipeline.Pipeline` to train, tune and
    cross-validate on file paths instead of images held in memory: the
    pipeline then receives a 1-D array of paths, which scikit-learn's
    cross-validation and grid search index like any other ``X``, and each
    fold reads only its own files.

    The step is stateless: ``fit`` checks the paths and reads nothing.

    Parameters
    ----------
    size : int or None, default=None
        ``None`` returns images at their own size: a 4-D array when they all
        share one size, else a list of 3-D arrays (every skleuk step accepts
        such a list). An int applies skleuk's size rule: pad each image to a
        square (``pad_mode``), then resize it with anti-aliasing to
        ``size x size`` (see :func:`~skleuk.datasets.read_images`); large
        files are then decoded at reduced resolution (JPEG draft mode, box
        reduction), so memory is bounded by ``size`` rather than by the file.
    pad_mode : {"reflect", "symmetric", "edge", "constant"}, default="reflect"
        Padding used with ``size`` (``"constant"`` pads with white).
    dtype : {"uint8", "float32"}, default="uint8"
        ``"uint8"`` returns the pixels as stored (0-255): a quarter of the
        memory of float32, and every later step converts it with
        :func:`~skleuk.utils.validation.check_images` anyway. ``"float32"``
        returns values in ``[0, 1]``.
    n_jobs : int or None, default=None
        Threads reading files in parallel (``None``: one).

    Attributes
    ----------
    is_fitted_ : bool
        Set by ``fit``; the step learns nothing.

    See Also
    --------
    skleuk.datasets.read_image : How one file is decoded (TIFF, JPEG, PNG,
        BMP; 16-bit, grayscale and RGBA handling).
    skleuk.datasets.load_all_idb : Gives ``filenames`` to read.

    Notes
    -----
    Input must be file paths: a list/tuple or 1-D array (``dtype`` ``str`` or
    ``object``) of ``str`` or :class:`os.PathLike`, or an ``(n, 1)`` column of
    them. A single path string, a directory, or image arrays are rejected
    with a clear error, and a file that cannot be read raises
    :class:`~skleuk.datasets.ImageReadError` naming it. So does an image with
    more pixels than the limit of :func:`~skleuk.datasets.read_image`
    (:data:`~skleuk.datasets.DEFAULT_MAX_IMAGE_PIXELS`, or the environment
    variable ``SKLEUK_MAX_IMAGE_PIXELS``), before it is decoded.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from PIL import Image
    >>> from skleuk.preprocessing._reader import ImageReader
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.png") for i in range(3)]
    >>> for i, p in enumerate(paths):
    ...     Image.fromarray(np.zeros((10 + i, 12, 3), np.uint8)).save(p)
    >>> X = ImageReader(size=8).fit_transform(np.array(paths))
    >>> X.shape, X.dtype
    ((3, 8, 8, 3), dtype('uint8'))
    >>> len(ImageReader().transform(paths))  # mixed sizes: a list
    3
    """

    _parameter_constraints: dict = {
        "size": [Interval(Integral, 1, None, closed="left"), None],
        "pad_mode": [StrOptions(set(_PAD_MODES))],
        "dtype": [StrOptions({"uint8", "float32"})],
        "n_jobs": [Integral, None],
    }

    def __init__(self, size=None, pad_mode="reflect", dtype="uint8", n_jobs=None):
        self.size = size
        self.pad_mode = pad_mode
        self.dtype = dtype
        self.n_jobs = n_jobs

    def _check_images(self, X):
        """Validate ``X`` as a sequence of file paths; return a list of str."""
        if isinstance(X, (str, bytes, os.PathLike)):
            raise TypeError(
                f"ImageReader expects a sequence of file paths, got a single path "
                f"{os.fsdecode(X)!r}; wrap it in a list. (Folders are not read: "
                "list their files, or use skleuk.datasets.load_image_folder.)"
            )
        if hasattr(X, "__array__") and not isinstance(X, np.ndarray):
            X = np.asarray(X)
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.shape[1] == 1:
            X = X[:, 0]
        if isinstance(X, (list, tuple, np.ndarray)) and len(X) == 0:
            raise ValueError("ImageReader got an empty sequence of file paths.")
        if not is_path_sequence(X):
            if isinstance(X, np.ndarray) and X.dtype.kind in "biuf":
                what = f"a numeric array of shape {X.shape}"
            else:
                what = f"an object of type {type(X).__name__}"
                if isinstance(X, (list, tuple)):
                    bad = next(x for x in X if not isinstance(x, (str, os.PathLike)))
                    what += f" containing a {type(bad).__name__}"
            raise TypeError(
                f"ImageReader expects a sequence of image file paths, got {what}. "
                "If the images are already loaded, leave the ImageReader out of "
                "the pipeline."
            )
        return [os.fspath(x) for x in np.asarray(X, dtype=object).tolist()]

    def transform(self, X):
        """Read the image files.

        Parameters
        ----------
        X : sequence of str or path-like, shape (n_images,)
            Paths of image files.

        Returns
        -------
        images : ndarray of shape (n_images, height, width, 3) or list of ndarray
            ``uint8`` (or ``float32`` in ``[0, 1]`` with ``dtype="float32"``)
            images in input order; a list only when ``size`` is None and the
            files differ in size.
        """
        self._validate_params()
        paths = self._check_images(X)
        images = read_images(
            paths, self.size, pad_mode=self.pad_mode, n_jobs=self.n_jobs
        )
        if self.dtype == "float32":
            images = check_images(images, allow_ragged=True)
        return images

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.input_tags.one_d_array = True
        tags.input_tags.string = True
        tags.input_tags.three_d_array = False
        tags.transformer_tags.preserves_dtype = []
        return tags
