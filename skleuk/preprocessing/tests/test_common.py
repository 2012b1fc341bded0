"""Run the image estimator checks over every transformer of the subpackage."""

import inspect

import numpy as np
import pytest

import skleuk.preprocessing as preprocessing
from skleuk.base import BaseImageTransformer
from skleuk.utils.estimator_checks import _yield_image_transformer_checks

# Transformers that cannot run on in-memory arrays (they read files).
_NEEDS_FILES = {"ImageReader"}

# Non-default parameters / image sizes for steps whose defaults do not suit
# the checks' 16x16 images; every other transformer runs with its defaults.
_PARAMS = {}
_IMAGE_SIZE = {"WhiteCellCropper": 32}


def _transformers():
    for name in sorted(preprocessing.__all__):
        obj = getattr(preprocessing, name)
        if (
            inspect.isclass(obj)
            and issubclass(obj, BaseImageTransformer)
            and name not in _NEEDS_FILES
        ):
            yield obj


def _variants(cls):
    """The default instance, plus other modes worth checking."""
    yield cls(**_PARAMS.get(cls.__name__, {}))
    extra = {
        "ColorNormalizer": [{"method": "grayworld"}],
        "StainNormalizer": [{"method": "reinhard"}],
        "NeighborhoodAverager": [{"method": "median", "size": 3}],
        "LaplacianSharpener": [{"kernel": "8-neighbour", "mode": "wrap"}],
        "ImageScaler": [{"method": "standard"}],
        "PadToSquare": [{"mode": "constant", "fill_value": (1.0, 0.9, 0.9)}],
        "CenterCropper": [{"size": (8, 12)}, {"size": 24, "mode": "edge"}],
        "Resizer": [{"size": (8, 20), "anti_aliasing": False}],
        "MagnificationNormalizer": [
            {"target_rbc_diameter": 6.0, "pad_mode": "constant"}
        ],
    }
    for params in extra.get(cls.__name__, []):
        yield cls(**params)


_CASES = [
    (est, check)
    for cls in _transformers()
    for est in _variants(cls)
    for check in _yield_image_transformer_checks(
        est, image_size=_IMAGE_SIZE.get(cls.__name__, 16)
    )
]


def test_all_transformers_discovered():
    names = {type(est).__name__ for est, _ in _CASES}
    expected = {
        "ColorNormalizer", "LaplacianSharpener", "NeighborhoodAverager",
        "PadToSquare", "Resizer", "CenterCropper", "ImageScaler",
        "MagnificationNormalizer", "FamiliarityCheck",
    }
    assert expected <= names


@pytest.mark.parametrize(
    "estimator, check",
    _CASES,
    ids=[f"{est!r}-{check.func.__name__}" for est, check in _CASES],
)
def test_image_transformer_checks(estimator, check):
    check(estimator)


def test_fit_transform_validates_once_and_equals_fit_then_transform(monkeypatch):
    # Pipeline.fit calls fit_transform on every step: one validation pass,
    # same result as fit(X).transform(X).
    from skleuk import base as _base
    from skleuk.preprocessing import ColorNormalizer

    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(3, 12, 12, 3), dtype=np.uint8)
    expected = ColorNormalizer().fit(X).transform(X)
    calls = []
    real = _base.check_images

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(_base, "check_images", counting)
    out = ColorNormalizer().fit_transform(X)
    assert len(calls) == 1
    np.testing.assert_array_equal(out, expected)
