"""Which class is the positive (leukaemic) one, and which the healthy one.

One rule for the whole package: :func:`class_roles`. The cross-validation
report (its ``pos_label``), the smear screener (its ``healthy_label``) and
the command line (``--positive-class``, the healthy class of ``skleuk
screen``) all call it, so a data set's classes get the same roles
everywhere.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["HEALTHY_CLASS_NAMES", "POSITIVE_CLASS_NAMES", "ClassRoles", "class_roles"]

#: Class names (compared in lower case, surrounding spaces ignored) that make
#: a class the positive one -- the class whose sensitivity a report
#: headlines -- when no ``pos_label`` is given. ``"1"`` and ``"true"`` are
#: the names of the labels ``1`` and ``True``, scikit-learn's positive class.
POSITIVE_CLASS_NAMES = ("all", "blast", "blasts", "leukemia", "leukaemia", "1", "true")

#: Class names (compared in lower case, surrounding spaces ignored) that make
#: a class the healthy one when no ``healthy_label`` is given. ``"0"`` and
#: ``"false"`` are the names of the labels ``0`` and ``False``.
HEALTHY_CLASS_NAMES = ("healthy", "benign", "normal", "negative", "0", "false")


class ClassRoles(NamedTuple):
    """The roles of the classes of a problem, as :func:`class_roles` gives them.

    Parameters
    ----------
    pos_label : label or None
        The positive (leukaemic) class; None for more than two classes
        unless given or named.
    healthy_label : label
        The healthy class.
    assumed : bool
        Whether the roles were assumed from the order of the classes rather
        than given or read from their names.

    See Also
    --------
    class_roles : Makes it.

    Examples
    --------
    >>> from skleuk.metrics import class_roles
    >>> roles = class_roles([0, 1], ["healthy", "ALL"])
    >>> roles.pos_label, roles.healthy_label, roles.assumed
    (1, 0, False)
    """

    pos_label: object
    healthy_label: object
    assumed: bool


def _plain(value):
    """numpy scalars as Python scalars (``0``, not ``np.int64(0)``)."""
    return value.item() if isinstance(value, np.generic) else value


def _check_given(value, name, classes):
    if value is None:
        return None
    for c in classes:
        if c == value:
            return c
    raise ValueError(
        f"{name}={_plain(value)!r} is not one of the classes "
        f"{[_plain(c) for c in classes]}."
    )


def _named(norm, names):
    """Index of the first class whose name is one of ``names``, else None."""
    for k, name in enumerate(norm):
        if name in names:
            return k
    return None


def class_roles(classes, target_names=None, *, pos_label=None, healthy_label=None):
    """The positive and the healthy class of a problem, given or inferred.

    The one rule skleuk applies wherever it needs them (the
    cross-validation report's ``pos_label``, the smear screener's
    ``healthy_label``, ``skleuk evaluate``/``grid-search``/``train``/
    ``screen``):

    1. A class passed as ``pos_label`` or ``healthy_label`` is used.
    2. Otherwise a class whose display name is in
       :data:`POSITIVE_CLASS_NAMES` (``ALL``, ``blast``, ``leukemia``...) is
       the positive one, and one whose name is in
       :data:`HEALTHY_CLASS_NAMES` (``healthy``, ``benign``, ``normal``...)
       the healthy one; names are compared in lower case, without
       surrounding spaces, the first match winning. The labels ``0``/``1``
       and ``False``/``True`` are named so by default, which makes ``1``
       the positive class as in scikit-learn.
    3. With two classes, the positive and the healthy class are each
       other's complement: knowing one gives the other.
    4. When nothing says it, two classes are taken as (healthy, positive)
       in the order of ``classes`` -- the last is *assumed* positive -- and
       with more classes the first is *assumed* healthy; ``assumed`` tells
       so, for a report to say it.

    With more than two classes there is no single positive class: every
    class but the healthy one is disease, and ``pos_label`` is None unless
    given or named.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        The class labels, e.g. an estimator's ``classes_`` (at least two,
        no repeats).
    target_names : array-like of str of shape (n_classes,), default=None
        Display names of ``classes``; by default ``str(label)``.
    pos_label : label, default=None
        The positive class, when the caller knows it.
    healthy_label : label, default=None
        The healthy class, when the caller knows it.

    Returns
    -------
    roles : ClassRoles
        ``(pos_label, healthy_label, assumed)``: the positive class (None
        for more than two classes unless given or named), the healthy class,
        and whether the roles were assumed from the order of ``classes``
        rather than given or read from the names. Labels are elements of
        ``classes`` (numpy scalars as Python scalars).

    Raises
    ------
    ValueError
        If a given label is not one of ``classes``, ``pos_label`` and
        ``healthy_label`` are the same class, ``target_names`` does not
        name every class, or there are fewer than two classes.

    See Also
    --------
    skleuk.model_selection.evaluate : Its ``pos_label`` follows this rule.
    skleuk.screening.SmearScreener : Its ``healthy_label`` follows this rule.

    Examples
    --------
    >>> from skleuk.metrics import class_roles
    >>> class_roles([0, 1], ["healthy", "ALL"])
    ClassRoles(pos_label=1, healthy_label=0, assumed=False)
    >>> class_roles(["Benign", "Early", "Pre", "Pro"]).healthy_label
    'Benign'
    >>> class_roles(["leukemic", "normal"]).pos_label
    'leukemic'
    >>> class_roles(["B", "T"])
    ClassRoles(pos_label='T', healthy_label='B', assumed=True)
    >>> class_roles(["B", "T"], pos_label="B").healthy_label
    'T'
    """
    classes = [_plain(c) for c in np.asarray(classes, dtype=object).ravel()]
    if len(classes) < 2:
        raise ValueError(f"class_roles needs at least two classes; got {classes}.")
    if target_names is None:
        target_names = [str(c) for c in classes]
    target_names = [str(n) for n in target_names]
    if len(target_names) != len(classes):
        raise ValueError(
            f"target_names has {len(target_names)} names for {len(classes)} classes."
        )
    pos = _check_given(pos_label, "pos_label", classes)
    healthy = _check_given(healthy_label, "healthy_label", classes)
    if pos is not None and healthy is not None and pos == healthy:
        raise ValueError(
            f"pos_label and healthy_label are the same class ({_plain(pos)!r})."
        )
    norm = [n.strip().lower() for n in target_names]
    named_pos = _named(norm, POSITIVE_CLASS_NAMES)
    named_healthy = _named(norm, HEALTHY_CLASS_NAMES)
    if pos is None and named_pos is not None and classes[named_pos] != healthy:
        pos = classes[named_pos]
    if healthy is None and named_healthy is not None and classes[named_healthy] != pos:
        healthy = classes[named_healthy]
    assumed = False
    if len(classes) == 2:
        if pos is None and healthy is None:
            healthy, pos, assumed = classes[0], classes[1], True
        elif pos is None:
            pos = classes[1] if classes[0] == healthy else classes[0]
        elif healthy is None:
            healthy = classes[1] if classes[0] == pos else classes[0]
    elif healthy is None:
        healthy = classes[0] if classes[0] != pos else classes[1]
        assumed = True
    return ClassRoles(pos, healthy, assumed)
