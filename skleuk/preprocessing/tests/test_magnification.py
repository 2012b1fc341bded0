"""Tests of the red-cell magnification estimate and MagnificationNormalizer."""

import pickle
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from skleuk.preprocessing import MagnificationNormalizer, estimate_rbc_diameter
from skleuk.preprocessing._magnification import _zoom_about_centre
from skleuk.utils._image_ops import resize_images

BCCD = Path(__file__).resolve().parents[3] / "tests" / "data" / "bccd"


def _field(size=128, radius=6.0, n_cells=45, seed=0):
    """A synthetic smear field: pink discs with pale centres on white."""
    rng = np.random.default_rng(seed)
    rr, cc = np.mgrid[:size, :size]
    X = np.ones((size, size, 3), dtype=np.float32)
    for r, c in rng.uniform(0, size, size=(n_cells, 2)):
        d2 = (rr - r) ** 2 + (cc - c) ** 2
        X[d2 <= radius**2] = [0.85, 0.55, 0.6]
        X[d2 <= (0.4 * radius) ** 2] = [0.93, 0.8, 0.82]
    return X


def _zoom(X, z):
    """Enlarge the centre of a batch by ``z`` > 1 (independent of the step)."""
    h, w = X.shape[1:3]
    sh, sw = int(round(h / z)), int(round(w / z))
    r0, c0 = (h - sh) // 2, (w - sw) // 2
    return resize_images(X[:, r0 : r0 + sh, c0 : c0 + sw], (h, w))


images = arrays(
    np.uint8,
    st.tuples(
        st.integers(1, 3), st.integers(8, 40), st.integers(8, 40), st.just(3)
    ),
)


@settings(max_examples=30, deadline=None)
@given(X=images)
def test_estimate_contract(X):
    diameters, found = estimate_rbc_diameter(X)
    assert diameters.shape == found.shape == (len(X),)
    assert found.dtype == bool
    assert np.all(np.isnan(diameters) == ~found)
    assert np.all(diameters[found] > 0)


