"""Axis-aligned suppression (spec m2-family §1.7 `AxisAlignedSuppression`, §15.5.3; 2.7.1's post-hoc
variant): z'_k = 0 for k ∈ dims, every other coordinate unchanged, with no re-normalisation — unlike
`ablate`, where the norm rescales the remaining coordinates to unit length."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from excolor.errors import ConfigError


class AxisAlignedSuppression(nn.Module):
    """z' = z with z'_k = 0 for k ∈ dims (rows z [..., K]; leading axes pass through)."""

    def __init__(self, dims: Sequence[int] = (0,)):
        super().__init__()
        self.dims = sorted(int(d) for d in dims)
        if not self.dims or len(set(self.dims)) != len(self.dims) or self.dims[0] < 0:
            raise ConfigError(f"axis suppression: dims={list(dims)} must list distinct dims ≥ 0")

    def check_width(self, width: int) -> None:
        """Reject dims outside a latent of `width` dims."""
        if self.dims[-1] >= int(width):
            raise ConfigError(f"axis suppression: dims={self.dims} names a dim ≥ the bottleneck's {width}")

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        self.check_width(z.shape[-1])
        keep = torch.ones(z.shape[-1], dtype=z.dtype, device=z.device)
        keep[self.dims] = 0
        return z * keep

    def extra_repr(self) -> str:
        return f"dims={self.dims}"
