"""Hand-crafted image features for classical classifiers."""

from ._cell_features import CellFeatureExtractor

__all__ = ["CellFeatureExtractor"]
