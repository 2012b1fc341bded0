"""The image estimator checks pass on good transformers and catch bad ones."""

import pickle
from numbers import Real

import numpy as np
import pytest
from sklearn.utils._param_validation import Interval

from skleuk.base import BaseImageTransformer
from skleuk.utils import estimator_checks as ec
from skleuk.utils.estimator_checks import (
    _yield_image_transformer_checks,
    check_image_transformer,
)


class _Gain(BaseImageTransformer):
    """A correct stateless transformer: multiplies by a factor, clips."""

    _parameter_constraints: dict = {"factor": [Interval(Real, 0, None, closed="left")]}

    def __init__(self, factor=0.5):
        self.factor = factor

    def _transform(self, X):
        return np.clip(X * np.float32(self.factor), 0, 1)


class _MeanShift(BaseImageTransformer):
    """A correct stateful transformer: subtracts the training mean colour."""

    _parameter_constraints: dict = {"factor": [Interval(Real, 0, None, closed="left")]}
    _stateless = False

    def __init__(self, factor=1.0):
        self.factor = factor

    def _fit(self, X):
        self.mean_ = np.mean([x.mean(axis=(0, 1)) for x in X], axis=0)

    def _transform(self, X):
        out = X - np.float32(self.factor) * self.mean_.astype(np.float32) + 0.5
        return np.clip(out, 0, 1)


@pytest.mark.parametrize("estimator", [_Gain(), _MeanShift()])
def test_check_image_transformer_passes_on_correct_transformers(estimator):
    check_image_transformer(estimator)
    check_image_transformer(estimator, image_size=(9, 13), n_images=3,
                            random_state=3)


def test_yield_checks_are_named_partials():
    checks = list(_yield_image_transformer_checks(_Gain()))
    names = [c.func.__name__ for c in checks]
    assert len(names) == len(set(names)) == len(ec._CHECKS)
    assert "check_batch_independence" in names
    assert all(c.keywords["image_size"] == 16 for c in checks)


def test_check_image_transformer_needs_two_images():
    with pytest.raises(ValueError, match="n_images"):
        check_image_transformer(_Gain(), n_images=1)


def test_checks_do_not_modify_the_estimator():
    est = _MeanShift(factor=0.7)
    check_image_transformer(est)
    assert est.get_params() == {"factor": 0.7}
    assert not hasattr(est, "mean_")


# ------------------------------------------------------ broken transformers


class _SetsAttributeInInit(_Gain):
    def __init__(self, factor=0.5):
        self.factor = factor
        self.cache = {}


class _CopiesParamInInit(_Gain):
    def __init__(self, factor=(0.5,)):
        self.factor = list(factor)

    _parameter_constraints: dict = {"factor": [list, tuple]}

    def _transform(self, X):
        return np.clip(X * np.float32(self.factor[0]), 0, 1)


class _MissingConstraint(_Gain):
    _parameter_constraints: dict = {}


class _FitReturnsNone(_Gain):
    def fit(self, X, y=None):
        super().fit(X, y)


class _ChangesParamInFit(_Gain):
    def _fit(self, X):
        self.factor = float(self.factor) * 2


class _NoFittedCheck(_MeanShift):
    def transform(self, X):
        X = self._check_images(X)
        return self._transform(X) if hasattr(self, "mean_") else X.copy()


class _ReturnsFloat64(_Gain):
    def _transform(self, X):
        return super()._transform(X).astype(np.float64)


class _OutOfRange(_Gain):
    def _transform(self, X):
        return X * np.float32(2)


class _BatchLeak(_Gain):
    def _transform(self, X):
        return np.clip(X - X.mean(axis=0) + 0.5, 0, 1)


class _RefitAccumulates(_MeanShift):
    def _fit(self, X):
        previous = getattr(self, "mean_", 0.0)
        self.mean_ = previous + np.mean([x.mean(axis=(0, 1)) for x in X], axis=0)


class _Random(_Gain):
    def _transform(self, X):
        noise = np.random.default_rng().random(X.shape, dtype=np.float32)
        return np.clip(X + 0.01 * noise, 0, 1)


class _InPlace(_Gain):
    def _transform(self, X):
        X *= np.float32(self.factor)
        return X


class _ReturnsInput(_Gain):
    def _transform(self, X):
        return X


