import random

import keras
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from tensorflow.python.framework import config as tf_config

from skleuk.neural_network import (
    LightweightCNNClassifier,
    RandomColorJitter,
    RandomDihedral,
)
from skleuk.neural_network.tests._data import TINY_CNN, make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny
from skleuk.utils.validation import check_images

LABELS = np.array(["Benign", "Early", "Pre", "Pro"])


@pytest.fixture(scope="module")
def data4():
    return make_images(n=48, size=16, n_classes=4, labels=LABELS, random_state=0)


@pytest.fixture(scope="module")
def fitted4(data4):
    X, y = data4
    return LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y)


@pytest.fixture(scope="module")
def augmented4(data4):
    """A seeded 1-epoch fit with the training-time augmentation (read-only)."""
    X, y = data4
    return LightweightCNNClassifier(
        **tiny(augment=True, epochs=1, random_state=0)
    ).fit(X, y)


# ----------------------------------------------------------------------------
# parameters
# ----------------------------------------------------------------------------
def test_defaults_are_the_paper():
    clf = LightweightCNNClassifier()
    params = clf.get_params()
    assert params["architecture"] == "paper"
    assert params["optimizer"] == "adam"
    assert params["epochs"] == 30 and params["batch_size"] == 64
    assert params["verbose"] == 0
    assert params["augment"] is True


def test_get_set_params_and_clone_round_trip():
    clf = LightweightCNNClassifier(
        "light", model__filters=(4, 8, 8), optimizer="sgd", optimizer__momentum=0.9
    )
    params = clf.get_params()
    assert params["model__filters"] == (4, 8, 8)
    assert params["optimizer__momentum"] == 0.9
    clf.set_params(epochs=3, learning_rate=0.05, optimizer__nesterov=True)
    twin = clone(clf)
    assert twin is not clf
    assert twin.get_params() == clf.get_params()
    assert twin.get_params()["optimizer__nesterov"] is True
    assert LightweightCNNClassifier(**clf.get_params()).get_params() == clf.get_params()
    with pytest.raises(ValueError, match="Invalid parameter"):
        clf.set_params(not_a_param=1)


def test_repr_is_short():
    assert repr(LightweightCNNClassifier(epochs=5)) == (
        "LightweightCNNClassifier(epochs=5)"
    )


def test_fitted_attributes_are_not_params(fitted4):
    names = set(fitted4.get_params(deep=False))
    assert not any(n.endswith("_") for n in names)
    # fitting adds no parameter (the routed model__ ones come from tiny())
    unfitted = LightweightCNNClassifier(**tiny(random_state=0))
    assert names == set(unfitted.get_params(deep=False))


@pytest.mark.parametrize(
    "params",
    [{"epochs": 0}, {"optimizer": 3}, {"model__dropout": 1.5}, {"augment": "yes"},
     {"class_weight": "auto"}, {"dtype_policy": "float16"}, {"architecture": "x"},
     {"architecture": {"dropout": 1.5}}, {"architecture": {"preset": "x"}},
     {"architecture": ["light"]}, {"mixup": -0.1}, {"mixup": "yes"}],
)
def test_invalid_parameters(params, data4):
    X, y = data4
    with pytest.raises(InvalidParameterError):
        LightweightCNNClassifier(**params).fit(X, y)


def test_unknown_parameter_and_optimizer(data4):
    X, y = data4
    with pytest.raises(ValueError, match="Unknown parameter 'epoch'"):
        LightweightCNNClassifier(epoch=3).fit(X, y)
    with pytest.raises(ValueError, match="Unknown optimizer 'adamx'"):
        LightweightCNNClassifier(**tiny(optimizer="adamx")).fit(X, y)
    with pytest.raises(ValueError, match=r"Invalid optimizer arguments "
                       r"\['optimizer__wrong'\] for SGD; it takes .*'momentum'"):
        LightweightCNNClassifier(**tiny(optimizer__wrong=1)).fit(X, y)
    with pytest.raises(ValueError, match="need optimizer to be a name or a class"):
        LightweightCNNClassifier(
            **tiny(optimizer=keras.optimizers.SGD(), optimizer__momentum=0.9)
        ).fit(X, y)


