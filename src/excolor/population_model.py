"""N color autoencoders stacked along a leading member axis, trained and evaluated as one model.

Every weight carries the member axis (`[N, out, in]`, bias `[N, out]`) and every layer is one
batched matmul, `y[n] = x[n] · W[n]ᵀ + b[n]`, so member n computes what its own `ColorAutoencoder`
would (up to the last bit of rounding), with no interaction between members. Inputs are `[N, B, 3]`
(or `[B, 3]`, broadcast to every member); the `bottleneck` module's output is `[N, B, K]`, so
interventions, which act on the last axis, hook it unchanged. A population of one given `[B, 3]`
answers without the member axis, exactly as its ColorAutoencoder would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from excolor.model import ColorAutoencoder


@runtime_checkable
class StackableModel(Protocol):
    """The extension point of the model group, what training, evaluation and the checkpoint need of
    a population model: N members stacked on a leading axis, trained as one, taken apart again.

    `config` holds the constructor arguments (saved in the checkpoint; `members` = N); inputs are
    [N, B, 3] or [B, 3] (broadcast to every member); a population of one given [B, 3] answers [B, 3]."""

    config: dict[str, Any]
    training: bool

    @property
    def size(self) -> int:
        """N, the number of members."""
        ...

    @property
    def width(self) -> int:
        """K, the width of the latent that regularizers read and interventions rewrite."""
        ...

    def forward(self, x: Tensor) -> Tensor:
        """The reconstruction, [N, B, 3] (clamped to [0, 1] in eval mode)."""
        ...

    def forward_with_latents(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """The reconstruction and the named activations regularizers read ([N, B, K] each)."""
        ...

    def member(self, index: int) -> nn.Module:
        """Member `index` as a model of its own (a copy)."""
        ...


# Where ColorAutoencoder keeps its nn.Linear layers: (Sequential, position).
LINEAR_LAYERS = (("encoder", 0), ("encoder", 2), ("decoder", 0), ("decoder", 2))


class StackedLinear(nn.Module):
    """y[n] = x[n] · W[n]ᵀ + b[n] for every member n: one `baddbmm` for the whole population.
    Weights keep nn.Linear's layout, `[N, out, in]`, bias `[N, out]`."""

    def __init__(self, members: int, in_features: int, out_features: int):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(members, out_features, in_features))
        self.bias = nn.Parameter(torch.empty(members, out_features))

    def forward(self, x: Tensor) -> Tensor:
        """x: [N, B, in], or [B, in] for every member alike → [N, B, out]; a population of one keeps
        x's shape."""
        members = self.weight.shape[0]
        if members == 1:
            # nn.Linear's own kernel: a population of one is the single run bit for bit (a batched
            # GEMM rounds differently in the last place, and 3,001 steps of training amplify that).
            return F.linear(x, self.weight[0], self.bias[0])
        if x.dim() == 2:
            x = x.expand(members, *x.shape)
        return torch.baddbmm(self.bias.unsqueeze(1), x, self.weight.transpose(1, 2))

    def load_members(self, layers: Sequence[nn.Linear]) -> None:
        """Copy one `nn.Linear` per member into the stack."""
        with torch.no_grad():
            self.weight.copy_(torch.stack([layer.weight for layer in layers]))
            self.bias.copy_(torch.stack([layer.bias for layer in layers]))

    def member(self, index: int) -> nn.Linear:
        layer = nn.Linear(self.weight.shape[2], self.weight.shape[1])
        with torch.no_grad():
            layer.weight.copy_(self.weight[index])
            layer.bias.copy_(self.bias[index])
        return layer


class PopulationAutoencoder(ColorAutoencoder):
    """`members` ColorAutoencoders of one architecture (`config`: hidden, bottleneck, normalize,
    output), stacked: the same network with every nn.Linear replaced by a StackedLinear, so the
    forward passes are ColorAutoencoder's own. Build it from trained or freshly initialised members
    with `from_members`; get member i back as a plain `ColorAutoencoder` with `member(i)`."""

    def __init__(
        self,
        members: int,
        hidden: int = 16,
        bottleneck: int = 4,
        normalize: bool = True,
        output: str = "linear",
    ):
        super().__init__(hidden, bottleneck, normalize, output)
        for part, position in LINEAR_LAYERS:
            layer = getattr(self, part)[position]
            getattr(self, part)[position] = StackedLinear(members, layer.in_features, layer.out_features)
        self.config = {**self.config, "members": int(members)}

    @classmethod
    def from_members(cls, models: Sequence[ColorAutoencoder]) -> PopulationAutoencoder:
        """Stack models of one architecture; member i starts as models[i] (same weights, bit for bit)."""
        configs = {tuple(sorted(model.config.items())) for model in models}
        if len(configs) != 1:
            raise ValueError(f"members must share one architecture, got {len(configs)}")
        population = cls(len(models), **models[0].config)
        for part, position in LINEAR_LAYERS:
            getattr(population, part)[position].load_members(
                [getattr(model, part)[position] for model in models]
            )
        return population.train(models[0].training)

    @property
    def size(self) -> int:
        """N, the number of members."""
        return self.config["members"]

    def member(self, index: int) -> ColorAutoencoder:
        """Member `index` as a plain ColorAutoencoder (a copy), in this population's train/eval mode."""
        if not 0 <= index < self.size:
            raise IndexError(f"member {index} is not in a population of {self.size}")
        config = {k: v for k, v in self.config.items() if k != "members"}
        model = ColorAutoencoder(**config)
        for part, position in LINEAR_LAYERS:
            getattr(model, part)[position] = getattr(self, part)[position].member(index)
        return model.to(next(self.parameters()).device).train(self.training)
