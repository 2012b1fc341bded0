"""Smears judged on their own cells by the cell model's FamiliarityCheck."""

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skleuk.exceptions import UnfamiliarImageWarning
from skleuk.preprocessing import FamiliarityCheck
from skleuk.screening import UNFAMILIAR_NOTE, SmearScreener, screening_summary
from skleuk.screening.tests._data import cheap_cell_model, flatten, make_fields
from skleuk.utils._image_ops import resize_images


def _cells(check=True):
    steps = [("flat", FunctionTransformer(flatten)),
             ("lr", LogisticRegression(C=10.0))]
    if check:
        steps.insert(0, ("familiarity", FamiliarityCheck()))
    return Pipeline(steps)


@pytest.fixture(scope="module")
def screener():
    X, y = make_fields(n_per_class=6)
    return SmearScreener(_cells(), aggregation="mean", crop_size=12,
                         window=40).fit(X, y)


@pytest.fixture(scope="module")
def held_out():
    return make_fields(n_per_class=4, seed=5)[0]


def test_smears_like_the_training_smears_are_familiar(screener, held_out):
    results = screener.screen(held_out)
    assert sum(r.unfamiliar for r in results) <= 1  # of 8: one cell of 3 can stray
    assert np.median([r.unfamiliarity for r in results]) < 1.0
    assert all(0 <= r.unfamiliar_share <= 1 for r in results)


@pytest.mark.parametrize("change", ["recoloured", "magnified", "dimmed"])
def test_smears_far_from_the_training_smears_are_flagged(screener, held_out,
                                                         change):
    X = held_out[:3]
    if change == "recoloured":
        X = [x[..., ::-1] for x in X]
    elif change == "magnified":  # twice the magnification, same fixed window
        X = [resize_images(x[None], (192, 256))[0] for x in X]
    else:
        X = [np.clip(0.7 * x + 0.05, 0, 1).astype(np.float32) for x in X]
    results = screener.screen(X)
    assert all(len(r.centres) for r in results)
    assert all(r.unfamiliar and r.unfamiliar_share == 1.0 for r in results)
    assert min(r.unfamiliarity for r in results) > 10


def test_screen_is_batch_independent_and_warns_once_in_predict(screener,
                                                               held_out):
    X = [held_out[0][..., ::-1], held_out[1], held_out[2]]
    alone = [screener.screen([x])[0] for x in X]
    together = screener.screen(X)
    assert [r.unfamiliar for r in alone] == [r.unfamiliar for r in together]
    np.testing.assert_allclose([r.unfamiliarity for r in alone],
                               [r.unfamiliarity for r in together])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        screener.screen(X)  # screen reports, it does not warn
        assert not caught
        screener.predict(X)
    unfamiliar = [w for w in caught if w.category is UnfamiliarImageWarning]
    assert len(unfamiliar) == 1 and "1 of 3" in str(unfamiliar[0].message)


def test_without_a_check_nothing_is_judged():
    X, y = make_fields(n_per_class=4)
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12,
                      window=40).fit(X, y)
    r = s.screen([X[0][..., ::-1]])[0]
    assert r.unfamiliar is None and np.isnan(r.unfamiliar_share)
    assert np.isnan(r.unfamiliarity)


def test_summary_lists_unfamiliar_smears_first_never_as_a_verdict(screener,
                                                                  held_out):
    results = screener.screen([held_out[0], held_out[4][..., ::-1]])
    assert [bool(r.unfamiliar) for r in results] == [False, True]
    for fmt in ("markdown", "html"):
        text = screening_summary(results, format=fmt, classes=[0, 1],
                                 class_names=["healthy", "ALL"],
                                 healthy_label=0)
        review = text.index("Review first")
        other = text.index("Other smears")
        assert review < text.index(UNFAMILIAR_NOTE) < other
        assert "s call: " in text  # the model's call, in the note
        assert "Unfamiliar — review: more than" in text  # the legend
        assert f"{UNFAMILIAR_NOTE}: 1" in text  # the totals
    assert 'class="unfamiliar"' in text