# ----------------------------------------------------------------------------
# multi-class, labels, probabilities
# ----------------------------------------------------------------------------
def test_string_labels_multiclass(fitted4, data4):
    X, y = data4
    np.testing.assert_array_equal(fitted4.classes_, LABELS)
    assert fitted4.n_classes_ == 4
    assert fitted4.input_shape_ == (16, 16, 3)
    proba = fitted4.predict_proba(X)
    assert proba.shape == (48, 4) and proba.dtype == np.float64
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=0, atol=1e-12)
    pred = fitted4.predict(X)
    assert set(pred) <= set(LABELS)
    np.testing.assert_array_equal(pred, fitted4.classes_[proba.argmax(axis=1)])
    # one sample keeps 2-D probabilities
    assert fitted4.predict_proba(X[:1]).shape == (1, 4)
    # columns follow classes_: the one-hot target of "Pre" is column 2
    np.testing.assert_array_equal(
        fitted4.target_encoder_.transform(np.array(["Pre"])), [[0, 0, 1, 0]]
    )
    assert 0.0 <= fitted4.score(X, y) <= 1.0
    assert fitted4.n_iter_ == 2 and len(fitted4.history_["loss"]) == 2


def test_learns_a_planted_signal_with_unsorted_labels():
    """Columns of predict_proba follow classes_ (sorted), not label order."""
    X, y = make_images(n=64, size=16, n_classes=3, labels=["z", "a", "m"])
    clf = LightweightCNNClassifier(
        {"filters": 4, "kernel_size": 3, "dense_units": 16, "batch_norm": False},
        epochs=15, batch_size=16, learning_rate=0.01, random_state=0,
        augment=False,
    ).fit(X, y)
    np.testing.assert_array_equal(clf.classes_, ["a", "m", "z"])
    assert clf.score(X, y) >= 0.9
    proba = clf.predict_proba(X)
    for j, label in enumerate(clf.classes_):
        assert proba[y == label, j].mean() > 0.5


def test_integer_and_bool_labels():
    X, y = make_images(n=32, size=16, n_classes=2)
    clf = LightweightCNNClassifier(**tiny(epochs=1)).fit(X, y == 1)
    assert clf.classes_.dtype == bool
    assert clf.predict(X).dtype == bool
    clf = LightweightCNNClassifier(**tiny(epochs=1)).fit(X, y + 5)
    np.testing.assert_array_equal(clf.classes_, [5, 6])
    assert clf.predict_proba(X).shape == (32, 2)


def test_grayscale_and_standardised_inputs():
    X, y = make_images(n=32, size=16, n_classes=2)
    gray = X[..., 0]
    clf = LightweightCNNClassifier(**tiny(epochs=1)).fit(gray, y)
    assert clf.input_shape_ == (16, 16, 3)
    standardised = (X - X.mean()) / X.std()
    assert standardised.min() < 0
    clf.fit(standardised.astype(np.float32), y)
    assert clf.predict_proba(standardised).shape == (32, 2)


# ----------------------------------------------------------------------------
# errors
# ----------------------------------------------------------------------------
def test_not_fitted_errors(data4):
    X, _ = data4
    clf = LightweightCNNClassifier()
    for method in (clf.predict, clf.predict_proba):
        with pytest.raises(NotFittedError):
            method(X)
    with pytest.raises(NotFittedError, match="input_shape"):
        clf.summary()
    with pytest.raises(NotFittedError):
        clf.export_keras("never.keras")


def test_one_class_is_a_clear_error(data4):
    X, _ = data4
    with pytest.raises(ValueError, match="only one class.*'Benign'"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, ["Benign"] * len(X))


def test_bad_labels():
    X, _ = make_images(n=8, size=16)
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, np.linspace(0, 1, 8))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, [0, 1] * 3)
    with pytest.raises(ValueError, match="1d array"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, np.eye(8))


