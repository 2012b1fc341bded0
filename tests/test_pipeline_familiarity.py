"""make_pipeline(familiarity=True): the check first, its warning in predict."""

import warnings

import numpy as np
import pytest

from skleuk import make_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.exceptions import UnfamiliarImageWarning
from skleuk.preprocessing import FamiliarityCheck


def test_the_step_comes_after_the_reader_and_takes_parameters():
    pipe = make_pipeline(reader=True, familiarity=True, familiarity__quantile=0.95)
    assert [name for name, _ in pipe.steps][:3] == ["reader", "familiarity", "crop"]
    assert pipe.get_params()["familiarity__quantile"] == 0.95
    mine = FamiliarityCheck(max_unfamiliar_fraction=0.5)
    assert make_pipeline(familiarity=mine)["familiarity"] is mine
    assert "familiarity" not in dict(make_pipeline().steps)


def test_default_recipe_unchanged_without_it():
    names = [name for name, _ in make_pipeline().steps]
    assert names == ["crop", "sharpen", "average", "resize", "color", "scale", "cnn"]


@pytest.mark.slow
def test_fitted_pipeline_warns_on_a_foreign_batch_only():
    X, y = make_blood_smears(24, image_size=32, random_state=0, return_X_y=True)
    pipe = make_pipeline(familiarity=True, image_size=32, cnn__epochs=1,
                         cnn__random_state=0, cnn__tta=False)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("error", UnfamiliarImageWarning)
        pipe.fit(X, y)
        pipe.predict(make_blood_smears(16, image_size=32, random_state=1,
                                       return_X_y=True)[0])  # fmt: skip
    with pytest.warns(UnfamiliarImageWarning):
        pipe.predict_proba(np.ascontiguousarray(X[:16, :, :, ::-1]))


@pytest.fixture(scope="module")
def fitted_pipe():
    X, y = make_blood_smears(32, image_size=32, random_state=0, return_X_y=True)
    pipe = make_pipeline(image_size=32, cnn__epochs=2, cnn__random_state=0,
                         cnn__tta=False).fit(X[:24], y[:24])  # fmt: skip
    return pipe, X


def test_embedding_familiarity_describes_what_the_network_sees(fitted_pipe):
    from sklearn.base import clone
    from sklearn.exceptions import NotFittedError
    from sklearn.frozen import FrozenEstimator

    from skleuk.preprocessing import EmbeddingFamiliarity

    pipe, X = fitted_pipe
    check = EmbeddingFamiliarity(pipe).fit(X[:24])
    assert check.n_features_ == 64  # the wide network's dense units
    np.testing.assert_allclose(
        check.mean_, pipe[-1].embed(pipe[:-1].transform(X[:24])).mean(axis=0),
        rtol=1e-4, atol=1e-5)  # fmt: skip
    both = EmbeddingFamiliarity(pipe, image=True).fit(X[:24])
    assert both.n_features_ == 64 + 14
    # far from the training images: another stain, inverted
    foreign = np.ascontiguousarray(255 - X[24:])
    assert check.check(foreign)[0] and both.check(foreign)[0]
    with pytest.warns(UnfamiliarImageWarning):
        check.warn(foreign)
    # calibrated on held-out images of the same source: quiet on them
    check.calibrate(X[24:])
    assert not check.check(X[24:])[0]
    # a clone holds an unfitted copy of the pipeline: a clear error
    with pytest.raises(NotFittedError):
        clone(check).fit(X[:24])
    frozen = clone(EmbeddingFamiliarity(FrozenEstimator(pipe))).fit(X[:24])
    np.testing.assert_allclose(frozen.mean_, check.mean_, rtol=1e-5)


def test_embedding_familiarity_needs_a_network(fitted_pipe):
    from sklearn.linear_model import LogisticRegression

    from skleuk.preprocessing import EmbeddingFamiliarity

    _, X = fitted_pipe
    lr = LogisticRegression().fit(X.reshape(len(X), -1), [0, 1] * 16)
    with pytest.raises(TypeError, match="no embed method"):
        EmbeddingFamiliarity(lr).fit(X)
