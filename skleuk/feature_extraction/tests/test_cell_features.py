import joblib
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone, is_classifier
from sklearn.model_selection import cross_val_score

from skleuk import make_baseline_pipeline
from skleuk.datasets import make_blood_smears
from skleuk.feature_extraction import CellFeatureExtractor


@settings(deadline=None, max_examples=20)
@given(
    n=st.integers(1, 3),
    size=st.sampled_from([8, 16, 24]),
    seed=st.integers(0, 2**16),
)
def test_feature_contract(n, size, seed):
    X = np.random.default_rng(seed).integers(0, 256, (n, size, size, 3), np.uint8)
    est = CellFeatureExtractor().fit(X)
    F = est.transform(X)
    assert F.shape == (n, est.n_features_out_) and F.dtype == np.float64
    assert np.all(np.isfinite(F))
    np.testing.assert_array_equal(F, est.transform(X))  # deterministic
    # Colour histograms are shares: each of the 4 sums to 1.
    np.testing.assert_allclose(F[:, :64].reshape(n, 4, 16).sum(-1), 1.0)


def test_constant_image_and_options():
    X = np.full((2, 16, 16, 3), 0.5, dtype=np.float32)
    F = CellFeatureExtractor().fit_transform(X)
    assert np.all(np.isfinite(F))
    only_colour = CellFeatureExtractor(hog_cells=0, shape_features=False)
    assert only_colour.fit_transform(X).shape == (2, 64)
    with pytest.raises(ValueError, match="resize first"):
        CellFeatureExtractor().fit(X).transform(np.zeros((1, 8, 8, 3)))


def test_nucleus_features_see_a_larger_nucleus():
    X = np.full((2, 32, 32, 3), [0.9, 0.8, 0.8], dtype=np.float32)
    yy, xx = np.mgrid[0:32, 0:32]
    for i, r in enumerate((4, 10)):
        X[i][(yy - 16) ** 2 + (xx - 16) ** 2 <= r * r] = [0.4, 0.2, 0.6]
    F = CellFeatureExtractor(bins=4, hog_cells=0).fit_transform(X)
    area = F[:, 16]
    assert area[1] > 4 * area[0]


def test_baseline_pipeline_learns_and_round_trips(tmp_path):
    data = make_blood_smears(60, image_size=48, random_state=0)
    pipe = make_baseline_pipeline(image_size=32)
    assert is_classifier(pipe)
    scores = cross_val_score(clone(pipe), data.images, data.target, cv=3)
    assert scores.mean() > 0.7
    pipe.fit(data.images, data.target)
    path = tmp_path / "baseline.joblib"
    joblib.dump(pipe, path)
    np.testing.assert_allclose(
        joblib.load(path).predict_proba(data.images[:5]),
        pipe.predict_proba(data.images[:5]),
    )
