"""make_pipeline(stain=...) and --stain: StainNormalizer as the color step."""

import argparse

import numpy as np
import pytest

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.preprocessing import ColorNormalizer, StainNormalizer


def test_stain_replaces_the_color_step_only():
    default = make_pipeline()
    pipe = make_pipeline(stain=True)
    assert [n for n, _ in pipe.steps] == [n for n, _ in default.steps]
    assert isinstance(pipe["color"], StainNormalizer)
    assert pipe["color"].method == "macenko"
    assert type(default["color"]) is ColorNormalizer
    for name, _ in default.steps:
        if name != "color":
            assert repr(pipe[name]) == repr(default[name]), name
    pipe = make_pipeline(stain="reinhard", color__od_threshold=0.2)
    assert pipe.get_params()["color__method"] == "reinhard"
    assert pipe.get_params()["color__od_threshold"] == 0.2
    mine = StainNormalizer(alpha=0.05)
    assert make_pipeline(stain=mine)["color"] is mine
    assert type(make_pipeline(stain=False)["color"]) is ColorNormalizer


def test_stain_errors():
    with pytest.raises(ValueError, match="stain must be"):
        make_pipeline(stain="vahadane")
    with pytest.raises(ValueError, match="both stain= and color="):
        make_pipeline(stain=True, color="passthrough")


def test_cli_stain_option():
    from skleuk.cli._model import _build_pipeline
    from skleuk.cli._parser import build_parser

    args = build_parser().parse_args(["train", "--data", "d", "--out", "m.joblib",
                                      "--stain", "reinhard"])  # fmt: skip
    assert args.stain == "reinhard"
    pipe = _build_pipeline(args, reader=False)
    assert pipe["color"].method == "reinhard"
    args = argparse.Namespace(epochs=1)
    assert type(_build_pipeline(args, reader=False)["color"]) is ColorNormalizer


@pytest.mark.slow
def test_fit_predict_with_stain_normalisation():
    X, y = make_blood_smears(16, image_size=32, random_state=0, return_X_y=True)
    pipe = make_pipeline(stain=True, image_size=32, cnn__epochs=1,
                         cnn__random_state=0, cnn__tta=False)  # fmt: skip
    proba = pipe.fit(X, y).predict_proba(X[:4])
    assert proba.shape == (4, 2) and np.isfinite(proba).all()
    assert pipe["color"].stain_matrix_.shape == (2, 3)
