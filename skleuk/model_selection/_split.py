"""The folds of a cross-validation, grouped where samples must stay together.

:func:`make_stratified_cv` is the one place that builds them: stratified
K-fold, shuffled and seeded, grouped by the given groups and, on request, by
near-duplicate images. :func:`~skleuk.model_selection.evaluate` and ``skleuk
grid-search`` use it; so can a :class:`~sklearn.model_selection.GridSearchCV`
of your own.
"""

from __future__ import annotations

from numbers import Integral

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_consistent_length, column_or_1d

from ._duplicates import find_duplicate_groups

__all__ = ["make_stratified_cv"]


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


def _sample_groups(X, y, groups, group_duplicates):
    """``groups`` merged with the near-duplicate groups of ``X`` if asked."""
    if groups is not None:
        groups = column_or_1d(groups)
        check_consistent_length(y, groups)
    if group_duplicates:
        if X is None:
            raise ValueError("group_duplicates=True needs the images X.")
        check_consistent_length(X, y)
        groups = _merge_groups(groups, np.asarray(find_duplicate_groups(X)))
    return groups


@validate_params(
    {
        "X": ["array-like", "sparse matrix", None],
        "y": ["array-like"],
        "n_splits": [Interval(Integral, 2, None, closed="left")],
        "groups": ["array-like", None],
        "group_duplicates": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_stratified_cv(
    X, y, *, n_splits=5, groups=None, group_duplicates=False, random_state=None
):
    """Stratified, shuffled folds that keep groups and near-duplicates together.

    Returns :class:`~sklearn.model_selection.StratifiedKFold`, or
    :class:`~sklearn.model_selection.StratifiedGroupKFold` when there are
    groups, and the groups to split with. With ``group_duplicates=True``
    the near-duplicate images of ``X``
    (:func:`~skleuk.model_selection.find_duplicate_groups`) form groups too,
    merged with ``groups``: two samples linked by either labeling, directly
    or through other samples, share a group, so no image has a copy on the
    other side of a split. The folds of
    :func:`~skleuk.model_selection.evaluate` (with an int ``cv``) and of
    ``skleuk grid-search`` come from here.

    Parameters
    ----------
    X : array-like of images, sequence of file paths, or None
        The samples; only read with ``group_duplicates=True`` (None is
        allowed otherwise).
    y : array-like of shape (n_samples,)
        Class labels, for stratification.
    n_splits : int, default=5
        Number of folds. Every class needs at least ``n_splits`` samples,
        and there must be at least ``n_splits`` groups.
    groups : array-like of shape (n_samples,), default=None
        Group labels (e.g. the patient or smear of each cell image).
    group_duplicates : bool, default=False
        Also keep near-duplicate images of ``X`` together.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling of the folds.

    Returns
    -------
    cv : StratifiedKFold or StratifiedGroupKFold
        The splitter (``shuffle=True``).
    groups : ndarray of shape (n_samples,) or None
        The groups to pass to ``cv.split`` (or to ``GridSearchCV.fit``);
        None without groups.

    Raises
    ------
    ValueError
        If a class has fewer samples than ``n_splits``, or there are fewer
        groups than ``n_splits``.

    See Also
    --------
    find_duplicate_groups : The near-duplicate groups.
    evaluate : Cross-validation with these folds.

    Examples
    --------
    >>> import numpy as np
    >>> from skleuk.model_selection import make_stratified_cv
    >>> y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    >>> patients = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    >>> cv, groups = make_stratified_cv(None, y, n_splits=2, groups=patients,
    ...                                 random_state=0)
    >>> type(cv).__name__
    'StratifiedGroupKFold'
    >>> for train, test in cv.split(np.zeros(len(y)), y, groups):
    ...     assert not set(groups[train]) & set(groups[test])
    """
    y = column_or_1d(y)
    groups = _sample_groups(X, y, groups, group_duplicates)
    classes, counts = np.unique(y, return_counts=True)
    if counts.min() < n_splits:
        small = classes[np.argmin(counts)]
        small = small.item() if hasattr(small, "item") else small
        raise ValueError(
            f"Class {small!r} has only {counts.min()} sample(s), fewer than "
            f"the {n_splits} folds: every class needs at least one sample per "
            "fold."
        )
    if groups is None:
        return StratifiedKFold(n_splits, shuffle=True, random_state=random_state), None
    n_groups = len(np.unique(groups))
    if n_groups < n_splits:
        raise ValueError(
            f"Only {n_groups} groups for {n_splits} folds: use fewer folds."
        )
    cv = StratifiedGroupKFold(n_splits, shuffle=True, random_state=random_state)
    return cv, groups
