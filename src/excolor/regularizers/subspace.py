"""Axis-aligned subspace terms (spec m2-family §1.6, §15.4.6–7): a sum of squares over some latent dims.

- AxisAlignedSubspace(dims = D, the *keep* set): loss_i = Σ_{k ∉ D} z_ik²
  (pulls samples into span{e_k : k ∈ D});
  D = {0, 1} is `Planarity`, D = {2, 3, 4} on desaturated colours in 2.9.
- AntiSubspace(dims = D, the *penalised* set): loss_i = Σ_{k ∈ D} z_ik² (pushes samples out of those
  axes); D = {0} on every sample in 2.10, 2.9.1 and 2.10.1.

The dims are gathered with a fixed index buffer (`index_select`), never a boolean mask (no host sync on CUDA).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Sequence

import torch
from torch import Tensor

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer


class _AxisTerm(Regularizer):
    """Σ_{k ∈ penalised(K)} z_ik² for a configured set of distinct dims."""

    def __init__(self, dims: Sequence[int], **kwargs):
        super().__init__(**kwargs)
        self.dims = [int(d) for d in dims]
        if not self.dims or len(set(self.dims)) != len(self.dims) or min(self.dims) < 0:
            raise ConfigError(f"dims={self.dims} must list one or more distinct dims ≥ 0")
        self.register_buffer("index", torch.zeros(0, dtype=torch.long), persistent=False)
        self._width: int | None = None

    @abstractmethod
    def penalised(self, width: int) -> list[int]:
        """The dims whose squares are summed, for a latent of `width` dims (increasing order)."""

    def per_sample(self, z: Tensor) -> Tensor:
        if self._width != z.shape[-1] or self.index.device != z.device:
            self._build(z.shape[-1], z.device)
        return (z.index_select(-1, self.index) ** 2).sum(-1)

    def check_width(self, width: int) -> None:
        if max(self.dims) >= width:
            raise ConfigError(f"dims={self.dims} names a dim ≥ model.bottleneck={width}")
        self._build(width, self.index.device)

    def _build(self, width: int, device: torch.device) -> None:
        self.index = torch.tensor(self.penalised(width), dtype=torch.long, device=device)
        self._width = width


class AxisAlignedSubspace(_AxisTerm):
    """loss_i = Σ_{k ∉ dims} z_ik²: keeps samples in the subspace of the `dims` axes."""

    def penalised(self, width: int) -> list[int]:
        return [k for k in range(width) if k not in self.dims]


class AntiSubspace(_AxisTerm):
    """loss_i = Σ_{k ∈ dims} z_ik²: pushes samples out of the `dims` axes."""

    def penalised(self, width: int) -> list[int]:
        return sorted(self.dims)
