"""Sparsity: loss_i = SCALE · Σ_d |z_id|, the L1 norm of each latent row (pushes colors onto few axes)."""

from torch import Tensor

from excolor.extension import Regularizer

SCALE = 1.0  # a constant of the formula: editing it changes the cache key (the model retrains)


class Sparsity(Regularizer):
    """loss_i = SCALE · Σ_d |z_id|."""

    def per_sample(self, z: Tensor) -> Tensor:
        return SCALE * z.abs().sum(-1)
