"""Attaching interventions to a model layer at inference time.

- `intervene(model, layer, interventions, capture=None)`: context manager; while
  active, the output Z of `model.get_submodule(layer)` is replaced by
  interventions[-1](...interventions[0](Z)) (applied in order). If `capture` is a
  list, every (post-intervention) output is appended to it, detached. With no
  interventions and no capture list, no hook is registered at all. The hook is
  removed on exit, also on exception.
- `capture(model, layer)`: context manager yielding a list that collects the
  layer's outputs (a hook with no interventions). To record post-intervention
  latents, pass `capture=` to `intervene` (hook order then cannot matter).
- `concept_vector` / `check_dim`: shared validation of concept vectors.

Interventions are modules; move them to the model's device (`.to(device)`) first.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn

from excolor.errors import ConfigError


def concept_vector(owner: str, concept, dim: int | None = None) -> torch.Tensor:
    """Concept (list/tuple/ListConfig/tensor of floats) as a unit float32 vector."""
    try:
        if isinstance(concept, torch.Tensor):
            values = [float(x) for x in concept.detach().flatten().tolist()]
        else:
            values = [float(x) for x in list(concept)]
    except (TypeError, ValueError):
        raise ConfigError(f"{owner}: concept={concept!r} must be a list of numbers") from None
    norm = math.sqrt(sum(x * x for x in values)) if values else 0.0
    if not (values and math.isfinite(norm) and norm > 0.0):
        raise ConfigError(f"{owner}: concept={values} must be a finite, non-zero vector")
    if dim is not None and len(values) != int(dim):
        raise ConfigError(f"{owner}: concept has length {len(values)} but dim={dim}")
    return torch.tensor(values, dtype=torch.float64).div(norm).float()


def check_dim(intervention: nn.Module, width: int) -> None:
    """Raise ConfigError if the intervention's concept length is not `width`.

    Modules without a concept (no `dim` attribute) pass.
    """
    dim = getattr(intervention, "dim", None)
    if dim is not None and int(dim) != int(width):
        name = type(intervention).__name__.lower()
        raise ConfigError(
            f"intervention {name}: concept has length {dim} but the bottleneck has {width} dims"
        )


@contextmanager
def intervene(
    model: nn.Module,
    layer: str,
    interventions: Sequence[nn.Module],
    capture: list | None = None,
) -> Iterator[None]:
    """Apply `interventions` in order to the output of `model.get_submodule(layer)`."""
    module = model.get_submodule(layer)
    steps = list(interventions)
    if not steps and capture is None:
        yield
        return

    def hook(_mod: nn.Module, _inputs, output):
        if not isinstance(output, torch.Tensor):
            raise TypeError(f"intervene: layer {layer!r} returned {type(output).__name__}, not a tensor")
        for step in steps:
            output = step(output)
        if capture is not None:
            capture.append(output.detach())
        return output

    handle = module.register_forward_hook(hook)
    try:
        yield
    finally:
        handle.remove()


@contextmanager
def capture(model: nn.Module, layer: str) -> Iterator[list[torch.Tensor]]:
    """Yield a list that collects the (detached) outputs of `layer` while active."""
    outputs: list[torch.Tensor] = []
    with intervene(model, layer, [], capture=outputs):
        yield outputs
