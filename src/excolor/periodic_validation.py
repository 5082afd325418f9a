"""Validation during training (spec m2-family §1.4 Pipeline C, §1.9 "Validation metrics", §15.4.8).

Every `every` = max_steps // 10 training steps (after steps every − 1, 2·every − 1, …: 150, 300, …, 1,500
for 1,501 steps) the model runs in eval mode (output clamped to [0, 1]) on the data's validation set,
whose fixed batches j hold B_j colours with exact labels, and records per member

    val/recon  = Σ_j B_j · MSE_j / Σ_j B_j  = the mean over all n colours and channels of (x̂ − x)²
    val/<term> = Σ_j B_j · term(z_j, y_j) / Σ_j B_j   for each `train+validate` regularizer

(Lightning's epoch mean of per-batch values). A term whose labels the set does not hold is not
validated (upstream skips it: 2.4.1 validates red only, so never logs val_subspace). The values of the
last validation are the run's.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import torch
from torch import Tensor

from excolor.lattice import ValidationSet, val_check_interval
from excolor.metrics import RECON_TERM, val_name
from excolor.regularizers.base import Regularizer

log = logging.getLogger("excolor.train")


class PeriodicValidation:
    """The validation pass of one run (see the module doc); `last` holds the latest values, each [N]."""

    def __init__(
        self,
        validation: ValidationSet,
        regularizers: Mapping[str, Regularizer],
        label_names: Sequence[str],
        steps: int,
    ):
        self.validation = validation
        self.every = val_check_interval(steps)
        self.labels = validation.labels_for(label_names)
        self.terms: dict[str, Regularizer] = {}
        for name, regularizer in regularizers.items():
            if not regularizer.validates:
                continue
            labels = [label for label, affinity in regularizer.label_affinities.items() if affinity != 0]
            if validation.validates(labels):
                self.terms[name] = regularizer
            else:
                log.info(
                    "regularizer %r is not validated: the validation set has no %s label",
                    name,
                    ", ".join(label for label in labels if label not in validation.label_names),
                )
        self.last: dict[str, Tensor] = {}

    def due(self, step: int) -> bool:
        """Whether a validation follows training step `step` (0-based)."""
        return (step + 1) % self.every == 0

    @torch.no_grad()
    def __call__(self, model) -> None:
        """Validate `model` (a population; one member trains unstacked) and keep the values."""
        was_training = model.training
        model.eval()
        try:
            device = next(model.parameters()).device
            x = self.validation.colors.to(device)
            if model.size > 1:
                x = x.expand(model.size, *x.shape)
            y, latents = model.forward_with_latents(x)
            values = {val_name(RECON_TERM): ((y - x) ** 2).mean((-2, -1)).reshape(model.size)}
            labels = self.labels.to(device)
            for name, regularizer in self.terms.items():
                value = self.validation.epoch_mean(regularizer, latents[regularizer.layer], labels)
                values[val_name(name)] = value.reshape(model.size)
        finally:
            model.train(was_training)
        self.last = values

    def metrics(self, members: int) -> list[dict[str, float]]:
        """The last validation's values, one dict per member (empty dicts before any validation)."""
        columns = {name: value.cpu().tolist() for name, value in self.last.items()}
        return [{name: float(column[m]) for name, column in columns.items()} for m in range(members)]
