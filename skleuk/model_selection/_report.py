"""The result of :func:`~skleuk.model_selection.evaluate`: numbers and renderings.

A :class:`CrossValidationReport` keeps the raw outcome of every fold -- the
fold's sample indices, its out-of-fold predictions and probabilities, the
train accuracy and loss, the per-epoch training history and the timings --
and derives everything else from them: per-fold metrics, mean and standard
deviation, the pooled confusion matrix, ROC curves and the per-class report.
It renders itself as text, Markdown, HTML and JSON and reloads from JSON.
This module holds the class and its documentation; the numbers are
computed in ``_report_metrics.py``, the renderings in ``_report_render.py``
(one list of sections for all three formats), JSON and file writing in
``_report_io.py``.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from ..metrics import class_roles
from . import _report_io as _io
from . import _report_metrics as _metrics
from . import _report_render as _render
from ._report_io import normalise_fold
from ._report_render import METRICS, _fmt_pm  # noqa: F401  (METRICS: kept here)

__all__ = ["CrossValidationReport"]

#: Coverage at which the report quotes the accuracy of the decided cases.
_REPORT_COVERAGE = 0.9


class CrossValidationReport:
    """Outcome of a cross-validated evaluation, with its renderings.

    Made by :func:`~skleuk.model_selection.evaluate` (or reloaded with
    :meth:`from_json`); not usually built by hand. Everything shown --
    per-fold metrics, mean ± standard deviation, the pooled confusion
    matrix, ROC curves, the per-class report -- is computed from the fold
    records, so a reloaded report shows exactly what the original did.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        The true labels of all samples.
    folds : list of dict
        One record per fit, with keys ``repeat``, ``fold``, ``train_index``,
        ``test_index``, ``y_pred`` (predictions on the test indices),
        ``proba`` (``predict_proba`` on the test indices, columns in the
        order of ``classes``, or None), ``decision`` (``decision_function``
        when there is no ``predict_proba``, or None), ``train_accuracy``,
        ``train_loss``, ``fit_time``, ``predict_time`` and ``history``
        (per-epoch values or None).
    classes : array-like of shape (n_classes,)
        The class labels, sorted as the estimator's ``classes_``.
    target_names : list of str, default=None
        Display names of the classes; defaults to ``str(label)``.
    pos_label : label, default=None
        The positive class of a binary problem. ``None`` infers it from
        ``target_names`` by the rule of :func:`skleuk.metrics.class_roles`
        (a class named like leukaemia; else the other class of one named
        healthy; else ``1`` for 0/1 labels); when nothing says it, the last
        class is *assumed* and the title says so
        (:attr:`pos_label_assumed`). Ignored for more than two classes,
        whose metrics are macro averages and whose AUC is one-vs-rest.
    groups : array-like of shape (n_samples,), default=None
        The group labels used for splitting, if any.
    info : dict, default=None
        Free-form description of the protocol (cv, repeats, estimator...).
    X : array-like, default=None
        The evaluated images (kept by reference, for
        :func:`~skleuk.plotting.plot_misclassified`). File paths are also
        saved in the JSON form; image arrays are not.

    Attributes
    ----------
    classes : ndarray of shape (n_classes,)
        Class labels.
    target_names : list of str
        Display names of the classes.
    pos_label : label or None
        Positive class (binary problems).
    y : ndarray of shape (n_samples,)
        True labels.
    folds : list of dict
        The fold records (see Parameters).
    info : dict
        Description of the protocol.
    X : array-like or None
        The evaluated images or file paths, if known.
    estimators_ : list of estimators or None
        The fitted estimator of every fold, when
        :func:`~skleuk.model_selection.evaluate` was called with
        ``return_estimators=True`` (never saved to JSON).

    See Also
    --------
    skleuk.model_selection.evaluate : Makes the report.
    skleuk.plotting : Figures from a report.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from skleuk.model_selection import evaluate
    >>> X, y = make_classification(n_samples=40, random_state=0)
    >>> report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    >>> report.n_folds
    2
    >>> sorted(report.summary())[:3]
    ['accuracy', 'brier', 'ece']
    >>> report.confusion_matrix.sum()
    np.int64(40)
    >>> same = type(report).from_json(report.to_json())
    >>> bool((same.confusion_matrix == report.confusion_matrix).all())
    True
    """

    def __init__(
        self,
        y,
        folds,
        classes,
        *,
        target_names=None,
        pos_label=None,
        groups=None,
        info=None,
        X=None,
    ):
        self.y = np.asarray(y)
        self.classes = np.asarray(classes)
        if target_names is None:
            target_names = [str(c) for c in self.classes]
        self.target_names = [str(t) for t in target_names]
        if len(self.target_names) != len(self.classes):
            raise ValueError(
                f"target_names has {len(self.target_names)} names for "
                f"{len(self.classes)} classes."
            )
        self.info = dict(info or {})
        if self.is_binary:
            roles = class_roles(self.classes, self.target_names, pos_label=pos_label)
            pos_label = roles.pos_label
            if roles.assumed:
                self.info["pos_label_assumed"] = True
        self.pos_label = pos_label
        self.groups = None if groups is None else np.asarray(groups)
        self.X = X
        self.estimators_ = None
        self.folds = [normalise_fold(f, self.y.dtype) for f in folds]
        if not self.folds:
            raise ValueError("A report needs at least one fold.")
        self._cache = {}

    @property
    def pos_label_assumed(self):
        """True when the positive class was guessed (no name to infer it from)."""
        return bool(self.info.get("pos_label_assumed")) and self.is_binary

    # ------------------------------------------------------------------
    # basic properties
    # ------------------------------------------------------------------
    @property
    def n_classes(self):
        """Number of classes."""
        return len(self.classes)

    @property
    def is_binary(self):
        """True for a two-class problem."""
        return len(self.classes) == 2

    @property
    def n_samples(self):
        """Number of evaluated samples."""
        return len(self.y)

    @property
    def n_folds(self):
        """Total number of fits (folds x repeats)."""
        return len(self.folds)

    @property
    def n_repeats(self):
        """Number of repetitions of the cross-validation."""
        return len({f["repeat"] for f in self.folds})

    @property
    def pos_index(self):
        """Column of the positive class in ``proba`` (binary), else None."""
        if not self.is_binary:
            return None
        return list(self.classes).index(self.pos_label)

    @property
    def pos_name(self):
        """Display name of the positive class (binary), else None."""
        if not self.is_binary:
            return None
        return self.target_names[self.pos_index]

    def fold_scores(self, fold):
        """Continuous scores of one fold's test samples, for ROC curves.

        Parameters
        ----------
        fold : dict or int
            A fold record or its position in :attr:`folds`.

        Returns
        -------
        scores : ndarray of shape (n_test,) or (n_test, n_classes) or None
            Binary: the probability (or decision value) of the positive
            class. Multi-class: the probability of every class. None when the
            estimator gives neither probabilities nor decision values.
        """
        f = self.folds[fold] if isinstance(fold, int) else fold
        return _metrics.fold_scores(self, f)

    # ------------------------------------------------------------------
    # metrics
    # ------------------------------------------------------------------
    def _pooled_proba(self):
        """Pooled out-of-fold ``(y_true, proba)``, or None without probabilities."""
        return _metrics.pooled_proba(self)

    def calibration(self, coverage=_REPORT_COVERAGE):
        """Calibration and abstention figures of the pooled out-of-fold probabilities.

        Parameters
        ----------
        coverage : float, default=0.9
            Share of the cases decided for ``accuracy_at_coverage``.

        Returns
        -------
        dict or None
            None without probabilities. Otherwise ``brier`` and ``ece``
            (10 equal-width bins; binary: of the positive class, multi-class:
            top-label) of all out-of-fold probabilities together (per-fold
            values are in :attr:`fold_metrics`), ``coverage`` and
            ``accuracy_at_coverage`` (accuracy of the ``coverage`` most
            confident cases; see :func:`skleuk.metrics.accuracy_at_coverage`).
        """
        return _metrics.calibration(self, coverage)

    @property
    def fold_metrics(self):
        """Validation metrics of every fold.

        Returns
        -------
        dict of str to ndarray of shape (n_folds,)
            Keys: ``accuracy``, ``sensitivity``, ``specificity``,
            ``precision``, ``f1``, ``roc_auc``, ``error_rate``, ``log_loss``,
            ``brier``, ``ece`` (validation; Brier score and expected
            calibration error of the positive class, top-label for more
            than two classes), ``train_accuracy``, ``train_loss``, ``fit_time``,
            ``predict_time``. Binary problems use ``pos_label``; multi-class
            ones macro averages (AUC one-vs-rest). Undefined values are NaN.
        """
        if "fold_metrics" not in self._cache:
            self._cache["fold_metrics"] = _metrics.fold_metrics(self)
        return self._cache["fold_metrics"]

    def summary(self):
        """Mean and standard deviation of every metric over the folds.

        The standard deviation is the population one (``ddof=0``, as in
        scikit-learn's ``cv_results_``); NaN folds (undefined metric) are
        left out.

        Returns
        -------
        dict of str to dict
            ``{"accuracy": {"mean": ..., "std": ...}, ...}`` for the keys of
            :attr:`fold_metrics`.
        """
        return _metrics.summary(self)

    @property
    def confusion_matrix(self):
        """Pooled out-of-fold confusion matrix, summed over all folds.

        Rows are true classes, columns predicted classes, in the order of
        :attr:`classes`. With ``n_repeats`` repetitions every sample is
        counted ``n_repeats`` times.

        Returns
        -------
        ndarray of shape (n_classes, n_classes)
        """
        return _metrics.pooled_confusion_matrix(self)

    def classification_report(self, output_dict=False, digits=3):
        """Per-class report (the paper's Table 4.3) on pooled predictions.

        Parameters
        ----------
        output_dict : bool, default=False
            Return a dict instead of text.
        digits : int, default=3
            Digits of the text version.

        Returns
        -------
        str or dict
            See :func:`skleuk.metrics.classification_report`.
        """
        return _metrics.classification_report(self, output_dict, digits)

    def roc_curves(self, n_points=101):
        """ROC curves of every fold, their interpolated mean, and pooled ones.

        Parameters
        ----------
        n_points : int, default=101
            Number of false positive rates of the grid the fold curves are
            interpolated on for the mean curve.

        Returns
        -------
        dict or None
            None when the estimator gives no continuous scores. Binary::

                {"folds": [{"fpr", "tpr", "auc", "repeat", "fold"}, ...],
                 "mean": {"fpr", "tpr", "tpr_std", "auc", "auc_std"},
                 "pooled": {"fpr", "tpr", "auc"}}

            ``mean`` is the vertical average of the fold curves on a common
            grid (with ``auc`` the area under the mean curve and ``auc_std``
            the standard deviation of the fold AUCs); ``pooled`` the single
            curve of all out-of-fold scores together. Multi-class: one
            one-vs-rest entry per class, ``{"per_class": [{"label", "name",
            "fold_aucs", "mean", "pooled"}, ...]}`` with the same inner keys.
        """
        return _metrics.roc_curves(self, n_points)

    def misclassified(self, repeat=0):
        """Out-of-fold mistakes of one repetition, most confident first.

        Parameters
        ----------
        repeat : int, default=0
            Which repetition of the cross-validation.

        Returns
        -------
        list of dict
            One dict per misclassified sample: ``index`` (into ``X``/``y``),
            ``true``, ``pred`` (labels), ``true_name``, ``pred_name``,
            ``proba`` (probability given to the predicted class, NaN if
            unknown), ``repeat``, ``fold``. Sorted by decreasing ``proba``:
            the confident mistakes a pathologist should look at first.
        """
        return _metrics.misclassified(self, repeat)

    @property
    def histories(self):
        """Per-epoch training history of every fold (None where unknown).

        Returns
        -------
        list of dict or None
            ``{"loss": [...], "accuracy": [...], "val_loss": [...], ...}``
            from the fitted final step's ``history_`` (Keras classifiers).
        """
        return [f["history"] for f in self.folds]

    def _class_counts(self):
        return [(name, int(np.sum(self.y == c)))
                for c, name in zip(self.classes, self.target_names, strict=True)]

    def fold_table(self):
        """Per-fold train/validation accuracy and loss (the paper's Table 4.2).

        Returns
        -------
        list of dict
            One row per fold: ``repeat``, ``fold``, ``n_train``, ``n_val``,
            ``train_accuracy``, ``train_loss``, ``val_accuracy``,
            ``val_loss``, ``fit_time``.
        """
        return _metrics.fold_table(self)

    # ------------------------------------------------------------------
    # renderings (_report_render.py)
    # ------------------------------------------------------------------
    def to_text(self):
        """Render the report as a plain-text table (what ``str(report)`` gives).

        Returns
        -------
        str
        """
        return _render.to_text(self)

    def __str__(self):
        return self.to_text()

    def __repr__(self):
        s = self.summary()
        return (
            f"<CrossValidationReport: {self.n_folds} folds, {self.n_samples} "
            f"samples, accuracy {_fmt_pm(s['accuracy']['mean'], s['accuracy']['std'])}>"
        )

    def to_markdown(self, figures=None):
        """Render the report as Markdown (GitHub-flavoured tables).

        Parameters
        ----------
        figures : dict of str to str, default=None
            Figure name to image path (relative to the Markdown file), as
            returned by :meth:`save_figures`; embedded after the tables.

        Returns
        -------
        str
        """
        return _render.to_markdown(self, figures)

    def to_html(self, figures=None):
        """Render the report as a standalone HTML page.

        Parameters
        ----------
        figures : dict of str to str, default=None
            Figure name to image path (relative to the HTML file), as
            returned by :meth:`save_figures`; shown after the tables.

        Returns
        -------
        str
        """
        return _render.to_html(self, figures)

    def _repr_html_(self):
        return _render.html_body(self)

    # ------------------------------------------------------------------
    # serialisation (_report_io.py)
    # ------------------------------------------------------------------
    def to_dict(self):
        """Return the report as a JSON-compatible dict.

        It holds the raw fold records (so :meth:`from_dict` restores the
        report exactly) and, for readers of the file, the derived numbers:
        ``summary``, ``fold_table``, ``confusion_matrix``,
        ``classification_report``. NaN is written as ``null``.

        Returns
        -------
        dict
        """
        return _io.to_dict(self)

    def to_json(self, path=None, *, indent=1, overwrite=False):
        """Serialise the report to JSON.

        Parameters
        ----------
        path : str or path-like, default=None
            File to write. None returns the JSON text instead.
        indent : int, default=1
            JSON indentation.
        overwrite : bool, default=False
            Replace an existing file.

        Returns
        -------
        str or None
            The JSON text when ``path`` is None.
        """
        return _io.to_json(self, path, indent=indent, overwrite=overwrite)

    @classmethod
    def from_dict(cls, d):
        """Rebuild a report from :meth:`to_dict` output.

        Parameters
        ----------
        d : dict
            As returned by :meth:`to_dict`.

        Returns
        -------
        CrossValidationReport
        """
        return _io.from_dict(cls, d)

    @classmethod
    def from_json(cls, source):
        """Load a report saved with :meth:`to_json`.

        Parameters
        ----------
        source : str or path-like
            A JSON file path, or the JSON text itself.

        Returns
        -------
        CrossValidationReport
        """
        return _io.from_json(cls, source)

    # ------------------------------------------------------------------
    # files (_report_io.py)
    # ------------------------------------------------------------------
    def save_figures(self, dirpath, *, X=None, overwrite=False, dpi=120):
        """Draw the report's figures and save them as PNG files.

        Parameters
        ----------
        dirpath : str or path-like
            Folder to write into (created if missing).
        X : array-like, default=None
            Images (or file paths) for the misclassified-images grid; by
            default the report's own :attr:`X`. Without images that figure
            is skipped.
        overwrite : bool, default=False
            Replace existing files.
        dpi : int, default=120
            Resolution of the PNG files.

        Returns
        -------
        dict of str to str
            Figure name (``confusion_matrix``, ``roc_curve``,
            ``learning_curves``, ``misclassified``, ``reliability_diagram``,
            ``risk_coverage``) to file path, for the figures that could be
            drawn.
        """
        return _io.save_figures(self, dirpath, X=X, overwrite=overwrite, dpi=dpi)

    def save(self, dirpath, *, X=None, figures=True, overwrite=False):
        """Write the report (text, Markdown, HTML, JSON) and figures to a folder.

        Files: ``report.txt``, ``report.md``, ``report.html``,
        ``report.json`` and, with ``figures=True``, the PNG files of
        :meth:`save_figures` (referenced from the Markdown and HTML).

        Parameters
        ----------
        dirpath : str or path-like
            Output folder (created if missing).
        X : array-like, default=None
            Images for the misclassified-images figure (default: :attr:`X`).
        figures : bool, default=True
            Also draw and save the figures.
        overwrite : bool, default=False
            Replace existing files; otherwise an existing file is an error
            (:class:`FileExistsError`) and nothing is written.

        Returns
        -------
        dict of str to str
            What was written: ``text``, ``markdown``, ``html``, ``json`` and
            the figure names, to their paths.
        """
        return _io.save(self, dirpath, X=X, figures=figures, overwrite=overwrite)


def _now():
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
