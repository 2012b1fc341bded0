"""Cross-validated evaluation of a classifier or pipeline: :func:`evaluate`."""

from __future__ import annotations

import contextlib
import sys
import time
from numbers import Integral

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.base import clone, is_classifier
from sklearn.metrics import accuracy_score, log_loss
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold, check_cv
from sklearn.utils import _safe_indexing, check_random_state
from sklearn.utils.multiclass import type_of_target, unique_labels
from sklearn.utils.validation import _num_samples, check_consistent_length, column_or_1d

from ._report import CrossValidationReport, _now

__all__ = ["evaluate"]


def _bar_kwargs():
    """tqdm settings: stderr; rare refreshes when it is a log file, not a TTY."""
    try:
        tty = sys.stderr.isatty()
    except (AttributeError, ValueError):
        tty = False
    return {"file": sys.stderr, "mininterval": 0.1 if tty else 10.0}


def _final_step(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return _final_step(steps[-1][1])
    return estimator


def _history_of(estimator):
    hist = getattr(_final_step(estimator), "history_", None)
    if not hist:
        return None
    out = {}
    try:
        for key, values in dict(hist).items():
            out[str(key)] = [float(v) for v in np.ravel(values)]
    except (TypeError, ValueError):
        return None
    return out


def _merge_groups(*labelings):
    """Connected components of samples linked by any of the labelings."""
    labelings = [np.asarray(g) for g in labelings if g is not None]
    n = len(labelings[0])
    rows, cols, offset = [], [], n
    for g in labelings:
        _, inv = np.unique(g, return_inverse=True)
        rows.append(np.arange(n))
        cols.append(offset + inv)
        offset += inv.max() + 1
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    graph = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(offset, offset))
    _, labels = connected_components(graph, directed=False)
    _, groups = np.unique(labels[:n], return_inverse=True)
    return groups


def _duplicate_groups(X):
    from ._duplicates import find_duplicate_groups

    return np.asarray(find_duplicate_groups(X))


