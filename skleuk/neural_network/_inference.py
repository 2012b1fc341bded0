"""Batched inference without Keras's ``predict`` loop.

``keras.Model.predict`` builds a data pipeline and a progress-bar loop on
every call: tens of milliseconds that dominate when a pipeline predicts in
chunks of a few dozen images (``skleuk predict`` on a folder, a smear's
cells, a cross-validation fold), and eight times over with test-time
augmentation done as eight calls. :func:`inference_function` compiles the
network's forward pass once per fitted network -- the 8 flips and rotations
of test-time augmentation inside the same graph -- and
:func:`predict_batches` runs it over fixed-size batches.
"""

from __future__ import annotations

import numpy as np

__all__ = ["inference_function", "predict_batches"]


def inference_function(model, tta=False, square=True):
    """A compiled ``x -> probabilities`` of a Keras model, in inference mode.

    Parameters
    ----------
    model : keras.Model
        The fitted network.
    tta : bool, default=False
        Average the probabilities over the dihedral views of each image:
        the identity, the vertical, horizontal and both flips and, for
        square images (``square=True``), their transposes -- the views of
        :func:`~skleuk.neural_network._augment.dihedral_views`, in its
        order.
    square : bool, default=True
        Whether the images are square (8 views) or not (4 views).

    Returns
    -------
    function
        A :func:`tf.function` of a float32 batch ``(n, h, w, c)`` returning
        ``(n, n_outputs)`` float32 probabilities.
    """
    import tensorflow as tf

    def views(x):
        out = [x, tf.reverse(x, [1]), tf.reverse(x, [2]), tf.reverse(x, [1, 2])]
        if square:
            out += [tf.transpose(v, [0, 2, 1, 3]) for v in out]
        return out

    @tf.function(reduce_retracing=True)
    def forward(x):
        if not tta:
            return tf.cast(model(x, training=False), tf.float32)
        # One call of the network per view, all in this graph: the same
        # probabilities as one call on the 8 views stacked, but each call's
        # activations are an eighth of the size (they stay in the caches).
        p = [tf.cast(model(v, training=False), tf.float32) for v in views(x)]
        return tf.reduce_mean(tf.stack(p), axis=0)

    return forward


def predict_batches(function, X, batch_size):
    """``function`` over ``X`` (at least one image: the classifier's
    validation rejects empty batches) in batches of ``batch_size``."""
    out = [np.asarray(function(X[i : i + batch_size]))
           for i in range(0, len(X), batch_size)]
    return out[0] if len(out) == 1 else np.concatenate(out)
