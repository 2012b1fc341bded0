"""The referral checks: one image, and a batch in one pass."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skleuk.screening import (
    NO_CELL_VERDICT,
    locate_white_cells,
    referral_reason,
    referral_reasons,
)
from skleuk.screening.tests._data import make_field


def _images():
    """Cells, no cell, grey, blank, too small, several sizes, uint8 and float."""
    rng = np.random.default_rng(0)
    field = make_field([(30, 40, 0), (60, 90, 1)], shape=(80, 120))
    one = make_field([(20, 20, 0)], shape=(48, 48), seed=1)
    grey = np.repeat(field.mean(axis=-1, keepdims=True), 3, axis=-1)
    return [
        field,
        (one * 255).round().astype(np.uint8),
        make_field([], shape=(80, 120), red_cells=6, seed=2),
        grey,
        rng.integers(0, 256, (48, 48, 3), dtype=np.uint8),
        np.full((40, 40, 3), 200, np.uint8),
        np.zeros((5, 60, 3), np.uint8),
        one[::-1, ::2],
        (one[..., 0] * 255).astype(np.uint8),  # 2-D
        one,
    ]


def test_batch_equals_one_by_one():
    images = _images()
    reasons = referral_reasons(images)
    assert reasons == [referral_reason(im) for im in images]
    assert reasons[0] is None and reasons[1] is None
    assert reasons[2] == NO_CELL_VERDICT
    assert reasons[3].startswith(f"{NO_CELL_VERDICT} (grey-level")
    assert reasons[5].startswith("blank image")
    assert reasons[6].startswith("too small: 5x60")
    # the batch's order and company change nothing
    assert referral_reasons(images[::-1]) == reasons[::-1]
    assert referral_reasons([]) == []


def test_cell_check_is_the_detectors():
    """A cell is found exactly when locate_white_cells finds one."""
    for im in _images()[:5]:
        found = len(locate_white_cells(im).centres) > 0
        assert (referral_reason(im) is None) == found


@pytest.mark.parametrize("params", [{"min_contrast": 0.6}, {"split": True},
                                    {"min_area": 5000}])
def test_locate_params_are_honoured(params):
    images = _images()[:3]
    expected = [None if len(locate_white_cells(im, **params).centres) else
                NO_CELL_VERDICT for im in images]
    assert referral_reasons(images, locate_params=params) == expected
    assert [referral_reason(im, locate_params=params) for im in images] == expected


def test_bad_locate_params_are_refused():
    with pytest.raises(TypeError, match="nope"):
        referral_reasons(_images()[:1], locate_params={"nope": 1})


@settings(max_examples=15, deadline=None)
@given(seeds=st.lists(st.integers(0, 2**16), min_size=1, max_size=4),
       side=st.integers(16, 40))
def test_random_batches_match_one_by_one(seeds, side):
    images = []
    for s in seeds:
        rng = np.random.default_rng(s)
        if s % 2:
            images.append(make_field([(side // 2, side // 2, s % 3 // 2)],
                                     shape=(side, side + 8), radius=5, seed=s))
        else:
            images.append(rng.integers(0, 256, (side, side, 3), dtype=np.uint8))
    assert referral_reasons(images) == [referral_reason(im) for im in images]
