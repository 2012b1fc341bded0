"""Cross-validated evaluation of a classifier or pipeline: :func:`evaluate`.

Built from scikit-learn's cross-validation machinery: the splitters of
:mod:`sklearn.model_selection`, folds run by
:class:`sklearn.utils.parallel.Parallel` (``n_jobs``), fit parameters
sliced per fold as :func:`~sklearn.model_selection.cross_validate` does,
parameters checked by ``validate_params``. What differs from
``cross_validate`` is what a fold returns: predictions and probabilities
of every held-out sample (for the pooled confusion matrix, ROC curves and
calibration) rather than scores.
"""

from __future__ import annotations

import warnings
from collections import Counter
from numbers import Integral, Real

import numpy as np
from joblib import effective_n_jobs
from sklearn import get_config
from sklearn.base import clone, is_classifier
from sklearn.exceptions import FitFailedWarning, UnsetMetadataPassedError
from sklearn.metrics import accuracy_score
from sklearn.model_selection import check_cv
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    process_routing,
)
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import (
    _num_samples,
    check_consistent_length,
    column_or_1d,
)

from .._version import __version__
from ..utils._progress import progress_bar
from ._fold import _fit_and_predict
from ._report import CrossValidationReport, _now
from ._split import _sample_groups, make_stratified_cv

__all__ = ["evaluate"]


# ----------------------------------------------------------------------------
# checks and splits
# ----------------------------------------------------------------------------
def _check_data(estimator, X, y, groups):
    """Validated ``y``, its classes and the groups."""
    if not is_classifier(estimator):
        raise ValueError(
            f"evaluate needs a classifier (or a pipeline ending in one); got "
            f"{type(estimator).__name__}."
        )
    y = column_or_1d(y, warn=True)
    check_consistent_length(X, y)
    if type_of_target(y) not in ("binary", "multiclass"):
        raise ValueError(
            f"y must hold class labels; got target type {type_of_target(y)!r}."
        )
    classes = unique_labels(y)
    if len(classes) < 2:
        raise ValueError("y must contain at least two classes.")
    if groups is not None:
        groups = column_or_1d(groups)
        check_consistent_length(y, groups)
    return y, classes, groups


def _splitters(cv, X, y, groups, group_duplicates, n_repeats, random_state):
    """One splitter per repetition, the groups, and how they were made."""
    grouped_by = ["given"] if groups is not None else []
    if group_duplicates:
        grouped_by.append("near-duplicate images")
    if not (isinstance(cv, Integral) and not isinstance(cv, bool)):
        if n_repeats != 1:
            raise ValueError(
                "n_repeats > 1 needs an int cv (the folds are reshuffled per "
                "repetition); pass a splitter with its own repeats instead, e.g. "
                "RepeatedStratifiedKFold."
            )
        groups = _sample_groups(X, y, groups, group_duplicates)
        splitters = [check_cv(cv, y, classifier=True)]
    else:
        rng = check_random_state(random_state)
        if isinstance(random_state, Integral):
            seeds = [int(random_state) + r for r in range(n_repeats)]
        else:
            seeds = [int(rng.randint(np.iinfo(np.int32).max))
                     for _ in range(n_repeats)]
        # The groups (near-duplicates found once), then one splitter per seed.
        first, groups = make_stratified_cv(
            X if group_duplicates else None, y, n_splits=cv, groups=groups,
            group_duplicates=group_duplicates, random_state=seeds[0],
        )
        splitters = [first] + [
            make_stratified_cv(None, y, n_splits=cv, groups=groups,
                               random_state=s)[0]
            for s in seeds[1:]
        ]
    if groups is None:
        return splitters, None, ""
    n_groups = len(np.unique(groups))
    return splitters, groups, f"{' + '.join(grouped_by)} ({n_groups} groups)"


def _route_params(estimator, params):
    """The parameters of every fold's ``fit``, as ``cross_validate`` routes them.

    Without metadata routing they are fit parameters of ``estimator``
    (``"step__param"`` for a pipeline); with
    ``sklearn.set_config(enable_metadata_routing=True)`` they go where the
    estimator requests them (``set_fit_request``).
    """
    if not params or not get_config().get("enable_metadata_routing", False):
        return dict(params or {})
    router = MetadataRouter(owner="evaluate").add(
        estimator=estimator,
        method_mapping=MethodMapping().add(caller="fit", callee="fit"),
    )
    try:
        return dict(process_routing(router, "fit", **params).estimator.fit)
    except UnsetMetadataPassedError as exc:
        raise UnsetMetadataPassedError(
            message=str(exc).replace("evaluate.fit", "evaluate"),
            unrequested_params=exc.unrequested_params,
            routed_params=exc.routed_params,
        ) from None


