"""Labels of any type <-> one-hot rows, for the CNN's softmax output."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.multiclass import check_classification_targets

__all__ = ["_OneHotLabelEncoder"]


class _OneHotLabelEncoder(TransformerMixin, BaseEstimator):
    """Labels of any type <-> one-hot float32 rows in ``classes_`` order."""

    def __init__(self, classes=None):
        self.classes = classes

    def fit(self, y):
        check_classification_targets(y)
        if self.classes is not None:
            classes = np.unique(np.asarray(self.classes))
            unseen = np.setdiff1d(np.unique(y), classes)
            if unseen.size:
                raise ValueError(
                    f"y contains labels {unseen.tolist()} that are not in "
                    f"classes={classes.tolist()}."
                )
        else:
            classes = np.unique(y)
        if classes.size < 2:
            raise ValueError(
                "LightweightCNNClassifier needs at least two classes to learn; "
                f"y contains only one class: {classes.tolist()!r}. Check the "
                "labels, or use a stratified split so that every training fold "
                "sees every class."
            )
        self.classes_ = classes
        self.n_classes_ = int(classes.size)
        return self

    def transform(self, y):
        y = np.asarray(y)
        idx = np.searchsorted(self.classes_, y)
        idx = np.clip(idx, 0, self.n_classes_ - 1)
        bad = self.classes_[idx] != y
        if np.any(bad):
            raise ValueError(
                f"y contains labels {np.unique(y[bad]).tolist()} not seen in the "
                f"first fit (classes_={self.classes_.tolist()})."
            )
        onehot = np.zeros((y.shape[0], self.n_classes_), dtype=np.float32)
        onehot[np.arange(y.shape[0]), idx] = 1.0
        return onehot

    def inverse_transform(self, proba, return_proba=False):
        proba = np.asarray(proba)
        if return_proba:
            return proba
        return self.classes_[np.argmax(proba, axis=1)]

    def get_metadata(self):
        return {
            "classes_": self.classes_,
            "n_classes_": self.n_classes_,
            "n_outputs_": 1,
            "n_outputs_expected_": 1,
        }
