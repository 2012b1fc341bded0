"""Whole-smear screening: every white cell found, classified and counted.

:func:`locate_white_cells` (from :mod:`skleuk.preprocessing`, re-exported
here) finds every white cell of a smear image of any size, touching cells
separated one by one, cells cut by the border flagged;
:class:`SmearScreener` classifies each with a cell classifier and gives an
image-level verdict; :func:`localisation_report` measures detections
against point (:func:`read_xyc`) or box (:func:`read_voc_boxes`)
annotations; :func:`screening_summary` writes a per-smear HTML or Markdown
summary; :func:`referral_reason` (:func:`referral_reasons` for a batch)
says when an image is no smear to answer (too small, blank, no white cell).
A screener whose cell model carries a
:class:`~skleuk.preprocessing.FamiliarityCheck` marks smears whose cells look
unlike its training cells (:data:`UNFAMILIAR_NOTE`).
"""

from ..preprocessing import locate_white_cells
from ._annotations import read_voc_boxes, read_xyc
from ._checks import referral_reason, referral_reasons
from ._familiar import UNFAMILIAR_NOTE
from ._metrics import localisation_report, match_detections
from ._screener import NO_CELL_VERDICT, SmearScreener
from ._summary import ScreeningSummaryWriter, screening_summary

__all__ = [
    "NO_CELL_VERDICT",
    "ScreeningSummaryWriter",
    "SmearScreener",
    "UNFAMILIAR_NOTE",
    "localisation_report",
    "locate_white_cells",
    "match_detections",
    "read_voc_boxes",
    "read_xyc",
    "referral_reason",
    "referral_reasons",
    "screening_summary",
]
