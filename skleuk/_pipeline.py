"""The paper's whole system as one scikit-learn :class:`~sklearn.pipeline.Pipeline`."""

from __future__ import annotations

from sklearn.pipeline import Pipeline

__all__ = [
    "DEFAULT_ARCHITECTURE",
    "DEFAULT_IMAGE_SIZE",
    "RECIPES",
    "make_baseline_pipeline",
    "make_pipeline",
]

#: The recipes of :func:`make_pipeline`: the input size, the network, and
#: the parameters of the steps that differ from the steps' own defaults.
#: ``"default"`` was chosen on real smears with ``benchmarks/bench_accuracy.py``
#: (the figures are on the results page, docs/results.rst, not here): the
#: ``"wide"`` network and test-time augmentation were both ahead on the real
#: cells, and so was giving the network the whole cell-centred window
#: (``"crop": "passthrough"``) rather than a crop of it around the nucleus;
#: 120 epochs rather than 60 were ahead on every task with every seed tried,
#: with the per-cell specificity unchanged within the seeds' spread. The
#: crop, sharpening and averaging steps stay in the pipeline, switched off
#: (``sharpen__strength=0``, ``average__size=1``), so that a grid search can
#: switch them on; a ``crop__*`` parameter switches the cropper back on.
#: ``"paper"`` is Alkhouli & Joshi's system as published. ``"steps"`` is
#: the order of the steps: the default crops first and normalises the colours
#: of the small resized crop (its statistics are the cell window's, at a
#: sixteenth of a 257 px field's pixels; as accurate on the real cells, see
#: docs/results.rst), the paper normalises whole images first.
RECIPES = {
    "default": {
        "steps": ("crop", "sharpen", "average", "resize", "color", "scale", "cnn"),
        "image_size": 64,
        "architecture": "wide",
        "params": {
            "crop": "passthrough",
            "sharpen__strength": 0.0,
            "average__size": 1,
            "scale__method": "standard",
            "cnn__epochs": 120,
            "cnn__batch_size": 16,
            "cnn__lr_schedule": "cosine",
            "cnn__learning_rate": 0.003,
            "cnn__label_smoothing": 0.1,
            "cnn__class_weight": "balanced",
            "cnn__dtype_policy": "auto",
            "cnn__tta": True,
        },
    },
    "paper": {
        "steps": ("color", "sharpen", "average", "crop", "resize", "scale", "cnn"),
        "image_size": 32,
        "architecture": "paper",
        "params": {},
    },
}

#: Side, in pixels, of the images reaching the CNN (the ``resize`` step) and
#: the network of the ``cnn`` step in the default recipe.
DEFAULT_IMAGE_SIZE = RECIPES["default"]["image_size"]
DEFAULT_ARCHITECTURE = RECIPES["default"]["architecture"]

def _step_classes():
    # Imported here: the CNN pulls in TensorFlow, and `import skleuk` stays
    # light.
    from .neural_network import LightweightCNNClassifier
    from .preprocessing import (
        ColorNormalizer,
        FamiliarityCheck,
        ImageReader,
        ImageScaler,
        LaplacianSharpener,
        NeighborhoodAverager,
        Resizer,
        StainNormalizer,
        WhiteCellCropper,
    )

    return {
        "stain": StainNormalizer,
        "reader": ImageReader,
        "familiarity": FamiliarityCheck,
        "color": ColorNormalizer,
        "sharpen": LaplacianSharpener,
        "average": NeighborhoodAverager,
        "crop": WhiteCellCropper,
        "resize": Resizer,
        "scale": ImageScaler,
        "cnn": LightweightCNNClassifier,
    }