def _proba_full(estimator, X, classes):
    """predict_proba with columns aligned to ``classes`` (or None)."""
    if not hasattr(estimator, "predict_proba"):
        return None
    try:
        proba = np.asarray(estimator.predict_proba(X), dtype=float)
    except (AttributeError, NotImplementedError):
        return None
    # float32 probabilities (Keras) do not sum exactly to one; log_loss warns.
    sums = proba.sum(axis=1, keepdims=True)
    if np.all(np.isfinite(sums)) and np.all(np.abs(sums - 1) < 1e-3):
        proba = proba / sums
    est_classes = list(getattr(estimator, "classes_", classes))
    if list(est_classes) == list(classes):
        return proba
    full = np.zeros((proba.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(est_classes):
        full[:, index[c]] = proba[:, j]
    return full


def _decision(estimator, X):
    if not hasattr(estimator, "decision_function"):
        return None
    try:
        return np.asarray(estimator.decision_function(X), dtype=float)
    except (AttributeError, NotImplementedError):
        return None


def _safe_log_loss(y, proba, classes):
    if proba is None:
        return float("nan")
    return float(log_loss(y, proba, labels=classes))


@contextlib.contextmanager
def _epoch_progress(estimator, enabled, desc):
    """Show a tqdm bar per epoch while a Keras (SciKeras) final step fits.

    The callback is attached to the final step's ``fit__callbacks`` for the
    duration of the fit only, so the fitted estimator stays picklable.
    """
    final = _final_step(estimator)
    prefixes = getattr(final, "_routing_prefixes", ())
    if not enabled or "fit" not in prefixes:
        yield
        return
    from keras.callbacks import Callback
    from tqdm.auto import tqdm

    class _TqdmEpochs(Callback):
        def on_train_begin(self, logs=None):
            self.bar = tqdm(
                total=self.params.get("epochs"),
                desc=desc,
                unit="epoch",
                leave=False,
                position=1,
                **_bar_kwargs(),
            )

        def on_epoch_end(self, epoch, logs=None):
            logs = logs or {}
            post = {k: f"{v:.3f}" for k, v in logs.items()
                    if k in ("loss", "accuracy", "val_loss", "val_accuracy")}
            self.bar.set_postfix(post, refresh=False)
            self.bar.update(1)

        def on_train_end(self, logs=None):
            self.bar.close()

    had = "fit__callbacks" in vars(final)
    old = getattr(final, "fit__callbacks", None)
    if old is None:
        cbs = []
    else:
        cbs = list(old) if isinstance(old, (list, tuple)) else [old]
    final.set_params(fit__callbacks=[*cbs, _TqdmEpochs()])
    try:
        yield
    finally:
        if had:
            final.set_params(fit__callbacks=old)
        else:
            vars(final).pop("fit__callbacks", None)


def _describe_cv(splitter, n_repeats, grouped_by):
    name = type(splitter).__name__
    n = splitter.get_n_splits() if hasattr(splitter, "get_n_splits") else "?"
    text = f"{n}-fold {name}"
    if getattr(splitter, "shuffle", False):
        text += " (shuffled)"
    if n_repeats > 1:
        text += f", repeated {n_repeats} times with different shuffles"
    if grouped_by:
        text += f"; groups: {grouped_by}"
    return text


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
    fit_params=None,
    return_estimators=False,
    progress=False,
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
        infers it: the class whose ``target_names`` entry reads like
        leukaemia (``ALL``, ``blast``, ``leukemia``...), else ``1`` for 0/1
        labels without other names; otherwise the last class is *assumed*
        and the report's title says so. Multi-class problems use macro
        averages and one-vs-rest AUC.
    target_names : list of str, default=None
        Display names of the classes (sorted label order).
    fit_params : dict, default=None
        Extra keyword arguments of ``estimator.fit`` (e.g.
        ``{"cnn__sample_weight": w}`` is *not* indexed per fold: pass
        only fold-independent values).
    return_estimators : bool, default=False
        Keep the fitted estimator of every fold in
        ``report.estimators_``.
    progress : bool, default=False
        Show progress bars on stderr (one per fold and, for Keras
        classifiers, one per epoch).

    Returns
    -------
    report : CrossValidationReport
        Per-fold results and everything derived from them; print it, save
        it (``report.save(folder)``) or plot it (:mod:`skleuk.plotting`).

    Raises
    ------
    ValueError
        If ``estimator`` is not a classifier, ``y`` holds fewer than two
        classes, or a class has fewer members than ``cv`` folds.

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
    if not is_classifier(estimator):
        raise ValueError(
            f"evaluate needs a classifier (or a pipeline ending in one); got "
            f"{type(estimator).__name__}."
        )
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, Integral) or (
        n_repeats < 1
    ):
        raise ValueError(f"n_repeats must be a positive int; got {n_repeats!r}.")
    y = column_or_1d(y, warn=True)
    n = _num_samples(X)
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
    grouped_by = []
    if groups is not None:
        grouped_by.append("given")
    if group_duplicates:
        dup = _duplicate_groups(X)
        groups = _merge_groups(groups, dup)
        grouped_by.append("near-duplicate images")
    if groups is not None:
        grouped_by = f"{' + '.join(grouped_by)} ({len(np.unique(groups))} groups)"
    else:
        grouped_by = ""

    # The splits of every repetition.
    if isinstance(cv, Integral) and not isinstance(cv, bool):
        if cv < 2:
            raise ValueError(f"cv must be at least 2; got {cv}.")
        counts = np.array([np.sum(y == c) for c in classes])
        if counts.min() < cv:
            small = classes[np.argmin(counts)]
            raise ValueError(
                f"Class {small!r} has only {counts.min()} sample(s), fewer than "
                f"the {cv} folds: every class needs at least one sample per fold."
            )
        if groups is not None and len(np.unique(groups)) < cv:
            raise ValueError(
                f"Only {len(np.unique(groups))} groups for {cv} folds: use fewer "
                "folds."
            )
        rng = check_random_state(random_state)
        seeds = []
        for r in range(n_repeats):
            if isinstance(random_state, Integral):
                seeds.append(int(random_state) + r)
            else:
                seeds.append(int(rng.randint(np.iinfo(np.int32).max)))
        splitters = [
            (StratifiedGroupKFold if groups is not None else StratifiedKFold)(
                n_splits=cv, shuffle=True, random_state=s
            )
            for s in seeds
        ]
    else:
        if n_repeats != 1:
            raise ValueError(
                "n_repeats > 1 needs an int cv (the folds are reshuffled per "
                "repetition); pass a splitter with its own repeats instead, e.g. "
                "RepeatedStratifiedKFold."
            )
        splitters = [check_cv(cv, y, classifier=True)]

    splits = []
    for r, splitter in enumerate(splitters):
        for k, (train, test) in enumerate(splitter.split(np.zeros(n), y, groups)):
            splits.append((r, k, np.asarray(train), np.asarray(test)))

    fit_params = dict(fit_params or {})
    folds, estimators = [], []
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=len(splits), desc="cross-validation", unit="fold",
                   **_bar_kwargs())
    try:
        for r, k, train, test in splits:
            est = clone(estimator)
            X_train = _safe_indexing(X, train)
            X_test = _safe_indexing(X, test)
            y_train, y_test = y[train], y[test]
            desc = f"fold {k + 1}" + (f" (repeat {r + 1})" if n_repeats > 1 else "")
            start = time.perf_counter()
            with _epoch_progress(est, progress, desc):
                est.fit(X_train, y_train, **fit_params)
            fit_time = time.perf_counter() - start

            # Train metrics on the training fold, after fitting (no augmentation).
            train_pred = est.predict(X_train)
            train_proba = _proba_full(est, X_train, classes)
            del X_train

            start = time.perf_counter()
            y_pred = np.asarray(est.predict(X_test))
            proba = _proba_full(est, X_test, classes)
            decision = _decision(est, X_test) if proba is None else None
            predict_time = time.perf_counter() - start

            folds.append(
                {
                    "repeat": r,
                    "fold": k,
                    "train_index": train,
                    "test_index": test,
                    "y_pred": y_pred,
                    "proba": proba,
                    "decision": decision,
                    "estimator_classes": list(getattr(est, "classes_", classes)),
                    "train_accuracy": accuracy_score(y_train, train_pred),
                    "train_loss": _safe_log_loss(y_train, train_proba, classes),
                    "fit_time": fit_time,
                    "predict_time": predict_time,
                    "history": _history_of(est),
                }
            )
            if return_estimators:
                estimators.append(est)
            if bar is not None:
                bar.set_postfix(
                    val_acc=f"{accuracy_score(y_test, y_pred):.3f}", refresh=False
                )
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()

    info = {
        "protocol": _describe_cv(splitters[0], n_repeats, grouped_by),
        "estimator": _short_repr(estimator),
        "n_splits": len(splits) // len(splitters),
        "n_repeats": len(splitters),
        "random_state": random_state if isinstance(random_state, Integral) else None,
        "created": _now(),
    }
    try:
        from .._version import __version__

        info["skleuk_version"] = __version__
    except ImportError:  # pragma: no cover
        pass
    report = CrossValidationReport(
        y,
        folds,
        classes,
        target_names=target_names,
        pos_label=pos_label,
        groups=groups,
        info=info,
        X=X,
    )
    if return_estimators:
        report.estimators_ = estimators
    return report


def _short_repr(estimator):
    steps = getattr(estimator, "steps", None)
    if steps:
        return "Pipeline(" + " -> ".join(
            f"{name}: {type(step).__name__}" for name, step in steps
        ) + ")"
    return type(estimator).__name__