def _describe_cv(splitter, n_repeats, grouped_by, n_splits):
    # n_splits: the folds actually made per repetition (get_n_splits() of a
    # group splitter such as LeaveOneGroupOut needs the groups).
    name = type(splitter).__name__
    n = n_splits
    text = f"{n}-fold {name}"
    if getattr(splitter, "shuffle", False):
        text += " (shuffled)"
    if n_repeats > 1:
        text += f", repeated {n_repeats} times with different shuffles"
    if grouped_by:
        text += f"; groups: {grouped_by}"
    return text


def _run_folds(estimator, X, y, classes, splits, fit_params, *, n_jobs,
               progress, return_estimators, n_repeats, error_score):
    """Fit and predict every split, in parallel; the results in split order."""
    # Epoch bars only when the folds run here, one after the other.
    epoch_bars = progress and effective_n_jobs(n_jobs) == 1

    def desc(r, k):
        return f"fold {k + 1}" + (f" (repeat {r + 1})" if n_repeats > 1 else "")

    jobs = (
        delayed(_fit_and_predict)(
            clone(estimator), X, y, classes, split, fit_params,
            error_score=error_score,
            epoch_bar=desc(*split[:2]) if epoch_bars else None,
            return_estimator=return_estimators,
        )
        for split in splits
    )
    parallel = Parallel(n_jobs=n_jobs, return_as="generator")
    results = []
    bar = progress_bar(len(splits), "cross-validation", "fold", enabled=progress)
    try:
        for record, fitted in parallel(jobs):
            results.append((record, fitted))
            if bar is not None:
                if record["fit_error"] is None:
                    y_test = y[record["test_index"]]
                    acc = accuracy_score(y_test, record["y_pred"])
                    bar.set_postfix(val_acc=f"{acc:.3f}", refresh=False)
                else:
                    bar.set_postfix(val_acc="fit failed", refresh=False)
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return results


def _warn_or_raise_about_fit_failures(records, error_score):
    """FitFailedWarning when some fits failed, ValueError when all did.

    The messages of :func:`~sklearn.model_selection.cross_validate`: the
    failures counted, each distinct traceback shown once.
    """
    errors = [r["fit_error"] for r in records if r["fit_error"] is not None]
    if not errors:
        return
    summary = "\n".join(
        f"{'-' * 80}\n{n} fits failed with the following error:\n{error}"
        for error, n in Counter(errors).items()
    )
    if len(errors) == len(records):
        raise ValueError(
            f"\nAll the {len(records)} fits failed.\nIt is very likely that "
            "your model is misconfigured.\nYou can try to debug the error by "
            "setting error_score='raise'.\n\nBelow are more details about the "
            f"failures:\n{summary}"
        )
    warnings.warn(
        f"\n{len(errors)} fits failed out of a total of {len(records)}.\nThe "
        f"metrics of these folds will be set to {error_score} and the pooled "
        "figures use the other folds.\nIf these failures are not expected, you "
        "can try to debug them by setting error_score='raise'.\n\nBelow are "
        f"more details about the failures:\n{summary}",
        FitFailedWarning,
        stacklevel=3,
    )