def test_wrong_channel_count_and_paths():
    X = np.zeros((4, 16, 16, 2), np.uint8)
    with pytest.raises(ValueError, match="got 2 channels"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, [0, 1, 0, 1])
    with pytest.raises(TypeError, match="ImageReader"):
        LightweightCNNClassifier(**TINY_CNN).fit(["a.png", "b.png"], [0, 1])


def test_wrong_size_at_predict_is_clear(fitted4):
    X, _ = make_images(n=4, size=20)
    with pytest.raises(ValueError, match=r"20x20 pixels.*fitted on 16x16.*size=16"):
        fitted4.predict(X)
    with pytest.raises(ValueError, match="got 2 channels"):
        fitted4.predict(np.zeros((2, 16, 16, 2), np.uint8))


def test_too_small_images_for_the_paper_network(data4):
    X, y = data4
    with pytest.raises(ValueError, match="too small.*at least 19x19"):
        LightweightCNNClassifier(epochs=1).fit(X, y)


# ----------------------------------------------------------------------------
# reproducibility
# ----------------------------------------------------------------------------
def test_random_state_gives_identical_fits(data4, fitted4):
    # Another thread drawing from the global ``random`` between fits (a Dask
    # worker's event loop) must not change a seeded fit either.
    X, y = data4
    random.seed(12345)
    random.random()
    again = LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), fitted4.predict_proba(X))
    other = LightweightCNNClassifier(**tiny(random_state=1)).fit(X, y)
    assert not np.array_equal(other.predict_proba(X), fitted4.predict_proba(X))


def test_augmented_fit_is_reproducible(data4, augmented4):
    X, y = data4
    again = LightweightCNNClassifier(**augmented4.get_params()).fit(X, y)
    np.testing.assert_array_equal(
        again.predict_proba(X), augmented4.predict_proba(X)
    )


def test_seeding_restores_global_state(data4):
    X, y = data4
    assert not tf_config.is_op_determinism_enabled()
    np_state = np.random.get_state()[1].copy()  # noqa: NPY002
    py_state = random.getstate()
    LightweightCNNClassifier(**tiny(epochs=1, random_state=7)).fit(X, y)
    assert not tf_config.is_op_determinism_enabled()
    np.testing.assert_array_equal(np.random.get_state()[1], np_state)  # noqa: NPY002
    assert random.getstate() == py_state


def test_seeded_network_does_not_draw_from_global_random(data4, monkeypatch):
    # Every random layer (initialisers, dropout, augmentation incl. the
    # rotation and zoom layers) gets a seed derived from random_state:
    # building the network never asks Python's global ``random``.
    X, y = data4
    kw = tiny(
        augment={"flip": True, "rotation": 0.1, "scale": 0.1, "brightness": 0.05},
        random_state=5,
    )
    reference = LightweightCNNClassifier(**kw).initialize(X, y)

    def forbidden(*args, **kwargs):
        raise AssertionError("global random drawn while building a seeded model")

    monkeypatch.setattr(random, "randint", forbidden)
    again = LightweightCNNClassifier(**kw).initialize(X, y)
    for a, b in zip(reference.model_.weights, again.model_.weights, strict=True):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    seeds = [
        layer.seed
        for layer in again.model_.layers
        if layer.name in ("augment_geometry", "augment_rotation", "augment_scale",
                          "augment_color", "dropout")
    ]
    assert len(seeds) == 5 and all(isinstance(s, int) for s in seeds)
    assert len(set(seeds)) == len(seeds)


def test_seeded_fit_in_joblib_worker_equals_serial(data4, fitted4):
    from joblib import Parallel, delayed

    X, y = data4

    def fit_proba(X, y):
        clf = LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y)
        return clf.predict_proba(X)

    (remote,) = Parallel(n_jobs=2, backend="loky")(
        delayed(fit_proba)(X, y) for _ in range(1)
    )
    np.testing.assert_array_equal(remote, fitted4.predict_proba(X))


