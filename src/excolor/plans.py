"""Evaluation plans (spec m2-family §1.9 "Sweep score", §15.5.6): a model transform (identity, ablate or
prune, applied to a copy) and a list of interventions on the `bottleneck` output, evaluated on a set of
colours as per-colour MSE(x) = ⅓ Σ_c (clamp(x̂)_c − x_c)² with the model in eval mode.

The re-runs' scoring plans: 2.4.1 and 2.5.1 identity + Suppression(e0, BoundedFalloff(cos 90°, 1, 0));
2.7.1 ablate [0, 1]; 2.9.1 and 2.10.1 ablate [0]. `score_plan` gives each member's sweep score: the
plan's errors on the score's lattice through `excolor.scores` (r² of Pearson(feature^p, MSE)).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from excolor.interventions import intervene
from excolor.scores import Score

LAYER = "bottleneck"
CHUNK = 2**20  # members × colours per forward pass: [members, colours, 16] activations of 64 MB


@dataclass
class Plan:
    """`transform(model) → model` (None: the model itself) and the interventions applied in order."""

    transform: Callable[[nn.Module], nn.Module] | None = None
    interventions: Sequence[nn.Module] = field(default_factory=list)
    layer: str = LAYER

    @torch.inference_mode()
    def errors(self, model: nn.Module, colors: np.ndarray) -> np.ndarray:
        """Per-colour MSE [members, n] (a plain model counts as one member) under the plan; the colours
        go through in chunks of ≤ CHUNK // members (a population on the 552,960-colour loss cube)."""
        model = self.transform(model) if self.transform is not None else model
        was_training = model.training
        model.eval()
        device = next(model.parameters()).device
        x = torch.as_tensor(np.asarray(colors), dtype=torch.float32, device=device)
        members = int(getattr(model, "config", {}).get("members", 1))
        try:
            with intervene(model, self.layer, [m.to(device) for m in self.interventions]):
                error = torch.cat(
                    [((model(part) - part) ** 2).mean(-1) for part in x.split(max(1, CHUNK // members))], -1
                )
        finally:
            model.train(was_training)
        error = error if error.dim() == 2 else error.unsqueeze(0)
        return error.double().cpu().numpy()


def score_plan(model: nn.Module, plan: Plan, score: Score) -> np.ndarray:
    """Each member's sweep score: score(plan.errors(model, score.colors))."""
    return np.atleast_1d(score(plan.errors(model, score.colors)))