@settings(max_examples=30, deadline=None)
@given(X=images, target=st.floats(2.0, 30.0))
def test_transform_contract(X, target):
    step = MagnificationNormalizer(target_rbc_diameter=target).fit(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        out = step.transform(X)
    assert out.shape == X.shape
    assert out.dtype == np.float32
    assert np.all((out >= 0) & (out <= 1))
    factors, found = step.zoom_factors(X)
    assert np.all((factors >= 1 / step.max_zoom) & (factors <= step.max_zoom))
    assert np.all(factors[~found] == 1)


@settings(max_examples=20, deadline=None)
@given(X=images)
def test_estimate_invariant_to_flips(X):
    d, f = estimate_rbc_diameter(X)
    for flipped in (X[:, ::-1], X[:, :, ::-1], X[:, ::-1, ::-1]):
        df, ff = estimate_rbc_diameter(flipped)
        np.testing.assert_array_equal(ff, f)
        np.testing.assert_allclose(df[f], d[f], rtol=1e-4)


def test_estimate_invariant_to_flips_on_a_field():
    X = _field()[None]
    d, f = estimate_rbc_diameter(X)
    assert f[0]
    np.testing.assert_allclose(estimate_rbc_diameter(X[:, ::-1, ::-1])[0], d,
                               rtol=1e-4)


@pytest.mark.parametrize("value", [0.0, 0.5, 1.0])
def test_constant_image_is_flagged_and_left_unscaled(value):
    X = np.full((2, 32, 32, 3), value, dtype=np.float32)
    d, f = estimate_rbc_diameter(X)
    assert not f.any() and np.isnan(d).all()
    step = MagnificationNormalizer(target_rbc_diameter=10.0).fit(X)
    with pytest.warns(UserWarning, match="no red-cell diameter found in 2 of 2"):
        out = step.transform(X)
    np.testing.assert_array_equal(out, X)
    factors, found = step.zoom_factors(X)
    assert factors.tolist() == [1.0, 1.0] and not found.any()


def test_fit_without_any_estimate_warns_and_passes_through():
    X = np.full((3, 32, 32, 3), 0.7, dtype=np.float32)
    with pytest.warns(UserWarning, match="no red-cell diameter could be estimated"):
        step = MagnificationNormalizer().fit(X)
    assert np.isnan(step.target_rbc_diameter_)
    assert step.n_not_found_ == 3
    field = _field()[None]
    np.testing.assert_array_equal(step.transform(field), field)


def test_estimate_tracks_zoom_on_synthetic_field():
    X = _field(size=160, radius=5.0, n_cells=70)[None]
    d1 = estimate_rbc_diameter(X)[0][0]
    d15 = estimate_rbc_diameter(_zoom(X, 1.5))[0][0]
    assert d15 / d1 == pytest.approx(1.5, rel=0.10)


def test_estimate_scales_with_disc_size():
    small = estimate_rbc_diameter(_field(radius=4.0, n_cells=80)[None])[0][0]
    large = estimate_rbc_diameter(_field(radius=8.0, n_cells=25)[None])[0][0]
    assert large / small == pytest.approx(2.0, rel=0.2)


def _bccd():
    files = sorted((BCCD / "JPEGImages").glob("*.jpg"))
    if not files:
        pytest.skip("tests/data/bccd not available")
    from PIL import Image

    X = np.stack([np.asarray(Image.open(f).convert("RGB")) for f in files])
    truth = []
    for f in files:
        tree = ET.parse(BCCD / "Annotations" / f"{f.stem}.xml")
        sides = []
        for obj in tree.findall("object"):
            b = obj.find("bndbox")
            x0, y0, x1, y1 = (float(b.findtext(k)) for k in
                              ("xmin", "ymin", "xmax", "ymax"))
            if obj.findtext("name") == "RBC" and min(x0, y0) > 1 and x1 < 639 \
                    and y1 < 479:
                sides.append(np.sqrt((x1 - x0) * (y1 - y0)))
        truth.append(np.median(sides))
    return X, np.array(truth)


def test_bccd_estimate_matches_annotations_and_tracks_zoom():
    X, truth = _bccd()
    d, found = estimate_rbc_diameter(X)
    assert found.mean() >= 0.75
    # The median over the sample agrees with the annotated red-cell boxes.
    assert np.median(d[found]) == pytest.approx(np.median(truth), rel=0.15)
    # Photographs zoomed by 1.5 give estimates about 1.5x larger (median over
    # the sample: a 640x480 BCCD photograph holds only a dozen or two red
    # cells, fewer once zoomed, so single images scatter more).
    d15, f15 = estimate_rbc_diameter(_zoom(X / 255.0, 1.5))
    both = found & f15
    assert both.sum() >= 5
    assert np.median(d15[both] / d[both]) == pytest.approx(1.5, rel=0.10)


def test_transform_brings_zoomed_images_to_the_target():
    X = _field(size=160, radius=5.0, n_cells=70)[None]
    step = MagnificationNormalizer().fit(X)
    target = step.target_rbc_diameter_
    assert target == pytest.approx(estimate_rbc_diameter(X)[0][0])
    zoomed = _zoom(X, 1.5)
    factors, found = step.zoom_factors(zoomed)
    assert found[0] and factors[0] == pytest.approx(1 / 1.5, rel=0.1)
    back = step.transform(zoomed)
    assert back.shape == X.shape
    assert estimate_rbc_diameter(back)[0][0] == pytest.approx(target, rel=0.1)


def test_fixed_target_and_mixed_sizes():
    a = _field(size=96, radius=4.0, n_cells=30, seed=1)
    b = _field(size=128, radius=6.0, n_cells=40, seed=2)
    step = MagnificationNormalizer(target_rbc_diameter=12.0).fit([a, b])
    assert step.target_rbc_diameter_ == 12.0
    out = step.transform([a, b])
    assert isinstance(out, list)
    assert out[0].shape == a.shape and out[1].shape == b.shape


def test_zoom_about_centre_identity_and_constant_fill():
    X = _field(size=32)[None]
    np.testing.assert_array_equal(_zoom_about_centre(X, [1.0]), X)
    flat = np.full((1, 20, 20, 3), 0.3, dtype=np.float32)
    for mode in ("reflect", "symmetric", "edge"):
        np.testing.assert_allclose(_zoom_about_centre(flat, [0.6], mode), flat,
                                   atol=1e-6)
    out = _zoom_about_centre(flat, [0.5], "constant", (1.0, 0.0, 0.0))
    np.testing.assert_allclose(out[0, 0, 0], [1.0, 0.0, 0.0], atol=1e-6)
    np.testing.assert_allclose(out[0, 10, 10], [0.3, 0.3, 0.3], atol=1e-6)


def test_zoom_about_centre_matches_crop_and_resize():
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(2, 40, 40, 3)).astype(np.float32)
    # Enlarging = the centre crop resized (the outermost ring differs: the
    # zoom interpolates with the true neighbours, the resize clamps).
    out = _zoom_about_centre(X, [2.0, 2.0])
    ref = resize_images(X[:, 10:30, 10:30], (40, 40))
    np.testing.assert_allclose(out[:, 1:-1, 1:-1], ref[:, 1:-1, 1:-1], atol=1e-5)
    # Shrinking = the area-averaged resize, padded.
    out = _zoom_about_centre(X, [0.5, 0.5])
    np.testing.assert_allclose(out[:, 10:30, 10:30], resize_images(X, (20, 20)),
                               atol=1e-5)
    # One factor per image: each image as if zoomed alone.
    both = _zoom_about_centre(X, [0.7, 1.6])
    np.testing.assert_allclose(both[:1], _zoom_about_centre(X[:1], [0.7]), atol=1e-6)
    np.testing.assert_allclose(both[1:], _zoom_about_centre(X[1:], [1.6]), atol=1e-6)


