"""Several epoch counts scored from one fit: EpochSnapshots and epoch_scorer."""

import pickle

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, StratifiedKFold

from skleuk.neural_network import EpochSnapshots, LightweightCNNClassifier, epoch_scorer
from skleuk.neural_network.tests._data import make_images
from skleuk.neural_network.tests._data import tiny_cnn as tiny


@pytest.fixture(scope="module")
def data():
    return make_images(n=32, size=12, n_classes=2, random_state=0)


def test_snapshot_equals_a_fit_of_that_many_epochs(data):
    # Constant rate, seeded: epoch 1 of a 3-epoch fit is the 1-epoch fit,
    # BatchNorm recalibration included.
    X, y = data
    snaps = EpochSnapshots([1, 3])
    long = LightweightCNNClassifier(
        **tiny(random_state=0, epochs=3, model__batch_norm=True), callbacks=[snaps]
    ).fit(X, y)
    short = LightweightCNNClassifier(
        **tiny(random_state=0, epochs=1, model__batch_norm=True)
    ).fit(X, y)
    assert sorted(snaps.weights_) == [1, 3]
    for got, want in zip(snaps.weights_[1], short.model_.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    score_1 = epoch_scorer("neg_log_loss", 1)(long, X, y)
    assert score_1 == pytest.approx(-_log_loss(short, X, y), rel=1e-5)
    # the last epoch is the fitted network; the classifier is left unchanged
    before = long.predict_proba(X)
    assert epoch_scorer("neg_log_loss", 3)(long, X, y) == pytest.approx(
        -_log_loss(long, X, y), rel=1e-6)
    np.testing.assert_array_equal(long.predict_proba(X), before)


def _log_loss(clf, X, y):
    from sklearn.metrics import log_loss

    return log_loss(y, clf.predict_proba(X), labels=clf.classes_)


def test_grid_search_scores_every_epoch_from_one_fit(data):
    X, y = data
    clf = LightweightCNNClassifier(
        **tiny(random_state=0, epochs=2), callbacks=[EpochSnapshots((1, 2))]
    )
    scoring = {f"acc@{e}": epoch_scorer("accuracy", e) for e in (1, 2)}
    scoring["acc"] = "accuracy"
    cv = StratifiedKFold(2, shuffle=True, random_state=0)
    search = GridSearchCV(clf, {"learning_rate": [0.01, 0.1]}, scoring=scoring,
                          refit="acc@2", cv=cv).fit(X, y)
    res = search.cv_results_
    # the last snapshot is the fitted classifier: the plain scorer agrees
    np.testing.assert_allclose(res["mean_test_acc@2"], res["mean_test_acc"])
    assert np.all(np.isfinite(res["mean_test_acc@1"]))
    # the callback given to the search kept nothing: clones got their own
    assert clf.callbacks[0].weights_ == {}


def test_clone_has_a_fresh_callback(data):
    X, y = data
    clf = LightweightCNNClassifier(**tiny(random_state=0, epochs=1),
                                   callbacks=[EpochSnapshots([1])]).fit(X, y)
    assert list(clf.callbacks[0].weights_) == [1]
    copy = clone(clf)
    assert copy.callbacks[0] is not clf.callbacks[0]
    assert copy.callbacks[0].weights_ == {} and copy.callbacks[0].epochs == (1,)
    # a pickled fitted classifier keeps its snapshots
    loaded = pickle.loads(pickle.dumps(clf))
    assert epoch_scorer("accuracy", 1)(loaded, X, y) == epoch_scorer("accuracy", 1)(
        clf, X, y)


def test_errors(data):
    X, y = data
    plain = LightweightCNNClassifier(**tiny(random_state=0, epochs=1)).fit(X, y)
    with pytest.raises(ValueError, match="no EpochSnapshots callback"):
        epoch_scorer("accuracy", 1)(plain, X, y)
    snap = LightweightCNNClassifier(**tiny(random_state=0, epochs=1),
                                    callbacks=[EpochSnapshots([1, 5])]).fit(X, y)
    with pytest.raises(ValueError, match="No snapshot after epoch 5"):
        epoch_scorer("accuracy", 5)(snap, X, y)
    with pytest.raises(ValueError, match="positive"):
        epoch_scorer("accuracy", 0)
    with pytest.raises(ValueError, match="positive"):
        EpochSnapshots([0, 2])
