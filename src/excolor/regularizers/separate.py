from functools import cache

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


@cache
def triangle_indices(size: int, device: torch.device) -> tuple[Tensor, Tensor]:
    """For a flattened [size, size] matrix: `upper`, the flat positions of its upper triangle (diagonal
    included, row by row), and `mirror`, for every flat position (i, j) the place of (min, max)(i, j) in
    `upper`, so that `values[upper][mirror]` rebuilds a symmetric matrix from its upper triangle."""
    row, column = torch.triu_indices(size, size, device=device)
    place = torch.empty(size, size, dtype=torch.long, device=device)
    order = torch.arange(len(row), device=device)
    place[row, column] = order
    place[column, row] = order
    return row * size + column, place.flatten()


def power(c: Tensor, exponent: float) -> Tensor:
    """c ** exponent, bit for bit, with its gradient. On the CPU, where the power is one libm call per
    element in the portable kernels (a third of a population's training step), a population's C that is exactly
    symmetric (checked: a batched matmul Z Zᵀ mostly is, not for every shape) takes the power once
    per pair (`SymmetricPower`); elsewhere, for any other C and under torch.compile, torch.pow (no
    check: no host sync, no graph break)."""
    if torch.compiler.is_compiling():  # inductor fuses the power into its own code: no check (a graph break)
        return c**exponent
    # A population's C [N, B, B] only: for one model's [B, B] the check and the gathers cost more than half
    # the powers save (measured: 0.21 v 0.19 ms per step at B = 64).
    if c.dim() > 2 and c.device.type == "cpu" and torch.equal(c, c.transpose(-1, -2)):
        return SymmetricPower.apply(c, exponent)
    return c**exponent


class SymmetricPower(torch.autograd.Function):
    """P = C^p elementwise for symmetric matrices C [..., B, B], with the power taken on the upper
    triangle only and mirrored. The backward is pow's own, grad · (p · C^(p−1)), with C^(p−1)
    likewise taken once per pair. For a symmetric C both are C ** p and its gradient, bit for bit;
    the lower triangle of a C that is not symmetric is ignored (its mirror image is used)."""

    @staticmethod
    def forward(ctx, c: Tensor, power: float) -> Tensor:
        upper, mirror = triangle_indices(c.shape[-1], c.device)
        triangle = c.flatten(-2).index_select(-1, upper)
        ctx.save_for_backward(triangle)
        ctx.power = power
        return triangle.pow(power).index_select(-1, mirror).view(c.shape)

    @staticmethod
    def backward(ctx, *grads: Tensor) -> tuple[Tensor, None]:
        (grad,) = grads
        (triangle,) = ctx.saved_tensors
        _, mirror = triangle_indices(grad.shape[-1], grad.device)
        slope = (ctx.power * triangle.pow(ctx.power - 1)).index_select(-1, mirror).view(grad.shape)
        return grad * slope, None


class Separate(Regularizer):
    """Angular repulsion within the batch. With rows normalised to unit length, C = Z Zᵀ; entries
    ≈ 1 (self-pairs and duplicate samples: |C_ij − 1| ≤ 1e-8 + 1e-5, torch.isclose) are set to 0; with `shift`, C ← (C + 1)/2;
    loss_i = Σ_j C_ij^p (on the CPU once per pair where C is exactly symmetric: `power`)."""

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
        return power(cosine, self.power).sum(-1)
