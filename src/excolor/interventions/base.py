"""The extension points of the intervention group: what an intervention, a falloff and a mapper are.

Subclass these (in excolor or in a package of your own named in `trusted_packages`) and configure
the subclass with `_target_`; the evaluation, the figures and the width check rely only on what is
declared here.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

from torch import Tensor, nn

# A cone on the latent sphere for the latent plots: (axis, half-angle in radians, line style).
Cone = tuple[list[float], float, str]


class Intervention(nn.Module, ABC):
    """z' = intervention(z): rewrites latent rows z of shape [..., K] (the output of the hooked layer,
    unit vectors under the L2 bottleneck), row by row; the leading axes (members, batch) pass through."""

    @abstractmethod
    def forward(self, z: Tensor) -> Tensor:
        """The rewritten latents, same shape as `z`."""

    @property
    def dim(self) -> int | None:
        """The latent width K the intervention is built for (its concept's length), or None for any."""
        return None

    def cones(self) -> list[Cone]:
        """The regions it acts on, drawn on the latent plots (none by default)."""
        return []


class Falloff(nn.Module, ABC):
    """g = f(d), elementwise: how strongly an intervention acts at concept similarity d ∈ [0, 1].
    `a` is the knee: f(d) = 0 for d ≤ a (0: acts on the whole hemisphere)."""

    a: float = 0.0

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """f(x), same shape as x."""


class Mapper(nn.Module, ABC):
    """t = m(d), elementwise: the similarity a latent at similarity d to the concept is moved to.
    `a` is the knee: m(d) = d for d ≤ a."""

    a: float = 0.0

    @abstractmethod
    def forward(self, x: Tensor) -> Tensor:
        """m(x), same shape as x."""
