"""Similarity mappers for Repulsion: map the current similarity d = z·v to the
target similarity t (both cosines). Identity at or below the knee a; above it the
curve ends at (1, b), so the concept vector itself lands at cos⁻¹(b) from v.

LinearMapper(a, b):  y = a + (x − a)/(1 − a)·(b − a)  for x > a,  else y = x.
BezierMapper(a, b):  y = x for x ≤ a; above a, the cubic Bézier from P0 = (a, a)
    (leaving with slope 1) to P3 = (1, b) (arriving flat). Tangents meet at
    I = (b, b); P1 = P0 + c(I − P0), P2 = P3 + c(I − P3), c = 1/√2.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from excolor.errors import ConfigError
from excolor.interventions.falloff import check_threshold


def _check_ab(owner: str, a: float, b: float) -> tuple[float, float]:
    a = check_threshold(owner, a)
    b = float(b)
    if not (a < b <= 1.0):
        raise ConfigError(f"{owner}: b={b} must be in (a, 1] = ({a}, 1]")
    return a, b


class LinearMapper(nn.Module):
    """y = a + (x − a)/(1 − a)·(b − a) for x > a, else y = x (elementwise); a < b ≤ 1."""

    def __init__(self, a: float = 0.0, b: float = 0.5):
        super().__init__()
        self.a, self.b = _check_ab("linear mapper", a, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a + (x - self.a) * ((self.b - self.a) / (1.0 - self.a))
        return torch.where(x > self.a, y, x)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}"


class BezierMapper(nn.Module):
    """y = x for x ≤ a; above a the cubic Bézier P0=(a,a), P1, P2, P3=(1,b) with
    P1 = P0 + c(I − P0), P2 = P3 + c(I − P3), I = (b, b), c = 1/√2 (slope 1 at P0,
    flat at P3). y(x) is read off a precomputed monotone table (`points`
    samples of t) by linear interpolation; x > 1 gives b. Requires a < b ≤ 1.
    """

    xs: torch.Tensor  # buffers: the curve's sample points
    ys: torch.Tensor

    C = 1.0 / math.sqrt(2.0)

    def __init__(self, a: float = 0.0, b: float = 0.5, points: int = 1001):
        super().__init__()
        self.a, self.b = _check_ab("bezier mapper", a, b)
        if int(points) < 2:
            raise ConfigError(f"bezier mapper: points={points} must be >= 2")
        a, b, c = self.a, self.b, self.C
        p = torch.tensor(
            [[a, a], [a + c * (b - a), a + c * (b - a)], [1.0 + c * (b - 1.0), b], [1.0, b]],
            dtype=torch.float64,
        )
        t = torch.linspace(0.0, 1.0, int(points), dtype=torch.float64)[:, None]
        s = 1.0 - t
        curve = s**3 * p[0] + 3 * s**2 * t * p[1] + 3 * s * t**2 * p[2] + t**3 * p[3]
        # x(t) is monotone (its control x's are non-decreasing); pin the ends exactly.
        xs, ys = curve[:, 0].cummax(0).values, curve[:, 1]
        xs[0], xs[-1], ys[0], ys[-1] = a, 1.0, a, b
        self.register_buffer("xs", xs)
        self.register_buffer("ys", ys)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs, ys = self.xs.to(x.dtype), self.ys.to(x.dtype)
        q = x.clamp(self.a, 1.0).contiguous()
        i = torch.searchsorted(xs, q).clamp(1, xs.numel() - 1)
        x0, x1, y0, y1 = xs[i - 1], xs[i], ys[i - 1], ys[i]
        w = (q - x0) / (x1 - x0).clamp_min(torch.finfo(x.dtype).tiny)
        y = y0 + w.clamp(0.0, 1.0) * (y1 - y0)
        return torch.where(x > self.a, y, x)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}, points={self.xs.numel()}"
