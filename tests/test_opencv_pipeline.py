"""A pipeline gives the same output with and without OpenCV."""

import numpy as np
import pytest

from skleuk import config_context, make_pipeline
from skleuk.neural_network.tests._data import TINY_CNN

pytest.importorskip("cv2")

TINY = {f"cnn__{k}": v for k, v in TINY_CNN.items()}


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(
        n_samples=16, image_size=48, random_state=0, return_X_y=True
    )


def _chain_outputs(pre, X):
    """``pre.fit_transform(X)`` without and with OpenCV: (images in [0, 1]
    before the scaler, scaled output, scaler's scale -- 1 for "unit") of each."""
    outs = []
    for setting in (False, True):
        with config_context(opencv=setting):
            scaled = pre.fit_transform(X)
            images = pre[:-1].transform(X)
        outs.append((images, scaled, np.asarray(getattr(pre[-1], "scale_", 1.0))))
    return outs


def _assert_chain_same(pre, X):
    (im0, sc0, scale0), (im1, sc1, _) = _chain_outputs(pre, X)
    assert im1.shape == im0.shape and sc1.shape == sc0.shape
    # Images (RGB in [0, 1]): float32 rounding.
    assert float(np.max(np.abs(im1 - im0))) <= 1e-5
    # Standardised output: the same difference divided by the scaler's scale
    # (the pixel standard deviation, about 0.1-0.2 here).
    assert float(np.max(np.abs(sc1 - sc0))) <= 1e-5 / float(np.min(scale0))


@pytest.mark.parametrize("recipe", ["default", "paper"])
def test_preprocessing_chain_same_with_and_without_opencv(smears, recipe):
    X, _ = smears
    # Every accelerated step switched on: sharpening, box mean, resize.
    pre = make_pipeline(recipe=recipe, image_size=24, sharpen__strength=0.5,
                        average__size=4)[:-1]
    assert pre.steps[-1][0] == "scale"
    _assert_chain_same(pre, X)
    # The median, where OpenCV has it.
    pre.set_params(average__method="median", average__size=5,
                   average__mode="nearest")
    _assert_chain_same(pre, X)


def test_fitted_pipeline_predicts_the_same_with_and_without_opencv(smears):
    X, y = smears
    # float32 network: in bfloat16 (the default recipe's "auto" on CPUs with
    # bfloat16 units) an input difference of 1e-6 can move a bfloat16
    # rounding, and the probabilities by about 1e-3.
    pipe = make_pipeline(image_size=16, sharpen__strength=0.5, average__size=3,
                         cnn__random_state=0, cnn__dtype_policy=None, **TINY)
    with config_context(opencv=False):
        pipe.fit(X, y)
        numpy_proba = pipe.predict_proba(X)
    with config_context(opencv=True):
        cv_proba = pipe.predict_proba(X)
    assert float(np.max(np.abs(cv_proba - numpy_proba))) <= 1e-5
