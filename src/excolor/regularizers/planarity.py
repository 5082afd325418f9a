from collections.abc import Sequence

import torch
from torch import Tensor

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer


class Planarity(Regularizer):
    """loss_i = Σ_{d ∉ plane} z_id²: pulls samples into the plane spanned by `plane` (dims 0 and 1)."""

    def __init__(self, plane: Sequence[int] = (0, 1), **kwargs):
        super().__init__(**kwargs)
        self.plane = [int(d) for d in plane]
        if len(set(self.plane)) != len(self.plane) or min(self.plane, default=0) < 0:
            raise ConfigError(f"plane={self.plane} must list distinct dims ≥ 0")

    def per_sample(self, z: Tensor) -> Tensor:
        off_plane = torch.ones(z.shape[-1], dtype=torch.bool, device=z.device)
        off_plane[self.plane] = False
        return (z[..., off_plane] ** 2).sum(-1)

    def check_width(self, width: int) -> None:
        if max(self.plane) >= width:
            raise ConfigError(f"plane={self.plane} names a dim ≥ model.bottleneck={width}")
