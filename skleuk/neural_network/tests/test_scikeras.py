"""The CNN as a SciKeras classifier: its __init__, build hook, routing
(model__, optimizer__, compile__, fit__, predict__, callbacks__), fit loop,
history_ and initialize; and the architecture's two spellings."""

import pickle
import warnings

import keras
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scikeras.wrappers import KerasClassifier
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skleuk import make_pipeline
from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network._architectures import ARCHITECTURE_PARAMS
from skleuk.neural_network._cnn import _architecture_spec
from skleuk.neural_network.tests._data import make_images, tiny_cnn

OWNER = "LightweightCNNClassifier"


def _conv_filters(model):
    return [layer.filters for layer in model.layers if layer.name.startswith("conv")]


def test_dict_architecture_and_model_params_round_trip():
    clf = LightweightCNNClassifier(
        {"preset": "light", "filters": 8, "dense_units": 16},
        model__kernel_size=5,
        optimizer__momentum=0.9,
        optimizer="sgd",
    )
    params = clf.get_params()
    assert params["architecture"] == {"preset": "light", "filters": 8,
                                      "dense_units": 16}
    assert params["model__kernel_size"] == 5
    twin = clone(clf)
    assert twin.get_params() == params
    assert twin.get_params()["architecture"] is not params["architecture"]
    assert LightweightCNNClassifier(**params).get_params() == params
    twin.set_params(model__filters=(4, 8, 8), architecture={"preset": "light"})
    assert twin.get_params()["model__filters"] == (4, 8, 8)
    assert clf.get_params() == params  # the original is untouched
    loaded = pickle.loads(pickle.dumps(twin))
    assert loaded.get_params() == twin.get_params()


def test_model_params_override_the_architecture_dict():
    clf = LightweightCNNClassifier({"preset": "light", "filters": 8},
                                   model__filters=(2, 4, 6))
    assert _conv_filters(clf.build_model((16, 16, 3))) == [2, 4, 6]
    dict_only = LightweightCNNClassifier({"preset": "light", "filters": 8})
    assert _conv_filters(dict_only.build_model((16, 16, 3))) == [8, 8, 8]
    # "preset" defaults to the paper network
    paper = LightweightCNNClassifier({"dense_units": 32})
    model = paper.build_model((32, 32, 3))
    assert _conv_filters(model) == [64, 64, 64]
    assert model.get_layer("dense").units == 32


@settings(max_examples=25, deadline=None)
@given(
    preset=st.sampled_from(["paper", "light"]),
    fields=st.fixed_dictionaries(
        {},
        optional={
            "n_conv_layers": st.integers(1, 4),
            "kernel_size": st.integers(1, 5),
            "padding": st.sampled_from(["valid", "same"]),
            "dense_units": st.integers(0, 64),
            "dropout": st.floats(0, 0.9),
            "batch_norm": st.booleans(),
            "batch_norm_momentum": st.floats(0, 0.99),
            "conv_batch_norm": st.booleans(),
        },
    ),
)
def test_the_two_spellings_describe_the_same_network(preset, fields):
    as_dict = _architecture_spec({"preset": preset, **fields}, {}, OWNER)
    as_routed = _architecture_spec(preset, fields, OWNER)
    assert as_dict == as_routed == (preset, fields)


def test_grid_search_over_routed_model_fields():
    X, y = make_images(n=24, size=16, n_classes=2)
    pipe = make_pipeline(
        image_size=16, architecture="light", crop="passthrough",
        cnn__epochs=1, cnn__batch_size=8, cnn__augment=False,
        cnn__model__dense_units=4, cnn__random_state=0,
        cnn__optimizer="sgd",  # traces in half Adam's time
    )
    search = GridSearchCV(
        pipe,
        {"cnn__model__filters": [2, (2, 4, 4)]},
        cv=StratifiedKFold(2, shuffle=True, random_state=0),
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", FutureWarning)
        search.fit(X, y)
    assert [p["cnn__model__filters"] for p in search.cv_results_["params"]] == [
        2, (2, 4, 4)
    ]
    best = search.best_estimator_.named_steps["cnn"]
    expected = search.best_params_["cnn__model__filters"]
    expected = [expected] * 3 if isinstance(expected, int) else list(expected)
    assert _conv_filters(best.model_) == expected


def test_the_former_flat_architecture_parameters_are_unknown():
    X, y = make_images(n=8, size=16, n_classes=2)
    for name in ARCHITECTURE_PARAMS:
        with pytest.raises(ValueError, match=f"Unknown parameter '{name}'"):
            LightweightCNNClassifier(**{name: 4}).initialize(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"model__depth": 3}, r"model__depth"),
        ({"architecture": {"preset": "light", "depth": 3}},
         r"unknown key\(s\) \['depth'\]"),
        ({"model__dropout": 1.5}, r"dropout must be a float in \[0, 1\)"),
    ],
)
def test_invalid_or_conflicting_architecture_spellings(params, match):
    X, y = make_images(n=8, size=16, n_classes=2)
    with pytest.raises(ValueError, match=match):
        LightweightCNNClassifier(**params).initialize(X, y)


