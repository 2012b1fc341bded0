"""Tests for find_duplicate_groups."""

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image
from sklearn.model_selection import GroupKFold

from skleuk.datasets import make_blood_smears, read_image
from skleuk.model_selection import _duplicates, find_duplicate_groups
from skleuk.model_selection._duplicates import _components, _hamming_pairs

BCCD = Path(__file__).resolve().parents[3] / "tests" / "data" / "bccd" / "JPEGImages"


def _jpeg(img, quality=75):
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, "JPEG", quality=quality)
    buf.seek(0)
    return np.asarray(Image.open(buf).convert("RGB"))


def _brighter(img, delta=20):
    return np.clip(img.astype(int) + delta, 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def cells():
    """Six distinct synthetic cells (72 px) and 64 px crops of them."""
    big = make_blood_smears(n_samples=6, image_size=72, random_state=0).images
    return big, big[:, 4:68, 4:68]


def _planted(cells):
    big, crops = cells
    X = np.concatenate(
        [
            crops,
            crops[[0]],  # exact copy of 0
            big[[1], 0:64, 4:68],  # 1 cropped 4 px higher (1/16 of 64)
            _jpeg(crops[2])[None],  # 2 re-encoded
            _brighter(crops[3])[None],  # 3 brighter
            big[[4], 7:71, 1:65],  # 4 shifted by 3 px down and 3 px left
        ]
    )
    return X


def test_correlation_groups_all_planted_duplicates(cells):
    groups = find_duplicate_groups(_planted(cells))
    np.testing.assert_array_equal(groups, [0, 1, 2, 3, 4, 5, 0, 1, 2, 3, 4])


def test_phash_groups_copies(cells):
    X = _planted(cells)
    groups = find_duplicate_groups(X, method="phash")
    np.testing.assert_array_equal(groups[:6], np.arange(6))
    np.testing.assert_array_equal(groups[[6, 8, 9]], [0, 2, 3])
    labels, pairs, scores = find_duplicate_groups(
        X, method="phash", threshold=63, return_pairs=True
    )
    assert len(pairs) == 11 * 10 // 2  # every pair within the largest threshold
    assert scores.max() <= 63 and np.all(labels == 0)


def test_no_shift_tolerance_without_max_shift(cells):
    groups = find_duplicate_groups(_planted(cells), max_shift=0)
    assert groups[7] != groups[1]  # the 4 px shifted crop is not found
    assert groups[6] == groups[0]  # the exact copy still is


def test_distinct_cells_are_not_merged(cells):
    _, crops = cells
    for method in ["correlation", "phash"]:
        np.testing.assert_array_equal(
            find_duplicate_groups(crops, method=method), np.arange(6)
        )


def test_return_pairs(cells):
    labels, pairs, scores = find_duplicate_groups(_planted(cells), return_pairs=True)
    assert pairs.tolist() == [[0, 6], [1, 7], [2, 8], [3, 9], [4, 10]]
    assert scores.shape == (5,) and scores.dtype == np.float32
    assert np.all(scores >= 0.85) and scores[0] == pytest.approx(1.0, abs=1e-5)
    assert labels.dtype == np.int64


def test_labels_in_order_of_first_appearance(cells):
    _, crops = cells
    X = np.stack([crops[3], crops[1], crops[3], crops[5], crops[1]])
    np.testing.assert_array_equal(find_duplicate_groups(X), [0, 1, 0, 2, 1])


def test_connected_components_are_transitive():
    np.testing.assert_array_equal(
        _components(6, np.array([4, 1, 2]), np.array([5, 2, 3])), [0, 1, 1, 1, 2, 2]
    )
    np.testing.assert_array_equal(
        _components(3, np.empty(0, int), np.empty(0, int)), [0, 1, 2]
    )


def test_paths_ragged_and_float_input_agree(tmp_path, cells):
    X = _planted(cells)
    expected = find_duplicate_groups(X)
    paths = []
    for i, img in enumerate(X):
        paths.append(str(tmp_path / f"{i}.png"))
        Image.fromarray(img).save(paths[-1])
    np.testing.assert_array_equal(find_duplicate_groups(paths, batch_size=4), expected)
    np.testing.assert_array_equal(find_duplicate_groups(np.array(paths)), expected)
    np.testing.assert_array_equal(
        find_duplicate_groups(X.astype(np.float32) / 255, batch_size=3), expected
    )
    ragged = [*X, np.zeros((40, 50, 3), np.uint8)]
    np.testing.assert_array_equal(
        find_duplicate_groups(ragged), [*expected, expected.max() + 1]
    )


def test_flat_images(cells):
    _, crops = cells
    white = np.full((2, 64, 64, 3), 255, np.uint8)
    X = np.concatenate([white, crops[:1], np.full((1, 64, 64, 3), 128, np.uint8)])
    for method in ["correlation", "phash"]:
        groups = find_duplicate_groups(X, method=method)
        assert groups[0] == groups[1] and groups[2] != groups[0]


def test_single_image_and_errors(cells):
    _, crops = cells
    np.testing.assert_array_equal(find_duplicate_groups(crops[:1]), [0])
    with pytest.raises(ValueError, match="at least one image"):
        find_duplicate_groups([])
    with pytest.raises(TypeError, match="single path"):
        find_duplicate_groups("a.png")
    for kwargs, match in [
        ({"method": "ssim"}, "method"),
        ({"threshold": 1.5}, "normalised cross-correlation"),
        ({"method": "phash", "threshold": 0.5}, "Hamming"),
        ({"method": "phash", "threshold": 64}, "Hamming"),
        ({"max_shift": 16}, "fraction"),
        ({"hash_size": 40}, "hash_size"),
        ({"batch_size": 0}, "batch_size"),
    ]:
        with pytest.raises(ValueError, match=match):
            find_duplicate_groups(crops, **kwargs)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        find_duplicate_groups(crops * 2.0)


def test_groups_keep_duplicates_in_one_fold(cells):
    X = _planted(cells)
    groups = find_duplicate_groups(X)
    for train, test in GroupKFold(n_splits=3).split(X, groups=groups):
        assert not set(groups[train]) & set(groups[test])


def test_blocked_computation_matches_one_block(monkeypatch, cells):
    X = _planted(cells)
    expected = find_duplicate_groups(X, return_pairs=True)
    expected_h = find_duplicate_groups(X, method="phash", return_pairs=True)
    monkeypatch.setattr(_duplicates, "_CHUNK_BYTES", 64)
    got = find_duplicate_groups(X, return_pairs=True)
    got_h = find_duplicate_groups(X, method="phash", return_pairs=True)
    for a, b in zip(expected + expected_h, got + got_h, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-5)


@given(
    n=st.integers(1, 40),
    n_bytes=st.integers(1, 12),
    threshold=st.integers(0, 96),
    chunk=st.sampled_from([8, 100, 1 << 25]),
    seed=st.integers(0, 2**16),
)
def test_property_hamming_pairs_match_brute_force(n, n_bytes, threshold, chunk, seed):
    rng = np.random.default_rng(seed)
    hashes = rng.integers(0, 256, (n, n_bytes), dtype=np.uint8)
    hashes[rng.integers(0, n, n // 3)] = hashes[0]  # some exact repeats
    old = _duplicates._CHUNK_BYTES
    _duplicates._CHUNK_BYTES = chunk
    try:
        rows, cols, dist = _hamming_pairs(hashes, threshold)
    finally:
        _duplicates._CHUNK_BYTES = old
    bits = np.unpackbits(hashes, axis=1).astype(int)
    full = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    i, j = np.nonzero(np.triu(full <= threshold, k=1))
    order = np.lexsort((cols, rows))
    np.testing.assert_array_equal(rows[order], i)
    np.testing.assert_array_equal(cols[order], j)
    np.testing.assert_array_equal(dist[order], full[i, j])


@pytest.mark.skipif(not BCCD.is_dir(), reason="tests/data/bccd not present")
def test_real_bccd_crops():
    """Distinct places of real smear photos stay apart; copies are found."""
    photos = [read_image(p) for p in sorted(BCCD.glob("*.jpg"))]
    assert len(photos) >= 4
    distinct, copies = [], []
    for img in photos:
        for r, c in [(40, 40), (300, 440)]:  # far apart: no overlap
            distinct.append(img[r : r + 128, c : c + 128])
        copies.append(img[48 : 48 + 128, 40 : 40 + 128])  # 8 px lower
        copies.append(_jpeg(_brighter(img[40:168, 40:168], -15), 60))
    distinct = np.stack(distinct)
    n = len(distinct)
    for method in ["correlation", "phash"]:
        np.testing.assert_array_equal(
            find_duplicate_groups(distinct, method=method), np.arange(n)
        )
    groups = find_duplicate_groups(np.concatenate([distinct, np.stack(copies)]))
    np.testing.assert_array_equal(groups[:n], np.arange(n))
    # copies 2k and 2k+1 are near-duplicates of distinct crop 2k (photo k).
    np.testing.assert_array_equal(groups[n:], np.repeat(np.arange(0, n, 2), 2))
