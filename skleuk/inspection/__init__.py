"""Inspection: what did the network look at?

:func:`saliency` computes Grad-CAM heat maps (Selvaraju et al. 2017) of a
fitted :func:`skleuk.make_pipeline` and maps them back through the crop and
resize steps onto the original images; :func:`skleuk.plotting.plot_saliency`
overlays them on misclassified and correctly classified cells.
"""

from ._saliency import saliency

__all__ = ["saliency"]