def make_pipeline(
    *,
    reader=False,
    familiarity=False,
    stain=False,
    recipe="default",
    image_size=None,
    architecture=None,
    memory=None,
    verbose=False,
    **params,
):
    """Build the paper's whole system as one scikit-learn Pipeline.

    The steps, with their names, in the order of the default recipe:

    1. ``reader`` -- :class:`~skleuk.preprocessing.ImageReader` (only with
       ``reader=True``): file paths to images;
    2. ``crop`` -- :class:`~skleuk.preprocessing.WhiteCellCropper`: a window
       around the white cell (``"passthrough"`` in the default recipe, see
       below);
    3. ``sharpen`` -- :class:`~skleuk.preprocessing.LaplacianSharpener`:
       Laplacian sharpening (the paper's Eq. 3.1);
    4. ``average`` -- :class:`~skleuk.preprocessing.NeighborhoodAverager`:
       neighbourhood averaging;
    5. ``resize`` -- :class:`~skleuk.preprocessing.Resizer`: to
       ``image_size`` pixels;
    6. ``color`` -- :class:`~skleuk.preprocessing.ColorNormalizer`: colour
       normalisation (of the resized crop);
    7. ``scale`` -- :class:`~skleuk.preprocessing.ImageScaler`: scaling for
       the network;
    8. ``cnn`` -- :class:`~skleuk.neural_network.LightweightCNNClassifier`:
       the lightweight CNN.

    ``recipe="paper"`` has the paper's order: ``color``, ``sharpen``,
    ``average``, ``crop``, ``resize``, ``scale``, ``cnn`` (whole images are
    normalised and filtered before the crop). The default puts the crop
    first (switched off, see below): the colour statistics are then those
    of the resized image, and with the crop on every later step works on a
    crop -- the preprocessing runs several times faster, and was as
    accurate on real cells (see the docs' *Results on real smears*).

    The ``reader`` step is present only with ``reader=True``; the pipeline
    then takes file paths instead of images. Every step's parameters are
    reachable as ``<step>__<param>`` -- in this call, in
    :meth:`~sklearn.pipeline.Pipeline.set_params` and in a grid search --
    and any step can be replaced or switched off
    (``make_pipeline(sharpen="passthrough")``).

    Two recipes (:data:`RECIPES`) set the input size, the network and the
    training: ``"default"``, chosen on real blood smears (see the docs'
    *Results on real smears*): the whole image as given -- a cell-centred
    crop (ALL-IDB2, :func:`~skleuk.datasets.extract_cells`,
    :class:`~skleuk.screening.SmearScreener`'s windows) or a field -- with
    no cell crop (``crop="passthrough"``: on real cells the whole window,
    the cell with its neighbourhood, scored well above a crop around the
    nucleus; pass ``crop__crop_size=0.6`` or a cropper to cut the white cell
    out of larger images), standardised 64x64 inputs, no sharpening or
    averaging (the steps are present but switched off:
    ``sharpen__strength=0``, ``average__size=1``), the ``"wide"`` network
    (the light network with twice its filters: 32, 64 and 128) trained
    for 120 epochs in batches of 16 with a cosine learning-rate schedule
    (Adam, 0.003, warm-up), label smoothing 0.1 and classes weighted by
    their inverse frequency (``cnn__class_weight="balanced"``), in mixed
    bfloat16 where the CPU has native bfloat16 units
    (``cnn__dtype_policy="auto"``, float32 elsewhere), predicting with
    test-time augmentation (``cnn__tta=True``: the mean over the 8 flips and
    rotations of each image; set it to False for 8 times cheaper network
    inference); and ``"paper"``,
    Alkhouli & Joshi's system as published: every preprocessing step with
    its own defaults, inputs scaled to ``[0, 1]``, Algorithm 1 at 32x32
    pixels, Adam, 30 epochs, batches of 64.

    Parameters
    ----------
    reader : bool or ImageReader, default=False
        Put an :class:`~skleuk.preprocessing.ImageReader` first (True, or
        the instance to use) so that ``fit``/``predict`` take image file
        paths.
    familiarity : bool or FamiliarityCheck, default=False
        Put a :class:`~skleuk.preprocessing.FamiliarityCheck` first (after
        the reader; True, or the instance to use): the fitted pipeline keeps
        a compact description of its training images, and ``predict`` /
        ``predict_proba`` issue an
        :class:`~skleuk.exceptions.UnfamiliarImageWarning` on a batch that
        looks unlike them (another laboratory). Its scores:
        ``pipe["familiarity"].unfamiliarity(X)``. See the user guide's
        *Using a model on another laboratory's smears*.
    stain : bool, {"macenko", "reinhard"} or StainNormalizer, default=False
        Replace the ``color`` step by a
        :class:`~skleuk.preprocessing.StainNormalizer` (True: the
        ``"macenko"`` method; a method name; or the instance to use): each
        image mapped, on its own stained pixels, onto the stain of the
        training images, instead of the whole-image colour normalisation.
        Its parameters stay reachable as ``color__<param>``. Opt-in: see
        the user guide's *Using a model on another laboratory's smears* for
        what it did across laboratories.
    recipe : {"default", "paper"}, default="default"
        The set of defaults to start from; keywords below override it.
    image_size : int, default=None
        Side of the images given to the CNN (the ``resize`` step's ``size``);
        None: the recipe's (64, or 32 for ``"paper"``). The CNN's cost grows
        with its square.
    architecture : {"paper", "light", "wide"} or dict, default=None
        The CNN's network (``cnn__architecture``): a preset name, or a dict
        such as ``{"preset": "light", "filters": 32}``; None: the recipe's
        (``"wide"``, or ``"paper"`` for ``recipe="paper"``). One field of
        it can be set (and grid-searched) as ``cnn__model__<field>``.
    memory : str, joblib.Memory or None, default=None
        Cache of the fitted transformers (see :class:`~sklearn.pipeline.Pipeline`).
    verbose : bool, default=False
        Print the time of each step while fitting.
    **params : dict
        ``<step>__<param>=value`` overrides (e.g. ``cnn__optimizer="sgd"``,
        ``cnn__epochs=10``, ``crop__crop_size=0.5``), or ``<step>=estimator``
        / ``"passthrough"`` to replace a step.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The unfitted pipeline. ``is_classifier(pipeline)`` is True.

    Raises
    ------
    ValueError
        A keyword names no step (the message lists the step names) or a
        parameter the step does not have.

    See Also
    --------
    skleuk.neural_network.LightweightCNNClassifier : The ``cnn`` step.

    Notes
    -----
    A fitted pipeline pickles with :func:`joblib.dump`; loading it under other
    skleuk/Keras/TensorFlow versions warns
    (:class:`~skleuk.neural_network.InconsistentVersionWarning`). Loading a
    pickle runs arbitrary code: only load files you trust.

    Examples
    --------
    >>> from skleuk import make_pipeline
    >>> pipe = make_pipeline(cnn__optimizer="sgd", cnn__epochs=10)
    >>> [name for name, _ in pipe.steps]
    ['crop', 'sharpen', 'average', 'resize', 'color', 'scale', 'cnn']
    >>> pipe.get_params()["cnn__optimizer"]
    'sgd'
    >>> pipe.get_params()["cnn__architecture"], pipe.get_params()["resize__size"]
    ('wide', 64)
    >>> paper = make_pipeline(recipe="paper")
    >>> paper.get_params()["cnn__architecture"], paper.get_params()["cnn__epochs"]
    ('paper', 30)
    >>> [name for name, _ in paper.steps]
    ['color', 'sharpen', 'average', 'crop', 'resize', 'scale', 'cnn']
    >>> make_pipeline(reader=True).steps[0][0]
    'reader'
    >>> [name for name, _ in make_pipeline(familiarity=True).steps][:2]
    ['familiarity', 'crop']
    >>> make_pipeline(stain="macenko")["color"]
    StainNormalizer()
    """
    if recipe not in RECIPES:
        raise ValueError(
            f"recipe must be one of {sorted(RECIPES)}, got {recipe!r}."
        )
    chosen = RECIPES[recipe]
    image_size = chosen["image_size"] if image_size is None else image_size
    architecture = chosen["architecture"] if architecture is None else architecture
    classes = _step_classes()
    steps = []
    if reader is not False and reader is not None:
        steps.append(("reader", classes["reader"]() if reader is True else reader))
    arguments = {"resize": {"size": image_size}, "cnn": {"architecture": architecture}}
    if familiarity is not False and familiarity is not None:
        steps.append((
            "familiarity",
            classes["familiarity"]() if familiarity is True else familiarity,
        ))
    if stain is not False and stain is not None:
        if "color" in params:
            raise ValueError(
                "make_pipeline() got both stain= and color=: stain= replaces "
                "the color step; pass one of them."
            )
        if isinstance(stain, str) and stain not in ("macenko", "reinhard"):
            raise ValueError(
                "stain must be True, 'macenko', 'reinhard' or a StainNormalizer, "
                f"got {stain!r}."
            )
        if stain is True or isinstance(stain, str):
            stain = classes["stain"](**({} if stain is True else {"method": stain}))
    else:
        stain = None
    steps += [
        (name, stain if name == "color" and stain is not None
         else classes[name](**arguments.get(name, {})))
        for name in chosen["steps"]
    ]
    pipe = Pipeline(steps, memory=memory, verbose=verbose)
    names = [name for name, _ in steps]
    for key in params:
        step = key.split("__", 1)[0]
        if step not in names:
            hint = (
                " (add reader=True to get an ImageReader step)"
                if step == "reader"
                else ""
            )
            raise ValueError(
                f"make_pipeline() got {key!r}, but the pipeline has no step "
                f"{step!r}{hint}. Its steps are: {', '.join(names)}; pass "
                "parameters as <step>__<parameter>, e.g. cnn__epochs=10."
            )
        if "__" in key:
            name, param = key.split("__", 1)
            estimator = dict(steps)[name]
            valid = estimator.get_params(deep=True)
            base = param.split("__", 1)[0]
            # SciKeras's routed parameters (cnn__model__filters, ...)
            routed = any(
                param.startswith(prefix + "__")
                for prefix in getattr(estimator, "_routing_prefixes", ())
            )
            if base not in valid and not routed:
                raise ValueError(
                    f"make_pipeline() got {key!r}, but step {name!r} "
                    f"({type(estimator).__name__}) has no parameter {base!r}. "
                    f"Its parameters are: {', '.join(sorted(valid))}."
                )
    # The recipe's parameters, unless the step was replaced or the
    # parameter given. A step the recipe switches off ("crop": "passthrough")
    # stays on when a parameter of it is given (crop__crop_size=0.6).
    replaced = {k for k in params if "__" not in k} | ({"color"} if stain else set())
    configured = {k.split("__", 1)[0] for k in params if "__" in k}
    recipe_params = {
        k: v for k, v in chosen["params"].items()
        if k not in params and k.split("__", 1)[0] not in replaced
        and k not in configured
    }
    pipe.set_params(**recipe_params, **params)
    return pipe


