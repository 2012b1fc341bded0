"""The image-transformer checks themselves; :mod:`skleuk.utils.estimator_checks`
documents, lists and runs them."""

from __future__ import annotations

import copy
import inspect
import pickle

import numpy as np
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils._param_validation import InvalidParameterError

__all__ = []

# Outputs of a transform computed in different batch layouts may differ by
# float32 rounding (e.g. BLAS blocking), never by more.
_ATOL = 1e-5


class _InvalidParam:
    """A value no parameter constraint accepts."""

    def __repr__(self):
        return "<invalid>"


def _hw(image_size):
    if np.isscalar(image_size):
        return int(image_size), int(image_size)
    h, w = image_size
    return int(h), int(w)


def _make_images(n_images, image_size, random_state=0, dtype=np.uint8):
    """Random RGB images: noise around a per-image colour."""
    rng = np.random.default_rng(random_state)
    h, w = _hw(image_size)
    base = rng.integers(40, 216, size=(n_images, 1, 1, 3))
    noise = rng.integers(-40, 40, size=(n_images, h, w, 3))
    X = np.clip(base + noise, 0, 255).astype(np.uint8)
    if dtype == np.uint8:
        return X
    return (X / 255.0).astype(dtype)


def _init_params(estimator):
    sig = inspect.signature(type(estimator).__init__)
    return [
        p.name
        for p in sig.parameters.values()
        if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
    ]


def _values_equal(a, b):
    """Equality for parameter values (arrays and dicts of arrays included)."""
    if a is b:
        return True
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_values_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        try:  # NaN equals NaN (a fitted attribute may mark "none" with NaN)
            return np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")
        except (TypeError, ValueError):
            return False
    if hasattr(a, "get_params") and hasattr(b, "get_params"):
        return type(a) is type(b) and _params_equal(a.get_params(), b.get_params())
    try:
        return bool(a == b)
    except (TypeError, ValueError):
        return False


def _params_equal(p1, p2):
    return p1.keys() == p2.keys() and all(_values_equal(p1[k], p2[k]) for k in p1)


def _fitted_attributes(estimator):
    return sorted(
        k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")
    )


def _is_unbounded(estimator):
    return bool(getattr(estimator, "_unbounded_output", False))


def _requires_fit(estimator):
    return estimator.__sklearn_tags__().requires_fit


def _fit(estimator, X):
    return clone(estimator).fit(X)


def _assert_images(out, n_images, estimator, name="output"):
    assert isinstance(out, np.ndarray), (
        f"{name} of {type(estimator).__name__} should be an ndarray for "
        f"same-size input, got {type(out).__name__}"
    )
    assert out.ndim == 4 and out.shape[0] == n_images and out.shape[-1] == 3, (
        f"{name} should have shape (n_images={n_images}, h, w, 3), got {out.shape}"
    )
    assert out.dtype == np.float32, f"{name} dtype should be float32, got {out.dtype}"
    assert np.all(np.isfinite(out)), f"{name} contains NaN or inf"
    if not _is_unbounded(estimator):
        assert out.min() >= 0.0 and out.max() <= 1.0, (
            f"{name} should be in [0, 1], got [{out.min()}, {out.max()}]"
        )


# ----------------------------------------------------------------- checks


def check_no_attributes_set_in_init(estimator, **kwargs):
    """``__init__`` sets exactly the parameters (plus private attributes)."""
    est = clone(estimator)
    params = set(_init_params(est))
    public = {k for k in vars(est) if not k.startswith("_")}
    extra, missing = public - params, params - set(vars(est))
    assert not extra, f"__init__ sets non-parameter attributes {sorted(extra)}"
    assert not missing, f"__init__ does not store parameters {sorted(missing)}"


def check_init_stores_params_unchanged(estimator, **kwargs):
    """``__init__`` stores each argument as given (same object, no logic)."""
    params = estimator.get_params(deep=False)
    sentinel = {k: copy.deepcopy(v) for k, v in params.items()}
    est = type(estimator)(**sentinel)
    for k, v in sentinel.items():
        assert getattr(est, k) is v, f"__init__ modified or copied parameter {k!r}"


def check_get_params_invariance(estimator, **kwargs):
    """``get_params(deep=False)`` is a subset of ``get_params(deep=True)``."""
    shallow = estimator.get_params(deep=False)
    deep = estimator.get_params(deep=True)
    assert set(shallow) <= set(deep)
    assert all(_values_equal(shallow[k], deep[k]) for k in shallow)


