"""The contract of the mixup training batches."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skleuk.neural_network._mixup import MixupBatches


def _data(n=10, n_classes=3, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.random((n, 4, 4, 3), dtype=np.float32)
    y = np.eye(n_classes, dtype=np.float32)[np.arange(n) % n_classes]
    return X, y


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(1, 23),
    batch_size=st.integers(1, 8),
    alpha=st.floats(0.05, 5.0),
    seed=st.integers(0, 2**31 - 2),
)
def test_batches_are_convex_mixtures(n, batch_size, alpha, seed):
    X, y = _data(n)
    w = np.linspace(1.0, 2.0, n).astype(np.float32)
    batches = MixupBatches(X, y, w, batch_size, alpha, seed)
    assert len(batches) == -(-n // batch_size)
    sizes = []
    for i in range(len(batches)):
        xb, yb, wb = batches[i]
        sizes.append(len(xb))
        assert xb.dtype == yb.dtype == wb.dtype == np.float32
        assert xb.shape[1:] == X.shape[1:] and yb.shape == (len(xb), 3)
        # targets stay distributions, pixels and weights stay within the
        # range of the data they mix
        np.testing.assert_allclose(yb.sum(axis=1), 1.0, rtol=1e-5)
        assert yb.min() >= 0.0 and yb.max() <= 1.0 + 1e-6
        assert xb.min() >= X.min() - 1e-6 and xb.max() <= X.max() + 1e-6
        assert wb.min() >= 1.0 - 1e-6 and wb.max() <= 2.0 + 1e-6
    # every image is the first of one pair per epoch
    assert sum(sizes) == n


def test_each_image_is_mixed_with_one_partner_by_its_label_weight():
    # One class per image: each mixed target names the two images and lam.
    X, y = _data(12, n_classes=12)
    w = np.arange(1, 13, dtype=np.float32)
    batches = MixupBatches(X, y, w, 5, 0.4, seed=3)
    seen = []
    for k in range(len(batches)):
        xb, yb, wb = batches[k]
        for row in range(len(xb)):
            i = int(batches._order[k * 5 + row])
            seen.append(i)
            lam = yb[row, i] if yb[row, i] < 1 else 1.0
            partners = np.flatnonzero(yb[row] > 0)
            j = [p for p in partners if p != i]
            j = j[0] if j else i  # mixed with itself (or lam == 1)
            # the partner is from the same batch
            assert j in batches._order[k * 5 : (k + 1) * 5]
            np.testing.assert_allclose(
                xb[row], lam * X[i] + (1 - lam) * X[j], atol=1e-5
            )
            np.testing.assert_allclose(wb[row], lam * w[i] + (1 - lam) * w[j],
                                       rtol=1e-5)
    assert sorted(seen) == list(range(12))


def test_reproducible_and_reshuffled_each_epoch():
    X, y = _data(16)
    a = MixupBatches(X, y, None, 4, 0.2, seed=7)
    b = MixupBatches(X, y, None, 4, 0.2, seed=7)
    first = [a[i] for i in range(len(a))]
    for (xa, ya), (xb, yb) in zip(first, [b[i] for i in range(len(b))], strict=True):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya, yb)
    order0 = a._order.copy()
    a.on_epoch_end()
    assert not np.array_equal(order0, a._order)
    assert sorted(a._order) == list(range(16))
    xa, _ = a[0]
    assert not np.array_equal(xa, first[0][0])
    other = MixupBatches(X, y, None, 4, 0.2, seed=8)
    assert not np.array_equal(other[0][0], first[0][0])


@pytest.mark.parametrize("alpha", [0.01, 100.0])
def test_alpha_sets_how_much_images_are_mixed(alpha):
    X, y = _data(400, n_classes=2)
    xb, yb = MixupBatches(X, y, None, 400, alpha, seed=0)[0]
    # the weight of the row's dominant label: near 1 for small alpha, near
    # 0.5 for large alpha (Beta(alpha, alpha))
    dominant = yb.max(axis=1)
    mixed_labels = ~np.isclose(dominant, 1.0)
    if alpha < 1:
        assert np.median(dominant) > 0.99
    else:
        assert abs(np.median(dominant[mixed_labels]) - 0.5) < 0.1
