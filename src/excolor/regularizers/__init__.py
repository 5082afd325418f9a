"""Regularizers: one class per formula, each reading one layer's activations."""

from excolor.regularizers.anchor import Anchor
from excolor.regularizers.angular_anchor import AngularAnchor
from excolor.regularizers.anti_anchor import AntiAnchor
from excolor.regularizers.base import Regularizer
from excolor.regularizers.planarity import Planarity
from excolor.regularizers.separate import Separate
from excolor.regularizers.subspace import AntiSubspace, AxisAlignedSubspace
from excolor.regularizers.unitarity import Unitarity

__all__ = [
    "Anchor",
    "AngularAnchor",
    "AntiAnchor",
    "AntiSubspace",
    "AxisAlignedSubspace",
    "Planarity",
    "Regularizer",
    "Separate",
    "Unitarity",
]