def check_set_params(estimator, **kwargs):
    """``set_params`` with the current values returns self, changes nothing."""
    est = clone(estimator)
    params = est.get_params(deep=False)
    assert est.set_params(**params) is est
    assert _params_equal(est.get_params(deep=False), params)


def check_clone(estimator, image_size=16, n_images=4, random_state=0):
    """``clone`` gives an equal, unfitted estimator, also from a fitted one."""
    est = clone(estimator)
    assert type(est) is type(estimator)
    assert _params_equal(est.get_params(), estimator.get_params())
    X = _make_images(n_images, image_size, random_state)
    fitted = clone(estimator).fit(X)
    cloned = clone(fitted)
    assert _params_equal(cloned.get_params(), estimator.get_params())
    assert not _fitted_attributes(cloned), (
        f"clone of a fitted estimator carries {_fitted_attributes(cloned)}"
    )


def check_parameter_constraints_cover_init(estimator, **kwargs):
    """``_parameter_constraints`` has an entry for each ``__init__`` param."""
    constraints = getattr(estimator, "_parameter_constraints", None)
    assert isinstance(constraints, dict), "missing _parameter_constraints dict"
    params = set(_init_params(estimator))
    assert set(constraints) == params, (
        f"_parameter_constraints keys {sorted(constraints)} differ from "
        f"__init__ parameters {sorted(params)}"
    )


def check_invalid_params_raise_on_fit(
    estimator, image_size=16, n_images=4, random_state=0
):
    """An invalid value for any parameter raises InvalidParameterError."""
    X = _make_images(n_images, image_size, random_state)
    for name in _init_params(estimator):
        est = clone(estimator).set_params(**{name: _InvalidParam()})
        try:
            est.fit(X)
        except InvalidParameterError as exc:
            assert name in str(exc), (
                f"error for invalid {name!r} does not name it: {exc}"
            )
        else:
            raise AssertionError(
                f"fit accepted an invalid value for parameter {name!r}"
            )


def check_fit_returns_self(estimator, image_size=16, n_images=4, random_state=0):
    """``fit`` returns the estimator itself, with and without ``y``."""
    X = _make_images(n_images, image_size, random_state)
    est = clone(estimator)
    assert est.fit(X) is est
    y = np.arange(n_images) % 2
    assert est.fit(X, y) is est


def check_params_unchanged_by_fit(estimator, image_size=16, n_images=4, random_state=0):
    """``fit`` does not change parameters (values nor objects)."""
    est = clone(estimator)
    before = est.get_params(deep=False)
    snapshot = copy.deepcopy(before)
    est.fit(_make_images(n_images, image_size, random_state))
    after = est.get_params(deep=False)
    for k in before:
        assert after[k] is before[k], f"fit replaced parameter {k!r}"
        assert _values_equal(after[k], snapshot[k]), f"fit mutated parameter {k!r}"


def check_not_fitted(estimator, image_size=16, n_images=4, random_state=0):
    """Stateful steps raise NotFittedError before fit; stateless ones work."""
    X = _make_images(n_images, image_size, random_state)
    est = clone(estimator)
    if _requires_fit(est):
        try:
            est.transform(X)
        except NotFittedError:
            pass
        else:
            raise AssertionError("transform before fit did not raise NotFittedError")
    else:
        assert_allclose(est.transform(X), _fit(estimator, X).transform(X), atol=_ATOL)


def check_transform_output(estimator, image_size=16, n_images=4, random_state=0):
    """Output is a float32 4-D batch of RGB images, one per input, finite,
    in [0, 1] (unless the step standardises), same size for every image."""
    X = _make_images(n_images, image_size, random_state)
    out = _fit(estimator, X).transform(X)
    _assert_images(out, n_images, estimator)
    # float32 in, float32 out (scikit-learn's preserves_dtype).
    out32 = _fit(estimator, X).transform(X.astype(np.float32) / 255)
    assert out32.dtype == np.float32


def check_fit_transform_equivalence(
    estimator, image_size=16, n_images=4, random_state=0
):
    """``fit_transform(X)`` equals ``fit(X).transform(X)``."""
    X = _make_images(n_images, image_size, random_state)
    a = clone(estimator).fit_transform(X)
    b = _fit(estimator, X).transform(X)
    assert_allclose(a, b, atol=_ATOL)


