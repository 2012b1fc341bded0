"""Base class shared by every skleuk image transformer."""

from __future__ import annotations

from sklearn.base import BaseEstimator, TransformerMixin, _fit_context
from sklearn.utils.validation import check_is_fitted

from ..utils._image_ops import apply_by_shape, stack_if_uniform
from ..utils.validation import check_images

__all__ = ["BaseImageTransformer", "apply_by_shape", "stack_if_uniform"]


class BaseImageTransformer(TransformerMixin, BaseEstimator):
    """Base class for transformers of image batches ``(n, h, w, 3)``.

    Subclasses implement :meth:`_transform` on a validated float32 4-D batch
    and, when they learn something, :meth:`_fit` (and set
    ``_stateless = False``). Input validation, parameter validation,
    the fitted check and mixed-size handling live here, once.

    Class attributes a subclass may override:

    ``_stateless`` : bool
        True when ``fit`` learns nothing; ``transform`` then works without
        ``fit`` (scikit-learn's ``requires_fit=False`` tag).
    ``_allow_ragged`` : bool
        True when the step accepts a list of images of different sizes
        (processed per size group).
    ``_value_range`` : {"unit", None}
        Passed to :func:`~skleuk.utils.validation.check_images`.
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
        self._fit(X)
        self.is_fitted_ = True
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
