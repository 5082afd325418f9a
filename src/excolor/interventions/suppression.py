"""Suppression: shrink the concept component of each latent row.

    d = clamp(z·v, 0, 1),   g = falloff(d),   z' = z − g·(z·v)·v

v is the unit concept vector. Rows at or beyond 90° from v (z·v ≤ 0) are
returned unchanged (exactly) as long as falloff(0) = 0.
"""

from __future__ import annotations

import math

import torch

from excolor.interventions.base import Cone, Falloff, Intervention
from excolor.interventions.concept import concept_vector, part
from excolor.interventions.falloff import BoundedFalloff


class Suppression(Intervention):
    """z' = z − falloff(clamp(z·v, 0, 1))·(z·v)·v, row-wise over Z of shape [..., K]."""

    concept: torch.Tensor  # a buffer

    def __init__(self, concept, falloff: Falloff | None = None, dim: int | None = None):
        super().__init__()
        self.register_buffer("concept", concept_vector("intervention suppression", concept, dim))
        self.falloff = (
            part("intervention suppression", "falloff", falloff, Falloff)
            if falloff is not None
            else BoundedFalloff()
        )

    @property
    def dim(self) -> int:
        return self.concept.numel()

    def cones(self) -> list[Cone]:
        """For latent plots: the region it acts on, z·v > a, a cone of half-angle arccos(a)."""
        return [(self.concept.tolist(), math.acos(float(self.falloff.a)), "dashed")]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        v = self.concept.to(z.dtype)
        proj = z @ v
        g = self.falloff(proj.clamp(0.0, 1.0))
        return z - (g * proj).unsqueeze(-1) * v