def check_fit_idempotent(estimator, image_size=16, n_images=4, random_state=0):
    """Fitting twice gives the same transform; a refit forgets earlier data."""
    X = _make_images(n_images, image_size, random_state)
    X_other = _make_images(n_images, image_size, random_state + 1)
    X_test = _make_images(2, image_size, random_state + 2)
    est = clone(estimator).fit(X)
    first = est.transform(X_test)
    attrs = _fitted_attributes(est)
    assert_allclose(est.fit(X).transform(X_test), first, atol=_ATOL)
    refit = clone(estimator).fit(X_other).fit(X)
    assert_allclose(refit.transform(X_test), first, atol=_ATOL)
    assert _fitted_attributes(refit) == attrs


def check_fit_deterministic(estimator, image_size=16, n_images=4, random_state=0):
    """Two clones fitted on the same subset transform identically."""
    X = _make_images(n_images, image_size, random_state)
    subset = X[: max(1, n_images // 2)]
    a = _fit(estimator, subset).transform(X)
    b = _fit(estimator, subset.copy()).transform(X)
    assert_array_equal(a, b)


def check_batch_independence(estimator, image_size=16, n_images=4, random_state=0):
    """Transforming a batch equals transforming each image alone, in any
    order: nothing leaks across the images of a batch."""
    X = _make_images(n_images, image_size, random_state)
    est = _fit(estimator, X)
    out = est.transform(X)
    one_by_one = np.concatenate([est.transform(X[i : i + 1]) for i in range(n_images)])
    assert_allclose(one_by_one, out, atol=_ATOL)
    order = np.random.default_rng(random_state).permutation(n_images)
    assert_allclose(est.transform(X[order]), out[order], atol=_ATOL)
    # Changing one image does not change the others' output.
    X2 = X.copy()
    X2[0] = 255 - X2[0]
    assert_allclose(est.transform(X2)[1:], out[1:], atol=_ATOL)


def check_transform_does_not_change_state(
    estimator, image_size=16, n_images=4, random_state=0
):
    """``transform`` leaves the estimator's ``__dict__`` unchanged."""
    X = _make_images(n_images, image_size, random_state)
    est = _fit(estimator, X)
    before = copy.deepcopy(vars(est))
    est.transform(_make_images(2, image_size, random_state + 1))
    after = vars(est)
    assert before.keys() == after.keys(), "transform added/removed attributes"
    for k in before:
        assert _values_equal(before[k], after[k]), f"transform changed {k!r}"


def check_input_not_modified(estimator, image_size=16, n_images=4, random_state=0):
    """Neither fit nor transform write into the input; the output is not a
    view of it."""
    for dtype in (np.uint8, np.float32):
        X = _make_images(n_images, image_size, random_state, dtype=dtype)
        X_copy = X.copy()
        est = clone(estimator).fit(X)
        out = est.transform(X)
        assert_array_equal(X, X_copy, err_msg=f"input ({dtype.__name__}) modified")
        assert not np.shares_memory(out, X), "output is a view of the input"


def check_readonly_input(estimator, image_size=16, n_images=4, random_state=0):
    """Read-only input arrays (e.g. memory maps) are accepted."""
    for dtype in (np.uint8, np.float32):
        X = _make_images(n_images, image_size, random_state, dtype=dtype)
        expected = _fit(estimator, X).transform(X)
        X.setflags(write=False)
        assert_allclose(_fit(estimator, X).transform(X), expected, atol=_ATOL)


def check_pickle(estimator, image_size=16, n_images=4, random_state=0):
    """A pickled and unpickled fitted estimator transforms identically."""
    X = _make_images(n_images, image_size, random_state)
    est = _fit(estimator, X)
    restored = pickle.loads(pickle.dumps(est))
    assert_array_equal(restored.transform(X), est.transform(X))
    assert _params_equal(restored.get_params(), est.get_params())


def _assert_raises(exc_types, func, what):
    try:
        func()
    except exc_types:
        return
    except Exception as exc:  # noqa: BLE001 - report the wrong type
        raise AssertionError(
            f"{what}: expected {[e.__name__ for e in exc_types]}, got "
            f"{type(exc).__name__}: {exc}"
        ) from exc
    raise AssertionError(f"{what}: no error raised")


def check_rejects_bad_input(estimator, image_size=16, n_images=4, random_state=0):
    """NaN/inf, 2-D or 5-D arrays, wrong channel counts, empty batches,
    out-of-range floats, strings, paths and object arrays are rejected with
    ValueError or TypeError -- by fit and by transform."""
    X = _make_images(n_images, image_size, random_state)
    nan = X.astype(np.float32) / 255
    nan[0, 0, 0, 0] = np.nan
    inf = X.astype(np.float32) / 255
    inf[-1, 1, 1, 2] = np.inf
    bad = {
        "NaN": (nan, ValueError),
        "inf": (inf, ValueError),
        "2-D array": (X[0, :, :, 0], ValueError),
        "5-D array": (X[None], ValueError),
        "2 channels": (X[..., :2], ValueError),
        "5 channels": (np.concatenate([X, X[..., :2]], axis=-1), ValueError),
        "empty batch": (X[:0], ValueError),
        "strings": (np.array([["a", "b"], ["c", "d"]]), TypeError),
        "file paths": (["a.tif", "b.tif"], TypeError),
        "object array": (np.array([None, None], dtype=object), TypeError),
    }
    if getattr(estimator, "_value_range", "unit") == "unit":
        bad["floats in [0, 255]"] = (X.astype(np.float32), ValueError)
    fitted = _fit(estimator, X)
    for what, (value, exc) in bad.items():
        _assert_raises((exc,), lambda v=value: clone(estimator).fit(v), f"fit({what})")
        _assert_raises(
            (exc,), lambda v=value: fitted.transform(v), f"transform({what})"
        )


def check_accepts_dtypes(estimator, image_size=16, n_images=4, random_state=0):
    """uint8, float32 and float64 images, grayscale batches and lists of
    images all work and agree."""
    X = _make_images(n_images, image_size, random_state)
    expected = _fit(estimator, X).transform(X)
    for variant in (
        X.astype(np.float32) / np.float32(255),
        X.astype(np.float64) / 255,
        list(X),
    ):
        out = _fit(estimator, variant).transform(variant)
        assert out.dtype == np.float32
        assert_allclose(out, expected, atol=1e-4)
    gray = X[..., 0]
    for variant in (gray, gray[..., None]):
        out = _fit(estimator, variant).transform(variant)
        _assert_images(out, n_images, estimator, "output for grayscale input")


def check_single_image(estimator, image_size=16, n_images=4, random_state=0):
    """Fitting on, and transforming, a batch of one image works."""
    X = _make_images(1, image_size, random_state)
    out = _fit(estimator, X).transform(X)
    _assert_images(out, 1, estimator)


def check_ragged_input(estimator, image_size=16, n_images=4, random_state=0):
    """Steps that accept mixed sizes process each image as if it were alone."""
    if not getattr(estimator, "_allow_ragged", False):
        return
    h, w = _hw(image_size)
    X = [
        _make_images(1, (h, w), random_state)[0],
        _make_images(1, (h + 3, max(1, w - 2)), random_state + 1)[0],
        _make_images(1, (h, w), random_state + 2)[0],
    ]
    est = _fit(estimator, X)
    out = est.transform(X)
    assert len(out) == len(X)
    for x, o in zip(X, out, strict=True):
        alone = est.transform(x[None])[0]
        assert o.dtype == np.float32
        assert_allclose(o, alone, atol=_ATOL)


def check_in_pipeline(estimator, image_size=16, n_images=4, random_state=0):
    """The step works inside a scikit-learn Pipeline, cloned and with
    nested ``set_params``."""
    X = _make_images(n_images, image_size, random_state)
    expected = _fit(estimator, X).transform(X)
    pipe = make_pipeline(clone(estimator))
    assert_allclose(pipe.fit_transform(X), expected, atol=_ATOL)
    assert_allclose(clone(pipe).fit(X).transform(X), expected, atol=_ATOL)
    step = pipe.steps[0][0]
    name, value = next(iter(estimator.get_params(deep=False).items()))
    pipe.set_params(**{f"{step}__{name}": value})
    assert _values_equal(pipe.get_params()[f"{step}__{name}"], value)


def check_tags(estimator, **kwargs):
    """Tags say: image (3-D+) input, not 2-D, float32 preserved, and
    ``requires_fit`` matches whether transform works before fit."""
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.three_d_array is True
    assert tags.input_tags.two_d_array is False
    assert tags.transformer_tags is not None
    assert tags.transformer_tags.preserves_dtype == ["float32"]
    assert tags.requires_fit == (not getattr(estimator, "_stateless", False))


def check_repr(estimator, **kwargs):
    """``repr`` works and names the class."""
    assert type(estimator).__name__ in repr(clone(estimator))
