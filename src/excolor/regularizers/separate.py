import torch
from torch import Tensor
from torch.nn import functional as F

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer

# torch.isclose(c, 1)'s allowed error, |c − 1| ≤ atol + |rtol · 1| (atol 1e-8, rtol 1e-5), rounded as isclose
# rounds it (float32): comparing |c − 1| with it reproduces isclose's mask exactly, in 3 ops instead of ~10.
ISCLOSE_TOLERANCE = float(1e-8 + (1e-5 * torch.ones(1)).abs())


def near_one(c: Tensor) -> Tensor:
    """|c − 1| ≤ 1e-8 + 1e-5 elementwise: exactly torch.isclose(c, torch.ones_like(c)) for float32 c."""
    return (c - 1).abs() <= ISCLOSE_TOLERANCE


class Separate(Regularizer):
    """Angular repulsion within the batch. With rows normalised to unit length, C = Z Zᵀ; entries
    ≈ 1 (self-pairs and duplicate samples: |C_ij − 1| ≤ 1e-8 + 1e-5, torch.isclose) are set to 0; with `shift`, C ← (C + 1)/2;
    loss_i = Σ_j C_ij^p."""

    def __init__(self, power: float = 100.0, shift: bool = True, **kwargs):
        super().__init__(**kwargs)
        if not power > 0:
            raise ConfigError(f"power={power} must be > 0")
        self.power = float(power)
        self.shift = bool(shift)

    def per_sample(self, z: Tensor) -> Tensor:
        unit = F.normalize(z, dim=-1)
        cosine = unit @ unit.transpose(-1, -2)
        # The seed's test for "≈ 1": torch.isclose(c, 1), i.e. |c − 1| ≤ 1e-8 + 1e-5 (rtol 1e-5, atol 1e-8).
        # In place where autograd allows (bmm, masked_fill, add and div save no output): no [N, B, B] copies.
        cosine = cosine.masked_fill_(near_one(cosine), 0.0)
        if self.shift:
            cosine = cosine.add_(1).div_(2)  # (C + 1)/2, the same roundings
        return (cosine**self.power).sum(-1)
