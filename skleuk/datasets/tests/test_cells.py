"""Tests for extract_cells (single-cell crops from ALL_IDB1 smears)."""

import os
import warnings

import numpy as np
import pytest
from PIL import Image
from sklearn.model_selection import GroupKFold
from sklearn.utils import Bunch

from skleuk.datasets import extract_cells


def _smear(tmp_path, name, shape=(60, 80), seed=0):
    img = np.random.default_rng(seed).integers(0, 256, (*shape, 3), dtype=np.uint8)
    path = str(tmp_path / name)
    Image.fromarray(img).save(path)  # PNG: lossless, so crops can be compared
    return path, img


@pytest.fixture
def fake_detector(monkeypatch):
    """Replace locate_white_cells by a fixed list of cells per image."""
    calls = []
    found = {}

    def locate_white_cells(image, **kwargs):
        calls.append(kwargs)
        cents = np.asarray(found.get(image.shape[:2], []), dtype=float).reshape(-1, 2)
        return Bunch(centres=cents, nucleus_areas=np.full(len(cents), 100.0))

    import skleuk.preprocessing

    monkeypatch.setattr(skleuk.preprocessing, "locate_white_cells", locate_white_cells)
    return found, calls


def test_positive_crops_are_exact_windows(tmp_path):
    path, img = _smear(tmp_path, "Im001_1.png")
    smears = Bunch(
        filenames=np.array([path]),
        target=np.array([1]),
        centroids=[np.array([[30.0, 40.0], [20.0, 15.0]])],
    )
    cells = extract_cells(smears, crop_size=11, negatives="none")
    assert cells.images.shape == (2, 11, 11, 3) and cells.images.dtype == np.uint8
    np.testing.assert_array_equal(cells.images[0], img[25:36, 35:46])
    np.testing.assert_array_equal(cells.images[1], img[15:26, 10:21])
    np.testing.assert_array_equal(cells.target, [1, 1])
    np.testing.assert_array_equal(cells.center, [[30, 40], [20, 15]])
    np.testing.assert_array_equal(cells.groups, [0, 0])
    assert cells.source.tolist() == [path, path]
    assert cells.target_names == ["healthy", "ALL"]
    assert not cells.padded.any()


@pytest.mark.parametrize("mode", ["reflect", "edge", "symmetric"])
def test_border_crops_are_padded_not_dropped(tmp_path, mode):
    path, img = _smear(tmp_path, "Im001_1.png")
    smears = Bunch(filenames=[path], target=[1], centroids=[np.array([[1.0, 78.0]])])
    cells = extract_cells(smears, crop_size=9, negatives="none", pad_mode=mode)
    expected = np.pad(img, ((10, 10), (10, 10), (0, 0)), mode=mode)[
        10 + 1 - 4 : 10 + 1 + 5, 10 + 78 - 4 : 10 + 78 + 5
    ]
    np.testing.assert_array_equal(cells.images[0], expected)
    assert cells.padded.tolist() == [True]
    cells = extract_cells(smears, crop_size=9, negatives="none", pad_mode="constant")
    np.testing.assert_array_equal(cells.images[0, :3], 255)


def test_negatives_exclude_cells_near_blasts(tmp_path, fake_detector):
    found, calls = fake_detector
    p1, _ = _smear(tmp_path, "Im001_1.png", shape=(60, 80))
    p2, _ = _smear(tmp_path, "Im050_0.png", shape=(50, 70), seed=1)
    found[(60, 80)] = [[31.0, 42.0], [10.0, 10.0], [50.0, 70.0]]  # 1st = the blast
    found[(50, 70)] = [[25.0, 35.0], [5.0, 60.0]]
    smears = Bunch(
        filenames=np.array([p1, p2]),
        target=np.array([1, 0]),
        centroids=[np.array([[30.0, 40.0]]), np.empty((0, 2))],
    )
    cells = extract_cells(smears, crop_size=16, min_distance=5)
    np.testing.assert_array_equal(cells.target, [1, 0, 0, 0, 0])
    np.testing.assert_array_equal(
        cells.center, [[30, 40], [10, 10], [50, 70], [25, 35], [5, 60]]
    )
    np.testing.assert_array_equal(cells.groups, [0, 0, 0, 1, 1])
    assert "1 detected cells within 5 px" in cells.DESCR
    # Defaults for whole smears reach the detector; user values override.
    assert calls[0] == {"min_area": 6, "work_size": 512}
    extract_cells(smears, crop_size=16, detector_params={"min_area": 3, "x": 1})
    assert calls[-1] == {"min_area": 3, "work_size": 512, "x": 1}
    # Default min_distance = crop_size / 2 = 8 px also excludes (31, 42).
    cells = extract_cells(smears, crop_size=16)
    assert cells.target.tolist().count(0) == 4
    cells = extract_cells(smears, crop_size=64, negatives="none")
    np.testing.assert_array_equal(cells.target, [1])


