"""The CNN's parameter surface: architecture= and model__<field>."""

import pickle
import warnings

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.utils._param_validation import InvalidParameterError

from skleuk import make_pipeline
from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network._architectures import ARCHITECTURE_PARAMS
from skleuk.neural_network._params import architecture_spec
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
    as_dict = architecture_spec({"preset": preset, **fields}, {}, owner=OWNER)
    routed = {f"model__{k}": v for k, v in fields.items()}
    as_routed = architecture_spec(preset, routed, owner=OWNER)
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


def test_routing_is_owned_not_scikeras_private_state():
    # get_params/set_params/current_epoch/callbacks are this package's own;
    # SciKeras's _user_params is never set.
    clf = LightweightCNNClassifier(model__filters=4, optimizer__momentum=0.9)
    assert "_user_params" not in vars(clf)
    assert {"fit", "model", "optimizer", "predict"} <= set(clf._routing_prefixes)
    assert clf.current_epoch == 0
    clf.set_params(fit__shuffle=False)
    assert clone(clf).get_params()["fit__shuffle"] is False
    with pytest.raises(ValueError, match="Invalid parameter 'bogus'"):
        clf.set_params(bogus=1)
    # SciKeras's callbacks__<i>__<arg> routing is not supported: an error
    X, y = make_images(n=8, size=16, n_classes=2)
    with pytest.raises(ValueError, match="Invalid parameter 'callbacks__0__x'"):
        clf.set_params(callbacks__0__x=1)
    with pytest.raises(ValueError, match="Unknown parameter 'callbacks__0__x'"):
        LightweightCNNClassifier(**tiny_cnn(), callbacks__0__x=1).initialize(X, y)


def test_callbacks_are_checked_and_classes_instantiated():
    import keras

    X, y = make_images(n=8, size=16, n_classes=2)
    clf = LightweightCNNClassifier(
        **tiny_cnn(callbacks=[keras.callbacks.TerminateOnNaN]),
        fit__callbacks=[keras.callbacks.History()],
    ).initialize(X, y)
    assert [type(cb).__name__ for cb in clf._fit_callbacks] == [
        "TerminateOnNaN", "History"
    ]
    assert [type(cb).__name__ for cb in clf._predict_callbacks] == ["TerminateOnNaN"]
    with pytest.raises(TypeError, match="fit__callbacks must be a keras"):
        LightweightCNNClassifier(**tiny_cnn(), fit__callbacks=[print]).initialize(X, y)
