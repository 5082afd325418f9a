"""The concept vector an intervention targets: validation and the width check."""

from __future__ import annotations

import math

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
