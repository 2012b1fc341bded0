"""Base classes for writing your own skleuk estimators.

Like :mod:`sklearn.base`, this module holds what an extension needs:
:class:`BaseImageTransformer`, the base of every skleuk image transformer.
Subclass it, implement ``_transform`` (and ``_fit`` when the step learns
something), and the step validates its input with
:func:`skleuk.utils.check_images`, works in a
:class:`~sklearn.pipeline.Pipeline`, clones, pickles and passes
:func:`skleuk.utils.estimator_checks.check_image_transformer`. See
:ref:`development` for where a new step goes in skleuk itself.
"""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from .utils._image_ops import apply_by_shape
from .utils.validation import check_images

__all__ = ["BaseImageTransformer"]


class BaseImageTransformer(TransformerMixin, BaseEstimator):
    """Base class for image transformers: subclass it to write your own step.

    A subclass declares its parameters in ``__init__`` (stored unchanged, as
    scikit-learn requires) and in ``_parameter_constraints``, and implements

    * ``_transform(X)``: the work, on a validated ``float32`` batch of shape
      ``(n_images, height, width, 3)`` with values in ``[0, 1]``; it returns
      the transformed batch (``float32``, same number of images);
    * ``_fit(X)``, only when the step learns something from the training
      images (then set ``_stateless = False``; fitted attributes end with
      ``_``).

    Everything else is done here, once for every skleuk step: parameter
    validation, input validation with
    :func:`skleuk.utils.check_images` (``uint8`` or float images, lists of
    images of mixed sizes processed per size group), the fitted check,
    ``fit_transform`` with a single validation pass, and the scikit-learn
    tags that tell :class:`~sklearn.pipeline.Pipeline` and
    :func:`~sklearn.base.clone` what the step accepts. Check a new step with
    :func:`skleuk.utils.estimator_checks.check_image_transformer`, or one
    test per check with
    :func:`skleuk.utils.estimator_checks.parametrize_with_checks`.

    Class attributes a subclass may override:

    ``_stateless`` : bool, default=True
        True when ``fit`` learns nothing; ``transform`` then works without
        ``fit`` (scikit-learn's ``requires_fit=False`` tag).
    ``_allow_ragged`` : bool, default=True
        True when the step accepts a list of images of different sizes
        (processed per size group).
    ``_value_range`` : {"unit", None}, default="unit"
        Passed to :func:`~skleuk.utils.check_images`: ``"unit"``
        refuses float input outside ``[0, 1]``; ``None`` accepts any finite
        values (for a step placed after a standardising one).

    Attributes
    ----------
    is_fitted_ : bool
        Set to True by ``fit``.

    See Also
    --------
    skleuk.utils.estimator_checks.parametrize_with_checks : Test a subclass.

    Examples
    --------
    A step that darkens images by a factor, in a scikit-learn pipeline:

    >>> import numpy as np
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.utils._param_validation import Interval
    >>> from numbers import Real
    >>> from skleuk.base import BaseImageTransformer
    >>> class Darken(BaseImageTransformer):
    ...     _parameter_constraints = {
    ...         "factor": [Interval(Real, 0, 1, closed="both")]}
    ...
    ...     def __init__(self, factor=0.5):
    ...         self.factor = factor
    ...
    ...     def _transform(self, X):
    ...         return X * np.float32(self.factor)
    >>> X = np.full((2, 4, 4, 3), 200, dtype=np.uint8)
    >>> out = make_pipeline(Darken(factor=0.5)).fit_transform(X)
    >>> out.shape, out.dtype, round(float(out.max()), 3)
    ((2, 4, 4, 3), dtype('float32'), 0.392)
    """

    _parameter_constraints: dict = {}
    _stateless = True
    _allow_ragged = True
    _value_range = "unit"

    def _check_images(self, X):
        return check_images(
            X, allow_ragged=self._allow_ragged, value_range=self._value_range
        )

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the transformer on a batch of images.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Training images (``uint8`` or float in ``[0, 1]``).
        y : None
            Ignored; present for API consistency.

        Returns
        -------
        self : object
            The fitted transformer.
        """
        X = self._check_images(X)
        self._fit(X)
        self.is_fitted_ = True
        return self

    def _fit(self, X):
        """Learn from the validated batch (default: nothing)."""

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X, y=None, **fit_params):
        """Fit the transformer, then transform the same images.

        Same result as ``fit(X).transform(X)``, but the images are validated
        (and converted to ``float32``) once, not twice -- what
        :class:`~sklearn.pipeline.Pipeline` calls for every step in ``fit``.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Training images (``uint8`` or float in ``[0, 1]``).
        y : None
            Ignored; present for API consistency.
        **fit_params : dict
            Ignored; accepted for compatibility with
            :meth:`sklearn.base.TransformerMixin.fit_transform`.

        Returns
        -------
        X_out : ndarray of shape (n_images, height_out, width_out, 3)
            Transformed ``float32`` images (a list only when the input mixed
            sizes and this step keeps sizes).
        """
        cls = type(self)
        if cls.fit is not BaseImageTransformer.fit or (
            cls.transform is not BaseImageTransformer.transform
        ):
            # A subclass with its own fit/transform: keep their semantics.
            return super().fit_transform(X, y, **fit_params)
        X = self._check_images(X)
        out = self._fit_transform(X)
        self.is_fitted_ = True
        return out

    def _fit_transform(self, X):
        """Fit on the validated batch and transform it (default: ``_fit``
        then ``_transform``). Override when both share work."""
        self._fit(X)
        return apply_by_shape(self._transform, X)

    def transform(self, X):
        """Transform a batch of images.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``).

        Returns
        -------
        X_out : ndarray of shape (n_images, height_out, width_out, 3)
            Transformed ``float32`` images (a list only when the input mixed
            sizes and this step keeps sizes).
        """
        if not self._stateless:
            check_is_fitted(self)
        else:
            self._validate_params()
        X = self._check_images(X)
        return apply_by_shape(self._transform, X)

    def _transform(self, X):  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = not self._stateless
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        tags.transformer_tags.preserves_dtype = ["float32"]
        return tags
