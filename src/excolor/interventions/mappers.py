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

from excolor.errors import ConfigError
from excolor.interventions.base import Mapper
from excolor.interventions.falloff import check_threshold


def take(table: torch.Tensor, index: torch.Tensor) -> torch.Tensor:
    """table[index] for a 1-D table: the same values as advanced indexing, through `index_select`
    (about 3× faster on the CPU for the evaluation's [members, colors] lookups)."""
    return table.index_select(0, index.reshape(-1)).view(index.shape)


def _check_ab(owner: str, a: float, b: float) -> tuple[float, float]:
    a = check_threshold(owner, a)
    b = float(b)
    if not (a < b <= 1.0):
        raise ConfigError(f"{owner}: b={b} must be in (a, 1] = ({a}, 1]")
    return a, b


class LinearMapper(Mapper):
    """y = a + (x − a)/(1 − a)·(b − a) for x > a, else y = x (elementwise); a < b ≤ 1."""

    def __init__(self, a: float = 0.0, b: float = 0.5):
        super().__init__()
        self.a, self.b = _check_ab("linear mapper", a, b)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.a + (x - self.a) * ((self.b - self.a) / (1.0 - self.a))
        return torch.where(x > self.a, y, x)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}"


class BezierMapper(Mapper):
    """y = x for x ≤ a; above a the cubic Bézier P0=(a,a), P1, P2, P3=(1,b) with
    P1 = P0 + c(I − P0), P2 = P3 + c(I − P3), I = (b, b), c = 1/√2 (slope 1 at P0,
    flat at P3). y(x) is read off a precomputed monotone table (`points`
    samples of t) by linear interpolation; x > 1 gives b. Requires a < b ≤ 1.
    """

    xs: torch.Tensor  # buffers: the curve's sample points
    ys: torch.Tensor

    C = 1.0 / math.sqrt(2.0)
    _start: torch.Tensor
    _xs_stop: torch.Tensor

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
        self._index_table()

    # Float32 lookups find the table position from a uniform grid of this many buckets over [a, 1] instead
    # of a binary search (searchsorted costs ~10 branchy steps per element; this a few gathers).
    BUCKETS = 4096
    MAX_STEPS = 4  # a curve that crowds more table points into one bucket (b → 1 flattens x(t)) searches

    def _index_table(self) -> None:
        """For bucket g = ⌊(q − a)·BUCKETS/(1 − a)⌋ of a float32 q: `_start[g]` ≤ #(xs < q) (xs as float32),
        and at most `_steps` increments reach it. Each bucket is widened by one on both sides, so the float32
        rounding of g cannot put q outside the range its entry covers."""
        xs = self.xs.float().double()
        scale = self.BUCKETS / (1.0 - self.a)
        g = torch.arange(self.BUCKETS, dtype=torch.float64)
        start = torch.searchsorted(xs, self.a + (g - 1) / scale)  # #(xs < the widened bucket's lower edge)
        end = torch.searchsorted(xs, self.a + (g + 2) / scale)  # #(xs < its upper edge)
        self.register_buffer("_start", start, persistent=False)
        self.register_buffer(
            "_xs_stop", torch.cat([self.xs.float(), torch.tensor([math.inf])]), persistent=False
        )
        self._steps = int((end - start).max())
        self._scale = scale

    def _position(self, xs: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
        """torch.searchsorted(xs, q): #(xs < q) per element, for q in [a, 1] (or NaN)."""
        if q.dtype != torch.float32 or self._steps > self.MAX_STEPS:
            return torch.searchsorted(xs, q)
        bucket = ((q - self.a) * self._scale).to(torch.int64).clamp_(0, self.BUCKETS - 1)
        i = take(self._start, bucket)
        for _ in range(self._steps):  # i rises to the first position whose xs is ≥ q, then stays
            i = i + (take(self._xs_stop, i) < q)
        return i

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        xs, ys = self.xs.to(x.dtype), self.ys.to(x.dtype)
        q = x.clamp(self.a, 1.0).contiguous()
        i = self._position(xs, q).clamp(1, xs.numel() - 1)
        below = i - 1
        x0, x1, y0, y1 = take(xs, below), take(xs, i), take(ys, below), take(ys, i)
        w = (q - x0) / (x1 - x0).clamp_min(torch.finfo(x.dtype).tiny)
        y = y0 + w.clamp(0.0, 1.0) * (y1 - y0)
        return torch.where(x > self.a, y, x)

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}, points={self.xs.numel()}"
