"""FamiliarityCheck: quiet on images like the training ones, loud on others."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.pipeline import make_pipeline

from skleuk.exceptions import UnfamiliarImageWarning
from skleuk.preprocessing import FamiliarityCheck, ImageScaler, image_description
from skleuk.preprocessing._familiarity import FEATURE_NAMES


def _smears(
    n, colour=(0.85, 0.6, 0.75), size=24, nucleus=(0.45, 0.2, 0.55), radius=5, seed=0
):
    """Pink backgrounds with one purple disc each (a toy 'lab')."""
    rng = np.random.default_rng(seed)
    X = rng.normal(colour, 0.03, (n, size, size, 3))
    rr, cc = np.mgrid[:size, :size]
    for i in range(n):
        r, c = rng.uniform(size * 0.3, size * 0.7, 2)
        rad = radius * rng.uniform(0.8, 1.2)
        X[i][(rr - r) ** 2 + (cc - c) ** 2 <= rad**2] = nucleus
    return X.clip(0, 1).astype(np.float32)


def test_description_shape_and_names():
    F = image_description(_smears(4))
    assert F.shape == (4, len(FEATURE_NAMES))
    assert np.isfinite(F).all()


def test_description_of_mixed_sizes_equals_per_image():
    X = [_smears(1, size=24)[0], _smears(1, size=40, seed=1)[0]]
    F = image_description(X)
    np.testing.assert_allclose(F[1], image_description(X[1][None])[0])


def test_quiet_on_held_out_images_of_the_training_source():
    check = FamiliarityCheck().fit(_smears(200, seed=0))
    held_out = _smears(320, seed=1)
    flags = [check.check(held_out[i : i + 32])[0] for i in range(0, 320, 32)]
    assert not any(flags)
    assert np.mean(check.unfamiliarity(held_out) > 1) < 0.05


@pytest.mark.parametrize(
    "other",
    [
        {"colour": (0.95, 0.8, 0.6)},  # another stain
        {"radius": 10},  # another magnification
        {"nucleus": (0.3, 0.3, 0.3)},  # another camera/stain of the nucleus
    ],
)
def test_flags_batches_of_another_source(other):
    check = FamiliarityCheck().fit(_smears(200, seed=0))
    X = _smears(64, seed=2, **other)
    assert check.check(X[:32])[0] and check.check(X[32:])[0]
    assert (check.predict(X) == -1).mean() > 0.5
    with pytest.warns(UnfamiliarImageWarning, match="look unlike the training"):
        out = check.transform(X)
    np.testing.assert_array_equal(out, X)


def test_in_a_pipeline_warns_on_predict_not_on_fit():
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import FunctionTransformer

    X = _smears(60, seed=0)
    y = np.arange(60) % 2
    pipe = make_pipeline(
        FamiliarityCheck(),
        ImageScaler(),
        FunctionTransformer(lambda Z: Z.reshape(len(Z), -1)),
        LogisticRegression(),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfamiliarImageWarning)
        pipe.fit(X, y)
        pipe.predict(_smears(32, seed=3))  # same source: quiet
    with pytest.warns(UnfamiliarImageWarning):
        pipe.predict(_smears(32, seed=4, colour=(0.95, 0.85, 0.55)))


def test_small_batches_are_not_judged():
    check = FamiliarityCheck(min_batch=8).fit(_smears(50))
    odd = _smears(4, colour=(0.2, 0.9, 0.2))
    assert check.check(odd) == (False, 1.0)


def test_threshold_is_the_training_quantile():
    X = _smears(100)
    check = FamiliarityCheck(quantile=0.9).fit(X)
    assert np.mean(check.unfamiliarity(X) > 1) == pytest.approx(0.1, abs=0.02)
    np.testing.assert_allclose(check.score_samples(X), -check.unfamiliarity(X))


def test_clone_pickle_and_unfitted():
    check = FamiliarityCheck(quantile=0.95)
    assert clone(check).get_params() == check.get_params()
    with pytest.raises(Exception, match="not fitted"):
        check.unfamiliarity(_smears(2))
    check.fit(_smears(30))
    again = pickle.loads(pickle.dumps(check))
    np.testing.assert_allclose(
        again.unfamiliarity(_smears(5)), check.unfamiliarity(_smears(5))
    )


def test_one_training_image_makes_every_other_image_unfamiliar():
    X = _smears(3)
    check = FamiliarityCheck().fit(X[:1])
    assert check.unfamiliarity(X[:1])[0] == 0
    assert (check.predict(X[1:]) == -1).all()


def test_bad_parameters_are_refused():
    with pytest.raises(ValueError, match="quantile"):
        FamiliarityCheck(quantile=1.5).fit(_smears(5))


@settings(max_examples=20, deadline=None)
@given(
    n=st.integers(2, 6),
    h=st.integers(4, 40),
    w=st.integers(4, 40),
    seed=st.integers(0, 2**16),
)
def test_transform_is_the_identity_and_scores_finite(n, h, w, seed):
    rng = np.random.default_rng(seed)
    X = rng.random((n, h, w, 3), dtype=np.float32)
    check = FamiliarityCheck().fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnfamiliarImageWarning)
        np.testing.assert_array_equal(check.transform(X), X)
    s = check.unfamiliarity(X)
    assert s.shape == (n,) and np.isfinite(s).all() and (s >= 0).all()


def test_calibrate_sets_the_threshold_on_held_out_images():
    check = FamiliarityCheck().fit(_smears(60, seed=0))
    held_out = _smears(40, seed=1)
    fitted = check.threshold_
    mean = check.mean_.copy()
    assert check.calibrate(held_out) is check
    Z = (image_description(held_out) - check.mean_) / check.scale_
    d = np.einsum("ij,jk,ik->i", Z, check.precision_, Z)
    assert check.threshold_ == pytest.approx(np.quantile(d, 0.99))
    assert check.threshold_ != fitted
    np.testing.assert_array_equal(check.mean_, mean)  # only the threshold moves
    assert np.mean(check.unfamiliarity(held_out) > 1) <= 0.03


def test_calibrate_needs_a_fitted_check_and_two_images():
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        FamiliarityCheck().calibrate(_smears(5))
    with pytest.raises(ValueError, match="at least 2 held-out images"):
        FamiliarityCheck().fit(_smears(20)).calibrate(_smears(1))


def test_median_rule_flags_a_batch_each_only_a_little_off():
    train = _smears(120, seed=0)
    held_out = _smears(300, seed=1)
    # a look-alike laboratory: every image a little bluer
    alike = _smears(32, colour=(0.847, 0.6, 0.753), seed=2)
    share = FamiliarityCheck().fit(train).calibrate(held_out)
    median = FamiliarityCheck(batch_rule="median").fit(train).calibrate(held_out)
    assert share.check(alike) == (False, pytest.approx(3 / 32))
    assert median.check(alike)[0] and median.batch_unfamiliarity(alike) > 1.3
    assert median.judge(median.unfamiliarity(alike)) == median.check(alike)
    # in-domain batches: mostly quiet (a 0.99 quantile of 300 held-out
    # images' batch medians; these toy images are much alike)
    fresh = _smears(32 * 20, seed=3)
    flagged = [median.check(fresh[32 * k : 32 * (k + 1)])[0] for k in range(20)]
    assert np.mean(flagged) <= 0.2


def test_calibrate_with_groups_takes_the_highest_group_threshold():
    train = _smears(80, seed=0)
    a, b = _smears(40, seed=1), _smears(40, colour=(0.84, 0.6, 0.77), seed=3)
    check = FamiliarityCheck(batch_rule="median").fit(train)
    alone_a = check.calibrate(a).batch_threshold_
    alone_b = check.calibrate(b).batch_threshold_
    both = check.calibrate(np.concatenate([a, b]), groups=[0] * 40 + [1] * 40)
    assert both.batch_threshold_ == pytest.approx(max(alone_a, alone_b))
    with pytest.raises(ValueError, match="groups has 3 labels"):
        check.calibrate(a, groups=[0, 1, 2])
