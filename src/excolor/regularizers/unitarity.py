from torch import Tensor

from excolor.regularizers.base import Regularizer


class Unitarity(Regularizer):
    """loss_i = (‖z_i‖ − 1)²: pulls activations to the unit hypersphere."""

    def per_sample(self, z: Tensor) -> Tensor:
        return (z.norm(dim=-1) - 1) ** 2