def test_invalid_parameters():
    X = _field(size=32)[None]
    with pytest.raises(ValueError, match="target_rbc_diameter"):
        MagnificationNormalizer(target_rbc_diameter=-1).fit(X)
    with pytest.raises(ValueError, match="max_zoom"):
        MagnificationNormalizer(max_zoom=0.5).fit(X)
    with pytest.raises(ValueError, match="fill_value"):
        MagnificationNormalizer(pad_mode="constant", fill_value=(2, 0, 0)).fit(X)
    with pytest.raises(ValueError, match="fallback"):
        MagnificationNormalizer(fallback="nucleus").fit(X)


def test_pickle_roundtrip():
    X = _field(size=64)[None]
    step = MagnificationNormalizer().fit(X)
    again = pickle.loads(pickle.dumps(step))
    np.testing.assert_array_equal(again.transform(X), step.transform(X))


def test_in_a_pipeline_before_the_crop():
    from sklearn.pipeline import Pipeline

    from skleuk.preprocessing import WhiteCellCropper

    X = np.stack([_field(size=96, seed=s) for s in range(3)])
    X[:, 40:56, 40:56] = [0.45, 0.25, 0.65]  # a "nucleus" in each field
    pipe = Pipeline([("magnification", MagnificationNormalizer()),
                     ("crop", WhiteCellCropper(crop_size=32))])
    out = pipe.fit_transform(X)
    assert out.shape == (3, 32, 32, 3)
    assert pipe["magnification"].n_not_found_ == 0


def _with_nuclei(X, centres, radius):
    """Violet white-cell nuclei (found by locate_white_cells) on an image."""
    X = X.copy()
    rr, cc = np.mgrid[: X.shape[0], : X.shape[1]]
    for r, c in centres:
        X[(rr - r) ** 2 + (cc - c) ** 2 <= radius**2] = [0.45, 0.3, 0.7]
    return X


def test_white_cell_fallback_measures_images_without_red_cells():
    from skleuk.preprocessing import locate_white_cells

    field = _with_nuclei(_field(size=160, radius=5.0, n_cells=70),
                         [(50, 60), (110, 100)], 8.0)
    step = MagnificationNormalizer(max_zoom=4.0).fit(field[None])
    rbc = estimate_rbc_diameter(field[None])[0][0]
    areas = locate_white_cells(field, split=False).nucleus_areas
    nucleus = 2 * np.sqrt(areas.max() / np.pi)
    assert step.white_to_rbc_ratio_ == pytest.approx(nucleus / rbc)
    # A crop filled by one white cell: no red-cell estimate.
    crop = _with_nuclei(np.ones((56, 56, 3), np.float32), [(28, 28)], 21.0)
    assert not estimate_rbc_diameter(crop[None])[1][0]
    factors, found, source = step.zoom_factors(
        [crop, field], return_source=True)
    assert found.all() and source.tolist() == ["white_cell", "red_cells"]
    areas = locate_white_cells(crop, split=False).nucleus_areas
    crop_nucleus = 2 * np.sqrt(areas.max() / np.pi)
    expected = step.target_rbc_diameter_ * step.white_to_rbc_ratio_ / crop_nucleus
    assert factors[0] == pytest.approx(expected)
    assert factors[1] == pytest.approx(1.0)
    out = step.transform(crop[None])
    np.testing.assert_allclose(out[0], _zoom_about_centre(crop[None], [expected])[0])
    # Without the fallback the crop is left unscaled.
    plain = MagnificationNormalizer(fallback=None).fit(field[None])
    assert np.isnan(plain.white_to_rbc_ratio_)
    factors, found, source = plain.zoom_factors(crop[None], return_source=True)
    assert factors.tolist() == [1.0] and not found[0] and source[0] == "none"


def test_white_cell_fallback_needs_a_learnt_ratio():
    # Training images with red cells but no white cell: nothing to learn the
    # ratio from, so images without red cells stay unscaled (and are counted).
    field = _field(size=160, radius=5.0, n_cells=70)
    step = MagnificationNormalizer().fit(field[None])
    assert np.isnan(step.white_to_rbc_ratio_)
    crop = _with_nuclei(np.ones((56, 56, 3), np.float32), [(28, 28)], 21.0)
    with pytest.warns(UserWarning, match=r"no red-cell diameter found in 1 of 1"):
        out = step.transform(crop[None])
    np.testing.assert_array_equal(out, crop[None])
    field_cells = _with_nuclei(field, [(50, 60)], 8.0)
    step = MagnificationNormalizer().fit(field_cells[None])
    flat = np.full((1, 56, 56, 3), 0.8, np.float32)
    with pytest.warns(UserWarning, match=r"nor white cell found in 1 of 1"):
        step.transform(flat)
