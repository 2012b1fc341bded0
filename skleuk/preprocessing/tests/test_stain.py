"""Tests for StainNormalizer."""

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.preprocessing import ColorNormalizer, StainNormalizer

from ._strategies import image_batches

METHODS = ["macenko", "reinhard"]

# Optical-density vectors of two Romanowsky-like stains (unit length): a
# purple one (nuclei) and a pink one (red cells, cytoplasm).
PURPLE = np.array([0.55, 0.75, 0.37])
PINK = np.array([0.15, 0.90, 0.41])
BACKGROUND = np.array([0.96, 0.93, 0.90])


def _unit(v):
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v)


def _smears(n=6, side=32, stains=(PURPLE, PINK), background=BACKGROUND,
            gain=(1.0, 1.0), seed=0):  # fmt: skip
    """Synthetic smears made of two stains: background, pink disks (red
    cells) and a purple blob (nucleus), concentrations with texture."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[:side, :side]
    out = np.empty((n, side, side, 3))
    for i in range(n):
        conc = np.zeros((side, side, 2))
        for _ in range(4):
            cy, cx = rng.uniform(0, side, 2)
            r = rng.uniform(0.12, 0.2) * side
            disk = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
            conc[disk, 1] += rng.uniform(0.4, 0.7)
        cy, cx = rng.uniform(0.3, 0.7, 2) * side
        r = rng.uniform(0.15, 0.25) * side
        blob = (yy - cy) ** 2 + (xx - cx) ** 2 < r**2
        conc[blob, 0] += rng.uniform(0.9, 1.3)
        conc *= rng.uniform(0.85, 1.15, (side, side, 1)) * (conc > 0)
        conc *= np.asarray(gain)
        od = conc @ np.stack([_unit(s) for s in stains])
        out[i] = np.asarray(background) * np.exp(-od)
    return np.clip(out, 0, 1).astype(np.float32)


def _shifted(**kw):
    """The same smears stained and lit by another laboratory."""
    return _smears(stains=(_unit([0.35, 0.80, 0.48]), _unit([0.05, 0.85, 0.52])),
                   background=(0.88, 0.92, 0.97), gain=(0.7, 1.4), **kw)  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
def test_fitted_attributes_and_clone(method):
    X = _smears()
    norm = StainNormalizer(method=method).fit(X)
    if method == "macenko":
        assert norm.stain_matrix_.shape == (2, 3)
        np.testing.assert_allclose(np.linalg.norm(norm.stain_matrix_, axis=1), 1.0)
        assert norm.max_concentrations_.shape == (2,)
        assert norm.background_.shape == (3,)
        assert not hasattr(norm, "reference_mean_")
    else:
        assert norm.reference_mean_.shape == (3,)
        assert not hasattr(norm, "stain_matrix_")
    again = pickle.loads(pickle.dumps(norm))
    np.testing.assert_array_equal(again.transform(X), norm.transform(X))
    assert clone(norm).get_params() == norm.get_params()


def test_macenko_recovers_the_stains():
    # The reference stain vectors are the ones the images were made of
    # (haematoxylin-like purple first).
    norm = StainNormalizer().fit(_smears())
    cos = np.abs(norm.stain_matrix_ @ np.stack([_unit(PURPLE), _unit(PINK)]).T)
    assert cos[0, 0] > 0.99 and cos[1, 1] > 0.99
    np.testing.assert_allclose(norm.background_, BACKGROUND, atol=0.01)


@pytest.mark.parametrize("method", METHODS)
def test_image_at_the_reference_is_unchanged(method):
    X = _smears(n=1)
    out = StainNormalizer(method=method).fit(X).transform(X)
    np.testing.assert_allclose(out, X, atol=0.02)


@pytest.mark.parametrize("method", METHODS)
def test_stain_shift_is_mapped_back(method):
    # Fitted on one laboratory's smears; another laboratory's copies of the
    # same smears (other stain hues, strengths and light) come back close
    # to the originals -- much closer than they were, and closer than the
    # whole-image Reinhard of ColorNormalizer brings them.
    X, shifted = _smears(), _shifted()
    before = np.abs(shifted - X).mean()
    norm = StainNormalizer(method=method).fit(X)
    after = np.abs(norm.transform(shifted) - X).mean()
    whole = np.abs(ColorNormalizer().fit(X).transform(shifted) - X).mean()
    assert before > 0.05
    assert after < 0.6 * before
    assert after < whole
    if method == "macenko":
        assert after < 0.02


@pytest.mark.parametrize("method", METHODS)
def test_each_image_on_its_own(method):
    # A test image's output does not depend on the rest of its batch.
    norm = StainNormalizer(method=method).fit(_smears())
    batch = np.concatenate([_shifted(n=3), _smears(n=2, seed=5)])
    out = norm.transform(batch)
    for i in range(len(batch)):
        np.testing.assert_allclose(norm.transform(batch[i : i + 1])[0], out[i],
                                   atol=1e-5)  # fmt: skip


@pytest.mark.parametrize("method", METHODS)
def test_fit_uses_only_the_training_images(method):
    a = StainNormalizer(method=method).fit(_smears())
    b = StainNormalizer(method=method).fit(_shifted())
    X = _smears(n=2, seed=3)
    assert np.abs(a.transform(X) - b.transform(X)).mean() > 0.02


@pytest.mark.parametrize("method", METHODS)
def test_background_does_not_dominate(method):
    # The same cells with three times as much empty background: the
    # foreground statistics, hence the reference, barely move.
    X = _smears()
    padded = np.pad(X, ((0, 0), (32, 32), (0, 0), (0, 0)), mode="constant")
    padded[:, :32] = padded[:, -32:] = BACKGROUND.astype(np.float32)
    a = StainNormalizer(method=method).fit(X)
    b = StainNormalizer(method=method).fit(padded)
    Y = _shifted(n=2)
    assert np.abs(a.transform(Y) - b.transform(Y)).mean() < 0.01


def test_blank_images_fall_back():
    # No stained pixel anywhere: the standard H&E vectors, and the output
    # stays constant (no NaN).
    X = np.full((2, 8, 8, 3), 0.9, dtype=np.float32)
    norm = StainNormalizer().fit(X)
    assert np.all(norm.stain_matrix_ > -1) and np.isfinite(norm.stain_matrix_).all()
    out = StainNormalizer().fit(_smears()).transform(X)
    assert np.isfinite(out).all() and np.ptp(out.reshape(2, -1, 3), axis=1).max() < 1e-6


@pytest.mark.parametrize("method", METHODS)
def test_ragged_images(method):
    X = _smears(n=2)
    norm = StainNormalizer(method=method).fit([X[0], X[1, :20]])
    out = norm.transform([X[0], X[1, :20]])
    assert out[1].shape == (20, 32, 3)


def test_errors():
    with pytest.raises(NotFittedError):
        StainNormalizer().transform(_smears(n=1))
    with pytest.raises(InvalidParameterError, match="method"):
        StainNormalizer(method="vahadane").fit(_smears(n=1))
    with pytest.raises(InvalidParameterError, match="alpha"):
        StainNormalizer(alpha=0.7).fit(_smears(n=1))


# -- properties ------------------------------------------------------------
_FITTED = {m: StainNormalizer(method=m).fit(_smears()) for m in METHODS}


@settings(max_examples=40, deadline=None)
@given(X=image_batches(), method=st.sampled_from(METHODS))
def test_shape_dtype_range_deterministic(X, method):
    norm = _FITTED[method]
    out = norm.transform(X)
    assert out.shape == X.shape and out.dtype == np.float32
    assert np.isfinite(out).all() and out.min() >= 0.0 and out.max() <= 1.0
    np.testing.assert_array_equal(norm.transform(X), out)


@settings(max_examples=40, deadline=None)
@given(X=image_batches(min_side=2), method=st.sampled_from(METHODS))
def test_flip_equivariant(X, method):
    norm = _FITTED[method]
    np.testing.assert_allclose(norm.transform(X[:, ::-1, ::-1]),
                               norm.transform(X)[:, ::-1, ::-1], atol=1e-4)  # fmt: skip


@settings(max_examples=40, deadline=None)
@given(value=st.lists(st.floats(0, 1, width=32), min_size=3, max_size=3),
       side=st.integers(1, 12), method=st.sampled_from(METHODS))  # fmt: skip
def test_constant_image_stays_constant(value, side, method):
    X = np.broadcast_to(np.asarray(value, np.float32), (1, side, side, 3)).copy()
    out = _FITTED[method].transform(X).reshape(-1, 3)
    assert np.isfinite(out).all()
    np.testing.assert_allclose(out, out[:1].repeat(len(out), 0), atol=1e-6)


@pytest.mark.parametrize("method", METHODS)
def test_blocks_of_images_change_nothing(method, monkeypatch):
    from skleuk.preprocessing import _stain

    X = np.concatenate([_smears(n=3), _shifted(n=3)])
    whole = StainNormalizer(method=method).fit(X)
    expected = whole.transform(X)
    monkeypatch.setattr(_stain, "_BLOCK_PIXELS", 2 * 32 * 32)  # 2 images a block
    blocked = StainNormalizer(method=method).fit(X)
    np.testing.assert_array_equal(blocked.transform(X), expected)
    np.testing.assert_array_equal(blocked.background_, whole.background_)
