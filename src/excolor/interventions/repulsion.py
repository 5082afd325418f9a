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


def by_component(z: torch.Tensor) -> torch.Tensor:
    """[..., K] → [K, ...], contiguous."""
    return z.movedim(-1, 0).contiguous()


def by_row(z: torch.Tensor) -> torch.Tensor:
    """[K, ...] → [..., K], contiguous (the layout the model and the reductions over K read)."""
    return z.movedim(0, -1).contiguous()


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
        t = self.mapper(d).clamp(-1.0 + self.eps, 1.0 - self.eps)
        # The elementwise steps run on the latent's components laid out one after another ([K, ...],
        # `by_component`): broadcasting a [...] factor over a trailing axis of K = 4 costs ~4× more on the
        # CPU. Every value is the same product, sum or quotient as on [..., K]; the two reductions over K
        # (z·v and the norm) read [..., K] copies, as before, so they round as before.
        column = (-1,) + (1,) * d.dim()  # v, w as [K, 1, …]: one component per leading slice
        v_k, w_k = v.view(column), w.view(column)
        z_k = by_component(z)
        perp = z_k - d * v_k
        perp = perp - (by_row(perp) @ v) * v_k  # second pass: orthogonal to rounding
        norm = by_row(perp).norm(dim=-1)
        tiny = torch.finfo(z.dtype).eps
        u = torch.where(norm > tiny, perp / norm.clamp_min(tiny), w_k)
        out = t * v_k + (1.0 - t * t).sqrt() * u
        return by_row(torch.where(d > 0, out, z_k))

    def extra_repr(self) -> str:
        return f"eps={self.eps}"