def test_random_state_instance_is_consumed(data4):
    X, y = data4
    rs = np.random.RandomState(0)
    clf = LightweightCNNClassifier(**tiny(epochs=1, random_state=rs))
    assert clf._seed() != clf._seed()  # successive fits draw new seeds
    p1 = clone(clf).set_params(random_state=np.random.RandomState(0)).fit(X, y)
    p2 = clone(clf).set_params(random_state=np.random.RandomState(0)).fit(X, y)
    np.testing.assert_array_equal(p1.predict_proba(X), p2.predict_proba(X))


# ----------------------------------------------------------------------------
# augmentation only while training
# ----------------------------------------------------------------------------
def test_augmentation_is_inactive_at_prediction(data4, augmented4):
    X, y = data4
    aug = augmented4
    kinds = [type(layer) for layer in aug.model_.layers]
    assert RandomDihedral in kinds and RandomColorJitter in kinds
    first = aug.predict_proba(X)
    np.testing.assert_array_equal(aug.predict_proba(X), first)  # deterministic
    plain = LightweightCNNClassifier(**tiny(augment=False)).initialize(X, y)
    assert not {RandomDihedral, RandomColorJitter} & {
        type(layer) for layer in plain.model_.layers
    }
    for layer in plain.model_.layers:
        if layer.weights:
            layer.set_weights(aug.model_.get_layer(layer.name).get_weights())
    np.testing.assert_array_equal(plain.predict_proba(X), first)
    # and the network's own inference call ignores the augmentation too
    direct = aug.model_(X.astype(np.float32) / 255, training=False)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(direct), first, atol=1e-6)


def test_augmentation_changes_training(data4, augmented4):
    X, y = data4
    plain = augmented4.get_params() | {"augment": False}
    b = LightweightCNNClassifier(**plain).fit(X, y).predict_proba(X)
    assert not np.allclose(augmented4.predict_proba(X), b)