def test_invalid_fields_are_invalid_parameter_errors():
    X, y = make_images(n=8, size=16, n_classes=2)
    for params in ({"model__kernel_size": 0}, {"architecture": {"padding": "x"}}):
        with pytest.raises(InvalidParameterError):
            LightweightCNNClassifier(**params).fit(X, y)


def test_make_pipeline_accepts_routed_model_fields():
    pipe = make_pipeline(cnn__model__filters=8, architecture={"preset": "light"})
    assert pipe.get_params()["cnn__model__filters"] == 8
    assert pipe.get_params()["cnn__architecture"] == {"preset": "light"}
    with pytest.raises(ValueError, match="no parameter 'modle'"):
        make_pipeline(cnn__modle__filters=8)




# ----------------------------------------------------------------------------
# SciKeras integration
# ----------------------------------------------------------------------------
@pytest.fixture
def keras_fit_calls(monkeypatch):
    """The keyword arguments of every keras.Model.fit call."""
    calls = []
    original = keras.Model.fit

    def spy(model, x=None, y=None, **kwargs):
        calls.append({"x": x, "y": y, **kwargs})
        return original(model, x, y, **kwargs)

    monkeypatch.setattr(keras.Model, "fit", spy)
    return calls


def test_kerasclassifier_init_runs_with_the_routed_parameters(monkeypatch):
    seen = []
    original = KerasClassifier.__init__

    def spy(self, *args, **kwargs):
        seen.append(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(KerasClassifier, "__init__", spy)
    clf = LightweightCNNClassifier(
        epochs=3, optimizer="sgd", model__filters=4, optimizer__momentum=0.9
    )
    (kwargs,) = seen
    assert kwargs["epochs"] == 3 and kwargs["optimizer"] == "sgd"
    assert kwargs["model__filters"] == 4 and kwargs["optimizer__momentum"] == 0.9
    assert kwargs["model"] is None and kwargs["loss"] is None
    # SciKeras's own bookkeeping of routed constructor arguments
    assert clf._user_params == {"model__filters", "optimizer__momentum"}
    assert isinstance(clf, KerasClassifier)


def test_the_network_is_built_by_scikeras_through_its_build_hook(monkeypatch):
    calls = []
    original = LightweightCNNClassifier._keras_build_fn

    def spy(self, meta, compile_kwargs, params, **fields):
        calls.append((meta, compile_kwargs, fields))
        return original(self, meta, compile_kwargs, params, **fields)

    monkeypatch.setattr(LightweightCNNClassifier, "_keras_build_fn", spy)
    X, y = make_images(n=16, size=16, n_classes=2)
    clf = LightweightCNNClassifier(**tiny_cnn(), optimizer__momentum=0.5)
    clf.initialize(X, y)
    ((meta, compile_kwargs, fields),) = calls
    assert fields == {"filters": 4, "dense_units": 8}  # the model__ parameters
    assert meta["n_classes_"] == 2 and meta["input_shape_"] == (16, 16, 3)
    # SciKeras built the optimizer from optimizer= and optimizer__momentum;
    # the network got a copy of it (fits never share optimizer state).
    assert isinstance(compile_kwargs["optimizer"], keras.optimizers.SGD)
    assert compile_kwargs["optimizer"].momentum == 0.5
    assert clf.model_.optimizer is not compile_kwargs["optimizer"]
    assert clf.model_.optimizer.momentum == 0.5


def test_routed_parameters_reach_keras(keras_fit_calls):
    X, y = make_images(n=24, size=16, n_classes=2)
    clf = LightweightCNNClassifier(
        **tiny_cnn(epochs=1, callbacks=[keras.callbacks.EarlyStopping],
                   model__filters=(2, 4, 6)),
        optimizer__nesterov=True,
        compile__jit_compile=False,
        fit__shuffle=False,
        callbacks__0__patience=7,
        callbacks__0__monitor="loss",
        predict__batch_size=5,
    ).fit(X, y)
    assert _conv_filters(clf.model_) == [2, 4, 6]  # model__
    assert clf.model_.optimizer.nesterov is True  # optimizer__
    assert clf.model_.jit_compile is False  # compile__
    call = keras_fit_calls[-1]
    assert call["shuffle"] is False  # fit__
    assert call["batch_size"] == 16 and call["epochs"] == 1
    early = keras.callbacks.EarlyStopping
    (cb,) = [c for c in call["callbacks"] if isinstance(c, early)]
    assert cb.patience == 7  # callbacks__<i>__<arg> built the callback class
    # predict__batch_size sends prediction through Keras's predict loop
    batches = []
    clf.set_params(
        predict__callbacks=[keras.callbacks.LambdaCallback(
            on_predict_batch_end=lambda batch, logs: batches.append(batch))]
    ).fit(X, y)
    clf.predict_proba(X)
    assert len(batches) == 5  # ceil(24 / 5)
    # callbacks__<i>__<arg> is a routed parameter for set_params and clone too
    clf.set_params(callbacks__0__patience=3)
    assert clone(clf).get_params()["callbacks__0__patience"] == 3


def test_history_and_current_epoch_are_scikeras_s():
    X, y = make_images(n=16, size=16, n_classes=2)
    clf = LightweightCNNClassifier(**tiny_cnn(epochs=2, warm_start=True))
    assert clf.current_epoch == 0
    clf.fit(X, y)
    assert set(clf.history_) == {"loss", "accuracy"}
    assert len(clf.history_["loss"]) == clf.current_epoch == clf.n_iter_ == 2
    clf.fit(X, y)  # warm start: the history goes on
    assert len(clf.history_["loss"]) == clf.current_epoch == 4
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    clf.set_params(warm_start=False).fit(X, y)  # a new network: a new history
    assert clf.current_epoch == 2
    clf.set_params(metrics=["accuracy", keras.metrics.AUC]).fit(X, y)
    assert {"loss", "accuracy", "auc"} <= set(clf.history_)


def test_initialize_then_predict_then_train_the_same_network():
    X, y = make_images(n=16, size=16, n_classes=2, labels=["a", "b"])
    clf = LightweightCNNClassifier(**tiny_cnn(epochs=1, warm_start=True),
                                   random_state=0).initialize(X, y)
    assert clf.initialized_ and clf.current_epoch == 0 and clf.n_iter_ == 0
    untrained = clf.predict_proba(X)
    assert untrained.shape == (16, 2)
    np.testing.assert_array_equal(clf.classes_, ["a", "b"])
    model = clf.model_
    clf.fit(X, y)
    assert clf.model_ is model and clf.current_epoch == 1
    assert not np.allclose(clf.predict_proba(X), untrained)
    with pytest.raises(ValueError, match="needs y"):
        LightweightCNNClassifier(**tiny_cnn()).initialize(X, None)


def test_scikeras_parameters_fixed_or_honoured(keras_fit_calls):
    X, y = make_images(n=20, size=16, n_classes=2)
    for fixed in ("model", "build_fn", "loss"):
        with pytest.raises(InvalidParameterError, match=f"'{fixed}' parameter"):
            LightweightCNNClassifier(**tiny_cnn(), **{fixed: "mse"}).fit(X, y)
    clf = LightweightCNNClassifier(**tiny_cnn(epochs=1), validation_split=0.25)
    clf.fit(X, y)
    assert "val_loss" in clf.history_
    assert keras_fit_calls[-1]["validation_split"] == 0.25
    for other in ({"early_stopping": True}, {"mixup": 0.2}):
        with pytest.raises(ValueError, match="validation_split"):
            clone(clf).set_params(**other).fit(X, y)


def test_zero_weight_images_are_left_out(keras_fit_calls):
    # SciKeras drops images of weight 0 before training (as scikit-learn's
    # estimators would ignore them).
    X, y = make_images(n=20, size=16, n_classes=2)
    weights = np.ones(20)
    weights[:4] = 0
    LightweightCNNClassifier(**tiny_cnn(epochs=1)).fit(X, y, sample_weight=weights)
    assert len(keras_fit_calls[-1]["x"]) == 16
    assert weights[:4].sum() == 0  # the caller's array is untouched


def test_callbacks_are_checked_and_classes_instantiated():
    X, y = make_images(n=8, size=16, n_classes=2)
    clf = LightweightCNNClassifier(
        **tiny_cnn(callbacks=[keras.callbacks.TerminateOnNaN]),
        fit__callbacks=[keras.callbacks.History()],
    ).initialize(X, y)
    assert [type(cb).__name__ for cb in clf._fit_callbacks] == [
        "TerminateOnNaN", "History"
    ]
    assert [type(cb).__name__ for cb in clf._predict_callbacks] == ["TerminateOnNaN"]
    with pytest.raises(TypeError, match="callbacks`` must be one of"):
        LightweightCNNClassifier(**tiny_cnn(), fit__callbacks=[print]).initialize(X, y)


def test_unknown_parameters_are_refused_at_fit_and_pickling_keeps_routing():
    X, y = make_images(n=8, size=16, n_classes=2)
    clf = LightweightCNNClassifier(**tiny_cnn(), epoch=3)
    with pytest.raises(ValueError, match="Unknown parameter 'epoch'"):
        clf.initialize(X, y)
    with pytest.raises(ValueError, match="Invalid parameter"):
        LightweightCNNClassifier().set_params(bogus=1)
    clf = LightweightCNNClassifier(**tiny_cnn(), fit__shuffle=False)
    loaded = pickle.loads(pickle.dumps(clf))
    assert loaded.get_params() == clf.get_params()
    assert loaded._user_params == clf._user_params
