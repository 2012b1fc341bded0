"""Tests for ImageReader (file paths -> image batch)."""

import pickle
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer
from sklearn.utils._param_validation import InvalidParameterError

from skleuk.datasets import ImageReadError
from skleuk.preprocessing._reader import ImageReader


def _write(folder, name, img):
    path = folder / name
    Image.fromarray(img).save(path)
    return str(path)


@pytest.fixture
def paths(tmp_path):
    rng = np.random.default_rng(0)
    return [
        _write(tmp_path, f"{i}.png", rng.integers(0, 256, (6, 6, 3), dtype=np.uint8))
        for i in range(3)
    ]


def test_reads_paths_in_order(paths):
    X = ImageReader().fit_transform(paths)
    assert X.shape == (3, 6, 6, 3) and X.dtype == np.uint8
    for path, img in zip(paths, X, strict=True):
        np.testing.assert_array_equal(img, np.asarray(Image.open(path)))


@pytest.mark.parametrize(
    "wrap",
    [
        list,
        tuple,
        np.array,  # dtype <U
        lambda p: np.array(p, dtype=object),
        lambda p: [Path(x) for x in p],
        lambda p: np.array(p)[:, None],  # a (n, 1) column
    ],
)
def test_accepted_path_containers(paths, wrap):
    X = ImageReader().transform(wrap(paths))
    np.testing.assert_array_equal(X, ImageReader().transform(paths))


def test_size_and_ragged(tmp_path):
    a = _write(tmp_path, "a.png", np.full((6, 6, 3), 10, np.uint8))
    b = _write(tmp_path, "b.png", np.full((4, 8, 3), 200, np.uint8))
    ragged = ImageReader().transform([a, b])
    assert isinstance(ragged, list)
    assert [x.shape for x in ragged] == [(6, 6, 3), (4, 8, 3)]
    X = ImageReader(size=5).transform([a, b])
    assert X.shape == (2, 5, 5, 3) and X.dtype == np.uint8
    np.testing.assert_array_equal(X[0], 10)
    np.testing.assert_array_equal(X[1], 200)  # reflect padding of a flat image
    X = ImageReader(size=8, pad_mode="constant").transform([b])
    np.testing.assert_array_equal(X[0, :2], 255)
    F = ImageReader(size=5, dtype="float32").transform([a, b])
    assert F.dtype == np.float32
    np.testing.assert_allclose(F[0], 10 / 255, rtol=1e-6)
    F = ImageReader(dtype="float32").transform([a, b])
    assert isinstance(F, list) and F[1].dtype == np.float32


def test_n_jobs_gives_same_result(paths):
    np.testing.assert_array_equal(
        ImageReader(n_jobs=2).transform(paths), ImageReader().transform(paths)
    )


def test_unreadable_file_is_named(tmp_path, paths):
    bad = tmp_path / "broken.png"
    bad.write_bytes(b"not a png")
    with pytest.raises(ImageReadError, match="broken.png"):
        ImageReader().transform([*paths, str(bad)])
    with pytest.raises(ImageReadError, match="missing.png"):
        ImageReader().transform([str(tmp_path / "missing.png")])
    with pytest.raises(ImageReadError, match="directory"):
        ImageReader().transform([str(tmp_path)])


def test_rejects_what_is_not_a_path_sequence(paths):
    reader = ImageReader()
    with pytest.raises(TypeError, match="single path"):
        reader.transform(paths[0])
    with pytest.raises(TypeError, match="already loaded"):
        reader.transform(np.zeros((2, 6, 6, 3), dtype=np.uint8))
    with pytest.raises(TypeError, match="containing a int"):
        reader.transform([paths[0], 3])
    with pytest.raises(ValueError, match="empty"):
        reader.transform([])
    with pytest.raises(TypeError, match="already loaded"):
        reader.fit(np.zeros((2, 6, 6, 3)))


def test_parameter_validation(paths):
    for params in [{"size": 0}, {"dtype": "int16"}, {"pad_mode": "wrap"}]:
        with pytest.raises(InvalidParameterError):
            ImageReader(**params).fit(paths)
        with pytest.raises(InvalidParameterError):
            ImageReader(**params).transform(paths)


def test_stateless_clone_pickle_and_tags(paths):
    reader = ImageReader(size=4)
    X = reader.transform(paths)  # no fit needed
    assert reader.fit(paths) is reader and reader.is_fitted_
    assert clone(reader).get_params() == {
        "size": 4,
        "pad_mode": "reflect",
        "dtype": "uint8",
        "n_jobs": None,
    }
    again = pickle.loads(pickle.dumps(reader))
    np.testing.assert_array_equal(again.transform(paths), X)
    tags = reader.__sklearn_tags__()
    assert tags.requires_fit is False
    assert tags.input_tags.string and tags.input_tags.one_d_array


def _flatten(X):
    return np.asarray(X, dtype=np.float32).reshape(len(X), -1) / 255.0


def test_pipeline_cross_validates_and_grid_searches_on_paths(tmp_path):
    # Dark images are class 0, bright ones class 1; sizes vary.
    rng = np.random.default_rng(0)
    paths, y = [], []
    for i in range(24):
        label = i % 2
        shape = (8 + i % 3, 8)
        value = 40 if label == 0 else 200
        img = np.clip(rng.normal(value, 20, (*shape, 3)), 0, 255).astype(np.uint8)
        paths.append(_write(tmp_path, f"im_{i:02d}.png", img))
        y.append(label)
    X = np.array(paths)  # dtype <U: indexed by the CV splitters
    y = np.array(y)
    pipe = Pipeline(
        [
            ("read", ImageReader(size=4)),
            ("flat", FunctionTransformer(_flatten)),
            ("clf", LogisticRegression()),
        ]
    )
    scores = cross_val_score(pipe, X, y, cv=3)
    np.testing.assert_array_equal(scores, 1.0)
    scores = cross_val_score(pipe, X.astype(object), y, cv=3)
    np.testing.assert_array_equal(scores, 1.0)
    search = GridSearchCV(pipe, {"read__size": [2, 4]}, cv=2).fit(X, y)
    assert search.best_params_["read__size"] in (2, 4)
    assert search.predict(X[:4]).tolist() == y[:4].tolist()
