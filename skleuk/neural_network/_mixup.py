"""Mixup: training batches of convex mixtures of image pairs and their labels.

Zhang et al., "mixup: Beyond Empirical Risk Minimization" (ICLR 2018): each
training image ``x_i`` is replaced by ``lam * x_i + (1 - lam) * x_j`` and its
one-hot target by ``lam * y_i + (1 - lam) * y_j``, with ``x_j`` another image
of the same batch and ``lam ~ Beta(alpha, alpha)``. It regularises the network
towards linear behaviour between training images and makes it less willing to
memorise single labels -- the reason to try it where labels are noisy, as
cells that inherit their field's label are.

Only the training batches are mixed; validation data, prediction and every
evaluation see the images as they are.
"""

from __future__ import annotations

import math

import keras
import numpy as np

__all__ = ["MixupBatches"]


class MixupBatches(keras.utils.PyDataset):
    """Shuffled, mixed training batches for ``keras.Model.fit``.

    Parameters
    ----------
    X : ndarray of shape (n, height, width, channels)
        Training images (float32).
    y : ndarray of shape (n, n_classes)
        One-hot targets.
    sample_weight : ndarray of shape (n,) or None
        Per-image loss weights; a mixed image gets the same mixture of its
        two images' weights.
    batch_size : int
        Images per batch (the last batch may be smaller).
    alpha : float
        The Beta distribution's parameter (> 0). Small values (0.1-0.4)
        leave most images nearly unmixed.
    seed : int
        Seed of the shuffles and mixtures: batch ``i`` of epoch ``e`` depends
        on ``(seed, e, i)`` only, so a fit is reproducible.
    """

    def __init__(self, X, y, sample_weight, batch_size, alpha, seed):
        # One worker, no multiprocessing: batches are made in order in this
        # process (deterministic, and no copy of X per worker).
        super().__init__(workers=1, use_multiprocessing=False)
        self.X = X
        self.y = np.asarray(y, dtype=np.float32)
        self.sample_weight = sample_weight
        self.batch_size = int(batch_size)
        self.alpha = float(alpha)
        self.seed = int(seed)
        self._epoch = 0
        self._order = self._permutation(0)

    def _permutation(self, epoch):
        return np.random.default_rng([self.seed, epoch]).permutation(len(self.X))

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __getitem__(self, index):
        batch = self._order[index * self.batch_size : (index + 1) * self.batch_size]
        rng = np.random.default_rng([self.seed, self._epoch, index, 1])
        lam = rng.beta(self.alpha, self.alpha, size=len(batch)).astype(np.float32)
        partner = batch[rng.permutation(len(batch))]
        x = self.X[batch].astype(np.float32, copy=False)
        xp = self.X[partner].astype(np.float32, copy=False)
        x_mix = lam[:, None, None, None] * x + (1.0 - lam)[:, None, None, None] * xp
        y_mix = lam[:, None] * self.y[batch] + (1.0 - lam)[:, None] * self.y[partner]
        if self.sample_weight is None:
            return x_mix, y_mix
        w = self.sample_weight
        return x_mix, y_mix, (lam * w[batch] + (1.0 - lam) * w[partner]).astype(
            np.float32
        )

    def on_epoch_end(self):
        self._epoch += 1
        self._order = self._permutation(self._epoch)
