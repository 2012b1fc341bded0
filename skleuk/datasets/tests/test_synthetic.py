"""Tests of the synthetic blood smear generator."""

import inspect

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import Bunch

from skleuk.datasets._synthetic import make_blood_smears


def test_bunch_contents():
    smears = make_blood_smears(n_samples=10, image_size=24, random_state=0)
    assert isinstance(smears, Bunch)
    assert set(smears) == {"images", "target", "target_names", "DESCR"}
    assert smears.images.shape == (10, 24, 24, 3)
    assert smears.images.dtype == np.uint8
    assert smears.target.shape == (10,)
    assert smears.target.dtype == np.int64
    assert smears.target_names.tolist() == ["healthy", "ALL"]
    assert smears.target_names.dtype.kind == "U"
    assert isinstance(smears.DESCR, str)
    assert "healthy (5 images)" in smears.DESCR
    assert "ALL (5 images)" in smears.DESCR


def test_defaults_are_all_idb2_like():
    params = inspect.signature(make_blood_smears).parameters
    assert params["n_samples"].default == 260
    assert params["n_classes"].default == 2
    assert params["image_size"].default == 128
    assert params["random_state"].default is None
    assert params["return_X_y"].default is False


def test_value_range_is_used():
    # A smear photograph: light background, dark nuclei, never saturated
    # to one flat value.
    X, _ = make_blood_smears(
        n_samples=20, image_size=32, random_state=0, return_X_y=True
    )
    assert X.min() < 80
    assert X.max() > 200
    per_image_std = X.reshape(20, -1).std(axis=1)
    assert per_image_std.min() > 5


def test_return_X_y_matches_bunch():
    smears = make_blood_smears(n_samples=8, image_size=16, random_state=3)
    X, y = make_blood_smears(
        n_samples=8, image_size=16, random_state=3, return_X_y=True
    )
    np.testing.assert_array_equal(X, smears.images)
    np.testing.assert_array_equal(y, smears.target)


def test_same_seed_same_data_and_different_seed_different_data():
    a = make_blood_smears(n_samples=6, image_size=16, random_state=7)
    b = make_blood_smears(n_samples=6, image_size=16, random_state=7)
    c = make_blood_smears(n_samples=6, image_size=16, random_state=8)
    np.testing.assert_array_equal(a.images, b.images)
    np.testing.assert_array_equal(a.target, b.target)
    assert not np.array_equal(a.images, c.images)


def test_random_state_instance_is_used_and_advanced():
    rng = np.random.RandomState(0)
    first = make_blood_smears(n_samples=4, image_size=16, random_state=rng)
    second = make_blood_smears(n_samples=4, image_size=16, random_state=rng)
    assert not np.array_equal(first.images, second.images)
    again = make_blood_smears(
        n_samples=4, image_size=16, random_state=np.random.RandomState(0)
    )
    np.testing.assert_array_equal(first.images, again.images)


def test_none_random_state_draws_new_data():
    a = make_blood_smears(n_samples=2, image_size=16)
    b = make_blood_smears(n_samples=2, image_size=16)
    assert not np.array_equal(a.images, b.images)


@pytest.mark.parametrize(
    "n_samples, n_classes, expected",
    [(10, 2, [5, 5]), (11, 2, [6, 5]), (10, 3, [4, 3, 3]), (8, 8, [1] * 8)],
)
def test_classes_are_balanced(n_samples, n_classes, expected):
    _, y = make_blood_smears(
        n_samples, n_classes, image_size=16, random_state=0, return_X_y=True
    )
    np.testing.assert_array_equal(np.bincount(y, minlength=n_classes), expected)


def test_order_is_shuffled_unless_asked_not_to():
    _, y = make_blood_smears(40, image_size=16, random_state=0, return_X_y=True)
    assert not np.array_equal(y, np.sort(y))
    _, y = make_blood_smears(
        40, image_size=16, shuffle=False, random_state=0, return_X_y=True
    )
    np.testing.assert_array_equal(y, np.repeat([0, 1], 20))


@pytest.mark.parametrize(
    "n_classes, names",
    [
        (2, ["healthy", "ALL"]),
        (3, ["class_0", "class_1", "class_2"]),
        (4, ["Benign", "Early", "Pre", "Pro"]),
        (5, ["class_0", "class_1", "class_2", "class_3", "class_4"]),
    ],
)
def test_target_names(n_classes, names):
    smears = make_blood_smears(
        n_samples=n_classes, n_classes=n_classes, image_size=16, random_state=0
    )
    assert smears.target_names.tolist() == names
    assert sorted(smears.target.tolist()) == list(range(n_classes))
    for name in names:
        assert name in smears.DESCR


