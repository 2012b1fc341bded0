"""Estimator checks for image transformers.

scikit-learn's :func:`~sklearn.utils.estimator_checks.check_estimator` feeds
estimators 2-D tabular data, which image steps rightly reject. This module
runs the image equivalent of those checks -- on batches of RGB images
``(n_images, height, width, 3)`` -- once for every skleuk transformer, the
way imbalanced-learn ships its own checks for samplers.

Use :func:`check_image_transformer` to run all of them in one call, or
:func:`parametrize_with_checks` to get one test per check and estimator
(like :func:`sklearn.utils.estimator_checks.parametrize_with_checks`)::

    from skleuk.utils.estimator_checks import parametrize_with_checks

    @parametrize_with_checks([MyTransformer(), MyTransformer(strength=2)])
    def test_my_transformer(estimator, check):
        check(estimator)

The transformer is typically a subclass of
:class:`skleuk.base.BaseImageTransformer`, which does most of what the
checks ask for. The check functions are importable from this module by
name (``check_clone``, ``check_batch_independence``...).

Every check takes the estimator as its only positional argument, never
modifies it (it works on clones), and raises :class:`AssertionError` (or the
offending exception) on failure. Outputs must be ``float32`` in ``[0, 1]``,
except for a final standardising step, which says so with a true
``_unbounded_output`` attribute (see
:class:`~skleuk.preprocessing.ImageScaler`).

scikit-learn checks and their image equivalents here:

=========================================== ====================================
scikit-learn check                          here
=========================================== ====================================
check_no_attributes_set_in_init             check_no_attributes_set_in_init
check_parameters_default_constructible      check_init_stores_params_unchanged
check_get_params_invariance                 check_get_params_invariance
check_set_params                            check_set_params
check_estimator_cloneable, clone tests      check_clone
check_param_validation                      check_parameter_constraints_cover_init,
                                            check_invalid_params_raise_on_fit
check_estimators_overwrite_params,          check_params_unchanged_by_fit
check_dont_overwrite_parameters
check_estimators_unfitted,                  check_not_fitted
check_transformers_unfitted_stateless
check_transformer_general,                  check_fit_transform_equivalence
check_fit_check_is_fitted
check_fit_idempotent                        check_fit_idempotent
(fit determinism)                           check_fit_deterministic
check_methods_subset_invariance,            check_batch_independence
check_methods_sample_order_invariance
check_dict_unchanged                        check_transform_does_not_change_state
(input not modified)                        check_input_not_modified
check_readonly_memmap_input                 check_readonly_input
check_estimators_pickle                     check_pickle
check_estimators_nan_inf,                   check_rejects_bad_input
check_fit2d_predict1d, check_fit1d
check_estimators_empty_data                 check_rejects_bad_input
check_estimators_dtypes,                    check_accepts_dtypes,
check_transformer_preserve_dtypes           check_transform_output
check_transformer_data_not_an_array         check_accepts_dtypes (lists),
                                            check_ragged_input
check_fit2d_1sample                         check_single_image
check_requires_y_none                       check_fit_returns_self (y=None, y)
check_pipeline_consistency                  check_in_pipeline
check_estimator_tags_renamed, tags tests    check_tags
check_estimator_repr                        check_repr
=========================================== ====================================

Not applicable to image transformers, with the reason:

* ``check_n_features_in``, ``check_n_features_in_after_fitting``,
  ``check_fit2d_predict1d`` as written: images have no feature count; a step
  accepts any height/width, and the channel count is fixed to RGB by
  :func:`~skleuk.utils.validation.check_images`.
* ``check_get_feature_names_out``, ``check_set_output_transform``,
  ``check_global_output_transform_pandas``/``polars``: the output is a
  batch of images, not named feature columns or a dataframe.
* ``check_estimator_sparse_*``, ``check_f_contiguous_array_estimator``,
  ``check_fit_non_negative``, ``check_positive_only_tag_during_fit``:
  images are dense; their value range is checked by ``check_images``.
* ``check_sample_weight*``, ``check_supervised_y_*``,
  ``check_classifiers_*``, ``check_regressors_*``, ``check_clustering*``,
  ``check_transformer_n_iter``, ``check_decision_proba_consistency``: no
  sample weights, targets or iterations in these transformers (``y`` is
  ignored).
* ``check_estimators_partial_fit_n_features``: no ``partial_fit``.
* ``check_n_features_in``-style dtype object checks: object and string
  arrays are covered by ``check_rejects_bad_input``.
"""

from __future__ import annotations

from functools import partial

from ._transformer_checks import (  # noqa: F401 (importable from here)
    _values_equal,
    check_accepts_dtypes,
    check_batch_independence,
    check_clone,
    check_fit_deterministic,
    check_fit_idempotent,
    check_fit_returns_self,
    check_fit_transform_equivalence,
    check_get_params_invariance,
    check_in_pipeline,
    check_init_stores_params_unchanged,
    check_input_not_modified,
    check_invalid_params_raise_on_fit,
    check_no_attributes_set_in_init,
    check_not_fitted,
    check_parameter_constraints_cover_init,
    check_params_unchanged_by_fit,
    check_pickle,
    check_ragged_input,
    check_readonly_input,
    check_rejects_bad_input,
    check_repr,
    check_set_params,
    check_single_image,
    check_tags,
    check_transform_does_not_change_state,
    check_transform_output,
)