# ----------------------------------------------------------------------------
# class weights, sample weights, early stopping
# ----------------------------------------------------------------------------
@pytest.fixture
def captured(monkeypatch):
    """The arguments of every keras.Model.fit call (what Keras trains on)."""
    calls = []
    original = keras.Model.fit

    def spy(model, x=None, y=None, **kwargs):
        calls.append({"X": x, "y": y, **kwargs})
        return original(model, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return calls


def test_class_weight_balanced(captured):
    X, y = make_images(n=40, size=16, n_classes=2)
    y = np.where(np.arange(40) < 30, "ALL", "healthy")
    sw = np.ones(40)
    LightweightCNNClassifier(**tiny(epochs=1, class_weight="balanced")).fit(
        X, y, sample_weight=sw
    )
    weights = captured[-1]["sample_weight"]
    np.testing.assert_allclose(weights[y == "ALL"], 40 / (2 * 30))
    np.testing.assert_allclose(weights[y == "healthy"], 40 / (2 * 10))
    np.testing.assert_array_equal(sw, 1.0)  # the caller's array is untouched
    weights = {"ALL": 2.0, "healthy": 1.0}
    LightweightCNNClassifier(**tiny(epochs=1, class_weight=weights)).fit(
        X, y, sample_weight=np.full(40, 0.5)
    )
    expected = np.where(y == "ALL", 1.0, 0.5)
    np.testing.assert_allclose(captured[-1]["sample_weight"], expected)
    LightweightCNNClassifier(**tiny(epochs=1)).fit(X, y)
    assert captured[-1]["sample_weight"] is None
    with pytest.raises(ValueError, match="zero"):
        LightweightCNNClassifier(**TINY_CNN).fit(X, y, sample_weight=np.zeros(40))


def test_early_stopping_validates_on_a_stratified_slice_of_the_training_data(
    captured,
):
    X, y = make_images(n=50, size=16, n_classes=2)
    clf = LightweightCNNClassifier(
        **tiny(early_stopping=True, validation_fraction=0.2, random_state=0)
    ).fit(X, y)
    call = captured[-1]
    Xv, yv = call["validation_data"][:2]
    assert len(Xv) == 10 and len(call["X"]) == 40
    np.testing.assert_array_equal(yv.sum(axis=0), [5, 5])  # stratified
    # validation and training images are disjoint parts of the fit data
    flat = check_images(X).reshape(50, -1)
    tr = {flat.tolist().index(row) for row in call["X"].reshape(40, -1).tolist()}
    va = {flat.tolist().index(row) for row in Xv.reshape(10, -1).tolist()}
    assert not tr & va and len(tr | va) == 50
    assert "val_loss" in clf.history_
    assert clf.n_iter_ == len(clf.history_["val_loss"]) <= 2


def test_early_stopping_stops_and_without_it_no_validation(captured):
    X, y = make_images(n=40, size=16, n_classes=2)
    # a vanishing learning rate: the validation loss never improves
    clf = LightweightCNNClassifier(
        **tiny(epochs=20, model__batch_norm=False, model__dropout=0.0,
               learning_rate=1e-30),
        early_stopping=True,
        n_iter_no_change=2,
        random_state=0,
    ).fit(X, y)
    assert clf.n_iter_ == 3
    LightweightCNNClassifier(**tiny(epochs=1)).fit(X, y)
    assert "validation_data" not in captured[-1] and len(captured[-1]["X"]) == 40


def test_early_stopping_needs_enough_images():
    X, y = make_images(n=6, size=16, n_classes=2)
    with pytest.raises(ValueError, match="early_stopping=True could not hold out"):
        LightweightCNNClassifier(
            **tiny(early_stopping=True, validation_fraction=0.1)
        ).fit(X, y)


def test_batch_norm_is_recalibrated_on_the_training_images(captured):
    X, y = make_images(n=40, size=16, n_classes=2)
    clf = LightweightCNNClassifier(
        **tiny(epochs=1, early_stopping=True, validation_fraction=0.25,
               augment=True, random_state=0)
    ).fit(X, y)
    X_train = captured[-1]["X"]  # the validation slice is excluded
    assert len(X_train) == 30
    bn = clf.model_.get_layer("batch_norm")
    inputs = keras.Model(clf.model_.inputs[0], bn.input)(X_train, training=False)
    inputs = np.asarray(inputs, dtype=np.float64)
    np.testing.assert_allclose(bn.moving_mean, inputs.mean(axis=0), atol=1e-5)
    np.testing.assert_allclose(bn.moving_variance, inputs.var(axis=0), atol=1e-5)
    keras_averages = LightweightCNNClassifier(
        **tiny(epochs=1, early_stopping=True, validation_fraction=0.25,
               augment=True, random_state=0),
        recalibrate_batch_norm=False,
    ).fit(X, y)
    bn = keras_averages.model_.get_layer("batch_norm")
    assert not np.allclose(bn.moving_mean, inputs.mean(axis=0), atol=1e-3)


# ----------------------------------------------------------------------------
# optimizers, warm start, partial_fit, callbacks, dtype policy
# ----------------------------------------------------------------------------
def test_optimizer_choices(data4):
    X, y = data4
    clf = LightweightCNNClassifier(
        **tiny(epochs=1, optimizer="sgd", learning_rate=0.05),
        optimizer__momentum=0.9,
    ).fit(X, y)
    opt = clf.model_.optimizer
    assert isinstance(opt, keras.optimizers.SGD)
    assert float(opt.learning_rate) == pytest.approx(0.05)
    assert opt.momentum == pytest.approx(0.9)
    # an optimizer instance is copied for every fit: fits never share state
    instance = keras.optimizers.Adam(learning_rate=0.002)
    a = LightweightCNNClassifier(**tiny(epochs=1, optimizer=instance)).fit(X, y)
    b = clone(a).fit(X, y)
    assert a.model_.optimizer is not instance and b.model_.optimizer is not instance
    assert float(b.model_.optimizer.learning_rate) == pytest.approx(0.002)
    c = LightweightCNNClassifier(**tiny(epochs=1, optimizer=keras.optimizers.SGD))
    assert isinstance(c.fit(X, y).model_.optimizer, keras.optimizers.SGD)


def test_warm_start_and_partial_fit(data4):
    X, y = data4
    clf = LightweightCNNClassifier(**tiny(epochs=1, warm_start=True))
    clf.fit(X, y)
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model and clf.n_iter_ == 2
    pf = LightweightCNNClassifier(**TINY_CNN)
    pf.partial_fit(X[:8], y[:8], classes=LABELS)
    np.testing.assert_array_equal(pf.classes_, LABELS)
    pf.partial_fit(X, y)
    assert pf.n_iter_ == 2 and pf.current_epoch == 2
    with pytest.raises(ValueError, match="not seen in the first fit"):
        pf.partial_fit(X[:2], ["Other", "Pre"])


def test_callbacks_are_called(data4):
    X, y = data4
    epochs = []
    cb = keras.callbacks.LambdaCallback(on_epoch_end=lambda e, logs: epochs.append(e))
    LightweightCNNClassifier(**tiny(callbacks=[cb])).fit(X, y)
    assert epochs == [0, 1]


def test_mixed_bfloat16_policy(data4):
    X, y = data4
    clf = LightweightCNNClassifier(
        **tiny(epochs=1, dtype_policy="mixed_bfloat16")
    ).fit(X, y)
    assert clf.model_.get_layer("conv1").compute_dtype == "bfloat16"
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


# ----------------------------------------------------------------------------
# summary, export
# ----------------------------------------------------------------------------
def test_summary(fitted4):
    lines = []
    LightweightCNNClassifier().summary((64, 64, 3), print_fn=lines.append)
    text = "\n".join(lines)
    assert "1,482,562" in text and "conv3" in text
    lines.clear()
    fitted4.summary(print_fn=lines.append)
    trainable = sum(int(np.prod(w.shape)) for w in fitted4.model_.trainable_weights)
    assert f"Trainable params: {trainable:,}" in "\n".join(lines)
    assert LightweightCNNClassifier().build_model((32, 32, 3)).count_params() == 433_986


def test_export_keras(fitted4, data4, tmp_path):
    X, _ = data4
    path = tmp_path / "cnn.keras"
    assert fitted4.export_keras(path) == path
    model = keras.saving.load_model(path)  # safe_mode: no code runs
    np.testing.assert_allclose(
        model.predict(X.astype(np.float32) / 255, verbose=0),
        fitted4.predict_proba(X),
        atol=1e-6,
    )
    stamp = path.stat().st_mtime_ns
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fitted4.export_keras(path)
    assert path.stat().st_mtime_ns == stamp
    fitted4.export_keras(str(path), overwrite=True)
    with pytest.raises(ValueError, match=r"\.keras"):
        fitted4.export_keras(tmp_path / "cnn.h5")


def test_sklearn_is_fitted(fitted4):
    assert fitted4.__sklearn_is_fitted__()
    assert not LightweightCNNClassifier().__sklearn_is_fitted__()


# ----------------------------------------------------------------------------
# training recipe: schedule, weight decay, label smoothing, TTA, augmentation
# ----------------------------------------------------------------------------
def test_cosine_schedule_warms_up_and_decays(data4, fitted4):
    X, y = data4
    clf = LightweightCNNClassifier(
        **tiny(epochs=2, batch_size=8, random_state=0),
        lr_schedule="cosine", warmup=0.25, learning_rate=0.01,
    ).fit(X, y)
    lr = clf.model_.optimizer.learning_rate
    schedule = clf.model_.optimizer._learning_rate
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    total = 2 * int(np.ceil(X.shape[0] / 8))  # 12 steps
    assert schedule.warmup_steps == 3 and schedule.decay_steps == total - 3
    assert float(schedule(0)) == pytest.approx(0.0)
    assert float(schedule(3)) == pytest.approx(0.01)
    assert float(schedule(total)) == pytest.approx(0.0, abs=1e-7)
    assert float(lr) == pytest.approx(float(schedule(total)), abs=1e-7)
    # The constant default keeps the optimizer's own rate (SGD's 0.01 in
    # tiny(), Adam's is 0.001).
    const = fitted4
    assert isinstance(const.model_.optimizer, keras.optimizers.SGD)
    assert float(const.model_.optimizer.learning_rate) == pytest.approx(0.01)


def test_weight_decay_and_label_smoothing_reach_keras(data4):
    X, y = data4
    clf = LightweightCNNClassifier(
        **tiny(epochs=1, random_state=0), weight_decay=1e-3, label_smoothing=0.2
    ).fit(X, y)
    assert clf.model_.optimizer.weight_decay == pytest.approx(1e-3)
    assert clf.model_.loss.get_config()["label_smoothing"] == pytest.approx(0.2)


def test_mixup_trains_on_mixed_batches_reproducibly(data4):
    X, y = data4
    params = tiny(epochs=2, batch_size=8, random_state=0)
    plain = LightweightCNNClassifier(**params).fit(X, y)
    mixed = LightweightCNNClassifier(**params, mixup=0.4).fit(X, y)
    again = clone(mixed).fit(X, y)
    # Same seed, same mixtures: identical fits; and not the unmixed fit.
    np.testing.assert_array_equal(mixed.predict_proba(X), again.predict_proba(X))
    assert mixed.history_["loss"] != plain.history_["loss"]
    assert len(mixed.history_["loss"]) == 2
    # The same number of optimiser steps as without mixup (the schedule's
    # step count assumes it).
    assert int(mixed.model_.optimizer.iterations) == int(
        plain.model_.optimizer.iterations
    ) == 2 * int(np.ceil(len(X) / 8))
    # Validation data are not mixed: early stopping still works, with class
    # weights and sample weights mixed along with the images.
    es = LightweightCNNClassifier(
        **params, mixup=0.4, early_stopping=True, validation_fraction=0.25,
        class_weight="balanced",
    ).fit(X, y, sample_weight=np.linspace(0.5, 1.5, len(y)))
    assert {"val_loss", "val_accuracy"} <= set(es.history_)
    es.partial_fit(X, y)
    assert es.n_iter_ == len(es.history_["loss"])


def test_tta_averages_the_eight_views(fitted4, data4):
    X, _ = data4
    clf = clone(fitted4)
    clf.__dict__.update({k: v for k, v in fitted4.__dict__.items() if k.endswith("_")})
    clf.set_params(tta=True)
    proba = clf.predict_proba(X)
    Xf = check_images(X, value_range=None)
    views = [Xf, Xf[:, ::-1], Xf[:, :, ::-1], Xf[:, ::-1, ::-1]]
    views += [np.swapaxes(v, 1, 2) for v in views]
    expected = np.mean([fitted4.predict_proba(v) for v in views], axis=0)
    np.testing.assert_allclose(proba, expected, rtol=1e-5, atol=1e-6)
    assert not np.allclose(proba, fitted4.predict_proba(X))


def test_rotation_and_scale_augmentation_train_only(data4):
    X, y = data4
    clf = LightweightCNNClassifier(
        **tiny(epochs=1, random_state=0, augment={"rotation": 0.5, "scale": 0.2})
    ).fit(X, y)
    names = [layer.name for layer in clf.model_.layers]
    assert "augment_rotation" in names and "augment_scale" in names
    x = check_images(X[:4], value_range=None)
    for name in ("augment_rotation", "augment_scale"):
        layer = clf.model_.get_layer(name)
        np.testing.assert_array_equal(np.asarray(layer(x, training=False)), x)
        assert not np.allclose(np.asarray(layer(x, training=True)), x)
    with pytest.raises(ValueError, match="rotation"):
        LightweightCNNClassifier(**tiny(augment={"rotation": 2.0})).fit(X, y)
