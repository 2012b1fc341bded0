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