__all__ = ["check_image_transformer", "parametrize_with_checks"]

_CHECKS = (
    check_no_attributes_set_in_init,
    check_init_stores_params_unchanged,
    check_get_params_invariance,
    check_set_params,
    check_clone,
    check_parameter_constraints_cover_init,
    check_invalid_params_raise_on_fit,
    check_fit_returns_self,
    check_params_unchanged_by_fit,
    check_not_fitted,
    check_transform_output,
    check_fit_transform_equivalence,
    check_fit_idempotent,
    check_fit_deterministic,
    check_batch_independence,
    check_transform_does_not_change_state,
    check_input_not_modified,
    check_readonly_input,
    check_pickle,
    check_rejects_bad_input,
    check_accepts_dtypes,
    check_single_image,
    check_ragged_input,
    check_in_pipeline,
    check_tags,
    check_repr,
)


def _yield_image_transformer_checks(
    estimator, *, image_size=16, n_images=4, random_state=0
):
    """Yield every image-transformer check, ready to call on ``estimator``.

    Parameters
    ----------
    estimator : estimator instance
        The transformer the checks will be run on (used to choose the
        checks; it is not modified).
    image_size : int or (int, int), default=16
        Height and width of the test images.
    n_images : int, default=4
        Images per test batch (at least 2).
    random_state : int, default=0
        Seed of the test images.

    Yields
    ------
    check : functools.partial
        ``check(estimator)`` runs one check; ``check.func.__name__`` names
        it.
    """
    for check in _CHECKS:
        yield partial(
            check, image_size=image_size, n_images=n_images, random_state=random_state
        )


def check_image_transformer(estimator, *, image_size=16, n_images=4, random_state=0):
    """Check that an image transformer follows the skleuk/scikit-learn API.

    Runs the image equivalents of scikit-learn's estimator checks (see the
    module documentation for the list) on small random batches of RGB
    images. The estimator is not modified: every check works on clones.

    Parameters
    ----------
    estimator : estimator instance
        An (unfitted) image transformer, e.g. a
        :class:`~skleuk.base.BaseImageTransformer` subclass.
    image_size : int or (int, int), default=16
        Height and width of the test images.
    n_images : int, default=4
        Images per test batch (at least 2).
    random_state : int, default=0
        Seed of the test images.

    Raises
    ------
    AssertionError
        When a check fails; the message names what went wrong.

    Examples
    --------
    >>> from skleuk.preprocessing import Resizer
    >>> from skleuk.utils.estimator_checks import check_image_transformer
    >>> check_image_transformer(Resizer(size=8))
    """
    if n_images < 2:
        raise ValueError(f"n_images must be at least 2, got {n_images}.")
    for check in _yield_image_transformer_checks(
        estimator, image_size=image_size, n_images=n_images, random_state=random_state
    ):
        check(estimator)


def _check_id(estimator, check):
    """``Estimator(params)-check_name``, on one line."""
    return f"{' '.join(repr(estimator).split())}-{check.func.__name__}"


def parametrize_with_checks(estimators, *, image_size=16, n_images=4, random_state=0):
    """Pytest decorator: one test per image-transformer check and estimator.

    The image counterpart of
    :func:`sklearn.utils.estimator_checks.parametrize_with_checks`: it
    parametrises the decorated test with ``estimator`` and ``check``, for
    every estimator and every check that :func:`check_image_transformer`
    runs, so each failing check is reported on its own with its name in
    the test id. The test body is ``check(estimator)``.

    Parameters
    ----------
    estimators : list of estimator instances
        The (unfitted) image transformers to check; they are not modified.
    image_size : int or (int, int), default=16
        Height and width of the test images.
    n_images : int, default=4
        Images per test batch (at least 2).
    random_state : int, default=0
        Seed of the test images.

    Returns
    -------
    decorator : pytest mark
        ``pytest.mark.parametrize("estimator, check", ...)``; test ids read
        ``Estimator(params)-check_name``.

    Raises
    ------
    TypeError
        If ``estimators`` holds a class instead of an instance.

    See Also
    --------
    check_image_transformer : Run every check in one call.
    skleuk.base.BaseImageTransformer : The base class of image transformers.

    Examples
    --------
    >>> from skleuk.preprocessing import Resizer
    >>> from skleuk.utils.estimator_checks import parametrize_with_checks
    >>> @parametrize_with_checks([Resizer(size=8)])
    ... def test_resizer(estimator, check):
    ...     check(estimator)
    """
    import pytest

    if n_images < 2:
        raise ValueError(f"n_images must be at least 2, got {n_images}.")
    estimators = list(estimators)
    for est in estimators:
        if isinstance(est, type):
            raise TypeError(
                f"Pass an instance of {est.__name__}, not the class: "
                f"parametrize_with_checks([{est.__name__}()])."
            )
    cases = [
        (est, check)
        for est in estimators
        for check in _yield_image_transformer_checks(
            est, image_size=image_size, n_images=n_images, random_state=random_state
        )
    ]
    return pytest.mark.parametrize(
        "estimator, check", cases, ids=[_check_id(e, c) for e, c in cases]
    )
