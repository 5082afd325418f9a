import torch
from torch import Tensor
from torch.nn import functional as F

from excolor.errors import ConfigError
from excolor.regularizers.base import Regularizer


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
        cosine = torch.where(torch.isclose(cosine, torch.ones_like(cosine)), torch.zeros_like(cosine), cosine)
        if self.shift:
            cosine = (cosine + 1) / 2
        return (cosine**self.power).sum(-1)
