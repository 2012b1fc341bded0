"""Training-time image augmentation as Keras layers.

The layers are part of the network, placed right after its input, and are
active only when Keras calls them with ``training=True`` (inside
``Model.fit``). In inference -- ``predict``, ``evaluate``, the validation data
of early stopping, any cross-validation test fold -- they return their input
unchanged, so nothing augmented ever reaches an evaluation.

They work on any value range (``[0, 1]`` or standardised data): nothing is
clipped, the colour changes are linear in the pixel values.
"""

from __future__ import annotations

import math
from numbers import Real

import keras
import numpy as np
from keras import ops

__all__ = [
    "AUGMENT_DEFAULTS",
    "RandomColorJitter",
    "RandomDihedral",
    "RandomStain",
    "augmentation_layers",
    "dihedral_views",
    "resolve_augment",
]

#: Strengths used by ``augment=True``. A dict passed as ``augment`` updates
#: these. ``flip``/``rotate``: random flips and 90-degree rotations;
#: ``rotation``: an extra rotation by any angle up to that fraction of a
#: full turn (0.5: any angle; blood cells have no orientation); ``scale``:
#: a random zoom by up to that relative amount (magnification jitter);
#: ``brightness`` an additive shift, ``contrast`` a relative scaling around
#: the per-image channel mean, ``hue`` a rotation of the colours around the
#: grey axis, as a fraction of a full turn. Any-angle rotation and scale
#: jitter fill the corners by reflection. ``stain``, ``blur`` and ``noise``
#: (:class:`RandomStain`, off by default) imitate another laboratory's
#: stain, focus and camera: a per-channel gain and shift of up to ``stain``
#: (each colour channel on its own, which moves the haematoxylin and eosin
#: hues apart or together), a Gaussian blur of up to ``blur`` pixels, and
#: additive noise of up to ``noise`` times the image's own spread.
AUGMENT_DEFAULTS = {
    "flip": True,
    "rotate": True,
    "rotation": 0.0,
    "scale": 0.0,
    "brightness": 0.05,
    "contrast": 0.1,
    "hue": 0.02,
    "stain": 0.0,
    "blur": 0.0,
    "noise": 0.0,
}


def resolve_augment(augment):
    """Turn the ``augment`` parameter into a dict of strengths (or None).

    Parameters
    ----------
    augment : bool, None or dict
        ``False``/``None``: no augmentation; ``True``: :data:`AUGMENT_DEFAULTS`;
        a dict: the defaults updated with it.

    Returns
    -------
    dict or None
        The strengths, or None when nothing is augmented.

    Raises
    ------
    ValueError
        Unknown keys or out-of-range strengths.
    """
    if augment is None or augment is False:
        return None
    if augment is True:
        return dict(AUGMENT_DEFAULTS)
    if not isinstance(augment, dict):
        raise TypeError(
            f"augment must be True, False or a dict of strengths, got {augment!r}."
        )
    unknown = set(augment) - set(AUGMENT_DEFAULTS)
    if unknown:
        raise ValueError(
            f"Unknown augmentation key(s) {sorted(unknown)}; valid keys are "
            f"{sorted(AUGMENT_DEFAULTS)}."
        )
    out = dict(AUGMENT_DEFAULTS)
    out.update(augment)
    for key in ("flip", "rotate"):
        if not isinstance(out[key], (bool, np.bool_)):
            raise ValueError(f"augment[{key!r}] must be a bool, got {out[key]!r}.")
    limits = {"rotation": 0.5, "scale": 0.5, "brightness": 1.0, "contrast": 1.0,
              "hue": 0.5, "stain": 1.0, "blur": 3.0, "noise": 1.0}
    for key, hi in limits.items():
        v = out[key]
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, Real) or not (
            0 <= v <= hi
        ):
            raise ValueError(
                f"augment[{key!r}] must be a number in [0, {hi}], got {v!r}."
            )
        out[key] = float(v)
    if not any(out[key] for key in AUGMENT_DEFAULTS):
        return None
    return out


def _dihedral_orders(h, w, flip, rotate):
    """Pixel orders ``(8, h * w)`` of RandomDihedral: row ``k`` is the order
    for the random bits ``k = b0 + 2 b1 + 4 b2`` of its selections."""
    base = np.arange(h * w, dtype=np.int32).reshape(h, w)
    out = []
    for k in range(8):
        b = [(k >> i) & 1 for i in range(3)]
        x = base
        if flip:
            x = x[::-1] if b[0] else x
            x = x[:, ::-1] if b[1] else x
        elif rotate and b[0]:
            x = x[::-1, ::-1]
        if rotate and h == w and b[2]:
            x = x.T if flip else x.T[::-1]
        out.append(x.reshape(-1))
    return np.stack(out)


