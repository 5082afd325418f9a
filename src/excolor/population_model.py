"""N models of one architecture stacked along a leading member axis, trained and evaluated as one model.

Stacking is generic: it walks the template model's modules and replaces every `nn.Linear` by a
`StackedLinear` at the same path; parameter-free modules (GELU, L2Norm, Identity, Sigmoid, …) are kept
and any other module with parameters is refused (`stack_linears`). The forward passes are the template's.

Every weight carries the member axis (`[N, out, in]`, bias `[N, out]`) and every layer is one
batched matmul, `y[n] = x[n] · W[n]ᵀ + b[n]`, so member n computes what its own model
would (up to the last bit of rounding), with no interaction between members. Inputs are `[N, B, 3]`
(or `[B, 3]`, broadcast to every member); the `bottleneck` module's output is `[N, B, K]`, so
interventions, which act on the last axis, hook it unchanged. A population of one given `[B, 3]`
answers without the member axis, exactly as its own model would.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar, Generic, Protocol, TypeVar, runtime_checkable

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from excolor.errors import ConfigError
from excolor.model import ColorAutoencoder


@runtime_checkable
class StackableModel(Protocol):
    """The extension point of the model group, what training, evaluation and the checkpoint need of
    a population model: N members stacked on a leading axis, trained as one, taken apart again.

    `config` holds the constructor arguments (saved in the checkpoint; `members` = N); inputs are
    [N, B, 3] or [B, 3] (broadcast to every member); a population of one given [B, 3] answers [B, 3].

    `StackedModel` provides `size` and `member` for any model built from nn.Linear and parameter-free
    modules: a model of your own is stackable when it keeps its constructor arguments in `config` and
    has `width` and `forward_with_latents` (evaluation also calls `latent` and `reconstruct`, as
    ColorAutoencoder defines them)."""

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


def stack_linears(model: nn.Module, members: int) -> list[str]:
    """Replace every nn.Linear of `model` by an (uninitialised) StackedLinear of `members` at the same
    path; keep parameter-free modules; refuse any other module that holds parameters, in one line
    naming it. Returns the stacked paths, in module order."""
    paths: list[str] = []
    seen: dict[int, str] = {}
    for path, module in list(model.named_modules(remove_duplicate=False)):
        where = f"{path} ({type(module).__qualname__})" if path else type(module).__qualname__
        if id(module) in seen and any(True for _ in module.parameters()):
            raise ConfigError(
                f"model: cannot stack {where}: it shares its parameters with {seen[id(module)]}"
            )
        seen[id(module)] = path
        if isinstance(module, nn.Linear):
            if module.bias is None:
                raise ConfigError(f"model: cannot stack {where}: a stacked Linear layer needs a bias")
            parent, _, name = path.rpartition(".")
            setattr(
                model.get_submodule(parent),
                name,
                StackedLinear(members, module.in_features, module.out_features),
            )
            paths.append(path)
        elif any(True for _ in module.parameters(recurse=False)):
            raise ConfigError(
                f"model: cannot stack {where}: a population stacks nn.Linear layers and parameter-free "
                "modules only"
            )
    return paths


Model = TypeVar("Model", bound=nn.Module)


class StackedModel(nn.Module, Generic[Model]):
    """Mixed in front of a model class (`template`): the template's network with every nn.Linear
    replaced by a StackedLinear at the same path (`stack_linears`), so its forward passes are the
    template's own code and its state-dict keys the template's. The template keeps its constructor
    arguments in a `config` dict; the stack adds `members` = N. Build it from trained or freshly
    initialised models with `from_members`; get model i back with `member(i)`.

    `stacked_class(template)` makes (once per template class) the stacked class of any model class;
    `PopulationAutoencoder` is ColorAutoencoder's."""

    template: ClassVar[type[nn.Module]]
    config: dict[str, Any]

    def __init__(self, members: int, **config: Any):
        super().__init__(**config)
        if not isinstance(getattr(self, "config", None), dict):
            raise ConfigError(
                f"model: cannot stack {self.template.__qualname__}: it keeps no `config` dict of its "
                "constructor arguments (needed to rebuild a member)"
            )
        stack_linears(self, int(members))
        self.config = {**self.config, "members": int(members)}

    @staticmethod
    def from_members(models: Sequence[Model]) -> StackedModel[Model]:
        """Stack models of one architecture (class and `config`); member i starts as models[i] (same
        weights, bit for bit). The result is `stacked_class(type(models[0]))`, whichever class it is
        called on."""
        if not models:
            raise ValueError("from_members needs at least one model")
        first = models[0]
        configs = [getattr(model, "config", None) for model in models]
        if any(type(model) is not type(first) for model in models) or any(c != configs[0] for c in configs):
            kinds = {(type(model).__qualname__, repr(config)) for model, config in zip(models, configs)}
            raise ValueError(f"members must share one architecture, got {len(kinds)}")
        population = stacked_class(type(first))(len(models), **(configs[0] or {}))
        for path in population.stacked_paths:
            stacked = population.get_submodule(path)
            assert isinstance(stacked, StackedLinear)  # stacked_paths names StackedLinear layers
            stacked.load_members([_linear(model, path) for model in models])
        return population.train(first.training)

    @property
    def stacked_paths(self) -> list[str]:
        """The paths of the StackedLinear layers, in module order."""
        return [path for path, module in self.named_modules() if isinstance(module, StackedLinear)]

    @property
    def size(self) -> int:
        """N, the number of members."""
        return self.config["members"]

    @property
    def width(self) -> int:
        """K, the template's `width` (the latent width regularizers and interventions read): its
        property, or the plain attribute its constructor set (kept by the setter below)."""
        if "width" in self.__dict__:
            return int(self.__dict__["width"])
        # the template's property, which the type checker cannot see through the mixin's super()
        return int(getattr(super(), "width"))  # noqa: B009

    @width.setter
    def width(self, value: int) -> None:
        self.__dict__["width"] = value

    def member(self, index: int) -> Model:
        """Member `index` as a model of the template's class (a copy), in this population's train/eval mode."""
        if not 0 <= index < self.size:
            raise IndexError(f"member {index} is not in a population of {self.size}")
        config = {k: v for k, v in self.config.items() if k != "members"}
        model: Any = self.template(**config)  # the template class is Model
        for path in self.stacked_paths:
            stacked = self.get_submodule(path)
            assert isinstance(stacked, StackedLinear)
            parent, _, name = path.rpartition(".")
            setattr(model.get_submodule(parent), name, stacked.member(index))
        return model.to(next(self.parameters()).device).train(self.training)


