"""SmearScreener: fit on image-level labels, screen, predict, bad input."""

import pickle
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, StratifiedKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

from skleuk.datasets import ImageReadError
from skleuk.screening import NO_CELL_VERDICT, SmearScreener
from skleuk.screening.tests._data import make_field, make_fields


def _flatten(X):
    return np.asarray(X).reshape(len(X), -1)


def cheap_cell_model():
    return make_pipeline(FunctionTransformer(_flatten), LogisticRegression(C=10.0))


@pytest.fixture(scope="module")
def data():
    return make_fields(n_per_class=6)


@pytest.fixture(scope="module")
def fitted(data):
    X, y = data
    return SmearScreener(
        cheap_cell_model(), crop_size=12, window=40, random_state=0
    ).fit(X, y)


def test_fit_learns_rule_by_inner_cv(fitted):
    assert fitted.aggregation_ in ("mean", "top_k", "max", "fraction")
    assert set(fitted.cv_results_) == {"mean", "top_k", "max", "fraction"}
    best = fitted.cv_results_[fitted.aggregation_]["balanced_accuracy"]
    assert best == max(r["balanced_accuracy"] for r in fitted.cv_results_.values())
    assert 0.0 < fitted.threshold_ < 1.0
    np.testing.assert_array_equal(fitted.classes_, [0, 1])
    assert fitted.healthy_label_ == 0
    assert fitted.n_cells_fit_ == 36  # 12 smears x 3 cells