@keras.saving.register_keras_serializable(package="skleuk")
class RandomDihedral(keras.layers.Layer):
    """Random flips and 90-degree rotations, only while training.

    Each image in a training batch gets its own random element of the
    symmetry group of the square (identity, rotations by 90/180/270 degrees,
    flips): blood cells have no preferred orientation, so these are
    label-preserving. Rotations by 90 and 270 degrees need square images;
    on non-square images only flips and the 180-degree rotation are used.

    Parameters
    ----------
    flip : bool, default=True
        Random horizontal and vertical flips.
    rotate : bool, default=True
        Random rotations by multiples of 90 degrees.
    seed : int or None, default=None
        Seed of the layer's random generator.
    **kwargs : dict
        Keras layer arguments (``name``, ...).

    See Also
    --------
    RandomColorJitter : The colour part of the augmentation.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.neural_network import RandomDihedral
    >>> layer = RandomDihedral(seed=0)
    >>> x = np.arange(2 * 4 * 4 * 3, dtype="float32").reshape(2, 4, 4, 3)
    >>> bool(np.array_equal(layer(x, training=False), x))  # inference: identity
    True
    """

    def __init__(self, flip=True, rotate=True, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.flip = bool(flip)
        self.rotate = bool(rotate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.supports_masking = True

    def call(self, inputs, training=None):
        if not training or not (self.flip or self.rotate):
            return inputs
        x = inputs
        n = ops.shape(x)[0]
        bits = keras.random.uniform((n, 3), seed=self.seed_generator) < 0.5
        if None not in x.shape[1:]:
            # One gather of each image's pixels in the order of its element
            # of the group: the same images as the selections below, bit for
            # bit, without computing every flip of the whole batch.
            h, w, c = x.shape[1:]
            k = ops.sum(ops.cast(bits, "int32") * np.array([1, 2, 4], "int32"), axis=1)
            order = ops.take(_dihedral_orders(h, w, self.flip, self.rotate), k, axis=0)
            order += ops.expand_dims(ops.arange(n, dtype="int32") * (h * w), 1)
            pixels = ops.take(ops.reshape(x, (-1, c)), ops.reshape(order, [-1]), axis=0)
            return ops.reshape(pixels, (n, h, w, c))

        def pick(i):
            return ops.reshape(bits[:, i], (-1, 1, 1, 1))

        square = x.shape[1] is not None and x.shape[1] == x.shape[2]
        if self.flip:
            x = ops.where(pick(0), ops.flip(x, axis=1), x)
            x = ops.where(pick(1), ops.flip(x, axis=2), x)
        elif self.rotate:
            # 180 degrees = both flips.
            x = ops.where(pick(0), ops.flip(ops.flip(x, axis=1), axis=2), x)
        if self.rotate and square:
            # With the flips above, a random transpose completes the group
            # (8 equally likely elements); without them, transpose + flip is
            # a 90-degree rotation (4 equally likely rotations).
            t = ops.transpose(x, (0, 2, 1, 3))
            if not self.flip:
                t = ops.flip(t, axis=1)
            x = ops.where(pick(2), t, x)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"flip": self.flip, "rotate": self.rotate, "seed": self.seed})
        return config


def _hue_rotation_matrices(angles):
    """RGB rotation matrices about the grey axis, one per angle: (n, 3, 3)."""
    u = 1.0 / math.sqrt(3.0)
    c = ops.cos(angles)[:, None, None]
    s = ops.sin(angles)[:, None, None]
    eye = ops.eye(3, dtype=angles.dtype)[None]
    outer = ops.full((1, 3, 3), u * u, dtype=angles.dtype)
    cross = ops.convert_to_tensor(
        np.array([[0.0, -u, u], [u, 0.0, -u], [-u, u, 0.0]]), dtype=angles.dtype
    )[None]
    return c * eye + s * cross + (1.0 - c) * outer


