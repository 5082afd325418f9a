"""Inference-time interventions on the bottleneck latent (unit vectors z, shape [N, K]).

Suppression and Repulsion damage one concept direction v; falloffs and mappers
shape how strongly. Apply them with the `intervene` context manager.
"""

from excolor.interventions.concept import check_dim
from excolor.interventions.falloff import BoundedFalloff
from excolor.interventions.hooks import capture, intervene
from excolor.interventions.mappers import BezierMapper, LinearMapper
from excolor.interventions.repulsion import Repulsion
from excolor.interventions.suppression import Suppression

__all__ = [
    "BezierMapper",
    "BoundedFalloff",
    "LinearMapper",
    "Repulsion",
    "Suppression",
    "capture",
    "check_dim",
    "intervene",
]