def test_max_negatives_per_image_is_seeded(tmp_path, fake_detector):
    found, _ = fake_detector
    p, _ = _smear(tmp_path, "Im060_0.png")
    found[(60, 80)] = [[10.0 + i, 10.0 + 5 * i] for i in range(8)]
    smears = Bunch(filenames=[p], target=[0], centroids=[np.empty((0, 2))])
    a = extract_cells(smears, crop_size=8, max_negatives_per_image=3, random_state=0)
    b = extract_cells(smears, crop_size=8, max_negatives_per_image=3, random_state=0)
    assert len(a.target) == 3 and not a.target.any()
    np.testing.assert_array_equal(a.center, b.center)
    everything = extract_cells(smears, crop_size=8)
    assert len(everything.target) == 8


def test_unknown_or_outside_centroids_are_skipped_with_warnings(tmp_path):
    p1, _ = _smear(tmp_path, "Im001_1.png")
    p2, _ = _smear(tmp_path, "Im002_1.png")
    p3, _ = _smear(tmp_path, "Im003_1.png")
    smears = Bunch(
        filenames=[p1, p2, p3],
        target=[1, 1, 1],
        centroids=[None, np.array([[10.0, 10.0], [500.0, 10.0]]), np.empty((0, 2))],
    )
    with pytest.warns(UserWarning) as record:
        cells = extract_cells(smears, crop_size=8, negatives="none")
    messages = " | ".join(str(w.message) for w in record)
    assert "outside the 80x60 image" in messages
    assert "2 ALL smear(s) without blast annotations were skipped" in messages
    np.testing.assert_array_equal(cells.groups, [1])


def test_nothing_extracted_raises(tmp_path):
    p, _ = _smear(tmp_path, "Im070_0.png")
    smears = Bunch(filenames=[p], target=[0], centroids=[np.empty((0, 2))])
    with pytest.raises(ValueError, match="No cell crops"):
        extract_cells(smears, negatives="none")


def test_parameter_errors(tmp_path):
    smears = Bunch(filenames=[], target=[], centroids=[])
    for kwargs, match in [
        ({"crop_size": 1}, "crop_size"),
        ({"crop_size": 8.0}, "crop_size"),
        ({"negatives": "all"}, "negatives"),
        ({"max_negatives_per_image": -1}, "max_negatives_per_image"),
        ({"min_distance": -2}, "min_distance"),
        ({"pad_mode": "wrap"}, "pad_mode"),
    ]:
        with pytest.raises(ValueError, match=match):
            extract_cells(smears, **kwargs)
    with pytest.raises(TypeError, match="load_all_idb"):
        extract_cells(np.zeros((2, 8, 8, 3)))
    with pytest.raises(ValueError, match="same length"):
        extract_cells(Bunch(filenames=["a"], target=[1, 0], centroids=[None]))


def test_from_an_all_idb1_folder_and_group_kfold(tmp_path):
    root = tmp_path / "ALL_IDB1"
    (root / "im").mkdir(parents=True)
    (root / "xyc").mkdir()
    rng = np.random.default_rng(0)
    for num, cents in [(1, [(10, 12), (40, 30)]), (2, [(20, 20)]), (3, [(5, 50)])]:
        img = rng.integers(0, 256, (60, 80, 3), dtype=np.uint8)
        Image.fromarray(img).save(root / "im" / f"Im{num:03d}_1.jpg")
        (root / "xyc" / f"Im{num:03d}_1.xyc").write_text(
            "".join(f"{x}\t{y}\n" for x, y in cents)
        )
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*partial or modified")
        cells = extract_cells(tmp_path, crop_size=16, negatives="none")
    np.testing.assert_array_equal(cells.center, [[12, 10], [30, 40], [20, 20], [50, 5]])
    np.testing.assert_array_equal(cells.groups, [0, 0, 1, 2])
    assert [os.path.basename(s) for s in cells.source] == [
        "Im001_1.jpg",
        "Im001_1.jpg",
        "Im002_1.jpg",
        "Im003_1.jpg",
    ]
    for train, test in GroupKFold(n_splits=3).split(
        cells.images, cells.target, cells.groups
    ):
        assert not set(cells.groups[train]) & set(cells.groups[test])


def test_with_the_real_white_cell_finder(tmp_path):
    pytest.importorskip("skleuk.preprocessing._detection")
    # A pale pink smear with two purple nuclei; the left one is the blast.
    h, w = 240, 400
    img = np.empty((h, w, 3), dtype=np.uint8)
    img[:] = (235, 200, 205)
    rr, cc = np.mgrid[:h, :w]
    for r, c in [(120, 100), (120, 300)]:
        img[(rr - r) ** 2 + (cc - c) ** 2 < 30**2] = (90, 40, 150)
    path = str(tmp_path / "Im001_1.png")
    Image.fromarray(img).save(path)
    smears = Bunch(filenames=[path], target=[1], centroids=[np.array([[120.0, 100.0]])])
    cells = extract_cells(smears, crop_size=101)
    np.testing.assert_array_equal(cells.target, [1, 0])
    np.testing.assert_allclose(cells.center[1], [120, 300], atol=3)
