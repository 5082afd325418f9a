"""Model surgery around the normalisation (spec m2-family §1.7 `ablate`, `prune`; §15.5.4–5).

The producer is the last Linear layer before the `layer` module (the encoder's Linear(16 → K)) and the
consumer the first Linear layer after it (the decoder's Linear(K → 16)), in module order. Both work
on a copy and on plain models and stacked populations alike (weights [..., out, in], bias [..., out]).

- ablate(dims): producer rows W_p[k, :] = 0 and bias b_p[k] = 0, consumer columns W_c[:, k] = 0 for
  k ∈ dims (the consumer bias is kept). Then h_k ≡ 0 and the L2 norm rescales the remaining
  coordinates to unit length: z = h / ‖h‖ over the kept dims (unlike zeroing z_k after the norm).
- prune(dims): a new producer Linear(in → K − |dims|) from the kept rows and biases and a new consumer
  Linear(K − |dims| → out) from the kept columns and the original bias: K shrinks, outputs equal ablate's.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
from torch import nn

from excolor.errors import ConfigError
from excolor.population_model import StackedLinear

LINEAR = (nn.Linear, StackedLinear)


def _around(model: nn.Module, layer: str) -> tuple[str, str]:
    """Names of the producer and consumer Linear layers around module `layer`."""
    names = [name for name, _ in model.named_modules()]
    if layer not in names:
        raise ConfigError(f"surgery: the model has no module named {layer!r}")
    position = names.index(layer)
    modules = dict(model.named_modules())
    before = [name for name in names[:position] if isinstance(modules[name], LINEAR)]
    after = [
        name
        for name in names[position + 1 :]
        if isinstance(modules[name], LINEAR) and not name.startswith(layer + ".")
    ]
    if not before or not after:
        raise ConfigError(f"surgery: no Linear layer on both sides of {layer!r}")
    return before[-1], after[0]


def _linears(
    model: nn.Module, layer: str
) -> tuple[str, nn.Linear | StackedLinear, str, nn.Linear | StackedLinear]:
    """The producer's name and module and the consumer's, around `layer` (see `_around`)."""
    producer_name, consumer_name = _around(model, layer)
    modules = dict(model.named_modules())
    producer, consumer = modules[producer_name], modules[consumer_name]
    assert isinstance(producer, LINEAR) and isinstance(consumer, LINEAR)  # _around picks Linear layers
    return producer_name, producer, consumer_name, consumer


def _check_dims(dims: Sequence[int], width: int) -> list[int]:
    dims = sorted(int(d) for d in dims)
    if not dims or len(set(dims)) != len(dims) or dims[0] < 0 or dims[-1] >= width:
        raise ConfigError(f"surgery dims={list(dims)} must be distinct dims in [0, {width})")
    if len(dims) == width:
        raise ConfigError(f"surgery dims={list(dims)} would remove every latent dim")
    return dims


def ablate(model: nn.Module, layer: str, dims: Sequence[int]) -> nn.Module:
    """A copy of `model` with the producer rows/biases and consumer columns of `dims` set to 0."""
    model = copy.deepcopy(model)
    _, producer, _, consumer = _linears(model, layer)
    index = torch.tensor(_check_dims(dims, producer.weight.shape[-2]), device=producer.weight.device)
    with torch.no_grad():
        producer.weight.index_fill_(-2, index, 0.0)
        producer.bias.index_fill_(-1, index, 0.0)
        consumer.weight.index_fill_(-1, index, 0.0)
    return model


def _set(model: nn.Module, name: str, module: nn.Module) -> None:
    parent, _, child = name.rpartition(".")
    setattr(model.get_submodule(parent) if parent else model, child, module)


def prune(model: nn.Module, layer: str, dims: Sequence[int]) -> nn.Module:
    """A copy of `model` whose producer and consumer lose the rows/columns of `dims` (K → K − |dims|)."""
    model = copy.deepcopy(model)
    producer_name, producer, consumer_name, consumer = _linears(model, layer)
    width = producer.weight.shape[-2]
    keep = [k for k in range(width) if k not in set(_check_dims(dims, width))]
    kept = torch.tensor(keep, device=producer.weight.device)
    lead = tuple(producer.weight.shape[:-2])  # () for nn.Linear, (N,) for a StackedLinear
    new_producer: nn.Linear | StackedLinear
    new_consumer: nn.Linear | StackedLinear
    if lead:
        new_producer = StackedLinear(lead[0], producer.weight.shape[-1], len(keep))
        new_consumer = StackedLinear(lead[0], len(keep), consumer.weight.shape[-2])
    else:
        new_producer = nn.Linear(producer.weight.shape[-1], len(keep))
        new_consumer = nn.Linear(len(keep), consumer.weight.shape[-2])
    new_producer.to(producer.weight.device, producer.weight.dtype)
    new_consumer.to(consumer.weight.device, consumer.weight.dtype)
    with torch.no_grad():
        new_producer.weight.copy_(producer.weight.index_select(-2, kept))
        new_producer.bias.copy_(producer.bias.index_select(-1, kept))
        new_consumer.weight.copy_(consumer.weight.index_select(-1, kept))
        new_consumer.bias.copy_(consumer.bias)
    _set(model, producer_name, new_producer)
    _set(model, consumer_name, new_consumer)
    config = getattr(model, "config", None)
    if isinstance(config, dict) and "bottleneck" in config:
        # the width the rest reads; torch types Module.__setattr__'s value as Tensor | Module, though
        # it stores any other value as a plain attribute
        model.config = {**config, "bottleneck": len(keep)}  # pyright: ignore[reportArgumentType]
    return model
