from collections.abc import Sequence

import torch
from torch import Tensor

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer


class Anchor(Regularizer):
    """loss_i = ‖z_i − a‖²: pins labelled samples to the anchor point a."""

    point: Tensor  # a buffer

    def __init__(self, point: Sequence[float], **kwargs):
        super().__init__(**kwargs)
        point = [float(x) for x in point]
        if len(point) < 2:
            raise ConfigError(f"point={point} needs at least 2 entries")
        self.register_buffer("point", torch.tensor(point))

    def per_sample(self, z: Tensor) -> Tensor:
        return ((z - self.point) ** 2).sum(-1)

    def check_width(self, width: int) -> None:
        if len(self.point) != width:
            raise ConfigError(
                f"point={self.point.tolist()} has {len(self.point)} entries but model.bottleneck={width} "
                "(set `concept` to a vector of that length)"
            )
