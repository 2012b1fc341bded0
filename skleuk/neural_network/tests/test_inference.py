"""The compiled inference path equals Keras's own ``predict`` loop."""

import pickle

import keras
import numpy as np
import pytest
from sklearn.base import clone

from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network._augment import dihedral_views
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny
from skleuk.utils.validation import check_images


class _Count(keras.callbacks.Callback):
    """A predict callback: it sends predict_proba through Keras's loop."""

    batches = 0

    def on_predict_batch_end(self, batch, logs=None):
        type(self).batches += 1


@pytest.fixture(scope="module")
def wide():
    """A fitted network on non-square (16x24) images, and its images."""
    X, y = make_images(n=24, size=24, n_classes=2, random_state=1)
    X = X[:, 4:20]  # 16 rows, 24 columns
    return LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y), X


@pytest.mark.parametrize("tta", [False, True])
@pytest.mark.parametrize("batch_size", [5, 64])
def test_compiled_path_equals_keras_predict(tta, batch_size):
    X, y = make_images(n=21, size=16, n_classes=3, random_state=2)
    clf = LightweightCNNClassifier(**tiny(random_state=0, batch_size=batch_size))
    clf.fit(X, y).set_params(tta=tta)
    got = clf.predict_proba(X)
    Xf = check_images(X, value_range=None)
    views = dihedral_views(Xf) if tta else [Xf]
    ref = np.mean([clf.model_.predict(v, batch_size=batch_size, verbose=0)
                   for v in views], axis=0)
    np.testing.assert_allclose(got, ref / ref.sum(1, keepdims=True),
                               rtol=1e-5, atol=1e-6)
    # The same through Keras's loop (a predict callback forces it).
    _Count.batches = 0
    clf.set_params(predict__callbacks=[_Count()])
    clf._initialize_callbacks()  # SciKeras rebuilds callbacks at fit
    np.testing.assert_allclose(clf.predict_proba(X), got, rtol=1e-5, atol=1e-6)
    assert _Count.batches == -(-21 // batch_size) * len(views)


def test_non_square_images_average_their_four_flips(wide):
    clf, X = wide
    clf.set_params(tta=True)
    try:
        Xf = check_images(X, value_range=None)
        views = dihedral_views(Xf)
        assert len(views) == 4
        ref = np.mean([clf.model_.predict(v, verbose=0) for v in views], axis=0)
        np.testing.assert_allclose(clf.predict_proba(X), ref, rtol=1e-5, atol=1e-6)
    finally:
        clf.set_params(tta=False)


def test_a_refitted_network_gets_a_new_compiled_function():
    X, y = make_images(n=24, size=16, random_state=3)
    clf = LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y)
    first = clf.predict_proba(X)
    clf.set_params(random_state=1).fit(X, y)
    second = clf.predict_proba(X)
    assert not np.allclose(first, second)
    np.testing.assert_allclose(
        second, clf.model_.predict(check_images(X, value_range=None), verbose=0),
        rtol=1e-5, atol=1e-6)


def test_pickles_after_predicting_and_a_clone_starts_clean():
    X, y = make_images(n=24, size=16, random_state=4)
    clf = LightweightCNNClassifier(**tiny(random_state=0), tta=True).fit(X, y)
    proba = clf.predict_proba(X)
    assert getattr(clf, "_inference_cache", None) is not None
    loaded = pickle.loads(pickle.dumps(clf))
    assert getattr(loaded, "_inference_cache", None) is None
    np.testing.assert_allclose(loaded.predict_proba(X), proba, rtol=1e-5, atol=1e-6)
    assert not hasattr(clone(clf), "_inference_cache")

