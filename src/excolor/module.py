"""The LightningModule: loss = MSE(reconstruction, input) + Σ_r weight_r(step) · term_r."""

from __future__ import annotations

import math
import time

import lightning as L
import torch
from torch import Tensor
from torch.nn import functional as F

from excolor.checkpoint import MODEL_CONFIG_KEY
from excolor.errors import TrainingDiverged
from excolor.model import ColorAutoencoder
from excolor.regularizers import Regularizer
from excolor.schedule import Schedule


class AutoencoderModule(L.LightningModule):
    """Trains `model` with Adam; the learning rate and every regularizer's weight come from
    `schedule` at each step (a term at weight 0 is skipped).

    Per-step values are kept as detached scalars (cheap on the hot path) and exposed as the `history`
    tensor (one row per step, columns `history_columns`); the Lightning logger and
    `trainer.callback_metrics` receive them every `log_every_n_steps` steps.
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
        self.term_weights = {name: reg.scheduled_weights(schedule) for name, reg in regularizers.items()}
        self.steps = steps
        self.log_every_n_steps = log_every_n_steps
        self.history_columns = ["loss", "recon", *regularizers]
        # One tuple of detached scalars per step: no tensor op on the hot path; `history` stacks them.
        self._rows: list[tuple[Tensor, ...]] = []
        self.register_buffer("_skipped", torch.tensor(math.nan), persistent=False)
        # Manual optimisation: the same Adam step with fewer per-step wrapper layers than Lightning's
        # automatic loop (closures, precision hooks), which dominate the cost on a model this small.
        self.automatic_optimization = False
        self._param_groups: list[dict] = []
        self.first_step_time: float | None = None  # wall clock (time.time) at the first step, for start-up timing

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.learning_rates[0])

    @property
    def history(self) -> Tensor:
        """[steps run, len(history_columns)]: the loss, reconstruction and each term per step (NaN = skipped)."""
        if not self._rows:
            return torch.empty(0, len(self.history_columns))
        return torch.stack([torch.stack(row) for row in self._rows]).cpu()

    def on_train_start(self) -> None:
        self._optimizer = self.optimizers()
        self._param_groups = self._optimizer.optimizer.param_groups
        self.first_step_time = time.time()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        optimizer = self._optimizer
        x, labels = batch
        step = self.global_step
        for group in self._param_groups:
            group["lr"] = self.learning_rates[step]
        y, latents = self.model.forward_with_latents(x)
        recon = F.mse_loss(y, x)
        loss = recon
        terms = []
        for name, regularizer in self.regularizers.items():
            weight = self.term_weights[name][step]
            if weight == 0:
                terms.append(self._skipped)
                continue
            term = regularizer(latents[regularizer.layer], labels)
            loss = loss + weight * term
            terms.append(term.detach())
        optimizer.zero_grad()
        self.manual_backward(loss)
        optimizer.step()
        self._rows.append((loss.detach(), recon.detach(), *terms))
        if step % self.log_every_n_steps == 0 or step == self.steps - 1:
            self._check_finite(step)
            row = torch.stack(self._rows[-1]).tolist()
            logged = {f"train/{c}": v for c, v in zip(self.history_columns, row) if not math.isnan(v)}
            self._publish({"train/lr": self.learning_rates[step], **logged}, step)
        return loss

    def _publish(self, metrics: dict[str, float], step: int) -> None:
        """Send metrics to the logger and to `trainer.callback_metrics` (what monitoring callbacks
        read). Straight to the logger rather than `self.log`: once anything is `self.log`ged, Lightning
        recomputes its result collection after every step, which costs ~8% of this model's run."""
        if self.logger is not None:
            self.logger.log_metrics(metrics, step=step)
        self.trainer.callback_metrics.update({k: torch.tensor(v) for k, v in metrics.items()})

    def _check_finite(self, step: int) -> None:
        start = max(0, step - self.log_every_n_steps)
        losses = torch.stack([row[0] for row in self._rows[start : step + 1]])
        if not torch.isfinite(losses).all():
            bad = int((~torch.isfinite(losses)).nonzero()[0])
            raise TrainingDiverged(f"training diverged: the loss is {losses[bad].item()} at step {start + bad}")

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # The model's constructor arguments, so excolor.load_model rebuilds it without any config.
        checkpoint[MODEL_CONFIG_KEY] = dict(self.model.config)

    def on_train_end(self) -> None:
        self._check_finite(min(self.global_step, self.steps) - 1)
