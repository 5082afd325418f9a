"""The population's training step replayed as a captured CUDA graph (`cuda_graphs=true`, CUDA only).

A step is `zero_grad → losses → backward → Adam step`, all on the device with no host sync (see
tests/test_device_placement.py), so it can be recorded once and replayed: one launch instead of a few
hundred kernel launches, each with its Python and dispatcher overhead. What changes from step to
step reaches the graph through fixed tensors, refreshed before each replay by device-side copies:
the batch (`x`, `labels`), the terms' weights (a row of the module's `[steps, terms, N]` table) and
the learning rate (Adam's `lr` is a device tensor, filled in place). What the graph cannot vary is its
structure, so there is one graph per key = (batch shape, which terms run at this step): the short last
batch of an epoch and a term whose schedule reaches 0 get graphs of their own. A key's first
`WARMUP` steps run eagerly on a side stream (as torch's whole-network capture recipe asks; they are
ordinary training steps), the next is captured and replayed, and every later one replays.

Replayed steps compute what eager steps compute, with the same kernels, except that Adam reads its
learning rate from a tensor (float32 arithmetic instead of Python floats): results agree with the
eager run to rounding, not bit for bit. Callbacks' backward and optimizer-step hooks are not called
in replayed steps.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

import torch
from torch import Tensor

WARMUP = 3  # eager steps of a key before it is captured

StepFunction = Callable[[], Tensor]


class Replay(Protocol):
    def __call__(self) -> Tensor:
        """Run the captured step again; its output tensor (the same object every time)."""
        ...


class GraphBackend(Protocol):
    """How steps are captured and run: CUDA graphs, or a stand-in on other devices (tests)."""

    def eager(self, step: StepFunction) -> Tensor:
        """Run `step` now, as a warm-up for its capture."""
        ...

    def capture(self, step: StepFunction) -> Replay:
        """Record `step` without running it; the returned replay runs it."""
        ...


class CudaGraphs:
    """torch.cuda.CUDAGraph capture; warm-up steps on a side stream."""

    def __init__(self) -> None:
        self.stream = torch.cuda.Stream()

    def eager(self, step: StepFunction) -> Tensor:
        current = torch.cuda.current_stream()
        self.stream.wait_stream(current)
        with torch.cuda.stream(self.stream):
            out = step()
        current.wait_stream(self.stream)
        return out

    def capture(self, step: StepFunction) -> Replay:
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            out = step()

        def replay() -> Tensor:
            graph.replay()
            return out

        return replay


class EagerStandIn:
    """Runs a "captured" step eagerly at each replay and copies its output into one fixed tensor,
    as a replayed graph fills the tensors it recorded: the plumbing of `StepGraphs` (fixed inputs
    refreshed, output copied out) runs on any device, bit for bit the eager computation."""

    def eager(self, step: StepFunction) -> Tensor:
        return step()

    def capture(self, step: StepFunction) -> Replay:
        fixed: list[Tensor] = []

        def replay() -> Tensor:
            out = step()
            if not fixed:
                fixed.append(out)
            else:
                fixed[0].copy_(out)
            return fixed[0]

        return replay


@dataclass
class Entry:
    """One key's fixed inputs and its capture state."""

    x: Tensor
    labels: Tensor
    weights: Tensor
    warm: int = 0
    replay: Replay | None = None
    step: StepFunction = field(default=lambda: torch.empty(0))


class StepGraphs:
    """Runs training steps through `backend`, one captured graph per key (see the module docstring).

    `losses(x, labels, weights, active)` must return the rows `[columns, N]` of one step (loss, recon,
    each term: NaN where skipped) and the summed loss to differentiate; `lr` is Adam's learning-rate
    tensor; `optimizer` the plain torch optimizer over the model's parameters."""

    def __init__(
        self,
        backend: GraphBackend,
        losses: Callable[..., tuple[Tensor, Tensor]],
        optimizer: torch.optim.Optimizer,
        lr: Tensor,
        warmup: int | None = None,
    ):
        self.backend, self.losses, self.optimizer, self.lr = backend, losses, optimizer, lr
        self.warmup = WARMUP if warmup is None else warmup
        self.entries: dict[tuple, Entry] = {}
        self.captured = 0  # graphs recorded so far

    def __call__(
        self, x: Tensor, labels: Tensor, weights: Tensor, active: tuple[bool, ...], lr: float
    ) -> Tensor:
        """One training step; returns this step's rows `[columns, N]` (a tensor of its own)."""
        key = (tuple(x.shape), tuple(labels.shape), active)
        entry = self.entries.get(key)
        if entry is None:
            entry = self.entries[key] = Entry(
                torch.empty_like(x), torch.empty_like(labels), torch.empty_like(weights)
            )
            entry.step = self._step_function(entry, active)
        entry.x.copy_(x)
        entry.labels.copy_(labels)
        entry.weights.copy_(weights)
        self.lr.fill_(lr)
        if entry.replay is None and entry.warm < self.warmup:
            entry.warm += 1
            return self.backend.eager(entry.step).clone()
        if entry.replay is None:
            entry.replay = self.backend.capture(entry.step)
            self.captured += 1
        return entry.replay().clone()

    def _step_function(self, entry: Entry, active: tuple[bool, ...]) -> StepFunction:
        def step() -> Tensor:
            self.optimizer.zero_grad(set_to_none=True)
            rows, total = self.losses(entry.x, entry.labels, entry.weights, active)
            total.backward()
            self.optimizer.step()
            return rows

        return step
