"""Grad-CAM saliency maps of a fitted pipeline, on the original images."""

from __future__ import annotations

import numpy as np
from scipy import ndimage
from sklearn.base import BaseEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

__all__ = ["saliency"]


def _unwrap(estimator):
    """The fitted Pipeline inside meta-estimators (calibration, thresholds...)."""
    seen = 0
    while not isinstance(estimator, Pipeline) and seen < 10:
        seen += 1
        for attr in ("estimator_", "estimator"):
            inner = getattr(estimator, attr, None)
            if isinstance(inner, BaseEstimator):
                estimator = inner
                break
        else:
            cal = getattr(estimator, "calibrated_classifiers_", None)
            if cal:
                estimator = cal[0].estimator
                continue
            break
    return estimator


def _keras_model(step):
    model = getattr(step, "model_", None)
    if model is None or not hasattr(model, "layers"):
        raise TypeError(
            f"saliency needs a pipeline ending in a Keras classifier (such as "
            f"LightweightCNNClassifier); its last step is {type(step).__name__}."
        )
    return model


def _conv_layer(model, layer):
    import keras

    if layer is not None:
        try:
            return model.get_layer(layer)
        except ValueError:
            names = [lay.name for lay in model.layers]
            raise ValueError(
                f"The network has no layer {layer!r}; its layers are: "
                f"{', '.join(names)}."
            ) from None
    convs = [lay for lay in model.layers if isinstance(lay, keras.layers.Conv2D)]
    if not convs:
        raise ValueError("The network has no Conv2D layer for Grad-CAM.")
    return convs[-1]


def _grad_cam(model, conv, X, class_idx, batch_size):
    """Grad-CAM of ``X`` (network input) for ``class_idx``; (n, h', w')."""
    import keras
    import tensorflow as tf

    out_layer = model.layers[-1]
    # Class scores before the softmax (Selvaraju et al. use the logits).
    head_input = out_layer.input
    grad_model = keras.Model(model.inputs, [conv.output, head_input])
    kernel = tf.convert_to_tensor(out_layer.kernel)
    bias = tf.convert_to_tensor(out_layer.bias)
    maps = []
    for start in range(0, len(X), batch_size):
        xb = tf.convert_to_tensor(X[start:start + batch_size], dtype=tf.float32)
        cb = tf.convert_to_tensor(class_idx[start:start + batch_size])
        with tf.GradientTape() as tape:
            feats, hidden = grad_model(xb, training=False)
            logits = tf.matmul(tf.cast(hidden, tf.float32), kernel) + bias
            score = tf.gather(logits, cb, axis=1, batch_dims=1)
        # The gradient with respect to the layer's own output (bfloat16 under
        # mixed precision), then both in float32.
        grads = tf.cast(tape.gradient(score, feats), tf.float32)
        feats = tf.cast(feats, tf.float32)
        weights = tf.reduce_mean(grads, axis=(1, 2), keepdims=True)
        cam = tf.nn.relu(tf.reduce_sum(weights * feats, axis=-1))
        maps.append(cam.numpy())
    return np.concatenate(maps, axis=0)


def _geometry(pipe, X):
    """Run the steps before the network, tracking where their pixels come from.

    Returns the network input and, per image and axis, ``(offset, scale)``
    with ``original = offset + scale * network_pixel``.
    """
    from ..preprocessing import ImageReader, Resizer, WhiteCellCropper
    from ..utils.validation import check_images

    steps = pipe.steps[:-1]
    Xt = X
    if steps and isinstance(steps[0][1], ImageReader):
        Xt = steps[0][1].transform(Xt)
        steps = steps[1:]
    originals = Xt
    shapes = [np.asarray(im).shape[:2] for im in originals]
    n = len(shapes)
    offset = np.zeros((n, 2))
    scale = np.ones((n, 2))
    cur = np.array(shapes, dtype=float)
    for name, step in steps:
        if step is None or step == "passthrough":
            continue
        if isinstance(step, WhiteCellCropper):
            centers, _ = step.locate(Xt)
            size = step.crop_size_
            start = np.floor(centers - (size - 1) / 2.0 + 0.5)
            offset = offset + scale * start
            Xt = step.transform(Xt)
            cur = np.full((n, 2), float(size))
            continue
        Xnew = step.transform(Xt)
        try:
            out_hw = np.array([np.shape(im)[:2] for im in Xnew], dtype=float)
        except (TypeError, ValueError):
            out_hw = None
        if out_hw is None or out_hw.shape != (n, 2):
            raise TypeError(
                f"saliency cannot follow step {name!r} ({type(step).__name__}): "
                "it does not return one image per input image."
            )
        if isinstance(step, Resizer) or not np.allclose(cur, out_hw):
            if not isinstance(step, Resizer):
                raise NotImplementedError(
                    f"saliency cannot map step {name!r} ({type(step).__name__}) "
                    "back onto the original images: it changes their size. "
                    "Supported: WhiteCellCropper, Resizer and steps that keep "
                    "the size."
                )
            k = cur / out_hw
            offset = offset + scale * (0.5 * k - 0.5)
            scale = scale * k
            cur = out_hw
        Xt = Xnew
    Xt = check_images(Xt, value_range=None)
    return Xt, originals, shapes, offset, scale


