"""Scorers of the diagnostic metrics, for cross-validation and grid search.

:func:`get_scorers` wraps the metrics of ``_classification.py`` (and
scikit-learn's accuracy, precision, F1, ROC AUC and log loss) with
:func:`sklearn.metrics.make_scorer`, with one ``pos_label``/``average``/
``zero_division`` for all of them.
"""

from __future__ import annotations

from sklearn.metrics import make_scorer, roc_auc_score

from ._classification import (
    _binary_roc_auc,
    _check_zero_division,
    error_rate,
    sensitivity_score,
    specificity_score,
)

__all__ = ["get_scorers"]


def get_scorers(pos_label=1, *, average="binary", zero_division=0.0):
    """Return the scorers of the paper's metrics, ready for cross-validation.

    Use them as ``scoring=`` in :func:`sklearn.model_selection.cross_validate`
    or :class:`sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    pos_label : int, float, bool or str, default=1
        The positive class (e.g. the label of leukemic cells) for binary
        problems. Ignored unless ``average='binary'``.
    average : {'binary', 'micro', 'macro', 'weighted'}, default='binary'
        ``'binary'`` for two classes; for more than two classes use
        ``'macro'`` or ``'weighted'`` (ROC AUC is then one-vs-rest, averaged
        the same way -- ``'micro'`` falls back to ``'macro'`` for AUC).
    zero_division : {'warn', 0.0, 1.0, np.nan}, default=0.0
        Passed to the precision, sensitivity, specificity and F1 metrics.
        The default does not warn: a cross-validation fold with no
        predicted positives scores 0 quietly.

    Returns
    -------
    scorers : dict of str to callable
        Keys ``"accuracy"``, ``"sensitivity"``, ``"specificity"``,
        ``"precision"``, ``"f1"``, ``"roc_auc"``, ``"neg_error_rate"`` and
        ``"neg_log_loss"``. Following scikit-learn, losses are negated so
        that greater is better.

    Examples
    --------
    >>> from sklearn.datasets import make_classification
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.model_selection import cross_validate
    >>> from skleuk.metrics import get_scorers
    >>> X, y = make_classification(n_samples=60, random_state=0)
    >>> scores = cross_validate(LogisticRegression(), X, y, cv=3,
    ...                         scoring=get_scorers(pos_label=1))
    >>> sorted(k for k in scores if k.startswith("test_"))[:3]
    ['test_accuracy', 'test_f1', 'test_neg_error_rate']
    """
    from sklearn.metrics import f1_score, get_scorer, precision_score

    if average not in ("binary", "micro", "macro", "weighted"):
        raise ValueError(
            "average must be 'binary', 'micro', 'macro' or 'weighted'; "
            f"got {average!r}."
        )
    _check_zero_division(zero_division)
    kw = {"average": average, "zero_division": zero_division}
    if average == "binary":
        kw["pos_label"] = pos_label
        roc_auc = make_scorer(
            _binary_roc_auc,
            response_method=("decision_function", "predict_proba"),
            pos_label=pos_label,
        )
    else:
        roc_auc = make_scorer(
            roc_auc_score,
            response_method="predict_proba",
            multi_class="ovr",
            average="weighted" if average == "weighted" else "macro",
        )
    return {
        "accuracy": get_scorer("accuracy"),
        "sensitivity": make_scorer(sensitivity_score, **kw),
        "specificity": make_scorer(specificity_score, **kw),
        "precision": make_scorer(precision_score, **kw),
        "f1": make_scorer(f1_score, **kw),
        "roc_auc": roc_auc,
        "neg_error_rate": make_scorer(error_rate, greater_is_better=False),
        "neg_log_loss": get_scorer("neg_log_loss"),
    }
