"""Regularizers: one class per formula, each reading one layer's activations."""

from excolor.regularizers.anchor import Anchor
from excolor.regularizers.base import Regularizer
from excolor.regularizers.planarity import Planarity
from excolor.regularizers.separate import Separate
from excolor.regularizers.unitarity import Unitarity

__all__ = ["Anchor", "Planarity", "Regularizer", "Separate", "Unitarity"]