def test_predict_new_smears(fitted):
    X_new, y_new = make_fields(n_per_class=3, seed=1)
    np.testing.assert_array_equal(fitted.predict(X_new), y_new)
    proba = fitted.predict_proba(X_new)
    assert proba.shape == (6, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert (proba[y_new == 1, 1] > proba[y_new == 0, 1].max()).all()


def test_screen_gives_every_cell(fitted):
    blast_field = make_field([(25, 30, 1), (70, 64, 1), (30, 100, 0)], seed=3)
    res = fitted.screen([blast_field])[0]
    assert res.source == "X[0]" and res.shape == (96, 128)
    assert res.centres.shape == (3, 2) and res.boxes.shape == (3, 4)
    assert res.probabilities.shape == (3, 2)
    assert res.blast_count == 2
    assert res.blast_fraction == pytest.approx(2 / 3)
    assert res.verdict == 1 and res.found
    assert res.probability == pytest.approx(res.image_proba[1])
    # The blasts (larger nuclei) are the first two cells.
    np.testing.assert_array_equal(res.cell_classes, [1, 1, 0])


def test_touching_blasts_are_classified_and_counted_one_by_one(fitted):
    # Three blasts in a touching row and a healthy cell: four cells, each
    # classified in its own window centred on it, three blasts counted.
    cells = [(48, 30, 1), (48, 53, 1), (48, 76, 1), (20, 112, 0)]
    res = fitted.screen([make_field(cells, seed=5)])[0]
    assert len(res.centres) == 4 and res.overlap.sum() == 3
    order = np.argsort(res.centres[:, 1])
    np.testing.assert_allclose(res.centres[order, 1], [30, 53, 76, 112], atol=2)
    np.testing.assert_array_equal(res.cell_classes[order], [1, 1, 1, 0])
    assert res.blast_count == 3


def test_no_white_cell_is_neither_a_crash_nor_healthy(fitted):
    empty = make_field([], red_cells=10)
    res = fitted.screen([empty])[0]
    assert res.verdict == NO_CELL_VERDICT and not res.found
    assert res.blast_count == 0 and np.isnan(res.blast_fraction)
    assert np.isnan(res.probability)
    with pytest.warns(UserWarning, match=r"No white cell found in 1 smear.*X\[0\]"):
        pred = fitted.predict([empty])
    assert pred.tolist() == [1]  # referred, not called healthy
    with pytest.raises(ValueError, match=r"No white cell found.*X\[0\]"):
        clone(fitted).set_params(on_empty="raise").fit(*make_fields(3)).predict([empty])


def test_bad_input_names_the_file(fitted, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not an image")
    with pytest.raises(ImageReadError, match="notes.txt"):
        fitted.predict([str(text)])
    corrupt = tmp_path / "smear.jpg"
    corrupt.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(ImageReadError, match=r"smear\.jpg"):
        fitted.screen([corrupt])
    with pytest.raises(ValueError, match=r"X\[1\]"):
        fitted.predict([make_field([(40, 40, 0)]), np.zeros((5, 5, 5, 3))])
    with pytest.raises(TypeError, match="list of smears"):
        fitted.predict(make_field([(40, 40, 0)]))


def test_paths_and_arrays_agree(fitted, tmp_path):
    X, _ = make_fields(n_per_class=1, seed=2)
    paths = []
    for i, x in enumerate(X):
        p = tmp_path / f"s{i}.png"
        Image.fromarray(np.round(x * 255).astype(np.uint8)).save(p)
        paths.append(p)
    res = fitted.screen(paths)
    assert [r.source for r in res] == [str(p) for p in paths]
    np.testing.assert_array_equal(fitted.predict(paths), fitted.predict(X))


def test_uint8_smears_give_what_their_float32_conversion_gives(data):
    """A uint8 smear (a file's) stays uint8 until its windows are cut: the
    cells, crops and probabilities are those of the smear as float32."""
    from skleuk.utils.validation import check_images

    X, y = data
    screener = SmearScreener(cheap_cell_model(), crop_size=12, window="auto",
                             field_model=cheap_field_model(), field_size=16,
                             aggregation="mean").fit(X, y)
    X8 = [np.round(x * 255).astype(np.uint8) for x in make_fields(2, seed=3)[0]]
    as_float = [check_images([x])[0] for x in X8]
    for a, b in zip(screener.screen(X8), screener.screen(as_float), strict=True):
        np.testing.assert_array_equal(a.centres, b.centres)
        np.testing.assert_array_equal(a.probabilities, b.probabilities)
        np.testing.assert_array_equal(a.field_proba, b.field_proba)
        np.testing.assert_array_equal(a.image_proba, b.image_proba)


def test_any_sizes_and_batch_independence(fitted):
    X = [
        make_field([(25, 30, 1), (60, 70, 1)], shape=(80, 100), seed=4),
        make_field([(40, 40, 0), (100, 150, 0)], shape=(150, 200), radius=9, seed=5),
        make_field([(30, 30, 0)], shape=(64, 64), seed=6),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # every smear has cells
        together = fitted.predict_proba(X)
    one_by_one = np.vstack([fitted.predict_proba([x]) for x in X])
    # Equal up to float32 rounding: scikit-learn >= 1.8 keeps a float32
    # LogisticRegression in float32, where a matrix product's rounding
    # depends on the number of rows.
    np.testing.assert_allclose(together, one_by_one, rtol=1e-5)
    small_batches = clone(fitted).set_params(batch_size=1)
    small_batches.__dict__.update(
        {k: v for k, v in fitted.__dict__.items() if k.endswith("_")}
    )
    np.testing.assert_allclose(together, small_batches.predict_proba(X), rtol=1e-5)
    assert [len(r.centres) for r in fitted.screen(X)] == [2, 2, 1]


def test_fixed_rule_skips_inner_cv(data):
    X, y = data
    s = SmearScreener(
        cheap_cell_model(), aggregation="fraction", crop_size=12, window=40
    )
    s.fit(X, y)
    assert s.aggregation_ == "fraction" and s.cv_results_ is None
    assert s.threshold_ == 0.5


def test_cell_level_labels(data):
    X, y = data
    # Crops of a healthy and a blast cell, labelled per cell.
    from skleuk.screening.tests._data import make_field as mf

    cells = np.stack(
        [mf([(16, 16, k)], shape=(32, 32), seed=s) for s in range(5) for k in (0, 1)]
    )
    labels = np.tile([0, 1], 5)
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12, window=40)
    s.fit(X, y, cell_images=cells, cell_labels=labels)
    assert s.n_cells_fit_ == 10
    with pytest.raises(ValueError, match="together"):
        clone(s).fit(X, y, cell_images=cells)
    with pytest.raises(ValueError, match=r"classes \[7\]"):
        clone(s).fit(X, y, cell_images=cells, cell_labels=np.full(10, 7))


def test_healthy_label_found_by_name(data):
    X, y = data
    names = np.array(["Benign", "ALL"])[y]  # "ALL" sorts first
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12, window=40)
    assert s.fit(X, names).healthy_label_ == "Benign"
    assert s.fit(X, np.array(["a", "b"])[y]).healthy_label_ == "a"


def test_multiclass_smears(data):
    X, y = data
    # A third class: smears whose abnormal cells are of kind 2.
    X3 = [
        make_field([(25, 30, 2), (70, 64, 2), (30, 100, 0)], seed=int(s))
        for s in range(6)
    ]
    s = SmearScreener(cheap_cell_model(), crop_size=12, window=40, random_state=0)
    s.fit(list(X) + X3, np.r_[y, [2] * 6])
    assert s.aggregation_ in s.cv_results_ and s.threshold_ == 0.5
    test = [
        make_field([(25, 30, k), (70, 64, k), (30, 100, 0)], seed=99) for k in (1, 2)
    ]
    proba = s.predict_proba(test)
    assert proba.shape == (2, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(s.predict(test), [1, 2])
    res = s.screen(test)
    assert [r.blast_count for r in res] == [2, 2]


def test_string_labels_and_healthy_label(data):
    X, y = data
    names = np.array(["healthy", "ALL"])[y]
    s = SmearScreener(
        cheap_cell_model(),
        aggregation="mean",
        crop_size=12,
        window=40,
        healthy_label="healthy",
    ).fit(X, names)
    assert s.healthy_label_ == "healthy"
    res = s.screen(X[-1:])[0]
    assert res.verdict == "ALL" and res.blast_count == 2
    with pytest.raises(ValueError, match="healthy_label='normal'"):
        clone(s).set_params(healthy_label="normal").fit(X, names)


def test_sklearn_model_selection_on_smears(data):
    X, y = data
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12, window=40)
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    scores = cross_validate(s, X, y, cv=cv, scoring=["accuracy", "roc_auc"])
    assert scores["test_accuracy"].mean() == 1.0
    grid = GridSearchCV(s, {"aggregation": ["mean", "max"]}, cv=cv).fit(X, y)
    assert grid.best_params_["aggregation"] in ("mean", "max")


def test_estimator_contract(fitted, data):
    s = SmearScreener(cheap_cell_model(), crop_size=12, window=40)
    params = s.get_params(deep=False)
    assert clone(s).get_params(deep=False).keys() == params.keys()
    assert not hasattr(s, "cell_model_")
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        s.predict(data[0][:1])
    with pytest.raises(ValueError, match="aggregation"):
        SmearScreener(aggregation="median").fit(*data)
    with pytest.raises(ValueError, match="two classes"):
        SmearScreener(cheap_cell_model()).fit(data[0][:3], [0, 0, 0])
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(
        again.predict_proba(data[0][:2]), fitted.predict_proba(data[0][:2])
    )


def test_auto_rule_needs_two_smears_per_class():
    X, y = make_fields(n_per_class=1)
    with pytest.raises(ValueError, match="fixed aggregation"):
        SmearScreener(cheap_cell_model(), crop_size=12, window=40).fit(X, y)


def test_no_cell_in_any_training_smear():
    X = [make_field([], seed=s) for s in range(4)]
    with pytest.raises(ValueError, match="No white cell was found"):
        SmearScreener(cheap_cell_model(), aggregation="mean").fit(X, [0, 0, 1, 1])


def test_with_the_skleuk_cnn_pipeline(data):
    from skleuk import make_pipeline as make_skleuk_pipeline

    X, y = data
    cells = make_skleuk_pipeline(
        image_size=16, architecture="light", cnn__epochs=1, cnn__verbose=0,
        cnn__optimizer="sgd",  # SGD traces in half Adam's time
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        s = SmearScreener(cells, aggregation="mean", crop_size=24).fit(X, y)
        proba = s.predict_proba(X[:2])
    assert proba.shape == (2, 2)
    assert np.isfinite(proba).all()


@settings(max_examples=40, deadline=None)
@given(
    st.floats(0, 24),  # centres lie in the image
    st.floats(0, 34),
    st.integers(1, 35),
)
def test_window_matches_padding_the_whole_image(r, c, side):
    from skleuk.datasets._cells import _crop
    from skleuk.screening._cells import _window

    image = np.random.default_rng(0).random((25, 35, 3))
    m = side // 2 + 1
    padded = np.pad(image, ((m, m), (m, m), (0, 0)), "reflect")
    np.testing.assert_array_equal(
        _window(image, (r, c), side), _crop(padded, m, (r, c), side)
    )


def test_skleuk_evaluate_on_smears(data):
    from skleuk.model_selection import evaluate

    X, y = data
    s = SmearScreener(cheap_cell_model(), aggregation="mean", crop_size=12, window=40)
    report = evaluate(s, X, y, cv=3, random_state=0)
    assert "SmearScreener" in report.to_text()
    assert len(report.folds) == 3


# ----------------------------------------------------------- the field view


def cheap_field_model():
    return make_pipeline(FunctionTransformer(_flatten), LogisticRegression(C=1.0))


def _screener(**kw):
    kw = {"aggregation": "mean", "crop_size": 12, "window": 40, "field_size": 16,
          **kw}
    return SmearScreener(cheap_cell_model(), **kw)


@pytest.mark.parametrize("weight", [0.0, 0.3, 1.0])
def test_field_view_mixes_the_two_probabilities(data, weight):
    from skleuk.utils._image_ops import resize_images

    X, y = data
    X_new, _ = make_fields(n_per_class=2, seed=7)
    cells_only = _screener().fit(X, y)
    both = _screener(field_model=cheap_field_model(), field_weight=weight).fit(X, y)
    # The resized whole smears, as the field model sees them.
    fields = resize_images(np.stack(X_new), (16, 16))
    field = both.field_model_.predict_proba(fields)
    expected = (1 - weight) * cells_only.predict_proba(X_new) + weight * field
    np.testing.assert_allclose(both.predict_proba(X_new), expected, rtol=1e-6)
    res = both.screen(X_new)
    np.testing.assert_allclose(np.stack([r.field_proba for r in res]), field)
    np.testing.assert_allclose(np.stack([r.image_proba for r in res]), expected,
                               rtol=1e-6)
    # The cells' half alone is the cells-only screener's probability.
    np.testing.assert_allclose(np.stack([r.cells_proba for r in res]),
                               cells_only.predict_proba(X_new), rtol=1e-6)
    assert cells_only.field_model_ is None
    assert all(r.field_proba is None for r in cells_only.screen(X_new))


def test_field_model_is_fitted_on_every_smear(data):
    from sklearn.dummy import DummyClassifier

    X, y = data
    empty = make_field([], red_cells=10)  # no white cell: no crops, still a smear
    X2, y2 = list(X) + [empty, empty], np.r_[y, 1, 1]
    s = _screener(field_model=DummyClassifier(strategy="prior"), field_weight=1.0)
    s.fit(X2, y2)
    np.testing.assert_allclose(s.field_model_.class_prior_, [6 / 14, 8 / 14])
    # Weight 1: the field model alone for smears with cells ...
    np.testing.assert_allclose(s.predict_proba(X[:2]), [[6 / 14, 8 / 14]] * 2)
    # ... and a smear without a cell is still referred, whatever the field says.
    res = s.screen([empty])[0]
    assert res.verdict == NO_CELL_VERDICT and res.cells_proba is None
    np.testing.assert_allclose(res.field_proba, [6 / 14, 8 / 14])


def test_field_view_in_the_inner_cv(data):
    X, y = data
    # Weight 1: every rule scores the field model's out-of-fold probabilities,
    # so the rules cannot differ.
    s = _screener(aggregation="auto", field_model=cheap_field_model(),
                  field_weight=1.0, random_state=0).fit(X, y)
    scores = {r["balanced_accuracy"] for r in s.cv_results_.values()}
    thresholds = {r["threshold"] for r in s.cv_results_.values()}
    assert len(scores) == 1 and len(thresholds) == 1
    # Mixed half and half, on new smears.
    s = _screener(aggregation="auto", field_model=cheap_field_model(),
                  random_state=0).fit(X, y)
    X_new, y_new = make_fields(n_per_class=3, seed=1)
    np.testing.assert_array_equal(s.predict(X_new), y_new)


def test_field_view_string_labels_and_multiclass(data):
    X, y = data
    X3 = [make_field([(25, 30, 2), (70, 64, 2), (30, 100, 0)], seed=int(s))
          for s in range(6)]
    names = np.array(["healthy", "ALL", "other"])[np.r_[y, [2] * 6]]
    s = _screener(field_model=cheap_field_model()).fit(list(X) + X3, names)
    np.testing.assert_array_equal(s.classes_, ["ALL", "healthy", "other"])
    test = [make_field([(25, 30, k), (70, 64, k), (30, 100, 0)], seed=99)
            for k in (1, 2)]
    np.testing.assert_array_equal(s.predict(test), ["ALL", "other"])
    proba = s.predict_proba(test)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_field_view_parameters(data):
    X, y = data
    with pytest.raises(ValueError, match="field_weight"):
        _screener(field_model=cheap_field_model(), field_weight=1.5).fit(X, y)
    with pytest.raises(ValueError, match="field_model"):
        _screener(field_model="resnet").fit(X, y)
    s = _screener(field_model=cheap_field_model()).fit(X, y)
    again = pickle.loads(pickle.dumps(s))
    np.testing.assert_allclose(again.predict_proba(X[:2]), s.predict_proba(X[:2]))
    assert clone(s).get_params()["field_size"] == 16
    with pytest.raises(ValueError, match="refit"):
        s.set_params(field_model=None).predict(X[:1])
