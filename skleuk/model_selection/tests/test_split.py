"""make_stratified_cv: the folds of evaluate and of skleuk grid-search."""

import numpy as np
import pytest
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold

from skleuk.model_selection import make_stratified_cv
from skleuk.model_selection._split import _merge_groups


def test_merge_groups():
    a = np.array([0, 0, 1, 2, 3, 4])
    b = np.array([9, 8, 8, 7, 7, 6])  # links 1-2 and 3-4
    groups = _merge_groups(a, b)
    assert groups[0] == groups[1] == groups[2]
    assert groups[3] == groups[4]
    assert len(set(groups.tolist())) == 3


def _images(n=24, seed=0):
    rng = np.random.RandomState(seed)
    return (rng.rand(n, 8, 8, 3) * 255).astype(np.uint8), np.arange(n) % 2


def test_without_groups_stratified_shuffled_seeded():
    _, y = _images()
    cv, groups = make_stratified_cv(None, y, n_splits=3, random_state=4)
    assert isinstance(cv, StratifiedKFold) and groups is None
    assert cv.shuffle and cv.random_state == 4 and cv.get_n_splits() == 3


def test_duplicates_merged_with_given_groups():
    X, y = _images()
    X[2] = X[0]  # a copy of sample 0 (same class), in another given group
    given = np.arange(24) // 2  # pairs: 0-1, 2-3, ...
    cv, groups = make_stratified_cv(X, y, n_splits=3, groups=given,
                                    group_duplicates=True, random_state=0)
    assert isinstance(cv, StratifiedGroupKFold)
    # 0-1 (given) and 0-2 (copies) and 2-3 (given) form one group.
    assert len({groups[i] for i in range(4)}) == 1
    for train, test in cv.split(X, y, groups):
        assert not set(groups[train]) & set(groups[test])
        assert {0, 1, 2, 3} <= set(test) or not {0, 1, 2, 3} & set(test)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_splits": 13}, "fewer than the 13 folds"),
        ({"n_splits": 4, "groups": np.arange(24) // 8}, "Only 3 groups for 4 folds"),
        ({"group_duplicates": True}, "needs the images X"),
    ],
)
def test_errors(kwargs, match):
    _, y = _images()
    with pytest.raises(ValueError, match=match):
        make_stratified_cv(None, y, **kwargs)