def _short_repr(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return "Pipeline(" + " -> ".join(
            f"{name}: {type(step).__name__}" for name, step in steps
        ) + ")"
    return type(estimator).__name__


def _info(estimator, splitters, n_splits, grouped_by, random_state, error_score):
    info = {
        "protocol": _describe_cv(splitters[0], len(splitters), grouped_by, n_splits),
        "error_score": error_score,
        "estimator": _short_repr(estimator),
        "n_splits": n_splits,
        "n_repeats": len(splitters),
        "random_state": random_state if isinstance(random_state, Integral) else None,
        "created": _now(),
        "skleuk_version": __version__,
    }
    return info


@validate_params(
    {
        "estimator": [HasMethods(["fit"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "cv": ["cv_object"],
        "groups": ["array-like", None],
        "group_duplicates": ["boolean"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "pos_label": "no_validation",  # checked against the classes
        "target_names": ["array-like", None],
        "params": [dict, None],
        "error_score": [StrOptions({"raise"}), Real],
        "return_estimators": ["boolean"],
        "progress": ["boolean"],
        "n_jobs": [Integral, None],
    },
    prefer_skip_nested_validation=False,  # the estimator is not validated yet
)
def evaluate(
    estimator,
    X,
    y,
    *,
    cv=5,
    groups=None,
    group_duplicates=False,
    n_repeats=1,
    random_state=None,
    pos_label=None,
    target_names=None,
    params=None,
    error_score=np.nan,
    return_estimators=False,
    progress=False,
    n_jobs=None,
):
    """Cross-validate a classifier or pipeline and report everything.

    Runs stratified K-fold cross-validation, fitting a fresh clone of
    ``estimator`` on each training fold -- so every preprocessing step is
    fitted on the training fold only and nothing fitted leaks between folds
    -- and records, for every fold, the train accuracy and loss (measured
    with ``predict``/``predict_proba`` on the training fold after fitting,
    hence without any training-time augmentation), the predictions and
    probabilities on the held-out fold, the per-epoch training history of a
    Keras final step, and timings. The returned report derives per-fold
    metrics, mean ± std, the pooled confusion matrix, ROC curves and the
    per-class report (the paper's Tables 4.2 and 4.3).

    Each fold predicts through the fitted estimator's own methods
    (``predict_proba``, ``predict``, ``decision_function``), so any
    pipeline works as it does for its user -- an imbalanced-learn
    ``imblearn.pipeline.Pipeline`` resamples only while fitting. When
    the final step's ``predict`` is the most probable class (skleuk's CNN,
    :class:`~sklearn.calibration.CalibratedClassifierCV`), the predictions
    are read off ``predict_proba``: one preprocessing and network pass on
    the training fold and one on the held-out fold.

    Parameters
    ----------
    estimator : classifier or Pipeline ending in a classifier
        Any scikit-learn classifier, e.g. :func:`skleuk.make_pipeline`.
        Never modified: each fold fits a :func:`~sklearn.base.clone`.
    X : array-like of images, or sequence of file paths
        Whatever ``estimator.fit`` accepts: a 4-D image array, a list of
        images, a list of file paths (when the pipeline starts with
        :class:`~skleuk.preprocessing.ImageReader`), or a 2-D feature
        array. Indexed with :func:`sklearn.utils._safe_indexing`.
    y : array-like of shape (n_samples,)
        Class labels.
    cv : int or cross-validation splitter, default=5
        An int gives that many folds of
        :class:`~sklearn.model_selection.StratifiedKFold` (shuffled), or of
        :class:`~sklearn.model_selection.StratifiedGroupKFold` when there
        are groups. A splitter object (or iterable of splits) is used as is;
        it then cannot be combined with ``n_repeats > 1``.
    groups : array-like of shape (n_samples,), default=None
        Group labels (e.g. the source smear or patient of each cell
        image): samples of one group never land on both sides of a split.
    group_duplicates : bool, default=False
        Also keep near-duplicate images together: groups are computed with
        :func:`~skleuk.model_selection.find_duplicate_groups` (and merged
        with ``groups`` if both are given).
    n_repeats : int, default=1
        Repeat the whole cross-validation with different shuffles (repeated
        stratified K-fold).
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the folds. With an int ``r``, repetition
        ``i`` uses seed ``r + i``. The estimator's own randomness is set on
        the estimator.
    pos_label : label, default=None
        Positive class of a binary problem: the class whose sensitivity,
        specificity, precision, F1 and ROC AUC the report headlines. ``None``
        infers it by :func:`skleuk.metrics.class_roles`'s rule: the class
        whose ``target_names`` entry reads like leukaemia (``ALL``,
        ``blast``, ``leukemia``...), else the other class of one that reads
        like health (``healthy``, ``benign``, ``normal``...), else ``1`` for
        0/1 labels; otherwise the last class is *assumed* and the report's
        title says so. Multi-class problems use macro averages and
        one-vs-rest AUC.
    target_names : list of str, default=None
        Display names of the classes (sorted label order).
    params : dict, default=None
        Parameters of every fold's ``estimator.fit``, as
        :func:`~sklearn.model_selection.cross_validate`'s ``params``: a
        value with one entry per sample (``sample_weight``) is indexed with
        each training fold; any other value is passed unchanged. Without
        metadata routing they are fit parameters, e.g.
        ``{"cnn__sample_weight": w}`` for a pipeline; with
        ``sklearn.set_config(enable_metadata_routing=True)`` they go to the
        steps that request them (``set_fit_request(sample_weight=True)``),
        e.g. ``{"sample_weight": w}``.
    error_score : "raise" or float, default=np.nan
        What a fold whose ``fit`` raises gives, as in
        :func:`~sklearn.model_selection.cross_validate`: ``"raise"`` raises
        the error; a number becomes that fold's validation metrics and
        train accuracy, with a :class:`~sklearn.exceptions.FitFailedWarning`
        giving the tracebacks, and the pooled figures (confusion matrix,
        ROC curves, per-class report, calibration) use the other folds. The
        mean ± std leaves NaN folds out, so with the default NaN they
        summarise the folds that were fitted; ``0`` counts a failure as a
        fold with nothing right. When every fit fails, a ``ValueError``.
        The report says how many fits failed
        (:attr:`CrossValidationReport.n_failed_folds`).
    return_estimators : bool, default=False
        Keep the fitted estimator of every fold in
        ``report.estimators_``.
    progress : bool, default=False
        Show progress bars on stderr (one per fold and, for Keras
        classifiers fitted one fold after the other, one per epoch).
    n_jobs : int, default=None
        Number of folds fitted in parallel, by
        :class:`joblib.Parallel` as in
        :func:`~sklearn.model_selection.cross_validate`. ``None`` means 1
        unless in a :func:`joblib.parallel_backend` context; ``-1`` uses
        all processors. Each worker is a separate process (loky backend)
        that imports TensorFlow for a Keras pipeline, and a network's
        training already uses every core, so parallel folds pay off with
        more cores than one fit keeps busy. A seeded pipeline gives the
        same report whatever ``n_jobs``.

    Returns
    -------
    report : CrossValidationReport
        Per-fold results and everything derived from them; print it, save
        it (``report.save(folder)``) or plot it (:mod:`skleuk.plotting`).

    Raises
    ------
    ValueError
        If ``estimator`` is not a classifier, ``y`` holds fewer than two
        classes, a class has fewer members than ``cv`` folds, or every fit
        failed (``error_score`` a number); an invalid
        parameter (e.g. ``n_repeats=0``) raises scikit-learn's
        ``InvalidParameterError``, a subclass of ``ValueError`` and
        ``TypeError``.

    See Also
    --------
    CrossValidationReport : The result and its renderings.
    sklearn.model_selection.cross_validate : The scikit-learn building block.
    skleuk.metrics.get_scorers : The same metrics as scorers.

    Examples
    --------
    Any scikit-learn classifier works; here a logistic regression on
    flattened synthetic smears:

    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import FunctionTransformer
    >>> from skleuk.datasets import make_blood_smears
    >>> from skleuk.model_selection import evaluate
    >>> data = make_blood_smears(n_samples=40, image_size=16, random_state=0)
    >>> flatten = FunctionTransformer(lambda X: X.reshape(len(X), -1) / 255)
    >>> model = make_pipeline(flatten, LogisticRegression(max_iter=500))
    >>> report = evaluate(model, data.images, data.target, cv=4,
    ...                   random_state=0, target_names=data.target_names)
    >>> report.n_folds, report.confusion_matrix.sum()
    (4, np.int64(40))
    >>> print(report)  # doctest: +ELLIPSIS
    Cross-validation report (4 folds)
    =================================
    Data: 40 samples, 2 classes (healthy: 20, ALL: 20)
    Positive class: ALL
    ...
    """
    y, classes, groups = _check_data(estimator, X, y, groups)
    fit_params = _route_params(estimator, params)
    splitters, groups, grouped_by = _splitters(
        cv, X, y, groups, group_duplicates, n_repeats, random_state
    )
    n = _num_samples(X)
    splits = [
        (r, k, np.asarray(train), np.asarray(test))
        for r, splitter in enumerate(splitters)
        for k, (train, test) in enumerate(splitter.split(np.zeros(n), y, groups))
    ]
    results = _run_folds(
        estimator, X, y, classes, splits, fit_params,
        n_jobs=n_jobs, progress=progress, return_estimators=return_estimators,
        n_repeats=n_repeats, error_score=error_score,
    )
    _warn_or_raise_about_fit_failures([record for record, _ in results],
                                      error_score)
    report = CrossValidationReport(
        y,
        [record for record, _ in results],
        classes,
        target_names=target_names,
        pos_label=pos_label,
        groups=groups,
        info=_info(estimator, splitters, len(splits) // len(splitters),
                   grouped_by, random_state, error_score),
        X=X,
    )
    if return_estimators:
        report.estimators_ = [fitted for _, fitted in results]
    return report
