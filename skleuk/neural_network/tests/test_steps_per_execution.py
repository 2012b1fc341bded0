"""Several training steps per call of Keras's compiled step: same fit, bit for bit."""

import numpy as np

from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny


def test_steps_per_execution_keeps_the_fit():
    # 40 images in batches of 16: 3 steps an epoch, fewer than the 4 run per
    # call; augmentation, dropout and Adam draw and keep state at every step.
    X, y = make_images(n=40, size=12, n_classes=2, random_state=0)
    params = tiny(random_state=0, epochs=3, augment=True, optimizer="adam",
                  model__dropout=0.3)
    default = LightweightCNNClassifier(**params).fit(X, y)
    four = LightweightCNNClassifier(**params, compile__steps_per_execution=4).fit(X, y)
    assert default.model_.steps_per_execution == 1
    assert four.model_.steps_per_execution == 4
    weights = zip(default.model_.get_weights(), four.model_.get_weights(), strict=True)
    for a, b in weights:
        np.testing.assert_array_equal(a, b)
    assert default.history_["loss"] == four.history_["loss"]