def saliency(estimator, X, *, target=None, layer=None, batch_size=32):
    """Grad-CAM heat maps of a fitted pipeline, on the original images.

    Gradient-weighted class activation mapping (Grad-CAM, Selvaraju et al.
    2017): the feature maps of the network's last convolution, weighted by
    the spatial mean of the gradient of the class score (the logit, before
    the softmax) with respect to them, summed and passed through a ReLU.
    The map, computed on the network's input (the cropped and resized
    cell), is upsampled and mapped back through the ``resize`` and
    ``crop`` steps onto each *original* image, so that it can be overlaid
    on what the user gave to ``predict``. Outside the crop window the map
    is 0: the network never saw those pixels.

    Parameters
    ----------
    estimator : fitted Pipeline
        A fitted :func:`skleuk.make_pipeline` (its last step a Keras
        classifier such as
        :class:`~skleuk.neural_network.LightweightCNNClassifier`), or a
        fitted meta-estimator around one:
        :class:`~sklearn.calibration.CalibratedClassifierCV` (its first
        fold's pipeline),
        :class:`~sklearn.model_selection.TunedThresholdClassifierCV`,
        :class:`~skleuk.model_selection.AbstainingClassifier`,
        :class:`~sklearn.frozen.FrozenEstimator`.
    X : array-like of images, or file paths
        What ``estimator.predict`` takes.
    target : label, array-like of labels or None, default=None
        Class whose evidence is shown: None -- the predicted class of each
        image; a label -- that class for every image; an array -- one label
        per image (e.g. the true labels).
    layer : str or None, default=None
        Name of the convolution layer; None: the last ``Conv2D``.
    batch_size : int, default=32
        Images per forward/backward pass.

    Returns
    -------
    maps : ndarray of shape (n_images, height, width) or list of ndarray
        One map per image, in ``[0, 1]`` (each divided by its maximum; all
        zero when no evidence was found), at the size of the original image;
        a list when the images differ in size.

    Raises
    ------
    sklearn.exceptions.NotFittedError
        If the pipeline is not fitted.
    NotImplementedError
        If a step before the network changes the image size in a way that
        cannot be mapped back (only ``WhiteCellCropper`` and ``Resizer`` can).

    See Also
    --------
    skleuk.plotting.plot_saliency : Overlay the maps on the images.

    References
    ----------
    .. [1] R. R. Selvaraju, M. Cogswell, A. Das, R. Vedantam, D. Parikh,
       D. Batra, "Grad-CAM: Visual explanations from deep networks via
       gradient-based localization", ICCV 2017.
    .. [2] J. Adebayo, J. Gilmer, M. Muelly, I. Goodfellow, M. Hardt,
       B. Kim, "Sanity checks for saliency maps", NeurIPS 2018 (the map
       must change when the weights are randomised; skleuk's tests check
       this).

    Examples
    --------
    >>> from skleuk import make_pipeline
    >>> from skleuk.datasets import make_blood_smears
    >>> from skleuk.inspection import saliency
    >>> X, y = make_blood_smears(n_samples=20, image_size=32, random_state=0,
    ...                          return_X_y=True)
    >>> pipe = make_pipeline(image_size=16, architecture="light",
    ...                      cnn__epochs=1, cnn__random_state=0)
    >>> maps = saliency(pipe.fit(X, y), X[:3])  # doctest: +SKIP
    >>> maps.shape  # doctest: +SKIP
    (3, 32, 32)
    """
    pipe = _unwrap(estimator)
    if not isinstance(pipe, Pipeline):
        raise TypeError(
            f"saliency needs a fitted Pipeline (skleuk.make_pipeline()); got "
            f"{type(estimator).__name__}."
        )
    check_is_fitted(pipe)
    final = pipe.steps[-1][1]
    model = _keras_model(final)
    conv = _conv_layer(model, layer)
    Xt, originals, shapes, offset, scale = _geometry(pipe, X)
    n = len(Xt)
    classes = list(final.classes_)
    if target is None:
        proba = np.asarray(model.predict(Xt, batch_size=batch_size, verbose=0))
        class_idx = np.argmax(proba, axis=1)
    else:
        labels = np.asarray(target, dtype=object)
        labels = np.full(n, target, dtype=object) if labels.ndim == 0 else labels
        if len(labels) != n:
            raise ValueError(f"target has {len(labels)} labels for {n} images.")
        unknown = sorted({str(v) for v in labels if v not in classes})
        if unknown:
            raise ValueError(
                f"target holds labels {unknown} that are not classes "
                f"{[str(c) for c in classes]}."
            )
        class_idx = np.array([classes.index(v) for v in labels])
    cam = _grad_cam(model, conv, Xt, class_idx.astype(np.int32), batch_size)
    top = cam.reshape(n, -1).max(axis=1)
    cam = cam / np.where(top > 0, top, 1)[:, None, None]
    H, W = Xt.shape[1:3]
    # Bilinear upsampling of the coarse map onto the network input, then back
    # onto each original image through the crop/resize geometry.
    from ..utils._image_ops import resize_images

    cam = resize_images(cam[..., None], (H, W), anti_aliasing=False)[..., 0]
    maps = []
    for i, (h, w) in enumerate(shapes):
        rr = (np.arange(h) - offset[i, 0]) / scale[i, 0]
        cc = (np.arange(w) - offset[i, 1]) / scale[i, 1]
        coords = np.meshgrid(rr, cc, indexing="ij")
        m = ndimage.map_coordinates(cam[i], coords, order=1, mode="nearest")
        inside = ((coords[0] >= -0.5) & (coords[0] <= H - 0.5)
                  & (coords[1] >= -0.5) & (coords[1] <= W - 0.5))
        m = np.where(inside, m, 0.0)
        maps.append(np.clip(m, 0.0, 1.0).astype(np.float32))
    if len({s for s in shapes}) == 1:
        return np.stack(maps)
    return maps
