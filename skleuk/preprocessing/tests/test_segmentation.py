"""Tests of white-cell detection and cropping (``_detection``, ``_segmentation``)."""

import pickle
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.datasets import read_image
from skleuk.preprocessing import _detection, locate_white_cells
from skleuk.preprocessing._segmentation import WhiteCellCropper

PINK = (0.90, 0.72, 0.76)  # red cells / plasma
PURPLE = (0.45, 0.25, 0.65)  # stained nucleus
BCCD = Path(__file__).resolve().parents[3] / "tests" / "data" / "bccd"


def smear(shape=(64, 64), discs=(), background=PINK, color=PURPLE):
    """A float image with purple discs ``(row, col, radius)`` on pink."""
    h, w = shape
    image = np.empty((h, w, 3), dtype=np.float32)
    image[:] = background
    rr, cc = np.mgrid[:h, :w]
    for r, c, rad in discs:
        image[(rr - r) ** 2 + (cc - c) ** 2 <= rad**2] = color
    return image


def quiet(func, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return func(*args, **kwargs)


# ---------------------------------------------------------------------------


def find_white_cells(image, return_labels=False, **kwargs):
    """The nucleus candidates (no separation) as (centres, areas[, labels])."""
    cells = locate_white_cells(
        image, split=False, return_labels=return_labels, **kwargs
    )
    out = (cells.centres, cells.nucleus_areas)
    return out + (cells.labels,) if return_labels else out


# the nucleus candidates of locate_white_cells (split=False)
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("centre", [(20, 40), (45, 12), (32, 32), (8, 55)])
def test_find_white_cells_planted_disc(centre):
    image = smear((64, 72), [(*centre, 7)])
    centroids, areas = find_white_cells(image)
    assert centroids.shape == (1, 2) and areas.shape == (1,)
    np.testing.assert_allclose(centroids[0], centre, atol=0.5)
    # A radius-7 digital disc has 149 pixels.
    assert areas[0] == pytest.approx(149, abs=1)


def test_find_white_cells_sorted_by_area_and_uint8():
    image = smear((80, 80), [(20, 20, 5), (55, 60, 10)])
    centroids, areas = find_white_cells(image)
    assert areas.shape == (2,) and areas[0] > areas[1]
    np.testing.assert_allclose(centroids, [[55, 60], [20, 20]], atol=0.5)
    c8, a8 = find_white_cells(np.round(image * 255).astype(np.uint8))
    np.testing.assert_allclose(c8, centroids, atol=0.5)
    np.testing.assert_allclose(a8, areas)


def test_find_white_cells_merges_lobes():
    # Three lobes a few pixels apart: one neutrophil.
    lobes = [(30, 24, 4), (30, 36, 4), (40, 30, 4)]
    image = smear((64, 64), lobes)
    centroids, areas = find_white_cells(image, merge_distance=8)
    assert centroids.shape == (1, 2)
    np.testing.assert_allclose(centroids[0], (100 / 3, 30), atol=0.5)
    separate, _ = find_white_cells(image, merge_distance=0, min_area=10)
    assert separate.shape == (3, 2)


def test_find_white_cells_min_area():
    # A platelet-sized dot is dropped, a nucleus kept.
    image = smear((100, 100), [(30, 30, 2), (70, 70, 8)])
    centroids, _ = find_white_cells(image)
    np.testing.assert_allclose(centroids, [[70, 70]], atol=0.5)
    # An int is in pixels, a float a fraction of the image area.
    assert len(find_white_cells(image, min_area=10)[0]) == 2
    assert len(find_white_cells(image, min_area=300)[0]) == 0
    assert len(find_white_cells(image, min_area=0.0)[0]) == 2
    assert len(find_white_cells(image, min_area=0.03)[0]) == 0


def test_find_white_cells_auto_parameters():
    # "auto" min_area: 0.5 % of the image, at most 1000 px. A 1000x1000 smear
    # (think whole ALL-IDB1 field) keeps a nucleus of ~1500 px that a pure
    # fraction (5000 px) would drop; a 60x60 crop keeps a 20 px one.
    big = smear((1000, 1000), [(300, 700, 22), (800, 200, 10)])
    centroids, areas = find_white_cells(big)
    np.testing.assert_allclose(centroids, [[300, 700]], atol=1.0)
    assert len(find_white_cells(big, min_area=0.005)[0]) == 0
    assert _detection._resolve_area("auto", 1000, 1000) == 1000
    assert _detection._resolve_area("auto", 60, 60) == pytest.approx(18)
    assert len(find_white_cells(smear((60, 60), [(30, 30, 3)]))[0]) == 1
    # "auto" merge_distance: 3 % of the shorter side, at most 15 px.
    assert _detection._resolve_length("auto", 1000, 2000) == 15
    assert _detection._resolve_length("auto", 100, 200) == pytest.approx(3)


def test_find_white_cells_return_labels():
    image = smear((60, 90), [(15, 20, 4), (40, 60, 9)])
    centroids, areas, labels = find_white_cells(image, return_labels=True)
    assert labels.shape == (60, 90) and labels.dtype == np.int32
    assert set(np.unique(labels)) == {0, 1, 2}
    for i in range(2):
        assert np.count_nonzero(labels == i + 1) == areas[i]
        rows, cols = np.nonzero(labels == i + 1)
        np.testing.assert_allclose(centroids[i], (rows.mean(), cols.mean()))


def test_find_white_cells_blank_and_uniform_images():
    for image in (np.ones((40, 40, 3)), smear((40, 40)), np.zeros((40, 40, 3))):
        centroids, areas = find_white_cells(image)
        assert centroids.shape == (0, 2) and areas.shape == (0,)


def test_find_white_cells_is_brightness_invariant():
    # A ratio feature: the same smear under dimmer light gives the same cell.
    image = smear((64, 64), [(25, 40, 7)])
    c1, _ = find_white_cells(image)
    c2, _ = find_white_cells(image * 0.6)
    np.testing.assert_allclose(c1, c2)


def test_find_white_cells_downscaled_work_copy():
    # 400x300, work_size=50, min_area=2500: block factor min(300 // 50,
    # sqrt(2500) / 8) = 6; the centre is mapped back to input pixels.
    image = smear((300, 400), [(110, 250, 30)])
    full, _ = find_white_cells(image, work_size=None, min_area=2500)
    small, _ = find_white_cells(image, work_size=50, min_area=2500)
    assert _detection._downscale_factor(300, 400, 50, 2500.0) == 6
    np.testing.assert_allclose(full[0], (110, 250), atol=0.5)
    np.testing.assert_allclose(small[0], (110, 250), atol=2.0)


def test_find_white_cells_validation():
    image = smear((32, 32), [(16, 16, 5)])
    with pytest.raises(InvalidParameterError):
        find_white_cells(image, min_area=-1)
    with pytest.raises(InvalidParameterError):
        find_white_cells(image, work_size=2)
    with pytest.raises(ValueError, match="values in"):
        find_white_cells(image * 255)


# ---------------------------------------------------------------------------
# WhiteCellCropper
# ---------------------------------------------------------------------------


def test_cropper_crop_is_centred_on_cell():
    X = np.stack([smear((64, 64), [(20, 40, 6)]), smear((64, 64), [(44, 18, 6)])])
    cropper = WhiteCellCropper(crop_size=21)
    out = cropper.fit_transform(X)
    assert out.shape == (2, 21, 21, 3) and out.dtype == np.float32
    expected = np.stack([X[0, 10:31, 30:51], X[1, 34:55, 8:29]])
    np.testing.assert_array_equal(out, expected)
    assert cropper.n_fallback_ == 0 and cropper.fallback_rate_ == 0.0
    centers, found = cropper.locate(X)
    np.testing.assert_allclose(centers, [[20, 40], [44, 18]])
    assert found.tolist() == [True, True]


def test_cropper_float_crop_size_resolved_in_fit():
    X = np.stack([smear((50, 80), [(25, 40, 6)])] * 2)
    cropper = WhiteCellCropper(crop_size=0.5).fit(X)
    assert cropper.crop_size_ == 25
    assert cropper.transform(X).shape == (2, 25, 25, 3)
    # Mixed sizes: the median shorter side.
    ragged = [smear((40, 40)), smear((60, 90)), smear((100, 100))]
    assert quiet(WhiteCellCropper(crop_size=1.0).fit, ragged).crop_size_ == 60


@pytest.mark.parametrize("pad_mode", ["constant", "edge", "reflect", "symmetric"])
def test_cropper_border_windows_are_padded(pad_mode):
    rng = np.random.default_rng(0)
    image = smear((48, 48), [(5, 43, 5)])
    image[..., 0] = rng.uniform(0.8, 0.95, image.shape[:2])  # texture to compare
    image[
        (np.mgrid[:48, :48][0] - 5) ** 2 + (np.mgrid[:48, :48][1] - 43) ** 2 <= 25
    ] = PURPLE
    size, fill = 25, (1.0, 0.5, 0.0)
    cropper = WhiteCellCropper(crop_size=size, pad_mode=pad_mode, fill_value=fill)
    out = cropper.fit_transform(image[None])
    assert out.shape == (1, size, size, 3)
    if pad_mode == "constant":
        padded = np.empty((48 + 2 * size, 48 + 2 * size, 3), dtype=np.float32)
        padded[:] = fill
        padded[size:-size, size:-size] = image
    else:
        padded = np.pad(image, ((size, size), (size, size), (0, 0)), mode=pad_mode)
    r0, c0 = 5 - 12 + size, 43 - 12 + size
    np.testing.assert_array_equal(out[0], padded[r0 : r0 + size, c0 : c0 + size])


def test_cropper_crop_larger_than_image():
    X = smear((20, 30), [(10, 15, 4)])[None]
    out = WhiteCellCropper(crop_size=50).fit_transform(X)
    assert out.shape == (1, 50, 50, 3)
    # Centre (10, 15): the window starts at (10 - 24, 15 - 24) = (-14, -9).
    np.testing.assert_array_equal(out[0, :14], 1.0)  # white padding above
    np.testing.assert_array_equal(out[0, 34:], 1.0)
    np.testing.assert_array_equal(out[0, 14:34, 9:39], X[0])


def test_cropper_blank_image_falls_back_to_centre_crop():
    X = np.stack([smear((40, 40)), smear((40, 40), [(10, 10, 5)])])
    cropper = WhiteCellCropper(crop_size=10)
    with pytest.warns(UserWarning, match="no white cell found in 1 of 2"):
        out = cropper.fit_transform(X)
    assert cropper.n_fallback_ == 1 and cropper.fallback_rate_ == 0.5
    np.testing.assert_array_equal(out[0], X[0, 15:25, 15:25])
    centers, found = cropper.locate(X)
    assert found.tolist() == [False, True]
    np.testing.assert_allclose(centers[0], (19.5, 19.5))
    # transform warns about its own batch and leaves the fitted count alone.
    with pytest.warns(UserWarning, match="no white cell found in 2 of 2"):
        cropper.transform(X[[0, 0]])
    assert cropper.n_fallback_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cropper.transform(X[1:])
    # fit alone counts (and warns) too.
    with pytest.warns(UserWarning, match="no white cell found in 1 of 2"):
        assert WhiteCellCropper().fit(X).n_fallback_ == 1


def test_cropper_no_warning_at_or_below_rate():
    X = np.stack([smear((32, 32), [(16, 16, 5)])] * 9 + [smear((32, 32))])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cropper = WhiteCellCropper(crop_size=8).fit(X)  # 1 of 10: not over 10 %
        cropper.transform(X)
    assert cropper.n_fallback_ == 1 and cropper.fallback_rate_ == 0.1
    with pytest.warns(UserWarning):
        cropper.transform(X[-2:])


def test_cropper_selection_largest_vs_central():
    # A big nucleus off-centre and a smaller one (over 1/4 of its area) in the
    # centre: "largest" picks the big one, "central" the centred one.
    X = smear((100, 100), [(15, 15, 12), (50, 50, 8)])[None]
    largest, _ = WhiteCellCropper(selection="largest").locate(X)
    central, _ = WhiteCellCropper(selection="central").locate(X)
    np.testing.assert_allclose(largest[0], (15, 15), atol=0.5)
    np.testing.assert_allclose(central[0], (50, 50), atol=0.5)
    # A speck in the centre smaller than 1/4 of the largest does not win.
    X = smear((100, 100), [(15, 15, 12), (50, 50, 5)])[None]
    central, _ = WhiteCellCropper(selection="central").locate(X)
    np.testing.assert_allclose(central[0], (15, 15), atol=0.5)


def test_cropper_mixed_sizes_give_one_array():
    images = [
        smear((40, 60), [(10, 45, 5)]),
        smear((64, 64), [(32, 20, 6)]),
        smear((40, 60), [(30, 10, 5)]),
        smear((30, 30)),
    ]
    cropper = WhiteCellCropper(crop_size=16)
    out = quiet(cropper.fit_transform, images)
    assert isinstance(out, np.ndarray) and out.shape == (4, 16, 16, 3)
    centers, found = cropper.locate(images)
    np.testing.assert_allclose(
        centers, [[10, 45], [32, 20], [30, 10], [14.5, 14.5]], atol=0.5
    )
    assert found.tolist() == [True, True, True, False]
    assert cropper.n_fallback_ == 1 and cropper.fallback_rate_ == 0.25
    # Each crop equals the crop of that image alone.
    for image, crop in zip(images, out, strict=True):
        alone = quiet(cropper.transform, image[None])[0]
        np.testing.assert_array_equal(crop, alone)


def test_cropper_mask_background():
    X = np.stack([smear((64, 64), [(32, 30, 8)]), smear((64, 64))])
    plain = quiet(WhiteCellCropper(crop_size=40).fit_transform, X)
    cropper = WhiteCellCropper(crop_size=40, mask_background=True, fill_value=0.0)
    out = quiet(cropper.fit_transform, X)
    crop = out[0]
    rr, cc = np.mgrid[:40, :40]
    dist = np.hypot(rr - 20, cc - 20)  # cell centre at the crop centre
    # The nucleus and a rim around it are kept, the far background is zeroed.
    np.testing.assert_array_equal(crop[dist <= 8], plain[0][dist <= 8])
    np.testing.assert_array_equal(crop[dist <= 11], plain[0][dist <= 11])
    assert np.all(crop[dist > 14] == 0.0)
    # No cell found: nothing is masked.
    np.testing.assert_array_equal(out[1], plain[1])


def test_cropper_not_fitted_and_locate_unfitted():
    X = smear((32, 32), [(16, 16, 5)])[None]
    with pytest.raises(NotFittedError):
        WhiteCellCropper().transform(X)
    centers, found = WhiteCellCropper().locate(X)
    assert found.all()


@pytest.mark.parametrize(
    "params",
    [
        {"crop_size": 0},
        {"crop_size": 1.5},
        {"selection": "biggest"},
        {"pad_mode": "wrap"},
        {"min_contrast": -0.1},
        {"merge_distance": 1.5},
        {"fill_value": 2.0},
        {"fill_value": (1.0, 0.5)},
    ],
)
def test_cropper_invalid_params(params):
    X = smear((32, 32), [(16, 16, 5)])[None]
    with pytest.raises(InvalidParameterError):
        WhiteCellCropper(**params).fit(X)


def test_cropper_invalid_params_in_locate():
    with pytest.raises(InvalidParameterError):
        WhiteCellCropper(selection="biggest").locate(smear()[None])


def test_cropper_clone_pickle_params():
    X = np.stack([smear((48, 48), [(20, 28, 6)])] * 3)
    cropper = WhiteCellCropper(crop_size=0.5, mask_background=True).fit(X)
    restored = pickle.loads(pickle.dumps(cropper))
    np.testing.assert_array_equal(restored.transform(X), cropper.transform(X))
    fresh = clone(cropper)
    assert fresh.get_params() == cropper.get_params()
    assert not hasattr(fresh, "crop_size_")


@pytest.mark.filterwarnings("ignore:WhiteCellCropper:UserWarning")
def test_cropper_estimator_checks():
    estimator_checks = pytest.importorskip("skleuk.utils.estimator_checks")
    estimator_checks.check_image_transformer(WhiteCellCropper(crop_size=8))


def test_cropper_on_synthetic_smears():
    synthetic = pytest.importorskip("skleuk.datasets._synthetic")
    X = synthetic.make_blood_smears(n_samples=8, image_size=64, random_state=0).images
    centers, found = WhiteCellCropper().locate(X)
    # The generator puts the white cell within a few pixels of the centre.
    assert found.sum() >= 7
    assert np.all(np.hypot(*(centers[found] - 31.5).T) < 12)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------


@st.composite
def images_with_disc(draw):
    h = draw(st.integers(12, 90))
    w = draw(st.integers(12, 90))
    radius = draw(st.integers(3, max(3, min(h, w) // 4)))
    r = draw(st.integers(0, h - 1))
    c = draw(st.integers(0, w - 1))
    return smear((h, w), [(r, c, radius)]), (r, c)


@given(
    data=images_with_disc(),
    crop_size=st.integers(1, 70),
    pad_mode=st.sampled_from(["constant", "edge", "reflect", "symmetric"]),
    mask=st.booleans(),
)
def test_property_output_shape_and_range(data, crop_size, pad_mode, mask):
    image, _ = data
    cropper = WhiteCellCropper(crop_size=crop_size, pad_mode=pad_mode)
    cropper.set_params(mask_background=mask)
    out = quiet(cropper.fit_transform, image[None])
    assert out.shape == (1, crop_size, crop_size, 3)
    assert out.dtype == np.float32
    assert out.min() >= 0.0 and out.max() <= 1.0


@given(data=images_with_disc(), work_size=st.sampled_from([None, 8, 16, 128]))
def test_property_locate_inside_image(data, work_size):
    image, _ = data
    h, w = image.shape[:2]
    centers, found = WhiteCellCropper(work_size=work_size).locate(image[None])
    assert centers.shape == (1, 2) and found.shape == (1,)
    assert 0 <= centers[0, 0] <= h - 1 and 0 <= centers[0, 1] <= w - 1


@given(data=images_with_disc(), work_size=st.sampled_from([None, 8, 16, 128]))
def test_property_horizontal_flip(data, work_size):
    image, _ = data
    h, w = image.shape[:2]
    cropper = WhiteCellCropper(work_size=work_size)
    centers, found = cropper.locate(np.stack([image, image[:, ::-1]]))
    factor = max(1, min(h, w) // work_size) if work_size else 1
    if factor == 1:
        # Exact equivariance at full resolution.
        assert found[0] == found[1]
        tol = 1e-6
    else:
        # The block grid of the working copy shifts by up to one pixel under
        # flipping, which can tip a disc cut by the border under min_area.
        if not (found[0] and found[1]):
            return
        tol = factor
    assert centers[1, 0] == pytest.approx(centers[0, 0], abs=tol)
    assert centers[1, 1] == pytest.approx(w - 1 - centers[0, 1], abs=tol)


@given(data=images_with_disc())
def test_property_planted_disc_found(data):
    image, (r, c) = data
    h, w = image.shape[:2]
    centroids, areas = find_white_cells(image, min_area=0.0)
    # The (possibly border-cut) disc is found; its centroid is the centre of
    # its visible part, within the disc.
    assert len(centroids) == 1
    assert np.hypot(*(centroids[0] - (r, c))) <= min(h, w) // 4 + 0.5


# ---------------------------------------------------------------------------
# Real photographs (BCCD sample, MIT licence, tests/data/bccd)
# ---------------------------------------------------------------------------


def _bccd_cases():
    if not BCCD.is_dir():
        return []
    return sorted(p.stem for p in (BCCD / "JPEGImages").glob("*.jpg"))


def _wbc_boxes(stem):
    root = ET.parse(BCCD / "Annotations" / f"{stem}.xml").getroot()
    boxes = []
    for obj in root.iter("object"):
        if obj.findtext("name").strip() == "WBC":
            bb = obj.find("bndbox")
            boxes.append(
                [float(bb.findtext(k)) for k in ("xmin", "ymin", "xmax", "ymax")]
            )
    return boxes


def _inside(point, box):
    r, c = point
    x0, y0, x1, y1 = box
    return x0 <= c <= x1 and y0 <= r <= y1


@pytest.fixture(scope="module")
def bccd():
    stems = _bccd_cases()
    if not stems:
        pytest.skip("tests/data/bccd not available")
    images = np.stack([read_image(BCCD / "JPEGImages" / f"{s}.jpg") for s in stems])
    return stems, images, [_wbc_boxes(s) for s in stems]


def test_bccd_sample_present():
    assert len(_bccd_cases()) >= 6


@pytest.mark.parametrize("selection", ["central", "largest"])
def test_bccd_located_centre_inside_wbc_box(bccd, selection):
    stems, images, boxes = bccd
    centers, found = WhiteCellCropper(selection=selection).locate(images)
    assert found.all()
    for stem, center, bxs in zip(stems, centers, boxes, strict=True):
        assert any(_inside(center, b) for b in bxs), (stem, center, bxs)


def test_bccd_every_wbc_box_holds_a_candidate(bccd):
    stems, images, boxes = bccd
    for stem, image, bxs in zip(stems, images, boxes, strict=True):
        centroids, _ = find_white_cells(image)
        for box in bxs:
            assert any(_inside(c, box) for c in centroids), (stem, box)
        # No candidate outside the annotated white cells.
        for c in centroids:
            assert any(_inside(c, box) for box in bxs), (stem, c)


def test_bccd_crops_contain_the_cell(bccd):
    stems, images, boxes = bccd
    cropper = WhiteCellCropper()  # crop_size=0.6 of 480 -> 288
    out = cropper.fit_transform(images)
    assert out.shape == (len(stems), 288, 288, 3)
    assert cropper.n_fallback_ == 0
    centers, _ = cropper.locate(images)
    for center, bxs in zip(centers, boxes, strict=True):
        box = next(b for b in bxs if _inside(center, b))
        # The box centre lies inside the crop window.
        bc = np.array([(box[1] + box[3]) / 2, (box[0] + box[2]) / 2])
        assert np.all(np.abs(bc - center) <= 144)


@pytest.mark.parametrize(
    "params",
    [{}, {"crop_size": 40, "pad_mode": "reflect"}, {"mask_background": True},
     {"crop_size": 30, "work_size": None}],
)
def test_cropper_uint8_input_gives_the_float_input_crops(params):
    # uint8 images are kept as they are by the validation and converted
    # crop by crop: the result must be the crops of the converted images,
    # bit for bit (inside windows and windows reaching beyond the image).
    from skleuk.datasets import make_blood_smears
    from skleuk.utils.validation import check_images

    X = make_blood_smears(n_samples=12, image_size=48, random_state=0).images
    assert X.dtype == np.uint8
    cropper = WhiteCellCropper(**params)
    a = clone(cropper).fit_transform(X)
    b = clone(cropper).fit_transform(check_images(X))
    assert a.dtype == np.float32
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(clone(cropper).fit(X).transform(list(X)), b)
