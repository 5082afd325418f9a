"""Concept labels (spec m2-family §1.5, §15.3): probability functions, draws and counters.

A label is a probability per colour, p(x) = α · source(x)^k, with three sources:

- red:          source = ρ(x) = r · (1 − g/2 − b/2)            ("redness")
- vibrant:      source = ν(x) = S · V  (HSV, S = 0 at black)    ("vibrancy")
- desaturated:  source = 1 − ν(x)

Training labels are stochastic binaries y = 1[u < p], u ~ U(0, 1), drawn afresh for every sample
(`draw_labels`). Validation labels are exact: y = 1[source(x) = 1], used as-is (pure red for red, the
six primary/secondary corners for vibrant; `Label.exact`).

`LabelCounter` counts, per member, the positive labels seen while each label is *active* (some
training regularizer that reads it has a non-zero scheduled weight at that step), the samples with at
least one active positive label, and all samples: `labels/n/<label>`, `labels/n/_any`, `labels/n_total`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from excolor.colors import redness, rgb_to_hsv, vibrancy
from excolor.errors import ConfigError
from excolor.metrics import LABELS_ANY, LABELS_TOTAL, label_count_name

# How close to 1 the source must be for an exact label (the lattices hold 0 and 1 exactly).
EXACT_TOLERANCE = 1e-9


class Label(ABC):
    """p(x) = α · source(x)^k, with α ∈ [0, 1] and k ≥ 0 (spec §15.3)."""

    def __init__(self, alpha: float = 1.0, k: float = 1.0):
        alpha, k = float(alpha), float(k)
        if not 0 <= alpha <= 1:
            raise ConfigError(f"{type(self).__name__}: alpha={alpha} must be in [0, 1]")
        if not k >= 0:
            raise ConfigError(f"{type(self).__name__}: k={k} must be ≥ 0")
        self.alpha, self.k = alpha, k

    @abstractmethod
    def source(self, rgb: np.ndarray) -> np.ndarray:
        """The label's source in [0, 1] for colours rgb [..., 3]: shape [...]."""

    def probability(self, rgb: np.ndarray) -> np.ndarray:
        """p = α · source^k (training labels are Bernoulli(p))."""
        return self.alpha * self.source(rgb) ** self.k

    def exact(self, rgb: np.ndarray) -> np.ndarray:
        """The validation label: 1[source = 1] (within 1e-9), as 0/1 floats."""
        return (np.abs(self.source(rgb) - 1.0) <= EXACT_TOLERANCE).astype(float)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(alpha={self.alpha:g}, k={self.k:g})"


class Red(Label):
    """red: p = α · ρ^k, ρ = r · (1 − g/2 − b/2). Upstream (α, k) = (0.5, 10) in 2.4–2.9 and (0.08, 8)
    in 2.10 and the re-runs; pure red gives p = α, orange (1, ½, 0) has ρ = ¾."""

    def source(self, rgb: np.ndarray) -> np.ndarray:
        return redness(rgb)


class Vibrant(Label):
    """vibrant: p = α · (S·V)^k. Upstream (0.5, 100) in 2.4–2.9, (0.01, 10) in 2.4.1, (0.008, 8) in 2.7.1."""

    def source(self, rgb: np.ndarray) -> np.ndarray:
        return vibrancy(rgb_to_hsv(rgb))


class Desaturated(Label):
    """desaturated: p = α · (1 − S·V)^k. Upstream (0.5, 10) in 2.8/2.9 (and (1, 10), unused, in 2.4–2.7)."""

    def source(self, rgb: np.ndarray) -> np.ndarray:
        return 1.0 - vibrancy(rgb_to_hsv(rgb))


LABELS: dict[str, type[Label]] = {"red": Red, "vibrant": Vibrant, "desaturated": Desaturated}


def build_labels(configs: Mapping[str, Mapping] | None, where: str = "data.labels") -> dict[str, Label]:
    """{name: {alpha, k}} → {name: Label}; the name picks the formula (red, vibrant, desaturated)."""
    labels: dict[str, Label] = {}
    for name, config in dict(configs or {}).items():
        if name not in LABELS:
            raise ConfigError(f"{where}.{name}: unknown label (known: {', '.join(LABELS)})")
        config = dict(config or {})
        unknown = set(config) - {"alpha", "k"}
        if unknown:
            raise ConfigError(f"{where}.{name}: unknown key(s) {sorted(unknown)} (expected alpha, k)")
        try:
            labels[name] = LABELS[name](**config)
        except ConfigError as error:
            raise ConfigError(f"{where}.{name}: {error}") from None
    return labels


def probabilities(labels: Mapping[str, Label], rgb: np.ndarray) -> np.ndarray:
    """Each label's p per colour: [n, n_labels] in the mapping's order."""
    rgb = np.asarray(rgb, float).reshape(-1, 3)
    if not labels:
        return np.zeros((len(rgb), 0))
    return np.stack([label.probability(rgb) for label in labels.values()], -1)


def exact_values(labels: Mapping[str, Label], rgb: np.ndarray) -> np.ndarray:
    """Each label's exact (validation) value per colour: [n, n_labels] of 0/1."""
    rgb = np.asarray(rgb, float).reshape(-1, 3)
    if not labels:
        return np.zeros((len(rgb), 0))
    return np.stack([label.exact(rgb) for label in labels.values()], -1)


