"""The one progress-bar set-up (skleuk/utils/_progress.py)."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skleuk.utils._progress import epoch_progress, final_step, progress_bar


def test_progress_bar_on_stderr_or_none(capsys):
    assert progress_bar(3, "folds", "fold", enabled=False) is None
    bar = progress_bar(3, "folds", "fold")
    bar.update(3)
    bar.close()
    captured = capsys.readouterr()
    assert "folds" in captured.err and "3/3" in captured.err
    assert captured.out == ""


def test_final_step_follows_nested_pipelines():
    clf = LogisticRegression()
    inner = make_pipeline(StandardScaler(), clf)
    assert final_step(make_pipeline(FunctionTransformer(), inner)) is clf
    assert final_step(clf) is clf


def test_epoch_progress_leaves_other_estimators_alone(capsys):
    pipe = make_pipeline(StandardScaler(), LogisticRegression())
    before = pipe.get_params()
    with epoch_progress(pipe, "training"):
        pipe.fit(np.arange(8.0).reshape(-1, 1), [0, 1] * 4)
    assert pipe.get_params().keys() == before.keys()
    assert capsys.readouterr().err == ""


def test_epoch_progress_on_a_keras_step(capsys):
    from skleuk.neural_network import LightweightCNNClassifier
    from skleuk.neural_network.tests._data import TINY_CNN, make_images

    X, y = make_images(n=16, size=16)
    cnn = LightweightCNNClassifier(**TINY_CNN, random_state=0, verbose=0)
    pipe = make_pipeline(FunctionTransformer(), cnn)
    with epoch_progress(pipe, "fold 1"):
        pipe.fit(X, y)
    assert "fold 1" in capsys.readouterr().err
    # The callback was there for the fit only: the model stays picklable.
    assert "fit__callbacks" not in cnn.get_params()