def _linear(model: nn.Module, path: str) -> nn.Linear:
    layer = model.get_submodule(path)
    if not isinstance(layer, nn.Linear):
        raise ValueError(f"{path} is {type(layer).__qualname__}, not an nn.Linear")
    return layer


class PopulationAutoencoder(StackedModel[ColorAutoencoder], ColorAutoencoder):
    """`members` ColorAutoencoders of one architecture (`config`: hidden, bottleneck, normalize,
    output, nonlinear_layers), stacked (see StackedModel); `member(i)` is a plain ColorAutoencoder."""

    template = ColorAutoencoder


_STACKED: dict[type[nn.Module], type[StackedModel[Any]]] = {ColorAutoencoder: PopulationAutoencoder}


def stacked_class(template: type[Model]) -> type[StackedModel[Model]]:
    """The stacked class of model class `template` (made once, then reused): `StackedModel` in front of it."""
    if issubclass(template, StackedModel):
        raise ValueError(f"{template.__qualname__} is already stacked")
    if template not in _STACKED:
        _STACKED[template] = type(
            f"Stacked{template.__name__}",
            (StackedModel, template),
            {
                "template": template,
                "__module__": __name__,
                "__doc__": f"A population of {template.__qualname__}.",
            },
        )
    return _STACKED[template]