def draw_labels(probability: Tensor, generator: torch.Generator | None = None) -> Tensor:
    """y = 1[u < p] with u ~ U(0, 1) drawn per entry of `probability` (any shape), as 0/1 floats."""
    u = torch.rand(probability.shape, generator=generator, dtype=probability.dtype)
    return (u < probability).to(probability.dtype)


def label_activity(regularizers: Mapping, schedule, label_names: Sequence[str], steps: int) -> Tensor:
    """Which labels are active at each step: those with a non-zero affinity in some regularizer whose
    weight × schedule column is non-zero there. For one model [steps, n_labels]; for a population
    [steps, N, n_labels], member n's from its own weights (`member_weights`) and its own label
    affinities (`member_affinities`)."""
    steps = min(steps, len(schedule))
    members = max((len(r.member_weights) for r in regularizers.values()), default=1)
    active = torch.zeros(steps, members, len(label_names), dtype=torch.bool)
    for regularizer in regularizers.values():
        column = torch.tensor(regularizer.schedule_column(schedule)[:steps], dtype=torch.float64)
        runs = (column[:, None] * regularizer.member_weights.cpu()[None, :]) != 0  # [steps, N]
        reads = torch.tensor(
            [
                [affinities.get(name, 0.0) != 0 for name in label_names]
                for affinities in regularizer.member_affinities(members)
            ],
            dtype=torch.bool,
        ).reshape(members, len(label_names))
        active |= runs[:, :, None] & reads[None]
    return active[:, 0] if members == 1 else active


class LabelCounter:
    """Running label counts per member (spec §1.9 "Label counters").

    For labels y [..., B, L] (0/1; a population's leading member axis is kept) and the step's active
    flags a [L] (or [N, L], a population's per member): n_l += Σ_b y_bl · a_l,
    n_any += Σ_b 1[Σ_l y_bl · a_l > 0], n_total += B.

    `update` keeps each step's labels (views of the epoch's tensor: no copy) and counts every
    `BATCHED_STEPS` steps at once, and at `metrics`: a few tensor ops per 64 steps instead of per step.
    """

    BATCHED_STEPS = 64

    def __init__(self, label_names: Sequence[str]):
        self.label_names = list(label_names)
        self.n: Tensor | None = None  # [..., L]
        self.n_any: Tensor | None = None  # [...]
        self.n_total = 0
        self._pending: list[tuple[Tensor, Tensor]] = []

    def update(self, labels: Tensor, active: Sequence[bool] | Tensor) -> None:
        flags = torch.as_tensor(active, dtype=torch.bool, device=labels.device)
        if labels.shape[-1] != len(self.label_names) or flags.shape[-1] != len(self.label_names):
            raise ValueError(
                f"labels [..., {labels.shape[-1]}] and flags [..., {flags.shape[-1]}] for {len(self.label_names)} labels"
            )
        if self._pending and (
            self._pending[0][0].shape[:-2] != labels.shape[:-2] or self._pending[0][1].shape != flags.shape
        ):
            self._count()
        self._pending.append((labels, flags))
        if len(self._pending) >= self.BATCHED_STEPS:
            self._count()

    def _count(self) -> None:
        """Count the kept steps: their samples side by side, each with its step's flags."""
        if not self._pending:
            return
        labels = torch.cat([y for y, _ in self._pending], dim=-2)  # [..., S, L]
        sizes = torch.tensor([y.shape[-2] for y, _ in self._pending], device=labels.device)
        flags = torch.stack([a for _, a in self._pending])  # [steps, L] or [steps, N, L]
        if flags.dim() == 3:
            flags = flags.transpose(0, 1)  # [N, steps, L]
        mask = flags.repeat_interleave(sizes, dim=-2, output_size=labels.shape[-2])  # each sample its step's
        positive = (labels > 0) & mask
        n, n_any = positive.sum(-2), positive.any(-1).sum(-1)
        self.n = n if self.n is None else self.n + n
        self.n_any = n_any if self.n_any is None else self.n_any + n_any
        self.n_total += labels.shape[-2]
        self._pending = []

    def metrics(self) -> list[dict[str, int]]:
        """One dict per member (one for a single model) of
        `labels/n/<label>`, `labels/n/_any`, `labels/n_total`."""
        self._count()
        if self.n is None or self.n_any is None:
            return [
                {**{label_count_name(name): 0 for name in self.label_names}, LABELS_ANY: 0, LABELS_TOTAL: 0}
            ]
        n = self.n.reshape(-1, len(self.label_names)).tolist()
        n_any = self.n_any.reshape(-1).tolist()
        return [
            {
                **{label_count_name(name): int(c) for name, c in zip(self.label_names, counts)},
                LABELS_ANY: int(a),
                LABELS_TOTAL: self.n_total,
            }
            for counts, a in zip(n, n_any)
        ]


class CountingBatches:
    """`batches` (one per training step, in order) passed through unchanged while `counter` counts
    each step's labels under that step's active flags `active` [steps, n_labels] (`active_labels`)."""

    def __init__(self, batches: Iterable[tuple[Tensor, Tensor]], counter: LabelCounter, active: Tensor):
        self.batches, self.counter, self.active = batches, counter, active

    def __len__(self) -> int:
        return len(self.batches)  # pyright: ignore[reportArgumentType]  # ContinuousBatches has a length

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        for step, (x, y) in enumerate(self.batches):
            if self.active.device != y.device:  # once: no host-to-device copy per step
                self.active = self.active.to(y.device)
            self.counter.update(y, self.active[step])
            yield x, y