@keras.saving.register_keras_serializable(package="skleuk")
class RandomColorJitter(keras.layers.Layer):
    """Small random brightness, contrast and hue changes, only while training.

    Per image: ``x <- mean + (x - mean) * f + b`` with contrast factor
    ``f ~ U(1 - contrast, 1 + contrast)`` around the image's per-channel mean,
    brightness shift ``b ~ U(-brightness, brightness)``, then a rotation of
    the RGB values about the grey axis by ``U(-hue, hue)`` of a full turn (a
    hue shift that leaves grey pixels unchanged). Everything is linear and
    unclipped, so it suits ``[0, 1]`` and standardised inputs alike. Stain
    intensity and hue vary between slides; this makes the network less
    sensitive to it.

    Parameters
    ----------
    brightness : float, default=0.05
        Maximum additive shift, in input units.
    contrast : float, default=0.1
        Maximum relative contrast change.
    hue : float, default=0.02
        Maximum hue rotation, as a fraction of a full turn.
    seed : int or None, default=None
        Seed of the layer's random generator.
    **kwargs : dict
        Keras layer arguments (``name``, ...).

    See Also
    --------
    RandomDihedral : The geometric part of the augmentation.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.neural_network import RandomColorJitter
    >>> layer = RandomColorJitter(seed=0)
    >>> x = np.random.default_rng(0).random((2, 4, 4, 3)).astype("float32")
    >>> bool(np.array_equal(layer(x, training=False), x))
    True
    >>> bool(np.array_equal(layer(x, training=True), x))
    False
    """

    def __init__(self, brightness=0.05, contrast=0.1, hue=0.02, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.brightness = float(brightness)
        self.contrast = float(contrast)
        self.hue = float(hue)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or not (self.brightness or self.contrast or self.hue):
            return inputs
        x = inputs
        n = ops.shape(x)[0]
        r = keras.random.uniform(
            (n, 3), minval=-1.0, maxval=1.0, seed=self.seed_generator, dtype=x.dtype
        )
        if self.contrast:
            mean = ops.mean(x, axis=(1, 2), keepdims=True)
            f = ops.reshape(1.0 + self.contrast * r[:, 0], (-1, 1, 1, 1))
            x = mean + (x - mean) * f
        if self.brightness:
            x = x + ops.reshape(self.brightness * r[:, 1], (-1, 1, 1, 1))
        if self.hue:
            m = _hue_rotation_matrices(r[:, 2] * (2.0 * math.pi * self.hue))
            x = ops.einsum("bhwc,bdc->bhwd", x, m)
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "brightness": self.brightness,
                "contrast": self.contrast,
                "hue": self.hue,
                "seed": self.seed,
            }
        )
        return config


def _gaussian_taps(sigma, radius):
    """Normalised 1-D Gaussian taps, one row per sigma: (n, 2 * radius + 1)."""
    t = ops.cast(ops.arange(-radius, radius + 1), sigma.dtype)[None, :]
    s = ops.maximum(sigma, 1e-3)[:, None]
    w = ops.exp(-0.5 * (t / s) ** 2)
    return w / ops.sum(w, axis=1, keepdims=True)


