"""SmearScreener: classify every white cell of a smear, give a verdict."""

from __future__ import annotations

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context, clone
from sklearn.utils import Bunch
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted

from ..exceptions import UnfamiliarImageWarning
from ..metrics import class_roles
from ..utils._image_ops import resize_images
from ..utils.validation import check_images
from ._aggregate import _RULES, _aggregate, _inner_cv_rules
from ._cells import _as_float32, _check_cells_per_class, _iter_smears, _smear_crops
from ._familiar import familiarity_step, quiet, smear_familiarity

__all__ = ["NO_CELL_VERDICT", "SmearScreener"]

#: The verdict of :meth:`SmearScreener.screen` for a smear without any
#: white cell found.
NO_CELL_VERDICT = "no white cell found"

class SmearScreener(ClassifierMixin, BaseEstimator):
    """Screen whole smears: find every white cell, classify it, give a verdict.

    For each smear (an image of any size, or its file path), every white cell
    is located (:func:`locate_white_cells`), a square window around it is
    cut -- ``crop_scale`` times the smear's median cell diameter, so the
    framing follows the magnification -- and resized to ``crop_size``
    pixels, and each crop is classified by ``cell_model``. The cell
    probabilities are aggregated into an image-level probability and
    verdict. :meth:`predict` and :meth:`predict_proba` give that image-level
    answer, so the screener works in :func:`~sklearn.model_selection.cross_validate`,
    :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`skleuk.model_selection.evaluate` on lists of smears;
    :meth:`screen` gives everything per smear (cells, boxes, probabilities,
    blast count and fraction, verdict).

    **Training with image-level labels only** (multiple-instance learning):
    every cell of a training smear inherits the smear's label and the cell
    model is fitted on all of them. With ``aggregation="auto"`` the rule
    that turns cell probabilities into the smear's answer -- mean, mean of
    the ``top_k`` highest, maximum, or the fraction of cells voting for each
    class -- and, for two classes, the decision threshold are chosen by an
    inner ``cv``-fold cross-validation over the training smears (out-of-fold
    cell probabilities; best balanced accuracy). **With cell-level labels**
    (pre-cut crops, as ALL-IDB2: ``fit(X, y, cell_images=..., cell_labels=...)``)
    the cell model is fitted on those crops instead, and the training smears
    only serve to choose the rule.

    Parameters
    ----------
    cell_model : estimator or None, default=None
        A scikit-learn classifier with ``predict_proba`` taking a 4-D batch
        of RGB crops ``(n, crop_size, crop_size, 3)`` (float in ``[0, 1]``).
        It is cloned and fitted in :meth:`fit`. ``None``:
        :func:`skleuk.make_pipeline` with its defaults.
    aggregation : {"auto", "mean", "top_k", "max", "fraction"}, default="auto"
        How cell probabilities become the smear's probabilities: ``"mean"``
        (of each class's cell probabilities), ``"top_k"`` (mean of the
        ``top_k`` largest), ``"max"``, ``"fraction"`` (share of cells whose
        most probable class it is); each normalised to sum to one.
        ``"auto"``: chosen, with the threshold, by inner cross-validation.
    top_k : int, default=3
        ``k`` of the ``"top_k"`` rule.
    cv : int, default=3
        Folds of the inner cross-validation of ``aggregation="auto"``
        (stratified over the training smears; at most the smallest class
        count).
    healthy_label : object or None, default=None
        The label of healthy smears and non-blast cells. Every other class
        counts as a blast. ``None``: the rule of
        :func:`skleuk.metrics.class_roles` -- the class named like
        :data:`~skleuk.metrics.HEALTHY_CLASS_NAMES` (``"healthy"``,
        ``"benign"``, ``"normal"``... any case), else, with two classes,
        the other class of one named like leukaemia, else the first of the
        sorted classes (0 for 0/1 labels).
    crop_size : int, default=64
        Side, in pixels, of the crops given to ``cell_model``.
    crop_scale : float, default=2.5
        Side of the window cut around each cell, in median cell diameters of
        its smear (2.5 frames a cell like ALL-IDB2: the cell and a ring of
        red cells). Used when ``window="auto"``.
    window : "auto" or int, default="auto"
        Side, in pixels of the smear, of the window cut around each cell.
        ``"auto"``: ``crop_scale`` times the median cell diameter of the
        smear, which follows the magnification but also the mix of cells (in
        a smear of large blasts a small lymphocyte is framed tighter). When
        all smears share one magnification, a fixed int keeps the cells'
        true relative sizes, which are part of what tells a blast from a
        lymphocyte.
    locate_params : dict or None, default=None
        Keyword arguments of :func:`locate_white_cells` (e.g.
        ``{"min_area": 2000}`` at an unusual magnification).
    on_empty : {"refer", "raise"}, default="refer"
        What :meth:`predict` and :meth:`predict_proba` do with a smear in
        which no white cell is found. ``"refer"``: a :class:`UserWarning`
        names the smears, and they are **not** called healthy: their
        probability is spread over the non-healthy classes (prediction: the
        first of them), i.e. referred for review. ``"raise"``: a
        :class:`ValueError` naming them. :meth:`screen` always reports the
        verdict ``"no white cell found"`` for them.
    field_model : estimator or None, default=None
        An optional second view: a scikit-learn classifier with
        ``predict_proba`` taking whole smears resized to ``field_size`` x
        ``field_size`` pixels (float in ``[0, 1]``), e.g.
        ``skleuk.make_pipeline(crop="passthrough")``. It is cloned and fitted
        in :meth:`fit` on every training smear with its label, and a smear's
        probabilities become ``(1 - field_weight)`` times the aggregated
        cell probabilities plus ``field_weight`` times the field model's.
        It sees what the cells alone do not (how many blasts a field holds,
        their sizes relative to each other). Smears in which no white cell
        is found are still handled by ``on_empty`` (no verdict without a
        cell). ``None``: cells only.
    field_size : int, default=128
        Side, in pixels, to which each whole smear is resized for
        ``field_model`` (the aspect ratio is not kept; the field model's own
        resizing step may shrink it further).
    field_weight : float, default=0.5
        Weight of ``field_model``'s probabilities in a smear's
        probabilities (``0``: the cells only; ``1``: the field model only,
        for smears with at least one white cell).
    batch_size : int, default=16
        Smears read and classified together (memory is bounded by one batch
        of smears and their crops, whatever the number of smears).
    random_state : int, RandomState instance or None, default=None
        Shuffling of the inner cross-validation folds.

    Attributes
    ----------
    cell_model_ : estimator
        The fitted cell classifier.
    classes_ : ndarray
        The image (and cell) classes, sorted.
    healthy_label_ : object
        The resolved ``healthy_label``.
    aggregation_ : str
        The aggregation rule used.
    threshold_ : float
        For two classes: the smear is called abnormal when its probability of
        the non-healthy class is at least this (0.5 unless chosen by
        ``aggregation="auto"``). Unused for more classes (most probable
        class).
    cv_results_ : dict or None
        With ``aggregation="auto"``: per rule, the inner cross-validated
        ``balanced_accuracy`` and ``threshold``, with the folds
        (``n_splits``) and smears (``n_smears``) they came from; else None.
    n_cells_fit_ : int
        Number of cells the cell model was fitted on.
    field_model_ : estimator or None
        The fitted ``field_model`` (None without one).

    See Also
    --------
    locate_white_cells : The localisation step.
    skleuk.plotting.plot_screening : Overlay of the cells and the verdict.

    Notes
    -----
    Cells inheriting their smear's label is noisy supervision: an ALL smear
    also holds normal white cells. The aggregation learnt by inner
    cross-validation absorbs part of that; cell-level labels, where
    available, are better. Each smear's verdict depends only on its own
    cells (batch-independent).

    The rule and threshold are chosen on out-of-fold probabilities of cell
    models fitted on ``(cv - 1) / cv`` of the training smears, then applied
    to the cell model refitted on all of them. A cell model whose
    calibration changes much with the amount of training data (an
    under-trained CNN that still outputs close to the class prior) can move
    its probabilities across the threshold: judge a configuration by
    outer cross-validation (:func:`~sklearn.model_selection.cross_validate`
    or :func:`skleuk.model_selection.evaluate` on the smears), never by the
    inner scores in ``cv_results_``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skleuk.screening import SmearScreener
    >>> rr, cc = np.mgrid[:96, :128]
    >>> def smear(blue):                                  # 3 cells on pink
    ...     im = np.full((96, 128, 3), [0.9, 0.7, 0.75])
    ...     for r, c in [(25, 30), (70, 64), (30, 100)]:
    ...         im[(rr - r) ** 2 + (cc - c) ** 2 <= 49] = [0.45, 0.25, blue]
    ...     return im
    >>> X = [smear(0.65) for _ in range(6)] + [smear(0.95) for _ in range(6)]
    >>> y = [0] * 6 + [1] * 6
    >>> flat = FunctionTransformer(lambda a: np.asarray(a).reshape(len(a), -1))
    >>> cells = make_pipeline(flat, LogisticRegression())
    >>> screener = SmearScreener(cells, aggregation="mean", crop_size=8)
    >>> screener.fit(X, y).predict([smear(0.65), smear(0.95)])
    array([0, 1])
    >>> result = screener.screen([smear(0.95)])[0]
    >>> result.verdict, result.blast_count, len(result.centres)
    (np.int64(1), 3, 3)
    """

    _parameter_constraints: dict = {
        "cell_model": [HasMethods(["fit", "predict_proba"]), None],
        "aggregation": [StrOptions({"auto", *_RULES})],
        "top_k": [Interval(Integral, 1, None, closed="left")],
        "cv": [Interval(Integral, 2, None, closed="left")],
        "healthy_label": "no_validation",
        "crop_size": [Interval(Integral, 4, None, closed="left")],
        "crop_scale": [Interval(Real, 0.5, None, closed="left")],
        "window": [StrOptions({"auto"}), Interval(Integral, 4, None, closed="left")],
        "locate_params": [dict, None],
        "on_empty": [StrOptions({"refer", "raise"})],
        "field_model": [HasMethods(["fit", "predict_proba"]), None],
        "field_size": [Interval(Integral, 4, None, closed="left")],
        "field_weight": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        cell_model=None,
        *,
        aggregation="auto",
        top_k=3,
        cv=3,
        healthy_label=None,
        crop_size=64,
        crop_scale=2.5,
        window="auto",
        locate_params=None,
        on_empty="refer",
        field_model=None,
        field_size=128,
        field_weight=0.5,
        batch_size=16,
        random_state=None,
    ):
        self.cell_model = cell_model
        self.aggregation = aggregation
        self.top_k = top_k
        self.cv = cv
        self.healthy_label = healthy_label
        self.crop_size = crop_size
        self.crop_scale = crop_scale
        self.window = window
        self.locate_params = locate_params
        self.on_empty = on_empty
        self.field_model = field_model
        self.field_size = field_size
        self.field_weight = field_weight
        self.batch_size = batch_size
        self.random_state = random_state

    # ------------------------------------------------------------------ cells

    def _cells(self, image):
        """Located cells of one image and their resized float32 crops."""
        return _smear_crops(image, self.locate_params, self.window,
                            self.crop_scale, self.crop_size)

    def _field(self, image):
        """The whole smear resized for ``field_model`` (None without one)."""
        if self.field_model is None:
            return None
        return resize_images(_as_float32(image[None]),
                             (self.field_size, self.field_size))[0]

    def _iter_batches(self, X):
        """Yield lists of (index, source, image shape, cells, field, crops)."""
        return _iter_smears(X, self.batch_size, self._cells, self._field)

    def _extract(self, X):
        """Crops of every smear (list of arrays), the located cells, and the
        resized smears for ``field_model`` (None without one)."""
        crops, cells, fields = [], [], []
        for batch in self._iter_batches(X):
            for _, _, _, c, f, k in batch:
                cells.append(c)
                fields.append(f)
                crops.append(k)
        return crops, cells, (np.stack(fields) if self.field_model is not None
                              else None)

    def _class_proba(self, model, images):
        """(n, n_classes) probabilities in the order of ``classes_`` (of the
        cell model on crops, or of the field model on resized smears)."""
        if not len(images):
            return np.empty((0, len(self.classes_)))
        P = np.asarray(model.predict_proba(images), dtype=np.float64)
        out = np.zeros((len(images), len(self.classes_)))
        cols = np.searchsorted(self.classes_, model.classes_)
        out[:, cols] = P
        return out

    # -------------------------------------------------------------------- fit

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, cell_images=None, cell_labels=None):
        """Fit the cell model and choose the aggregation rule.

        Parameters
        ----------
        X : list of array-like or of path-like
            Training smears: RGB images ``(height, width, 3)`` of any sizes, or
            image file paths.
        y : array-like of shape (n_smears,)
            Image-level labels.
        cell_images : array-like of shape (n_cells, h, w, 3) or None, default=None
            Pre-cut single-cell crops with cell-level labels (ALL-IDB2
            style): the cell model is fitted on them (resized to
            ``crop_size``) instead of on the cells of ``X``.
        cell_labels : array-like of shape (n_cells,) or None, default=None
            Labels of ``cell_images``, from the classes of ``y``.

        Returns
        -------
        self : SmearScreener
            The fitted screener.
        """
        y = np.asarray(y)
        check_classification_targets(y)
        if len(y) != len(X):
            raise ValueError(f"X holds {len(X)} smears but y {len(y)} labels.")
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError("y must hold at least two classes.")
        self.healthy_label_ = class_roles(
            self.classes_, healthy_label=self.healthy_label
        ).healthy_label
        base = self.cell_model
        if base is None:
            from .. import make_pipeline

            base = make_pipeline()
        crops, _, fields = self._extract(X)
        n_cells = np.array([len(c) for c in crops])
        has = n_cells > 0
        if (cell_images is None) != (cell_labels is None):
            raise ValueError("Pass cell_images and cell_labels together.")
        if cell_images is not None:
            cimg = check_images(cell_images, input_name="cell_images")
            if cimg.shape[1:3] != (self.crop_size, self.crop_size):
                cimg = resize_images(cimg, (self.crop_size, self.crop_size))
            clab = np.asarray(cell_labels)
            if len(clab) != len(cimg):
                raise ValueError(
                    f"cell_images holds {len(cimg)} crops but cell_labels "
                    f"{len(clab)} labels."
                )
            unknown = np.setdiff1d(clab, self.classes_)
            if unknown.size:
                raise ValueError(
                    f"cell_labels holds classes {unknown.tolist()} not in y "
                    f"({self.classes_.tolist()})."
                )
        if not has.any() and cell_images is None:
            raise ValueError(
                "No white cell was found in any training smear: nothing to "
                "train the cell model on."
            )
        if cell_images is None:
            _check_cells_per_class(self.classes_, has, y)

        def fit_cells(idx):
            model = clone(base)
            if cell_images is not None:
                return model.fit(cimg, clab)
            return model.fit(
                np.concatenate([crops[i] for i in idx]),
                np.repeat(y[idx], n_cells[idx]),
            )

        def fit_field(idx):
            if self.field_model is None:
                return None
            return clone(self.field_model).fit(fields[idx], y[idx])

        self.threshold_ = 0.5
        self.cv_results_ = None
        if self.aggregation == "auto":
            self._select_rule(crops, fields, y, has, fit_cells, fit_field)
        else:
            self.aggregation_ = self.aggregation
        all_idx = np.flatnonzero(has)
        self.cell_model_ = fit_cells(all_idx)
        self.n_cells_fit_ = (
            int(len(cell_images)) if cell_images is not None else int(n_cells.sum())
        )
        self.field_model_ = fit_field(np.arange(len(y)))
        return self

    def _select_rule(self, crops, fields, y, has, fit_cells, fit_field):
        results = _inner_cv_rules(self, crops, fields, y, has, fit_cells, fit_field)
        best = max(_RULES, key=lambda r: results[r]["balanced_accuracy"])
        self.aggregation_ = best
        self.threshold_ = results[best]["threshold"]
        self.cv_results_ = results

    # ---------------------------------------------------------------- predict

    def _with_field(self, S, F):
        """Smear probabilities ``S`` mixed with the field model's ``F``
        (``S`` itself when ``F`` is None: no field model)."""
        if F is None:
            return S
        return (1.0 - self.field_weight) * S + self.field_weight * F

    def _image_proba(self, P, F=None):
        """The smear's probabilities, its cells' aggregate alone (None
        without cells) and whether it has cells."""
        n_classes = len(self.classes_)
        if not len(P):
            row = (self.classes_ != self.healthy_label_).astype(float)
            return row / row.sum(), None, False
        S = _aggregate(P, self.aggregation_, self.top_k, n_classes)
        return self._with_field(S, F), S, True

    def _decide(self, proba):
        if len(self.classes_) == 2:
            pos = int(np.flatnonzero(self.classes_ != self.healthy_label_)[0])
            if proba[pos] >= self.threshold_:
                return self.classes_[pos]
            return self.healthy_label_
        return self.classes_[int(np.argmax(proba))]

    def _run(self, X):
        """Yield per-smear result Bunches, one batch of smears at a time."""
        check_is_fitted(self, "cell_model_")
        field_model = getattr(self, "field_model_", None)
        if (field_model is None) != (self.field_model is None):
            raise ValueError(
                "field_model was changed after fit: refit the screener."
            )
        healthy_col = int(np.flatnonzero(self.classes_ == self.healthy_label_)[0])
        check = familiarity_step(self.cell_model_)
        for batch in self._iter_batches(X):
            crops = [k for *_, k in batch]
            allc = np.concatenate(crops)
            with quiet(check):
                P_all = self._class_proba(self.cell_model_, allc)
            splits = np.cumsum([len(k) for k in crops])[:-1]
            U_all = np.split(
                check.unfamiliarity(allc) if check is not None and len(allc)
                else np.zeros(len(allc)), splits)
            F_all = (
                self._class_proba(field_model, np.stack([b[4] for b in batch]))
                if field_model is not None
                else [None] * len(batch)
            )
            for (i, source, shape, cells, _, _), P, F, U in zip(
                batch, np.split(P_all, splits), F_all, U_all, strict=True
            ):
                proba, S, found = self._image_proba(P, F)
                unfamiliar, share, median = smear_familiarity(check, U)
                cell_class = (
                    self.classes_[P.argmax(axis=1)] if len(P) else self.classes_[:0]
                )
                blasts = int(np.sum(cell_class != self.healthy_label_))
                yield Bunch(
                    index=i,
                    source=source,
                    shape=shape,
                    centres=cells.centres,
                    boxes=cells.boxes,
                    radii=cells.radii,
                    border=cells.border,
                    overlap=cells.overlap,
                    probabilities=P,
                    cell_classes=cell_class,
                    blast_count=blasts,
                    blast_fraction=blasts / len(P) if len(P) else float("nan"),
                    image_proba=proba,
                    cells_proba=S,
                    field_proba=F,
                    probability=float(1.0 - proba[healthy_col])
                    if found
                    else float("nan"),
                    verdict=self._decide(proba) if found else NO_CELL_VERDICT,
                    found=found,
                    healthy_column=healthy_col,
                    unfamiliar=unfamiliar,
                    unfamiliar_share=share,
                    unfamiliarity=median,
                )

    def screen(self, X):
        """Screen smears: every cell, its probabilities, and the verdict.

        Parameters
        ----------
        X : list of array-like or of path-like
            Smears: RGB images of any sizes, or image file paths.

        Returns
        -------
        results : list of :class:`~sklearn.utils.Bunch`
            One per smear, with ``source`` (path, or ``"X[i]"``), ``shape``;
            per cell ``centres`` ``(n, 2)`` (row, col), ``boxes`` ``(n, 4)``
            (row_min, col_min, row_max, col_max), ``radii``, ``border`` and
            ``overlap`` flags (see :func:`locate_white_cells`),
            ``probabilities`` ``(n, n_classes)`` in the order of
            ``classes_``, ``cell_classes``; ``blast_count`` and
            ``blast_fraction`` (cells whose most probable class is not
            ``healthy_label_``; NaN fraction without cells);
            ``image_proba`` (the smear's class probabilities, with the
            field model's mixed in), ``cells_proba`` (its cells' aggregate
            alone; None without cells), ``field_proba`` (the field model's
            alone; None without ``field_model``),
            ``probability`` (of not being healthy; NaN without cells),
            ``verdict`` (a class, or :data:`NO_CELL_VERDICT` =
            ``"no white cell found"``), ``found`` and ``healthy_column``
            (the column of ``healthy_label_`` in ``probabilities``); and,
            when ``cell_model`` carries a
            :class:`~skleuk.preprocessing.FamiliarityCheck`
            (``make_pipeline(familiarity=True)``), the smear judged on its
            own cells: ``unfamiliar`` (True when more than the check's
            ``max_unfamiliar_fraction`` of its cells look unlike the
            training cells -- another laboratory: review it, do not trust
            its verdict), ``unfamiliar_share`` (that share) and
            ``unfamiliarity`` (its cells' median score, 1 at the check's
            threshold); without a check ``unfamiliar`` is None and the
            others NaN.
        """
        return list(self._run(X))

    def _checked(self, results):
        odd = [r for r in results if r.get("unfamiliar")]
        if odd:
            warnings.warn(UnfamiliarImageWarning(len(odd) / len(results),
                                                 len(results)), stacklevel=3)
        empty = [r.source for r in results if not r.found]
        if empty:
            msg = (
                f"No white cell found in {len(empty)} smear(s) "
                f"({', '.join(empty[:3])}{', ...' if len(empty) > 3 else ''})"
            )
            if self.on_empty == "raise":
                raise ValueError(msg + "; cannot give them a verdict.")
            warnings.warn(
                msg + ": they are referred for review (not called healthy).",
                UserWarning,
                stacklevel=3,
            )
        return results

    def predict_proba(self, X):
        """Image-level class probabilities.

        Parameters
        ----------
        X : list of array-like or of path-like
            Smears: RGB images of any sizes, or image file paths.

        Returns
        -------
        proba : ndarray of shape (n_smears, n_classes)
            Aggregated cell probabilities (mixed with ``field_model``'s, if
            any), columns in the order of ``classes_`` (see ``on_empty`` for
            smears without cells).
        """
        results = self._checked(self.screen(X))
        return np.array([r.image_proba for r in results])

    def predict(self, X):
        """Image-level verdict.

        Parameters
        ----------
        X : list of array-like or of path-like
            Smears: RGB images of any sizes, or image file paths.

        Returns
        -------
        y_pred : ndarray of shape (n_smears,)
            The class of each smear (for two classes, the non-healthy one when
            its probability reaches ``threshold_``; see ``on_empty`` for
            smears without cells).
        """
        results = self._checked(self.screen(X))
        return np.array([self._decide(r.image_proba) for r in results])

    def score(self, X, y, sample_weight=None):
        """Image-level accuracy.

        Parameters
        ----------
        X : list of array-like or of path-like
            Smears: RGB images of any sizes, or image file paths.
        y : array-like of shape (n_smears,)
            True image-level labels.
        sample_weight : array-like of shape (n_smears,), default=None
            Sample weights.

        Returns
        -------
        score : float
            Share of smears whose :meth:`predict` verdict equals ``y``.
        """
        return super().score(X, y, sample_weight=sample_weight)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.non_deterministic = True
        return tags
