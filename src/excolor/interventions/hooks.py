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

Interventions are modules; move them to the model's device (`.to(device)`) first.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

import torch
from torch import nn


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
