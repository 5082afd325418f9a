from collections.abc import Sequence

import torch
from torch import Tensor

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer


class Planarity(Regularizer):
    """loss_i = Σ_{d ∉ plane} z_id²: pulls samples into the plane spanned by `plane` (dims 0 and 1).

    The off-plane dims are gathered with a fixed index buffer (`index_select`), never a boolean mask:
    a mask index is a `nonzero`, i.e. a host sync on CUDA every step. The gathered values, their order
    and so the sum are those of the mask index, bit for bit."""

    def __init__(self, plane: Sequence[int] = (0, 1), **kwargs):
        super().__init__(**kwargs)
        self.plane = [int(d) for d in plane]
        if len(set(self.plane)) != len(self.plane) or min(self.plane, default=0) < 0:
            raise ConfigError(f"plane={self.plane} must list distinct dims ≥ 0")
        self.register_buffer("off_plane", torch.zeros(0, dtype=torch.long), persistent=False)
        self._width: int | None = None  # the latent width `off_plane` was built for

    def off_plane_dims(self, width: int) -> list[int]:
        """The dims of a width-`width` latent that are not in the plane, in increasing order."""
        return [d for d in range(width) if d not in self.plane]

    def per_sample(self, z: Tensor) -> Tensor:
        if self._width != z.shape[-1] or self.off_plane.device != z.device:
            self._build(z.shape[-1], z.device)  # check_width builds it before training: not in the step
        return (z.index_select(-1, self.off_plane) ** 2).sum(-1)

    def check_width(self, width: int) -> None:
        if max(self.plane) >= width:
            raise ConfigError(f"plane={self.plane} names a dim ≥ model.bottleneck={width}")
        self._build(width, self.off_plane.device)

    def _build(self, width: int, device: torch.device) -> None:
        self.off_plane = torch.tensor(self.off_plane_dims(width), dtype=torch.long, device=device)
        self._width = width