def make_baseline_pipeline(*, reader=False, image_size=64, **params):
    """A classical baseline: colour, HOG and nucleus features + an RBF SVM.

    The "CNN vs classical" reference for every report: put it in the same
    :func:`~skleuk.model_selection.evaluate` call, grid search or
    :func:`~sklearn.model_selection.cross_validate` as
    :func:`make_pipeline`. It trains in seconds. Steps: ``color``
    (:class:`~skleuk.preprocessing.ColorNormalizer`), ``crop``
    (:class:`~skleuk.preprocessing.WhiteCellCropper`), ``resize``
    (:class:`~skleuk.preprocessing.Resizer`), ``features``
    (:class:`~skleuk.feature_extraction.CellFeatureExtractor`), ``scale``
    (:class:`~sklearn.preprocessing.StandardScaler`) and ``svm``
    (:class:`~sklearn.svm.SVC` with an RBF kernel, ``C=10`` and balanced
    class weights, its scores turned into probabilities by Platt scaling
    with :class:`~sklearn.calibration.CalibratedClassifierCV`,
    ``ensemble=False``, 3-fold).

    Parameters
    ----------
    reader : bool or ImageReader, default=False
        Put an :class:`~skleuk.preprocessing.ImageReader` first, as in
        :func:`make_pipeline`.
    image_size : int, default=64
        Side of the images the features are computed on.
    **params : dict
        ``<step>__<param>=value`` overrides, e.g. ``svm__estimator__C=1``.

    Returns
    -------
    pipeline : sklearn.pipeline.Pipeline
        The unfitted pipeline (a classifier with ``predict_proba``).

    See Also
    --------
    make_pipeline : The CNN pipeline.

    Examples
    --------
    >>> from skleuk import make_baseline_pipeline
    >>> pipe = make_baseline_pipeline(svm__estimator__C=1.0)
    >>> [name for name, _ in pipe.steps]
    ['color', 'crop', 'resize', 'features', 'scale', 'svm']
    """
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    from .feature_extraction import CellFeatureExtractor
    from .preprocessing import ColorNormalizer, ImageReader, Resizer, WhiteCellCropper

    steps = []
    if reader is not False and reader is not None:
        steps.append(("reader", ImageReader() if reader is True else reader))
    steps += [
        ("color", ColorNormalizer()),
        ("crop", WhiteCellCropper()),
        ("resize", Resizer(size=image_size)),
        ("features", CellFeatureExtractor()),
        ("scale", StandardScaler()),
        (
            "svm",
            CalibratedClassifierCV(
                SVC(C=10.0, class_weight="balanced"), ensemble=False, cv=3
            ),
        ),
    ]
    pipe = Pipeline(steps)
    if params:
        pipe.set_params(**params)
    return pipe
