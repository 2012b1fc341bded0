"""skleuk.make_pipeline: the paper's whole system as one Pipeline."""

import numpy as np
import pytest
from PIL import Image
from sklearn.base import clone, is_classifier
from sklearn.pipeline import Pipeline

from skleuk import make_pipeline
from skleuk._pipeline import DEFAULT_ARCHITECTURE, DEFAULT_IMAGE_SIZE
from skleuk.neural_network import LightweightCNNClassifier
from skleuk.neural_network.tests._data import TINY_CNN
from skleuk.preprocessing import (
    ColorNormalizer,
    ImageScaler,
    LaplacianSharpener,
    NeighborhoodAverager,
    Resizer,
)
from skleuk.preprocessing._reader import ImageReader
from skleuk.preprocessing._segmentation import WhiteCellCropper

TINY = {f"cnn__{k}": v for k, v in TINY_CNN.items()}
STEPS = ["crop", "sharpen", "average", "resize", "color", "scale", "cnn"]
PAPER_STEPS = ["color", "sharpen", "average", "crop", "resize", "scale", "cnn"]


@pytest.fixture(scope="module")
def smears():
    from skleuk.datasets import make_blood_smears

    return make_blood_smears(
        n_samples=24, image_size=48, random_state=0, return_X_y=True
    )


def test_default_steps_crop_first_and_paper_steps_in_the_papers_order():
    pipe = make_pipeline()
    assert isinstance(pipe, Pipeline)
    assert [name for name, _ in pipe.steps] == STEPS
    # The default classifies the image it is given (the crop step is there,
    # switched off); the paper's recipe cuts the white cell out.
    assert pipe.named_steps["crop"] == "passthrough"
    assert [type(step) for _, step in pipe.steps[1:]] == [
        LaplacianSharpener,
        NeighborhoodAverager,
        Resizer,
        ColorNormalizer,
        ImageScaler,
        LightweightCNNClassifier,
    ]
    paper = make_pipeline(recipe="paper")
    assert [name for name, _ in paper.steps] == PAPER_STEPS
    assert isinstance(paper.named_steps["color"], ColorNormalizer)
    assert isinstance(paper.named_steps["crop"], WhiteCellCropper)
    assert paper.named_steps["resize"].size == 32
    assert pipe.named_steps["resize"].size == DEFAULT_IMAGE_SIZE
    assert pipe.named_steps["cnn"].architecture == DEFAULT_ARCHITECTURE
    assert is_classifier(pipe)


def test_keyword_overrides_and_set_params_reach_every_step():
    pipe = make_pipeline(
        cnn__optimizer="sgd",
        cnn__epochs=10,
        cnn__optimizer__momentum=0.9,
        average__size=3,
        crop__crop_size=0.5,
        image_size=32,
        architecture="light",
    )
    params = pipe.get_params()
    assert params["cnn__optimizer"] == "sgd" and params["cnn__epochs"] == 10
    assert params["cnn__optimizer__momentum"] == 0.9
    assert params["average__size"] == 3
    # A parameter of the crop step keeps the cropper the default switches off.
    assert params["crop__crop_size"] == 0.5
    assert params["resize__size"] == 32
    assert params["cnn__architecture"] == "light"
    for step in STEPS:
        own = [k for k in params if k.startswith(step + "__")]
        assert own, step  # every step exposes its parameters
    pipe.set_params(
        sharpen__strength=0.5, crop__selection="largest", scale__method="standard"
    )
    assert pipe.named_steps["sharpen"].strength == 0.5
    assert pipe.named_steps["crop"].selection == "largest"
    assert clone(pipe).get_params()["scale__method"] == "standard"


def test_default_recipe_crop_can_be_switched_back_on():
    assert make_pipeline(crop__selection="largest").named_steps["crop"].selection == (
        "largest")
    cropper = WhiteCellCropper(crop_size=0.6)
    assert make_pipeline(crop=cropper).named_steps["crop"] is cropper
    pipe = make_pipeline()
    pipe.set_params(crop=WhiteCellCropper(), crop__crop_size=0.5)
    assert pipe.named_steps["crop"].crop_size == 0.5


def test_steps_can_be_replaced_or_skipped():
    pipe = make_pipeline(
        sharpen="passthrough", color=ColorNormalizer(method="grayworld")
    )
    assert pipe.named_steps["sharpen"] == "passthrough"
    assert pipe.named_steps["color"].method == "grayworld"


