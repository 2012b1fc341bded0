"""Scoring several epoch counts from one training run.

A grid search over ``epochs`` trains every epoch count from scratch. With
:class:`EpochSnapshots` among a classifier's callbacks, one fit keeps the
network's weights after each of the listed epochs, and
:func:`epoch_scorer` scores the fitted classifier *as it was* after one of
them. Passed as the multi-metric ``scoring`` of
:class:`~sklearn.model_selection.GridSearchCV` or
:func:`~sklearn.model_selection.cross_validate`, every candidate is fitted
once per fold and scored at every listed epoch; the search's semantics
(clones, folds, ``cv_results_``) are scikit-learn's own.
"""

from __future__ import annotations

from numbers import Integral

import keras
from sklearn.metrics import check_scoring

from ._training import recalibrate_batch_norm

__all__ = ["EpochSnapshots", "epoch_scorer"]


class EpochSnapshots(keras.callbacks.Callback):
    """Keep the network's weights after some epochs of a fit.

    A Keras callback for :class:`~skleuk.neural_network.LightweightCNNClassifier`
    (``callbacks=[EpochSnapshots((30, 60, 120))]``; in a pipeline
    ``cnn__callbacks``). After the fit, when the classifier recalibrates its
    BatchNorm statistics (``recalibrate_batch_norm=True``), every snapshot
    is recalibrated the same way on the same training images, so a snapshot
    is the network that the classifier would hold had the fit stopped there.

    **What a snapshot equals.** With ``lr_schedule="constant"`` and a seeded
    fit, the snapshot after ``e`` epochs of a longer fit is the network of
    a fit of ``e`` epochs (same shuffles, augmentation and dropout draws;
    tested). With ``lr_schedule="cosine"`` (the default recipe's) it is
    not: the learning rate decays over the whole fit, so after ``e`` of
    ``E`` epochs it has not yet reached zero. Scoring snapshots then answers
    "how long must this schedule run?" only approximately; compare the best
    epoch count with a fit of exactly that many epochs before adopting it.

    Parameters
    ----------
    epochs : iterable of int
        The epoch counts (1-based, counted from the first epoch of the
        network, so a ``warm_start`` fit continues the count) after which
        the weights are kept.

    Attributes
    ----------
    weights_ : dict of int to list of ndarray
        The weights after each listed epoch that the last fit reached.

    See Also
    --------
    epoch_scorer : Score a fitted classifier at one of these epochs.

    Examples
    --------
    >>> from skleuk.neural_network import EpochSnapshots
    >>> EpochSnapshots([60, 30]).epochs
    (30, 60)
    """

    def __init__(self, epochs):
        super().__init__()
        epochs = tuple(sorted({int(e) for e in epochs}))
        if not epochs or epochs[0] < 1:
            raise ValueError(f"epochs must be positive epoch counts, got {epochs!r}.")
        self.epochs = epochs
        self.weights_ = {}

    def on_train_begin(self, logs=None):
        self.weights_ = {}

    def on_epoch_end(self, epoch, logs=None):
        """Keep a copy of the weights after each epoch count asked for."""
        if epoch + 1 in self.epochs:
            self.weights_[epoch + 1] = [w.copy() for w in self.model.get_weights()]

    def recalibrate(self, model, X, batch_size=None):
        """Recalibrate every snapshot's BatchNorm statistics on ``X``.

        Called by the classifier after its fit; ``model``'s own weights are
        left as they were.
        """
        final = model.get_weights()
        try:
            for epoch, weights in self.weights_.items():
                model.set_weights(weights)
                recalibrate_batch_norm(model, X, batch_size)
                self.weights_[epoch] = model.get_weights()
        finally:
            model.set_weights(final)

    def __deepcopy__(self, memo):
        # scikit-learn's clone deep-copies parameters: a clone gets a fresh
        # callback, without the model Keras attached or any snapshot.
        return type(self)(self.epochs)


def _snapshots(classifier):
    """The EpochSnapshots among a fitted classifier's callback parameters."""
    params = classifier.get_params(deep=False)
    for name in ("callbacks", "fit__callbacks"):
        value = params.get(name)
        for cb in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(cb, EpochSnapshots):
                return cb
    raise ValueError(
        f"{type(classifier).__name__} has no EpochSnapshots callback: pass "
        "callbacks=[EpochSnapshots(epochs)] (in a pipeline cnn__callbacks) to "
        "score it at several epochs."
    )


class _EpochScorer:
    """A scorer of the snapshot after ``epoch`` epochs (see epoch_scorer)."""

    def __init__(self, scoring, epoch):
        self.scoring = scoring
        self.epoch = epoch

    def __call__(self, estimator, X, y, **kwargs):
        clf = estimator[-1] if hasattr(estimator, "steps") else estimator
        snapshots = _snapshots(clf)
        if self.epoch not in snapshots.weights_:
            raise ValueError(
                f"No snapshot after epoch {self.epoch}: the fit kept epochs "
                f"{sorted(snapshots.weights_)} (listed: {list(snapshots.epochs)}; "
                "a fit of fewer epochs, or stopped early, keeps fewer)."
            )
        final = clf.model_.get_weights()
        clf.model_.set_weights(snapshots.weights_[self.epoch])
        try:
            return check_scoring(estimator, self.scoring)(estimator, X, y, **kwargs)
        finally:
            clf.model_.set_weights(final)

    def __repr__(self):
        return f"epoch_scorer({self.scoring!r}, {self.epoch})"


def epoch_scorer(scoring, epoch):
    """A scorer of a fitted classifier as it was after ``epoch`` epochs.

    Parameters
    ----------
    scoring : str or callable
        A scikit-learn scoring name (``"accuracy"``, ``"roc_auc"``, ...) or
        scorer, as ``scoring`` of :func:`~sklearn.model_selection.cross_validate`.
    epoch : int
        One of the epochs of the :class:`EpochSnapshots` callback of the
        classifier (the last step of a pipeline).

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y)``: the score of ``estimator`` with its
        network's weights temporarily replaced by the snapshot's.

    Examples
    --------
    One fit per fold and candidate, scored after 30, 60 and 120 epochs
    (skipped: it trains)::

        from sklearn.model_selection import GridSearchCV
        from skleuk import make_pipeline
        from skleuk.neural_network import EpochSnapshots, epoch_scorer

        epochs = (30, 60, 120)
        pipe = make_pipeline(cnn__epochs=max(epochs), cnn__random_state=0,
                             cnn__lr_schedule="constant",
                             cnn__callbacks=[EpochSnapshots(epochs)])
        scoring = {f"accuracy@{e}": epoch_scorer("accuracy", e) for e in epochs}
        search = GridSearchCV(pipe, {"cnn__learning_rate": [1e-3, 3e-3]},
                              scoring=scoring, refit=False, cv=5).fit(X, y)
        # search.cv_results_["mean_test_accuracy@60"], ...

    >>> from skleuk.neural_network import epoch_scorer
    >>> epoch_scorer("accuracy", 30)
    epoch_scorer('accuracy', 30)
    """
    if not isinstance(epoch, Integral) or epoch < 1:
        raise ValueError(f"epoch must be a positive int, got {epoch!r}.")
    return _EpochScorer(scoring, int(epoch))
