"""Falloff curves: how strongly an intervention acts, as a function of the
concept similarity d = clamp(z·v, 0, 1).

BoundedFalloff(a, b, power):  f(x) = b·((x − a)/(1 − a))^power  for x > a,  else 0.
"""

from __future__ import annotations

import math

import torch

from excolor.errors import ConfigError
from excolor.interventions.base import Falloff


def check_threshold(owner: str, a: float) -> float:
    """Validate the shared knee parameter a ∈ [0, 1)."""
    a = float(a)
    if not (0.0 <= a < 1.0):
        raise ConfigError(f"{owner}: a={a} must be in [0, 1)")
    return a


class BoundedFalloff(Falloff):
    """f(x) = b·((x − a)/(1 − a))^power for x > a, else 0 (elementwise).

    a ∈ [0, 1) is the similarity below which nothing happens, b ∈ [0, 1] the
    gain reached at x = 1, power ≥ 0 the shape (1 = linear ramp, 2 = quadratic).
    """

    def __init__(self, a: float = 0.0, b: float = 1.0, power: float = 2.0):
        super().__init__()
        self.a = check_threshold("bounded falloff", a)
        b, power = float(b), float(power)
        if not (0.0 <= b <= 1.0):
            raise ConfigError(f"bounded falloff: b={b} must be in [0, 1]")
        if not (math.isfinite(power) and power >= 0.0):
            raise ConfigError(f"bounded falloff: power={power} must be a finite number >= 0")
        self.b, self.power = b, power

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        r = ((x - self.a) / (1.0 - self.a)).clamp_min(0.0)
        return torch.where(x > self.a, self.b * r.pow(self.power), torch.zeros_like(x))

    def extra_repr(self) -> str:
        return f"a={self.a}, b={self.b}, power={self.power}"