@given(
    n_samples=st.integers(8, 12),
    n_classes=st.integers(2, 8),
    image_size=st.integers(16, 20),
    seed=st.integers(0, 2**31 - 1),
)
def test_contract_property(n_samples, n_classes, image_size, seed):
    X, y = make_blood_smears(
        n_samples,
        n_classes,
        image_size,
        random_state=seed,
        return_X_y=True,
    )
    assert X.shape == (n_samples, image_size, image_size, 3)
    assert X.dtype == np.uint8
    assert y.dtype == np.int64
    counts = np.bincount(y, minlength=n_classes)
    assert counts.sum() == n_samples
    assert counts.max() - counts.min() <= 1


@pytest.mark.parametrize(
    "params, match",
    [
        ({"n_samples": 1}, "at least one image per class"),
        ({"n_samples": 5, "n_classes": 6}, "at least one image per class"),
        ({"n_samples": 0}, "'n_samples' parameter"),
        ({"n_classes": 1}, "'n_classes' parameter"),
        ({"n_classes": 9}, "'n_classes' parameter"),
        ({"image_size": 15}, "'image_size' parameter"),
        ({"image_size": 32.0}, "'image_size' parameter"),
        ({"class_sep": 1.5}, "'class_sep' parameter"),
        ({"nuisance": -0.1}, "'nuisance' parameter"),
        ({"random_state": "seed"}, "'random_state' parameter"),
    ],
)
def test_invalid_parameters(params, match):
    kwargs = {"n_samples": 4, "image_size": 16, **params}
    with pytest.raises(ValueError, match=match):
        make_blood_smears(**kwargs)


@pytest.mark.parametrize("nuisance, margin", [(1.0, 10), (0.0, 40)])
def test_white_cell_is_visible_in_the_centre(nuisance, margin):
    # The centre of every image (the nucleus) is darker than the image.
    X, _ = make_blood_smears(
        60, image_size=32, nuisance=nuisance, random_state=0, return_X_y=True
    )
    gray = X.astype(float).mean(axis=-1)
    centre = gray[:, 13:19, 13:19].mean(axis=(1, 2))
    assert np.all(gray.mean(axis=(1, 2)) - centre > margin)


def _purple_fraction(X):
    X = X.astype(float)
    return (X[..., 2] - X[..., 1] > 60).reshape(len(X), -1).mean(axis=1)


def test_blasts_have_larger_nuclei():
    # Morphology, not colour: the purple (nucleus) area of a blast is larger.
    X, y = make_blood_smears(
        60, image_size=48, nuisance=0, random_state=0, return_X_y=True
    )
    purple = _purple_fraction(X)
    assert purple[y == 1].min() > purple[y == 0].max()


def test_class_sep_zero_makes_classes_alike():
    X, y = make_blood_smears(
        60, image_size=48, nuisance=0, class_sep=0, random_state=0, return_X_y=True
    )
    purple = _purple_fraction(X)
    assert purple[y == 1].min() < purple[y == 0].max()
    assert abs(purple[y == 1].mean() - purple[y == 0].mean()) < 0.01


def _mean_colour_features(X):
    X = X.astype(float) / 255
    return np.hstack([X.mean(axis=(1, 2)), X.std(axis=(1, 2))])


@pytest.mark.parametrize("image_size", [32, 64])
def test_mean_colour_does_not_predict_the_class(image_size):
    X, y = make_blood_smears(
        200, image_size=image_size, random_state=0, return_X_y=True
    )
    clf = make_pipeline(StandardScaler(), LogisticRegression())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(clf, _mean_colour_features(X), y, cv=cv).mean()
    assert accuracy < 0.75


def test_mean_colour_would_predict_the_class_without_nuisance():
    # The previous test can fail: without the nuisance variation (stain,
    # exposure, white balance) the blast's large nucleus gives it away.
    X, y = make_blood_smears(
        200, image_size=32, nuisance=0, random_state=0, return_X_y=True
    )
    clf = make_pipeline(StandardScaler(), LogisticRegression())
    cv = StratifiedKFold(5, shuffle=True, random_state=0)
    accuracy = cross_val_score(clf, _mean_colour_features(X), y, cv=cv).mean()
    assert accuracy > 0.9


def test_a_small_cnn_separates_the_classes():
    keras = pytest.importorskip("keras")
    from keras import layers

    X, y = make_blood_smears(300, image_size=32, random_state=0, return_X_y=True)
    X = X.astype("float32") / 255
    X_train, y_train, X_test, y_test = X[:200], y[:200], X[200:], y[200:]
    mean, std = X_train.mean(axis=(0, 1, 2)), X_train.std(axis=(0, 1, 2))
    X_train, X_test = (X_train - mean) / std, (X_test - mean) / std

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [
            keras.Input((32, 32, 3)),
            layers.Conv2D(8, 3, activation="relu"),
            layers.MaxPooling2D(),
            layers.Conv2D(16, 3, activation="relu"),
            layers.GlobalAveragePooling2D(),
            layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(0.005),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    model.fit(X_train, y_train, epochs=20, batch_size=16, verbose=0)
    accuracy = float(np.mean(model.predict(X_test, verbose=0).argmax(axis=1) == y_test))
    assert accuracy >= 0.85
