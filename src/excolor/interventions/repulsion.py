"""Repulsion: rotate each latent row away from the concept, in the plane of z and v.

    d = clamp(z·v, 0, 1),   t = clamp(mapper(d), −1 + ε, 1 − ε)   (ε = 1e-8, as in the seed)
    z⊥ = z − d·v,   u = z⊥/‖z⊥‖  (a fixed unit vector ⟂ v where ‖z⊥‖ ≈ 0)
    z' = t·v + sqrt(1 − t²)·u   where d > 0,   else z' = z

So z' is a unit vector whose cosine to v is t. With the default Bézier mapper
(b = 0.5), v itself lands 60° away from v.
"""

from __future__ import annotations

import math

import torch

from excolor.errors import ConfigError
from excolor.interventions.base import Cone, Intervention, Mapper
from excolor.interventions.concept import concept_vector, part
from excolor.interventions.mappers import BezierMapper


class Repulsion(Intervention):
    """z' = t·v + sqrt(1 − t²)·u with t = mapper(clamp(z·v, 0, 1)), for rows with z·v > 0."""

    concept: torch.Tensor  # buffers
    orthogonal: torch.Tensor

    def __init__(
        self,
        concept,
        mapper: Mapper | None = None,
        dim: int | None = None,
        eps: float = 1e-8,  # the seed's ε
    ):
        super().__init__()
        v = concept_vector("intervention repulsion", concept, dim)
        if v.numel() < 2:
            raise ConfigError(f"intervention repulsion: concept={v.tolist()} needs at least 2 dims")
        eps = float(eps)
        if not (0.0 < eps < 1.0):
            raise ConfigError(f"intervention repulsion: eps={eps} must be in (0, 1)")
        self.register_buffer("concept", v)
        # Fallback direction: the basis vector least aligned with v, made orthogonal to v.
        e = torch.zeros_like(v)
        e[v.abs().argmin()] = 1.0
        e = e - (e @ v) * v
        self.register_buffer("orthogonal", e / e.norm())
        self.mapper = (
            part("intervention repulsion", "mapper", mapper, Mapper) if mapper is not None else BezierMapper()
        )
        self.eps = eps

    @property
    def dim(self) -> int:
        return self.concept.numel()

    def cones(self) -> list[Cone]:
        """For latent plots: the region it acts on (dashed, arccos a) and the hole it opens around the
        concept (solid, arccos mapper(1): the concept vector itself lands on that rim)."""
        rim = float(self.mapper(torch.ones(1, device=self.concept.device)).clamp(-1, 1))
        outer = math.acos(float(self.mapper.a))
        return [(self.concept.tolist(), outer, "dashed"), (self.concept.tolist(), math.acos(rim), "solid")]

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        v, w = self.concept.to(z.dtype), self.orthogonal.to(z.dtype)
        d = (z @ v).clamp(0.0, 1.0)
        t = self.mapper(d).clamp(-1.0 + self.eps, 1.0 - self.eps).unsqueeze(-1)
        perp = z - d.unsqueeze(-1) * v
        perp = perp - (perp @ v).unsqueeze(-1) * v  # second pass: orthogonal to rounding
        norm = perp.norm(dim=-1, keepdim=True)
        tiny = torch.finfo(z.dtype).eps
        u = torch.where(norm > tiny, perp / norm.clamp_min(tiny), w)
        out = t * v + (1.0 - t * t).sqrt() * u
        return torch.where((d > 0).unsqueeze(-1), out, z)

    def extra_repr(self) -> str:
        return f"eps={self.eps}"
