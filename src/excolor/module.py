"""The LightningModule for a population of N members (a single run is a population of one):

    loss_n = MSE(reconstruction_n, input_n) + Σ_r schedule_r(step) · multiplier_{r,n} · term_{r,n}
    loss   = Σ_n loss_n

The members never interact: d loss / d θ_n = d loss_n / d θ_n, and Adam is elementwise, so one
optimizer over the stacked tensors updates every member exactly as its own optimizer would."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Sequence

import lightning as L
import torch
from lightning.pytorch.core.optimizer import LightningOptimizer
from torch import Tensor

from excolor.checkpoint import ARCHITECTURE_KEY, MODEL_CONFIG_KEY, architecture_name
from excolor.errors import TrainingDiverged
from excolor.member_adam import MemberAdam
from excolor.metrics import LOSS_TERM, RECON_TERM, TRAIN_LR, train_name
from excolor.periodic_validation import PeriodicValidation
from excolor.population_model import PopulationAutoencoder
from excolor.regularizers import Regularizer
from excolor.schedule import Schedule
from excolor.step_graphs import CudaGraphs, GraphBackend, StepGraphs

log = logging.getLogger(__name__)


class AutoencoderModule(L.LightningModule):
    """Trains the stacked `model` with Adam; the learning rate and every regularizer's scheduled weight
    come from `schedule` at each step (a term whose schedule is 0 is skipped); each member's term is
    further multiplied by the regularizer's `member_weights`, and its learning rate by its `lr_scales`
    entry (MemberAdam, when any differs from 1).

    Per-step values are kept as detached per-member vectors (cheap on the hot path) and exposed as the
    `history` tensor ([steps, columns `history_columns`, members]); the Lightning logger and
    `trainer.callback_metrics` receive their median over members every `log_every_n_steps` steps.
    """

    _term_weights: Tensor  # buffers registered in __init__
    _skipped: Tensor

    def __init__(
        self,
        model: PopulationAutoencoder,
        regularizers: dict[str, Regularizer],
        schedule: Schedule,
        steps: int,
        log_every_n_steps: int = 50,
        cuda_graphs: bool = False,
        lr_scales: Sequence[float] | None = None,
        validation: PeriodicValidation | None = None,
    ):
        super().__init__()
        self.model = model
        self.regularizers = torch.nn.ModuleDict(regularizers)
        self._terms: list[tuple[str, Regularizer]] = list(regularizers.items())  # the same modules, typed
        self.learning_rates = schedule["lr"].tolist()
        # Member n steps with lr(t) · lr_scales[n] (MemberAdam); None, or every scale 1: torch's Adam.
        self.lr_scales = None if lr_scales is None or all(s == 1 for s in lr_scales) else list(lr_scales)
        if lr_scales is not None and len(lr_scales) != model.size:
            raise ValueError(f"lr_scales has {len(lr_scales)} values for {model.size} members")
        self.schedule_values = {name: reg.schedule_column(schedule) for name, reg in regularizers.items()}
        # Each term's per-member weight at every step, schedule_r(step) · multiplier_{r,n}, as one
        # [steps, terms, N] float32 buffer: it moves with the model, and a step reads a row (a view, no
        # kernel, nothing made on the host). Rounded as the product of the float64 values, as before.
        table = self._weight_table(regularizers, min(steps, len(schedule)))
        self.register_buffer("_term_weights", table, persistent=False)
        self.steps = steps
        self.log_every_n_steps = log_every_n_steps
        self.history_columns = [LOSS_TERM, RECON_TERM, *regularizers]
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
        self.first_step_time: float | None = (
            None  # wall clock (time.time) at the first step, for start-up timing
        )
        self.cuda_graphs = cuda_graphs  # replay steps as captured CUDA graphs (excolor.step_graphs)
        self._backend: GraphBackend | None = None
        self._graphs: StepGraphs | None = None
        self.validation = validation  # every max_steps // 10 steps, on the data's validation set

    def _weight_table(self, regularizers: dict[str, Regularizer], steps: int) -> Tensor:
        """[steps, terms, N]: schedule value × member weight, each product in float64, then float32."""
        if not regularizers:
            return torch.zeros(steps, 0, self.model.size)
        columns = [
            torch.tensor(self.schedule_values[name][:steps], dtype=torch.float64) for name in regularizers
        ]
        weights = [reg.member_weights.to(torch.float64).cpu() for reg in regularizers.values()]
        products = [column[:, None] * weight[None, :] for column, weight in zip(columns, weights)]
        return torch.stack(products, 1).float()

    def configure_optimizers(self):
        # Off the CPU (Lightning moves the model before it calls this): Adam keeps its step counters on
        # the device (`capturable`), so a step creates nothing on the host and could be graph-captured.
        # On the CPU: torch's default Adam, as always (the CPU results stay bit for bit what they were).
        device = next(self.model.parameters()).device
        capturable = device.type != "cpu"
        foreach = True if capturable else None  # None: torch's default
        if (
            capturable
        ):  # torch warns that capturable steps run uncaptured cost more: a few launches per step, known
            warnings.filterwarnings("ignore", message="This instance was constructed with capturable=True")
        self._backend = self._graph_backend(device)
        lr = self.learning_rates[0]
        params = self.model.parameters()
        if self._backend is not None:  # a replayed step reads its learning rate from the device
            lr = torch.tensor(lr, device=device)
        if self.lr_scales is not None:
            return MemberAdam(params, torch.tensor(self.lr_scales, device=device), lr=lr)
        return torch.optim.Adam(params, lr=lr, foreach=foreach, capturable=capturable)

    def _graph_backend(self, device: torch.device) -> GraphBackend | None:
        """CUDA graphs when asked for (`cuda_graphs`) and training on CUDA; None: eager steps."""
        if not self.cuda_graphs:
            return None
        if device.type != "cuda":
            log.warning("cuda_graphs=true: training on %s, not CUDA; the steps run eagerly", device)
            return None
        return CudaGraphs()

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
        if self._backend is not None:
            torch_optimizer = self._optimizer.optimizer
            lr = torch_optimizer.param_groups[0]["lr"]
            self._graphs = StepGraphs(self._backend, self._graph_losses, torch_optimizer, lr)
        self.first_step_time = time.time()

    def training_step(self, batch: tuple[Tensor, Tensor], batch_idx: int) -> Tensor:
        x, labels = batch
        if self.model.size == 1:  # a population of one trains unstacked: the single model's own kernels
            x, labels = x[0], labels[0]
        step = self.global_step
        weights = self._term_weights[step]  # [terms, N] on the model's device
        # Which terms run: host-side floats, no sync.
        active = tuple(self.schedule_values[name][step] != 0 for name in self.regularizers)
        if self._graphs is not None:
            # Lightning counts a manual step (global_step) in these two hooks of its optimizer wrapper,
            # whose step() the replayed graph stands in for.
            self._optimizer._on_before_step()
            rows = self._graphs(x, labels, weights, active, self.learning_rates[step])
            self._optimizer._on_after_step()
            loss = rows[0]
            self._rows.append(tuple(rows.unbind(0)))
        else:
            optimizer = self._optimizer
            for group in self._param_groups:
                group["lr"] = self.learning_rates[step]
            loss, recon, terms = self._losses(x, labels, weights, active)
            optimizer.zero_grad()
            self.manual_backward(loss.sum())
            optimizer.step()
            self._rows.append((loss.detach(), recon.detach(), *terms))
        if self.validation is not None and self.validation.due(step):
            self.validation(self.model)
        if step % self.log_every_n_steps == 0 or step == self.steps - 1:
            self._check_finite()
            row = torch.stack(self._rows[-1]).nanmedian(-1).values.tolist()
            logged = {train_name(c): v for c, v in zip(self.history_columns, row) if not math.isnan(v)}
            self._publish({TRAIN_LR: self.learning_rates[step], **logged}, step)
            self._compact()
        return loss.sum()

    def _losses(
        self, x: Tensor, labels: Tensor, weights: Tensor, active: tuple[bool, ...]
    ) -> tuple[Tensor, Tensor, list[Tensor]]:
        """Each member's loss and reconstruction error [N], and its terms' detached values (NaN where
        a term is skipped): the module docstring's formula, terms weighted by `weights` [terms, N]."""
        y, latents = self.model.forward_with_latents(x)
        recon = ((y - x) ** 2).mean((-2, -1)).reshape(self.model.size)  # each member's MSE
        loss = recon
        terms = []
        for index, (runs, (_, regularizer)) in enumerate(zip(active, self._terms)):
            if not runs:
                terms.append(self._skipped)
                continue
            term = regularizer(latents[regularizer.layer], labels)
            loss = loss + weights[index] * term
            terms.append(term.detach().reshape(self.model.size))
        return loss, recon, terms

    def _graph_losses(
        self, x: Tensor, labels: Tensor, weights: Tensor, active: tuple[bool, ...]
    ) -> tuple[Tensor, Tensor]:
        """For StepGraphs: the step's rows [loss, recon, terms…] as one [columns, N] tensor, and the
        summed loss to differentiate."""
        loss, recon, terms = self._losses(x, labels, weights, active)
        return torch.stack([loss.detach(), recon.detach(), *terms]), loss.sum()

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
            message = (
                f"training diverged: {where} is {losses[bad_step, member].item()} at step {start + bad_step}"
            )
            if self.diverged.all():
                raise TrainingDiverged(
                    message if self.model.size == 1 else f"{message}; every member has diverged"
                )
            log.warning("%s; the other members go on", message)

    def on_save_checkpoint(self, checkpoint: dict) -> None:
        # The model's constructor arguments, so excolor.load_model rebuilds it without any config.
        checkpoint[MODEL_CONFIG_KEY] = dict(self.model.config)
        checkpoint[ARCHITECTURE_KEY] = architecture_name(self.model.template)

    def on_train_end(self) -> None:
        self._check_finite()
