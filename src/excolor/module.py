"""The LightningModule for a population of N members (a single run is a population of one):

    loss_n = MSE(reconstruction_n, input_n) + Σ_r schedule_r(step) · multiplier_{r,n} · term_{r,n}
    loss   = Σ_n loss_n

The members never interact: d loss / d θ_n = d loss_n / d θ_n, and Adam is elementwise, so one
optimizer over the stacked tensors updates every member exactly as its own optimizer would."""

from __future__ import annotations

import logging
import math
import time

import lightning as L
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor

from excolor.checkpoint import MODEL_CONFIG_KEY
from excolor.errors import TrainingDiverged
from excolor.population_model import PopulationAutoencoder
from excolor.regularizers import Regularizer
from excolor.schedule import Schedule

log = logging.getLogger(__name__)


class AutoencoderModule(L.LightningModule):
    """Trains the stacked `model` with Adam; the learning rate and every regularizer's scheduled weight
    come from `schedule` at each step (a term whose schedule is 0 is skipped); each member's term is
    further multiplied by the regularizer's `member_weights`.

    Per-step values are kept as detached per-member vectors (cheap on the hot path) and exposed as the
    `history` tensor ([steps, columns `history_columns`, members]); the Lightning logger and
    `trainer.callback_metrics` receive their median over members every `log_every_n_steps` steps.
    """

    def __init__(
        self,
        model: PopulationAutoencoder,
        regularizers: dict[str, Regularizer],
        schedule: Schedule,
        steps: int,
        log_every_n_steps: int = 50,
    ):
        super().__init__()
        self.model = model
        self.regularizers = torch.nn.ModuleDict(regularizers)
        self._terms: list[tuple[str, Regularizer]] = list(regularizers.items())  # the same modules, typed
        self.learning_rates = schedule["lr"].tolist()
        self.schedule_values = {name: reg.schedule_column(schedule) for name, reg in regularizers.items()}
        self.steps = steps
        self.log_every_n_steps = log_every_n_steps
        self.history_columns = ["loss", "recon", *regularizers]
        # One tuple of detached [N] vectors per step: no extra tensor op on the hot path. At every logged
        # step they are stacked into one [k, columns, N] chunk: thousands of tiny long-lived tensors
        # would otherwise settle in the heap holes that each epoch's large draws leave, and glibc's heap
        # then grows by about one epoch's draw per epoch (~130 KB per step at N = 32).
        self._rows: list[tuple[Tensor, ...]] = []
        self._chunks: list[Tensor] = []
        self._chunked_steps = 0
        self.register_buffer("_skipped", torch.full((model.size,), math.nan), persistent=False)
        # Manual optimisation: the same Adam step with fewer per-step wrapper layers than Lightning's
        # automatic loop (closures, precision hooks), which dominate the cost on a model this small.
        self.automatic_optimization = False
        self._param_groups: list[dict] = []
        self.diverged = torch.zeros(model.size, dtype=torch.bool)  # per member: its loss went non-finite
        self.first_step_time: float | None = None  # wall clock (time.time) at the first step, for start-up timing

    def configure_optimizers(self):
        return torch.optim.Adam(self.model.parameters(), lr=self.learning_rates[0])

    @property
    def history(self) -> Tensor:
        """[steps run, len(history_columns), members]: each member's loss, reconstruction and terms per
        step (NaN = skipped)."""
        chunks = [*self._chunks, self._stacked_rows()] if self._rows else self._chunks
        if not chunks:
            return torch.empty(0, len(self.history_columns), self.model.size)
        return torch.cat(chunks).cpu()

    def _stacked_rows(self) -> Tensor:
        return torch.stack([torch.stack(row) for row in self._rows])

    def _compact(self) -> None:
        """Move the rows since the last logged step into one chunk (see `__init__`)."""
        if self._rows:
            self._chunks.append(self._stacked_rows())
            self._chunked_steps += len(self._rows)
            self._rows = []

    def on_train_start(self) -> None:
        optimizer = self.optimizers()
        assert isinstance(optimizer, LightningOptimizer)  # configure_optimizers returns one
        self._optimizer = optimizer
        self._param_groups = self._optimizer.optimizer.param_groups
        self.first_step_time = time.time()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        optimizer = self._optimizer
        x, labels = batch
        if self.model.size == 1:  # a population of one trains unstacked: the single model's own kernels
            x, labels = x[0], labels[0]
        step = self.global_step
        for group in self._param_groups:
            group["lr"] = self.learning_rates[step]
        y, latents = self.model.forward_with_latents(x)
        recon = ((y - x) ** 2).mean((-2, -1)).reshape(self.model.size)  # each member's MSE
        loss = recon
        terms = []
        for name, regularizer in self._terms:
            scheduled = self.schedule_values[name][step]
            if scheduled == 0:
                terms.append(self._skipped)
                continue
            term = regularizer(latents[regularizer.layer], labels)
            loss = loss + (scheduled * regularizer.member_weights).float() * term
            terms.append(term.detach().reshape(self.model.size))
        optimizer.zero_grad()
        self.manual_backward(loss.sum())
        optimizer.step()
        self._rows.append((loss.detach(), recon.detach(), *terms))
        if step % self.log_every_n_steps == 0 or step == self.steps - 1:
            self._check_finite()
            row = torch.stack(self._rows[-1]).nanmedian(-1).values.tolist()
            logged = {f"train/{c}": v for c, v in zip(self.history_columns, row) if not math.isnan(v)}
            self._publish({"train/lr": self.learning_rates[step], **logged}, step)
            self._compact()
        return loss.sum()

    def _publish(self, metrics: dict[str, float], step: int) -> None:
        """Send metrics to the logger and to `trainer.callback_metrics` (what monitoring callbacks
        read). Straight to the logger rather than `self.log`: once anything is `self.log`ged, Lightning
        recomputes its result collection after every step, which costs ~8% of this model's run."""
        if self.logger is not None:
            self.logger.log_metrics(metrics, step=step)
        self.trainer.callback_metrics.update({k: torch.tensor(v) for k, v in metrics.items()})

    def _check_finite(self) -> None:
        """A member whose loss went non-finite (in the steps since the last check) has diverged. Members
        never interact, so the others go on (the diverged one's metrics come out NaN and `diverged`
        marks it); the run fails, in one line, when every member has diverged (a single run: when it has)."""
        if not self._rows:
            return
        start = self._chunked_steps  # the step of the first row not yet checked
        losses = torch.stack([row[0] for row in self._rows])  # [steps, N]
        bad = ~torch.isfinite(losses)
        newly = bad.any(0).cpu() & ~self.diverged
        if not newly.any():
            return
        self.diverged |= newly
        for member in newly.nonzero().flatten().tolist():
            bad_step = int(bad[:, member].nonzero()[0])
            where = f"the loss of member {member}" if self.model.size > 1 else "the loss"
            message = f"training diverged: {where} is {losses[bad_step, member].item()} at step {start + bad_step}"
            if self.diverged.all():
                raise TrainingDiverged(message if self.model.size == 1 else f"{message}; every member has diverged")
            log.warning("%s; the other members go on", message)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # The model's constructor arguments, so excolor.load_model rebuilds it without any config.
        checkpoint[MODEL_CONFIG_KEY] = dict(self.model.config)

    def on_train_end(self) -> None:
        self._check_finite()