def test_reader_step():
    pipe = make_pipeline(reader=True)
    assert pipe.steps[0][0] == "reader" and isinstance(pipe.steps[0][1], ImageReader)
    reader = ImageReader(size=64)
    assert make_pipeline(reader=reader).named_steps["reader"] is reader
    pipe = make_pipeline(reader=True, reader__n_jobs=2)
    assert pipe.get_params()["reader__n_jobs"] == 2


def test_unknown_step_is_a_clear_error():
    with pytest.raises(ValueError, match=r"no step 'foo'.*crop, sharpen, average, "
                                         r"resize, color, scale, cnn"):
        make_pipeline(foo__bar=1)
    with pytest.raises(ValueError, match="no step 'reader'.*reader=True"):
        make_pipeline(reader__size=32)
    with pytest.raises(ValueError, match="no step 'epochs'"):
        make_pipeline(epochs=3)
    with pytest.raises(ValueError, match=r"step 'cnn' \(LightweightCNNClassifier\) "
                                         r"has no parameter 'epoch'"):
        make_pipeline(cnn__epoch=3)


@pytest.fixture(scope="module")
def fitted(smears):
    """The tiny pipeline fitted on the smears (read-only: shared)."""
    X, y = smears
    return make_pipeline(image_size=16, cnn__random_state=0, **TINY).fit(X, y)


def test_fit_predict_end_to_end(smears, fitted):
    X, y = smears
    pipe = fitted
    proba = pipe.predict_proba(X)
    assert proba.shape == (len(X), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert pipe.named_steps["cnn"].input_shape_ == (16, 16, 3)
    np.testing.assert_array_equal(pipe.classes_, [0, 1])
    # images of another size are cropped and resized to the training size
    bigger = np.repeat(np.repeat(X[:3], 2, axis=1), 2, axis=2)
    assert pipe.predict(bigger).shape == (3,)
    # same data, same seed: same pipeline
    again = make_pipeline(image_size=16, cnn__random_state=0, **TINY).fit(X, y)
    np.testing.assert_array_equal(again.predict_proba(X), proba)


def test_pipeline_on_file_paths(smears, fitted, tmp_path):
    X, y = smears
    paths = []
    for i, img in enumerate(X):
        path = tmp_path / f"cell_{i:02d}.png"
        Image.fromarray(img).save(path)
        paths.append(str(path))
    paths = np.array(paths)
    pipe = make_pipeline(reader=True, image_size=16, cnn__random_state=0, **TINY)
    pipe.fit(paths, y)
    from_arrays = fitted  # the same pipeline without the reader, on arrays
    np.testing.assert_allclose(
        pipe.predict_proba(paths[:5]), from_arrays.predict_proba(X[:5]), atol=1e-6
    )
    with pytest.raises(TypeError, match="ImageReader"):
        from_arrays.predict(paths[:2])


def test_recipes():
    default = make_pipeline().get_params()
    assert default["resize__size"] == 64 and default["cnn__architecture"] == "wide"
    assert default["sharpen__strength"] == 0.0 and default["average__size"] == 1
    assert default["scale__method"] == "standard"
    assert default["cnn__epochs"] == 120 and default["cnn__batch_size"] == 16
    assert default["cnn__lr_schedule"] == "cosine"
    assert default["cnn__tta"] is True
    paper = make_pipeline(recipe="paper").get_params()
    # The paper's system: every step with its own defaults, Algorithm 1 at 32 px.
    assert paper["resize__size"] == 32 and paper["cnn__architecture"] == "paper"
    for key, value in LaplacianSharpener().get_params().items():
        assert paper[f"sharpen__{key}"] == value
    for key, value in LightweightCNNClassifier().get_params().items():
        assert paper[f"cnn__{key}"] == value, key
    # Keywords win over the recipe; a replaced step gets none of its params.
    pipe = make_pipeline(cnn__epochs=3, average=NeighborhoodAverager(size=3),
                         image_size=48)
    params = pipe.get_params()
    assert params["cnn__epochs"] == 3 and params["average__size"] == 3
    assert params["resize__size"] == 48 and params["cnn__batch_size"] == 16
    with pytest.raises(ValueError, match="recipe"):
        make_pipeline(recipe="fast")
