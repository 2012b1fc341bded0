"""class_roles: the one rule for the positive and the healthy class."""

import numpy as np
import pytest

from skleuk.metrics import HEALTHY_CLASS_NAMES, POSITIVE_CLASS_NAMES, class_roles


@pytest.mark.parametrize(
    "classes, names, expected",
    [
        # Named positive: the other class is healthy.
        ([0, 1], ["healthy", "ALL"], (1, 0, False)),
        (["ALL", "hem"], None, ("ALL", "hem", False)),
        ([0, 1], [" Blasts ", "other"], (0, 1, False)),
        # Named healthy: the other class is positive.
        (["leukemic", "normal"], None, ("leukemic", "normal", False)),
        (["Benign", "Malignant"], None, ("Malignant", "Benign", False)),
        # 0/1 and False/True labels: scikit-learn's positive class.
        ([0, 1], None, (1, 0, False)),
        ([False, True], None, (True, False, False)),
        # Nothing says it: the last class assumed positive.
        (["B", "T"], None, ("T", "B", True)),
        # More classes: the healthy one; the positive one only if named.
        (["Benign", "Early", "Pre", "Pro"], None, (None, "Benign", False)),
        (["a", "normal", "ALL"], None, ("ALL", "normal", False)),
        (["a", "b", "c"], None, (None, "a", True)),
    ],
)
def test_inferred_roles(classes, names, expected):
    assert tuple(class_roles(classes, names)) == expected


def test_given_labels_win_and_complete_each_other():
    assert tuple(class_roles(["ALL", "healthy"], pos_label="healthy")) == (
        "healthy", "ALL", False)
    assert tuple(class_roles(["B", "T"], healthy_label="T")) == ("B", "T", False)
    # A given healthy class is never the named positive one.
    roles = class_roles(["ALL", "b", "c"], healthy_label="ALL")
    assert roles.healthy_label == "ALL" and roles.pos_label is None
    roles = class_roles(["Benign", "Pre", "Pro"], pos_label="Pro")
    assert roles == ("Pro", "Benign", False)


def test_numpy_labels_come_back_as_python_scalars():
    roles = class_roles(np.array([3, 7]), ["x", "ALL"])
    assert type(roles.pos_label) is int and roles.pos_label == 7
    roles = class_roles(np.arange(2), pos_label=np.int64(0))
    assert type(roles.pos_label) is int and roles.healthy_label == 1


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"classes": [0, 1], "pos_label": np.int64(5)},
         r"pos_label=5 is not one of the classes \[0, 1\]"),
        ({"classes": ["a", "b"], "healthy_label": "c"},
         r"healthy_label='c' is not one of the classes \['a', 'b'\]"),
        ({"classes": [0, 1], "pos_label": 1, "healthy_label": 1},
         "same class"),
        ({"classes": [0, 1], "target_names": ["a"]}, "1 names for 2 classes"),
        ({"classes": [0]}, "at least two classes"),
    ],
)
def test_errors_name_the_problem(kwargs, match):
    with pytest.raises(ValueError, match=match):
        class_roles(**kwargs)


def test_name_lists_are_disjoint_lower_case():
    assert not set(POSITIVE_CLASS_NAMES) & set(HEALTHY_CLASS_NAMES)
    for name in POSITIVE_CLASS_NAMES + HEALTHY_CLASS_NAMES:
        assert name == name.strip().lower()