@keras.saving.register_keras_serializable(package="skleuk")
class RandomStain(keras.layers.Layer):
    """Another laboratory's stain, focus and camera, only while training.

    Per image, in this order: each colour channel ``c`` becomes
    ``mean_c + (x_c - mean_c) * g_c + s_c * std`` with gain
    ``g_c ~ U(1 - stain, 1 + stain)`` and shift ``s_c ~ U(-stain, stain)``
    (``mean_c`` the image's channel mean, ``std`` its spread): the channels
    change independently, as the haematoxylin and eosin uptake of another
    laboratory does -- unlike :class:`RandomColorJitter`, whose contrast and
    brightness move every channel together; then a Gaussian blur of
    standard deviation ``U(0, blur)`` pixels (focus, optics); then Gaussian
    noise of standard deviation ``U(0, noise) * std`` (camera, JPEG). Linear
    in the pixel values and unclipped, like the other augmentation layers,
    so it suits standardised inputs.

    Parameters
    ----------
    stain : float, default=0.1
        Maximum relative per-channel gain change and shift.
    blur : float, default=0.0
        Maximum blur, in pixels (standard deviation of the Gaussian).
    noise : float, default=0.0
        Maximum noise, relative to the image's standard deviation.
    seed : int or None, default=None
        Seed of the layer's random generator.
    **kwargs : dict
        Keras layer arguments (``name``, ...).

    See Also
    --------
    RandomColorJitter : Brightness, contrast and hue, all channels together.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.neural_network import RandomStain
    >>> layer = RandomStain(stain=0.2, blur=1.0, noise=0.05, seed=0)
    >>> x = np.random.default_rng(0).random((2, 8, 8, 3)).astype("float32")
    >>> bool(np.array_equal(layer(x, training=False), x))
    True
    >>> tuple(layer(x, training=True).shape)
    (2, 8, 8, 3)
    """

    def __init__(self, stain=0.1, blur=0.0, noise=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.stain = float(stain)
        self.blur = float(blur)
        self.noise = float(noise)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        if not training or not (self.stain or self.blur or self.noise):
            return inputs
        x = inputs
        n = ops.shape(x)[0]
        std = ops.std(x, axis=(1, 2, 3), keepdims=True)
        if self.stain:
            r = keras.random.uniform((n, 1, 1, 6), minval=-1.0, maxval=1.0,
                                     seed=self.seed_generator, dtype=x.dtype)
            mean = ops.mean(x, axis=(1, 2), keepdims=True)
            x = mean + (x - mean) * (1.0 + self.stain * r[..., :3])
            x = x + self.stain * r[..., 3:] * std
        if self.blur:
            radius = max(1, math.ceil(2 * self.blur))
            sigma = keras.random.uniform((n,), minval=0.0, maxval=self.blur,
                                         seed=self.seed_generator, dtype=x.dtype)
            w = _gaussian_taps(sigma, radius)  # (n, k)
            k = 2 * radius + 1
            # Separable per-image blur by shifted sums (reflect padding).
            for axis in (1, 2):
                pad = [(0, 0)] * 4
                pad[axis] = (radius, radius)
                xp = ops.pad(x, pad, mode="reflect")
                size = ops.shape(x)[axis]
                acc = 0.0
                for j in range(k):
                    sl = ops.take(xp, ops.arange(j, j + size), axis=axis)
                    acc = acc + ops.reshape(w[:, j], (-1, 1, 1, 1)) * sl
                x = acc
        if self.noise:
            level = keras.random.uniform((n, 1, 1, 1), minval=0.0, maxval=self.noise,
                                         seed=self.seed_generator, dtype=x.dtype)
            eps = keras.random.normal(ops.shape(x), seed=self.seed_generator,
                                      dtype=x.dtype)
            x = x + level * std * eps
        return x

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update({"stain": self.stain, "blur": self.blur, "noise": self.noise,
                       "seed": self.seed})
        return config


def augmentation_layers(strengths, seeds=None):
    """Build the augmentation layers for a dict from :func:`resolve_augment`.

    Parameters
    ----------
    strengths : dict or None
        Output of :func:`resolve_augment`.
    seeds : iterator of int, default=None
        One seed is taken per layer built (see
        :func:`~skleuk.neural_network._architectures.layer_seeds`). None:
        Keras draws each layer's seed from Python's global ``random``.

    Returns
    -------
    list of keras.layers.Layer
        Empty when ``strengths`` is None.
    """
    if strengths is None:
        return []

    def seed():
        return None if seeds is None else next(seeds)

    layers = []
    if strengths["flip"] or strengths["rotate"]:
        layers.append(
            RandomDihedral(
                flip=strengths["flip"],
                rotate=strengths["rotate"],
                name="augment_geometry",
                seed=seed(),
            )
        )
    if strengths["rotation"]:
        layers.append(
            keras.layers.RandomRotation(
                strengths["rotation"],
                fill_mode="reflect",
                name="augment_rotation",
                seed=seed(),
            )
        )
    if strengths["scale"]:
        s = strengths["scale"]
        layers.append(
            keras.layers.RandomZoom(
                (-s, s), fill_mode="reflect", name="augment_scale", seed=seed()
            )
        )
    if strengths["brightness"] or strengths["contrast"] or strengths["hue"]:
        layers.append(
            RandomColorJitter(
                brightness=strengths["brightness"],
                contrast=strengths["contrast"],
                hue=strengths["hue"],
                name="augment_color",
                seed=seed(),
            )
        )
    if strengths["stain"] or strengths["blur"] or strengths["noise"]:
        layers.append(
            RandomStain(
                stain=strengths["stain"],
                blur=strengths["blur"],
                noise=strengths["noise"],
                name="augment_stain",
                seed=seed(),
            )
        )
    return layers


def dihedral_views(X):
    """The 8 flips/rotations of a batch of square images (4 if not square).

    Test-time augmentation (``LightweightCNNClassifier(tta=True)``) averages
    the network's probabilities over these views.
    """
    views = [X, X[:, ::-1], X[:, :, ::-1], X[:, ::-1, ::-1]]
    if X.shape[1] == X.shape[2]:
        views += [np.swapaxes(v, 1, 2) for v in views]
    return [np.ascontiguousarray(v) for v in views]
