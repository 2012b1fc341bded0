"""The positive class of a report: explicit, inferred, or marked ASSUMED."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from skleuk.model_selection import evaluate


def _data(labels):
    rng = np.random.RandomState(0)
    X = rng.normal(size=(24, 3))
    y = np.array([labels[i % 2] for i in range(24)])
    X[y == labels[0]] += 1.5
    return X, y


def test_unknown_positive_class_is_in_the_title():
    X, y = _data(["lymphoid", "myeloid"])
    report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    assert report.pos_label == "myeloid" and report.pos_label_assumed
    title = report.to_text().splitlines()[0]
    assert "positive class 'myeloid' ASSUMED" in title
    assert "ASSUMED" in report.to_markdown().splitlines()[0]
    same = type(report).from_json(report.to_json())
    assert same.pos_label_assumed


def test_pos_label_parameter_chooses_it():
    X, y = _data(["lymphoid", "myeloid"])
    assumed = evaluate(LogisticRegression(), X, y, cv=2, random_state=0)
    chosen = evaluate(LogisticRegression(), X, y, cv=2, random_state=0,
                      pos_label="lymphoid")
    assert chosen.pos_label == "lymphoid" and not chosen.pos_label_assumed
    assert "ASSUMED" not in chosen.to_text()
    # The headline sensitivity is that of the chosen class.
    s_chosen = chosen.summary()["sensitivity"]["mean"]
    s_assumed = assumed.summary()["sensitivity"]["mean"]
    assert s_chosen == pytest.approx(assumed.summary()["specificity"]["mean"])
    assert s_assumed == pytest.approx(chosen.summary()["specificity"]["mean"])


@pytest.mark.parametrize(
    "labels, names, expected",
    [([0, 1], None, 1), (["ALL", "healthy"], None, "ALL"),
     ([0, 1], ["blast", "other"], 0),
     # The other class of one named healthy (skleuk.metrics.class_roles).
     (["leukemic", "normal"], None, "leukemic")],
)
def test_inferred_positive_class_is_not_assumed(labels, names, expected):
    X, y = _data(labels)
    report = evaluate(LogisticRegression(), X, y, cv=2, random_state=0,
                      target_names=names)
    assert report.pos_label == expected and not report.pos_label_assumed


def test_bad_pos_label_message_has_plain_values():
    X, y = _data([0, 1])
    with pytest.raises(ValueError) as info:
        evaluate(LogisticRegression(), X, y, cv=2, pos_label=np.int64(5))
    assert "np.int64" not in str(info.value) and "pos_label=5" in str(info.value)
