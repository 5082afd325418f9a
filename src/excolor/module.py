"""The LightningModule: loss = MSE(reconstruction, input) + Σ_r weight_r(step) · term_r."""

from __future__ import annotations

import math
import time

import lightning as L
import torch
from torch import Tensor
from torch.nn import functional as F

from excolor.checkpoint import MODEL_CONFIG_KEY
from excolor.model import ColorAutoencoder
from excolor.regularizers import Regularizer
from excolor.schedule import Schedule


class TrainingDiverged(RuntimeError):
    """The loss became non-finite."""


class AutoencoderModule(L.LightningModule):
    """Trains `model` with Adam; the learning rate and every regularizer's weight come from
    `schedule` at each step (a term at weight 0 is skipped).

    Per-step values go into a preallocated `history` tensor (one row per step, columns
    `history_columns`), which is cheap on the hot path; the Lightning logger receives them every
    `log_every_n_steps` steps.
    """

    def __init__(
        self,
        model: ColorAutoencoder,
        regularizers: dict[str, Regularizer],
        schedule: Schedule,
        steps: int,
        log_every_n_steps: int = 50,
    ):
        super().__init__()
        self.model = model
        self.regularizers = torch.nn.ModuleDict(regularizers)
        self.learning_rates = schedule["lr"].tolist()
        # A regularizer that no column drives runs at weight 1 (times its multiplier).
        self.term_weights = {
            name: [reg.weight * w for w in schedule[reg.column].tolist()] if reg.column in schedule.values else [reg.weight] * len(schedule)
            for name, reg in regularizers.items()
        }
        self.steps = steps
        self.log_every_n_steps = log_every_n_steps
        self.history_columns = ["loss", "recon", *regularizers]
        self.register_buffer("history", torch.full((steps, len(self.history_columns)), math.nan), persistent=False)
        # Manual optimisation: the same Adam step with fewer per-step wrapper layers than Lightning's
        # automatic loop (closures, precision hooks), which dominate the cost on a model this small.
        self.automatic_optimization = False
        self._param_groups: list[dict] = []
        self.first_step_time: float | None = None  # wall clock (time.time) at the first step, for start-up timing

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.learning_rates[0])

    def on_train_start(self) -> None:
        self._param_groups = self.optimizers().optimizer.param_groups
        self.first_step_time = time.time()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        optimizer = self.optimizers()
        x, labels = batch
        step = self.global_step
        for group in self._param_groups:
            group["lr"] = self.learning_rates[step]
        y, latents = self.model.forward_with_latents(x)
        recon = F.mse_loss(y, x)
        loss = recon
        nan = recon.new_tensor(math.nan)
        terms = []
        for name, regularizer in self.regularizers.items():
            weight = self.term_weights[name][step]
            if weight == 0:
                terms.append(nan)
                continue
            term = regularizer(latents[regularizer.layer], labels)
            loss = loss + weight * term
            terms.append(term.detach())
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        self.history[step] = torch.stack([loss.detach(), recon.detach(), *terms])
        if step % self.log_every_n_steps == 0 or step == self.steps - 1:
            self._check_finite(step)
            logged = {f"train/{c}": v for c, v in zip(self.history_columns, self.history[step].tolist()) if not math.isnan(v)}
            self.log_dict({"train/lr": self.learning_rates[step], **logged}, on_step=True, on_epoch=False)
        return loss

    def _check_finite(self, step: int) -> None:
        start = max(0, step - self.log_every_n_steps)
        losses = self.history[start : step + 1, self.history_columns.index("loss")]
        if not torch.isfinite(losses).all():
            bad = start + int((~torch.isfinite(losses)).nonzero()[0])
            raise TrainingDiverged(f"training diverged: the loss is {losses[bad - start].item()} at step {bad}")

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # The model's constructor arguments, so excolor.load_model rebuilds it without any config.
        checkpoint[MODEL_CONFIG_KEY] = dict(self.model.config)

    def on_train_end(self) -> None:
        self._check_finite(min(self.global_step, self.steps) - 1)