class _Unpicklable(_MeanShift):
    def _fit(self, X):
        super()._fit(X)
        self.hook_ = lambda x: x


class _AcceptsAnything(_Gain):
    def _check_images(self, X):
        return np.asarray(X, dtype=np.float32)


class _ChangesStateInTransform(_MeanShift):
    def _transform(self, X):
        self.mean_ = self.mean_ * 1.01
        return super()._transform(X)


class _WrongTags(_Gain):
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = True
        return tags


class _NoRaggedSupport(_Gain):
    """Claims to accept mixed sizes but pads everything to the first one."""

    def transform(self, X):
        out = super().transform(X)
        if isinstance(out, list):
            h, w = out[0].shape[:2]
            return np.stack([np.resize(o, (h, w, 3)) for o in out])
        return out


@pytest.mark.parametrize(
    "estimator, check",
    [
        (_SetsAttributeInInit(), ec.check_no_attributes_set_in_init),
        (_CopiesParamInInit(), ec.check_init_stores_params_unchanged),
        (_MissingConstraint(), ec.check_parameter_constraints_cover_init),
        (_MissingConstraint(), ec.check_invalid_params_raise_on_fit),
        (_FitReturnsNone(), ec.check_fit_returns_self),
        (_ChangesParamInFit(), ec.check_params_unchanged_by_fit),
        (_NoFittedCheck(), ec.check_not_fitted),
        (_ReturnsFloat64(), ec.check_transform_output),
        (_OutOfRange(), ec.check_transform_output),
        (_BatchLeak(), ec.check_batch_independence),
        (_RefitAccumulates(), ec.check_fit_idempotent),
        (_Random(), ec.check_fit_deterministic),
        (_Random(), ec.check_pickle),
        (_InPlace(), ec.check_input_not_modified),
        (_InPlace(), ec.check_readonly_input),
        (_ReturnsInput(), ec.check_input_not_modified),
        (_AcceptsAnything(), ec.check_rejects_bad_input),
        (_ChangesStateInTransform(), ec.check_transform_does_not_change_state),
        (_WrongTags(), ec.check_tags),
        (_NoRaggedSupport(), ec.check_ragged_input),
    ],
    ids=lambda v: v.__name__ if callable(v) and not hasattr(v, "fit")
    else type(v).__name__.strip("_"),
)
def test_check_fails_on_broken_transformer(estimator, check):
    with pytest.raises((AssertionError, ValueError)):
        check(estimator)
    # ...and check_image_transformer as a whole fails too.
    with pytest.raises(Exception):  # noqa: B017 - any failure will do
        check_image_transformer(estimator)


def test_check_pickle_catches_unpicklable():
    with pytest.raises((pickle.PicklingError, AttributeError, TypeError)):
        ec.check_pickle(_Unpicklable())


def test_values_equal_handles_arrays_and_dicts():
    a = {"mean": np.array([1.0, 2.0]), "std": [1, 2]}
    b = {"mean": np.array([1.0, 2.0]), "std": [1, 2]}
    assert ec._values_equal(a, b)
    b["mean"] = np.array([1.0, 3.0])
    assert not ec._values_equal(a, b)
    assert not ec._values_equal(np.zeros(2), np.zeros(3))
    assert ec._values_equal(None, None)


@ec.parametrize_with_checks([_Gain(), _MeanShift(factor=0.5)], image_size=(9, 11))
def test_parametrize_with_checks_on_correct_transformers(estimator, check):
    check(estimator)


def test_parametrize_with_checks_mark():
    mark = ec.parametrize_with_checks([_Gain(), _MeanShift()], n_images=3)
    assert mark.name == "parametrize"
    argnames, cases = mark.args
    assert argnames == "estimator, check"
    assert len(cases) == 2 * len(ec._CHECKS)
    assert all(c.keywords["n_images"] == 3 for _, c in cases)
    ids = mark.kwargs["ids"]
    assert "_Gain()-check_batch_independence" in ids
    assert len(set(ids)) == len(ids)


def test_parametrize_with_checks_refuses_classes_and_tiny_batches():
    with pytest.raises(TypeError, match=r"instance of _Gain.*\[_Gain\(\)\]"):
        ec.parametrize_with_checks([_Gain])
    with pytest.raises(ValueError, match="n_images must be at least 2"):
        ec.parametrize_with_checks([_Gain()], n_images=1)
