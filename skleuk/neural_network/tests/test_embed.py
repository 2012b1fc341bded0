"""``LightweightCNNClassifier.embed``: the penultimate layer's activations."""

import pickle

import keras
import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny


@pytest.fixture(scope="module")
def fitted():
    X, y = make_images(n=24, size=16, random_state=2)
    return LightweightCNNClassifier(**tiny(random_state=0)).fit(X, y), X


def test_embed_is_the_input_of_the_softmax_layer(fitted):
    clf, X = fitted
    E = clf.embed(X)
    assert E.shape == (len(X), 8) and E.dtype == np.float32  # dense_units=8
    # the softmax layer applied to the embedding gives predict_proba (no TTA)
    head = clf.model_.layers[-1]
    P = keras.ops.convert_to_numpy(head(E))
    clf_no_tta = pickle.loads(pickle.dumps(clf)).set_params(tta=False)
    np.testing.assert_allclose(P, clf_no_tta.predict_proba(X), atol=1e-5)


def test_embed_is_per_image_and_survives_pickling(fitted):
    clf, X = fitted
    E = clf.embed(X)
    np.testing.assert_allclose(clf.embed(X[3:7]), E[3:7], atol=1e-5)
    again = pickle.loads(pickle.dumps(clf))
    assert "_embedding_cache" not in again.__dict__
    np.testing.assert_allclose(again.embed(X), E, atol=1e-5)


def test_embed_needs_a_fitted_network():
    with pytest.raises(NotFittedError):
        LightweightCNNClassifier().embed(np.zeros((2, 16, 16, 3), np.uint8))
