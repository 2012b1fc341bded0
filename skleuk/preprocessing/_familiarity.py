"""Do these images look like the training images? :class:`FamiliarityCheck`."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.covariance import LedoitWolf
from sklearn.frozen import FrozenEstimator
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_is_fitted

from ..base import BaseImageTransformer
from ..exceptions import UnfamiliarImageWarning
from ..utils.validation import check_images

__all__ = ["EmbeddingFamiliarity", "FamiliarityCheck", "image_description"]

#: Names of the columns of :func:`image_description`.
FEATURE_NAMES = (
    "L_mean", "a_mean", "b_mean", "L_std", "a_std", "b_std",
    "L_p05", "L_p50", "L_p95", "chroma_mean", "dark_fraction", "stained_fraction",
    "gradient_mean", "laplacian_mean",
)  # fmt: skip

_WORK_SIZE = 64  # images are averaged down to about this side first


def _downscale(X):
    """Block means so that the longer side is at most about ``_WORK_SIZE``."""
    h, w = X.shape[1:3]
    f = max(1, int(max(h, w) // _WORK_SIZE))
    if f == 1:
        return X
    h2, w2 = h // f, w // f
    X = X[:, : h2 * f, : w2 * f]
    return X.reshape(len(X), h2, f, w2, f, 3).mean(axis=(2, 4), dtype=np.float32)


def _describe(X):
    """The description of one same-size float32 batch: ``(n, n_features)``."""
    from skimage.color import rgb2lab

    X = _downscale(X)
    lab = rgb2lab(X).astype(np.float32)  # vectorised over the batch
    n = len(lab)
    flat = lab.reshape(n, -1, 3)
    L, a, b = flat[..., 0], flat[..., 1], flat[..., 2]
    pct = np.percentile(L, [5, 50, 95], axis=1).T
    chroma = np.sqrt(a * a + b * b)
    # purple (nucleus-like) pixels: a* > 0 and b* < 0 relative to the image;
    # dark pixels: 25 L* units below the image's median (a scale cue)
    dark = (L < pct[:, 1:2] - 25.0).mean(axis=1)
    stained = (
        (a - a.mean(axis=1, keepdims=True) > 5) & (b < b.mean(axis=1, keepdims=True))
    ).mean(axis=1)
    img = lab[..., 0]
    gy = np.abs(np.diff(img, axis=1)).mean(axis=(1, 2))
    gx = np.abs(np.diff(img, axis=2)).mean(axis=(1, 2))
    lap = np.abs(
        4 * img[:, 1:-1, 1:-1] - img[:, :-2, 1:-1] - img[:, 2:, 1:-1]
        - img[:, 1:-1, :-2] - img[:, 1:-1, 2:]
    ).mean(axis=(1, 2))  # fmt: skip
    return np.column_stack([
        flat.mean(axis=1), flat.std(axis=1), pct, chroma.mean(axis=1),
        dark, stained, (gx + gy) / 2, lap,
    ]).astype(np.float64)  # fmt: skip


def _image_features(X):
    """:func:`_describe` of a validated batch (a list when sizes differ)."""
    if isinstance(X, np.ndarray):
        return _describe(X)
    return np.concatenate([_describe(x[None]) for x in X])


def image_description(images):
    """A compact description of each image: colour, darkness and texture.

    The columns (:data:`FEATURE_NAMES`) are the mean and standard deviation
    of the CIE L*a*b* channels, three percentiles of L*, the mean chroma,
    the share of dark pixels (25 L* units below the image's median) and of
    purple (nucleus-like) pixels -- which follow the magnification -- and
    the mean gradient and Laplacian magnitude of L* (focus, camera noise,
    JPEG). Images are block-averaged to about 64 pixels on their longer
    side first, so the cost is small whatever their size.

    Parameters
    ----------
    images : array-like of shape (n_images, height, width, 3) or list of images
        ``uint8`` or float in ``[0, 1]``; sizes may differ.

    Returns
    -------
    features : ndarray of shape (n_images, 14)

    See Also
    --------
    FamiliarityCheck : Flags images far from the training images' descriptions.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.preprocessing import image_description
    >>> X = np.full((2, 32, 32, 3), 200, dtype=np.uint8)
    >>> image_description(X).shape
    (2, 14)
    """
    return _image_features(check_images(images, allow_ragged=True))


class _DistanceScores:
    """Mahalanobis distances of descriptions (``_features``) to the fitted
    ones, in threshold units: the scores shared by the familiarity checks."""

    def _fit(self, X):
        F = self._features(X)
        self.mean_ = F.mean(axis=0)
        scale = F.std(axis=0)
        self.scale_ = np.where(scale > 1e-12, scale, 1.0)
        Z = (F - self.mean_) / self.scale_
        if len(Z) > 1:
            self.precision_ = LedoitWolf(assume_centered=True).fit(Z).precision_
        else:  # one image: no spread to learn; any other image is unfamiliar
            self.precision_ = np.eye(F.shape[1])
        d = self._distance(Z)
        self.threshold_ = float(max(np.quantile(d, self.quantile), 1e-12))
        self.batch_threshold_ = _batch_threshold(d, None, self.quantile)
        self.n_features_ = F.shape[1]

    def _distance(self, Z):
        return np.einsum("ij,jk,ik->i", Z, self.precision_, Z)

    def _scores(self, X):
        check_is_fitted(self)
        F = self._features(check_images(X, allow_ragged=True))
        Z = (F - self.mean_) / self.scale_
        return self._distance(Z) / self.threshold_

    def unfamiliarity(self, X):
        """Each image's distance to the training images, in threshold units.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``).

        Returns
        -------
        scores : ndarray of shape (n_images,)
            Squared Mahalanobis distance divided by ``threshold_``: at most
            1 for all but ``1 - quantile`` of the training images; above 1,
            unfamiliar.
        """
        return self._scores(X)

    def calibrate(self, X, groups=None):
        """Set the thresholds on held-out images of the training laboratories.

        ``fit`` sets the thresholds from the *training* images' own
        distances. This sets them from images the check was not fitted on
        -- held-out images of the same laboratories -- and keeps the mean
        and covariance: ``threshold_`` at the ``quantile`` of their
        distances, and ``batch_threshold_`` (``batch_rule="median"``) at the
        ``quantile`` of the median distance of random batches of
        :data:`BATCH` of them drawn within each group (the highest over the
        groups: a batch comes from one laboratory). With
        ``batch_rule="median"``, calibrated on held-out cells of each
        training source with the source as ``groups``, the embedding and
        image description together flagged every 32-cell batch of every
        unseen laboratory on real cells of four laboratories with three
        seeds -- but also up to 61-89 % of in-domain batches (new patients)
        with two of them (see the user guide's *Using a model on another
        laboratory's smears*).

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Held-out images of the training laboratories (a few dozen per
            group at least: the quantile of a few is noisy).
        groups : array-like of shape (n_images,), default=None
            The laboratory (source) of each image; None: one group.

        Returns
        -------
        self : object
            The check, with ``threshold_`` and ``batch_threshold_`` replaced.
        """
        check_is_fitted(self)
        F = self._features(check_images(X, allow_ragged=True))
        if len(F) < 2:
            raise ValueError(
                f"calibrate needs at least 2 held-out images, got {len(F)}."
            )
        if groups is not None and len(groups) != len(F):
            raise ValueError(
                f"groups has {len(groups)} labels for {len(F)} images."
            )
        d = self._distance((F - self.mean_) / self.scale_)
        self.threshold_ = float(max(np.quantile(d, self.quantile), 1e-12))
        self.batch_threshold_ = _batch_threshold(d, groups, self.quantile)
        return self

    def batch_unfamiliarity(self, X):
        """The batch's median distance in ``batch_threshold_`` units.

        Above 1, the batch is unfamiliar by ``batch_rule="median"``: its
        typical image is further from the training images than in all but
        ``1 - quantile`` of the random batches of :data:`BATCH` held-out
        (or training) images of one laboratory. Many images each a little
        off -- another laboratory that looks alike -- move the median
        where a per-image threshold sees nothing.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            One batch of images.

        Returns
        -------
        score : float
        """
        s = self._scores(X)
        return _batch_score(self, s)

    def score_samples(self, X):
        """Familiarity of each image: ``-unfamiliarity(X)`` (higher: more familiar).

        The scikit-learn outlier-detection convention
        (:meth:`sklearn.covariance.EllipticEnvelope.score_samples`).
        """
        return -self._scores(X)

    def predict(self, X):
        """``1`` for a familiar image, ``-1`` for an unfamiliar one."""
        return np.where(self._scores(X) > 1.0, -1, 1)

    def check(self, X):
        """Judge a batch: ``(is_unfamiliar, share of unfamiliar images)``.

        The batch is unfamiliar when it holds at least ``min_batch`` images
        and, with ``batch_rule="share"``, more than
        ``max_unfamiliar_fraction`` of them are unfamiliar, or, with
        ``"median"``, :meth:`batch_unfamiliarity` is above 1.
        """
        return self.judge(self._scores(X))

    def judge(self, scores):
        """:meth:`check` on images' :meth:`unfamiliarity` scores.

        Parameters
        ----------
        scores : array-like of shape (n_images,)
            :meth:`unfamiliarity` of one batch (a smear's cells).

        Returns
        -------
        unfamiliar : bool
        share : float
            Share of the images above their own threshold.
        """
        s = np.asarray(scores, dtype=np.float64)
        share = float(np.mean(s > 1.0)) if len(s) else 0.0
        if len(s) < self.min_batch:
            return False, share
        if getattr(self, "batch_rule", "share") == "median":
            return bool(_batch_score(self, s) > 1.0), share
        return bool(share > self.max_unfamiliar_fraction), share


class FamiliarityCheck(_DistanceScores, BaseImageTransformer):
    """Warn when images look unlike the training images (another laboratory).

    ``fit`` keeps a compact description of the training images
    (:func:`image_description`: colour statistics in CIE L*a*b*, the share
    of dark and of nucleus-coloured pixels, texture), their mean and a
    shrunk covariance (Ledoit-Wolf). An image's *unfamiliarity* is its
    squared Mahalanobis distance to them, divided by the ``quantile`` of the
    training images' distances: above 1, the image is further from the
    training images than all but ``1 - quantile`` of them.

    As a pipeline step (first, before the crop) it passes the images through
    unchanged; :meth:`transform` -- hence the pipeline's ``predict`` and
    ``predict_proba`` -- issues one :class:`~skleuk.exceptions.UnfamiliarImageWarning`
    when more than ``max_unfamiliar_fraction`` of the batch is unfamiliar.
    Fitting never warns.

    A model trained on one laboratory's smears is often confidently wrong
    on another's (see the user guide's *Using a model on another
    laboratory's smears*); this check says so instead of staying silent. It
    measures the images, not the model: it cannot tell whether the model
    would be right.

    Parameters
    ----------
    quantile : float, default=0.99
        Quantile of the training images' distances that defines an
        unfamiliar image (``threshold_``).
    max_unfamiliar_fraction : float, default=0.25
        A batch is unfamiliar (and :meth:`transform` warns) when more than
        this share of its images is unfamiliar. 0: warn on any unfamiliar
        image.
    min_batch : int, default=1
        Batches smaller than this are not judged (no warning): with a few
        images the share is noisy.
    batch_rule : {"share", "median"}, default="share"
        How a batch is judged: ``"share"``, more than
        ``max_unfamiliar_fraction`` of its images are unfamiliar;
        ``"median"``, its median distance is above ``batch_threshold_``
        (:meth:`batch_unfamiliarity` above 1) -- it catches a laboratory
        whose images are each only a little off, and is meant to be
        :meth:`calibrate`-d on held-out images of each training laboratory.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,)
        Mean description of the training images.
    scale_ : ndarray of shape (n_features,)
        Its standard deviation (1 where constant).
    precision_ : ndarray of shape (n_features, n_features)
        Inverse of the shrunk (Ledoit-Wolf) covariance of the standardised
        descriptions (the identity when fitted on one image: every other
        image is then unfamiliar).
    threshold_ : float
        The ``quantile`` of the training images' squared distances (of
        held-out images after :meth:`calibrate`).
    batch_threshold_ : float
        The ``quantile`` of the median squared distance of random batches
        of :data:`BATCH` training images (held-out images of one
        laboratory after :meth:`calibrate`): ``batch_rule="median"``'s.
    n_features_ : int
        Number of columns of the description.

    See Also
    --------
    image_description : The description itself.
    skleuk.exceptions.UnfamiliarImageWarning : The warning.

    Examples
    --------
    >>> import warnings
    >>> import numpy as np
    >>> from skleuk.preprocessing import FamiliarityCheck
    >>> rng = np.random.default_rng(0)
    >>> pink = rng.normal([0.8, 0.6, 0.7], 0.05, (60, 16, 16, 3)).clip(0, 1)
    >>> check = FamiliarityCheck().fit(pink)
    >>> float(check.unfamiliarity(pink[:5]).max()) < 2
    True
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     _ = check.transform(pink[:, :, :, ::-1])   # other colours
    >>> [w.category.__name__ for w in caught]
    ['UnfamiliarImageWarning']
    """

    _parameter_constraints: dict = {
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "max_unfamiliar_fraction": [Interval(Real, 0, 1, closed="left")],
        "min_batch": [Interval(Integral, 1, None, closed="left")],
        "batch_rule": [StrOptions({"share", "median"})],
    }
    _stateless = False

    def __init__(
        self,
        quantile=0.99,
        *,
        max_unfamiliar_fraction=0.25,
        min_batch=1,
        batch_rule="share",
    ):
        self.quantile = quantile
        self.max_unfamiliar_fraction = max_unfamiliar_fraction
        self.min_batch = min_batch
        self.batch_rule = batch_rule

    def _features(self, X):
        return _image_features(X)

    def _fit_transform(self, X):
        self._fit(X)
        return X.copy() if isinstance(X, np.ndarray) else [x.copy() for x in X]

    def _transform(self, X):
        # Called per size group by transform; the warning is issued once in
        # transform, over the whole batch. A copy: a step never returns a
        # view of its input.
        return X.copy()

    def transform(self, X):
        """Pass the images through; warn when the batch is unfamiliar.

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3) or list of images
            Images (``uint8`` or float in ``[0, 1]``).

        Returns
        -------
        X_out : ndarray of shape (n_images, height, width, 3)
            The images as ``float32`` (a list when the sizes differ).

        Warns
        -----
        UnfamiliarImageWarning
            When more than ``max_unfamiliar_fraction`` of the batch (of at
            least ``min_batch`` images) is unfamiliar.
        """
        out = super().transform(X)
        unfamiliar, share = self.check(out)
        if unfamiliar:
            warnings.warn(
                UnfamiliarImageWarning(
                    share, len(out) if hasattr(out, "__len__") else 0
                ),
                stacklevel=2,
            )
        return out


#: Images per batch of the batch threshold (``batch_rule="median"``).
BATCH = 32
_DRAWS = 300


def _batch_threshold(d, groups, quantile):
    """The ``quantile`` of the median distance of random batches of
    :data:`BATCH` distances ``d`` drawn within each group (the highest over
    the groups); seeded, so a check fits the same twice."""
    groups = np.zeros(len(d), int) if groups is None else np.asarray(groups)
    out = []
    for g in np.unique(groups):
        dg = d[groups == g]
        rng = np.random.default_rng(0)  # per group: a group's own threshold
        if len(dg) <= BATCH:  # a small group: batches drawn with replacement
            draws = rng.integers(0, len(dg), (_DRAWS, BATCH))
        else:  # each batch without replacement
            draws = np.argsort(rng.random((_DRAWS, len(dg))), axis=1)[:, :BATCH]
        out.append(np.quantile(np.median(dg[draws], axis=1), quantile))
    return float(max(max(out), 1e-12))


def _batch_score(check, s):
    """Median distance (``s``: in ``threshold_`` units) in batch units."""
    if not len(s):
        return 0.0
    return float(np.median(s) * check.threshold_ / check.batch_threshold_)


class EmbeddingFamiliarity(_DistanceScores, BaseEstimator):
    """Warn when images look unlike the training images *to the network*.

    :class:`FamiliarityCheck` describes the pixels; this check describes
    what a fitted model makes of them: the penultimate-layer activations of
    its network (:meth:`~skleuk.neural_network.LightweightCNNClassifier.embed`
    of the last step of ``estimator``, after its other steps), optionally
    beside the image description (``image=True``). The scores, the
    threshold and the batch rule are :class:`FamiliarityCheck`'s
    (Ledoit-Wolf Mahalanobis distance in ``quantile`` units).

    ``estimator`` must be fitted already: it is not refitted (a
    :func:`~sklearn.base.clone` of the check holds an unfitted copy; wrap
    the model in :class:`sklearn.frozen.FrozenEstimator` to clone it).
    Fit the check on the images the model was trained on -- or better, on
    held-out images of the same laboratories, or :meth:`calibrate` it on
    them: the network places its training images closer together than
    new ones. It is not a pipeline step (it needs the fitted network);
    call :meth:`check` or :meth:`warn` beside ``predict``.

    Parameters
    ----------
    estimator : object
        A fitted :class:`~sklearn.pipeline.Pipeline` whose last step has an
        ``embed`` method (:func:`skleuk.make_pipeline`), or a fitted
        :class:`~skleuk.neural_network.LightweightCNNClassifier`.
    image : bool, default=False
        Also describe the images themselves (:func:`image_description`),
        beside the embedding.
    quantile : float, default=0.99
        As :class:`FamiliarityCheck`.
    max_unfamiliar_fraction : float, default=0.25
        As :class:`FamiliarityCheck`.
    min_batch : int, default=1
        As :class:`FamiliarityCheck`.
    batch_rule : {"share", "median"}, default="share"
        As :class:`FamiliarityCheck`. ``"median"``, with the image
        description (``image=True``) and after :meth:`calibrate` on
        held-out images with their laboratory as ``groups``, caught every
        unseen laboratory on real cells, at the cost of false alarms on new
        patients of the training laboratories (see the user guide).

    Attributes
    ----------
    mean_, scale_, precision_, threshold_, batch_threshold_, n_features_
        As :class:`FamiliarityCheck`, over the embedding (and image
        description) columns.

    See Also
    --------
    FamiliarityCheck : The same check on the images alone (a pipeline step).

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk import make_pipeline
    >>> from skleuk.preprocessing import EmbeddingFamiliarity
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal([0.8, 0.6, 0.7], 0.05, (32, 16, 16, 3)).clip(0, 1)
    >>> pipe = make_pipeline(image_size=16, cnn__epochs=1,
    ...                      cnn__random_state=0).fit(X, [0, 1] * 16)
    >>> check = EmbeddingFamiliarity(pipe).fit(X)
    >>> check.n_features_
    64
    """

    _parameter_constraints: dict = {
        "quantile": [Interval(Real, 0, 1, closed="neither")],
        "max_unfamiliar_fraction": [Interval(Real, 0, 1, closed="left")],
        "min_batch": [Interval(Integral, 1, None, closed="left")],
        "batch_rule": [StrOptions({"share", "median"})],
        "estimator": [HasMethods(["predict"])],
        "image": ["boolean"],
    }

    def __init__(
        self,
        estimator,
        *,
        image=False,
        quantile=0.99,
        max_unfamiliar_fraction=0.25,
        min_batch=1,
        batch_rule="share",
    ):
        self.estimator = estimator
        self.image = image
        self.quantile = quantile
        self.max_unfamiliar_fraction = max_unfamiliar_fraction
        self.min_batch = min_batch
        self.batch_rule = batch_rule

    def _embed(self, X):
        model = self.estimator
        if isinstance(model, FrozenEstimator):
            model = model.estimator
        check_is_fitted(model)  # fitted beforehand: never fitted here
        if isinstance(model, Pipeline):
            head = model.steps[-1][1]
            if not hasattr(head, "embed"):
                raise TypeError(
                    f"The last step of the pipeline ({type(head).__name__}) has "
                    "no embed method; EmbeddingFamiliarity needs a network "
                    "such as skleuk's LightweightCNNClassifier."
                )
            with warnings.catch_warnings():  # a FamiliarityCheck step's
                warnings.simplefilter("ignore", UnfamiliarImageWarning)
                X = model[:-1].transform(X)
            return np.asarray(head.embed(X), dtype=np.float64)
        if not hasattr(model, "embed"):
            raise TypeError(
                f"estimator ({type(model).__name__}) has no embed method; pass "
                "a fitted skleuk pipeline or LightweightCNNClassifier."
            )
        return np.asarray(model.embed(X), dtype=np.float64)

    def _features(self, X):
        F = self._embed(X)
        if self.image:
            F = np.hstack([F, _image_features(X)])
        return F

    def fit(self, X, y=None):
        """Describe images as ``estimator`` sees them (the training images
        or, better, held-out images of the training laboratories).

        Parameters
        ----------
        X : array-like of shape (n_images, height, width, 3)
            Images (``uint8`` or float in ``[0, 1]``), as ``estimator``
            takes them.
        y : None
            Ignored.

        Returns
        -------
        self : EmbeddingFamiliarity
        """
        self._validate_params()
        self._fit(check_images(X, allow_ragged=True))
        self.is_fitted_ = True
        return self

    def warn(self, X):
        """Issue one :class:`~skleuk.exceptions.UnfamiliarImageWarning` when
        the batch ``X`` is unfamiliar; return :meth:`check`'s answer."""
        unfamiliar, share = self.check(X)
        if unfamiliar:
            warnings.warn(UnfamiliarImageWarning(share, len(X)), stacklevel=2)
        return unfamiliar, share
