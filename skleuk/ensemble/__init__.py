"""Ensembles of fitted pipelines.

:class:`SeedEnsembleClassifier` fits one estimator -- by default
:func:`skleuk.make_pipeline` -- several times with different seeds and
averages the class probabilities: a network trained on a few hundred images
swings by a few points with its seed, and the average of a few seeds is
steadier and usually better than any one of them.
"""

from ._seed import SeedEnsembleClassifier

__all__ = ["SeedEnsembleClassifier"]
