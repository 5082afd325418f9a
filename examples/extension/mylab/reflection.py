"""Reflection: mirror the latents on the concept's side across the hyperplane orthogonal to it.

    d = z·v,   z' = z − 2·max(d, 0)·v

v is the unit concept vector; rows with d ≤ 0 are unchanged, a row with d > 0 lands at −d along v
(unit rows stay unit rows).
"""

from __future__ import annotations

import math

import torch

from excolor.extension import Cone, Intervention
from excolor.interventions.concept import concept_vector


class Reflection(Intervention):
    """z' = z − 2·max(z·v, 0)·v."""

    concept: torch.Tensor  # v, a buffer (moves with .to(device))

    def __init__(self, concept, dim: int | None = None):
        super().__init__()
        self.register_buffer("concept", concept_vector("intervention reflection", concept, dim))

    @property
    def dim(self) -> int:
        return self.concept.numel()

    def cones(self) -> list[Cone]:
        """It acts on the whole hemisphere around v (z·v > 0): a cone of half-angle 90°."""
        return [(self.concept.tolist(), math.pi / 2, "dashed")]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        v = self.concept.to(z.dtype)
        d = (z @ v).clamp_min(0.0)
        return z - 2.0 * d.unsqueeze(-1) * v
