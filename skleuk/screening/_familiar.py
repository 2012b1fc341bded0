"""Is a smear like the training smears? Its own cells, judged by the cell
model's :class:`~skleuk.preprocessing.FamiliarityCheck`.

A screener whose cell model carries a familiarity check
(``SmearScreener(make_pipeline(familiarity=True))``, ``skleuk train
--screening --familiarity``) judges each smear on its own cells -- the batch
is the smear's cell windows -- so a smear from another laboratory is marked
*unfamiliar -- review* instead of silently getting a verdict.
"""

from __future__ import annotations

import contextlib
import warnings

import numpy as np
from sklearn.pipeline import Pipeline

from ..exceptions import UnfamiliarImageWarning

#: The note of an unfamiliar smear (summaries, ``smears.csv``).
UNFAMILIAR_NOTE = "unfamiliar — review"


def familiarity_step(model):
    """The familiarity check among ``model``'s steps (a fitted
    :class:`~sklearn.pipeline.Pipeline`), or None."""
    if not isinstance(model, Pipeline):
        return None
    for _, step in model.steps:
        if hasattr(step, "judge") and hasattr(step, "unfamiliarity"):
            return step
    return None


@contextlib.contextmanager
def quiet(check):
    """Silence the check's batch warning while the cell model predicts (the
    batch mixes smears; each smear is judged on its own)."""
    with warnings.catch_warnings():
        if check is not None:
            warnings.simplefilter("ignore", UnfamiliarImageWarning)
        yield


def smear_familiarity(check, scores):
    """``(unfamiliar, share, median)`` of one smear from its cells'
    unfamiliarity ``scores`` (threshold units): the share of its cells
    beyond the threshold, their median score, and whether the smear is
    unfamiliar by the check's rule (:meth:`FamiliarityCheck.judge`: by
    default more than ``max_unfamiliar_fraction`` of at least ``min_batch``
    cells). Without a check: ``(None, nan, nan)``;
    without cells: ``(False, nan, nan)``."""
    if check is None:
        return None, float("nan"), float("nan")
    if not len(scores):
        return False, float("nan"), float("nan")
    unfamiliar, share = check.judge(scores)  # the check's own batch rule
    return bool(unfamiliar), share, float(np.median(scores))
