"""The concept vector an intervention targets: validation and the width check."""

from __future__ import annotations

import math
from typing import Any, TypeVar

import torch
from torch import nn

from excolor.errors import ConfigError
from excolor.interventions.base import Intervention

T = TypeVar("T")


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


def check_dim(intervention: nn.Module, width: int) -> Intervention:
    """Raise ConfigError if `intervention` is not an `Intervention` (excolor.extension) or its concept
    length (`dim`; None: any width) is not `width`; else return it."""
    if not isinstance(intervention, Intervention):
        kind = type(intervention)
        raise ConfigError(
            f"{kind.__module__}.{kind.__qualname__} is not an Intervention "
            "(subclass excolor.extension.Intervention)"
        )
    dim = intervention.dim
    if dim is not None and int(dim) != int(width):
        name = type(intervention).__name__.lower()
        raise ConfigError(
            f"intervention {name}: concept has length {dim} but the bottleneck has {width} dims"
        )
    return intervention


def part(owner: str, key: str, value: Any, kind: type[T]) -> T:
    """`value` (a falloff, a mapper) if it is a `kind`, else ConfigError naming `owner` and `key`."""
    if not isinstance(value, kind):
        raise ConfigError(
            f"{owner}: {key}={type(value).__name__} is not a {kind.__name__} "
            f"(subclass excolor.extension.{kind.__name__})"
        )
    return value
