"""The uniform RGB-lattice pipeline of 2.10 and the re-runs (spec m2-family §1.4 "Pipeline C", §15.2).

Training: the lattice linspace(0, 1, s)³ (s = `subdivisions`, corners included; 512 colours for s = 8),
sampled uniformly with replacement, one epoch = s³ samples in batches of `batch_size` (8 batches of
64 for s = 8), with Bernoulli labels y = 1[u < p(x)] drawn per sample (`excolor.labels`).

Validation: the cell centres linspace(1/(2s), 1 − 1/(2s), s − 1)³ ((s − 1)³ = 343 colours for s = 8)
followed by the 8 cube corners (351 in all), in fixed batches of `batch_size` (5 × 64 + 31: the corners
fall in the last batch), with exact labels 1[source(x) = 1]. Validation runs every max_steps // 10
training steps (`val_check_interval`). A validation metric is the batch-size-weighted mean of its
per-batch values, Σ_j B_j · v_j / Σ_j B_j (Lightning's epoch mean; spec §1.9 "Validation metrics").
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence

import numpy as np
import torch
from torch import Tensor

from excolor.colors import rgb_cube
from excolor.data import ColorBatches
from excolor.errors import ConfigError
from excolor.labels import build_labels, draw_labels, exact_values, probabilities


def lattice(subdivisions: int) -> np.ndarray:
    """The training colours: linspace(0, 1, s)³ as [s³, 3], r slowest and b fastest."""
    return rgb_cube(subdivisions)


def cell_centres(subdivisions: int, corners: bool = True) -> np.ndarray:
    """The validation colours: linspace(1/(2s), 1 − 1/(2s), s − 1)³ ([(s − 1)³, 3], r slowest), then, with
    `corners`, the 8 corners of the unit cube in the same order ((0,0,0), (0,0,1), …, (1,1,1))."""
    offset = 1 / (2 * subdivisions)
    axis = np.linspace(offset, 1 - offset, subdivisions - 1)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    centres = np.stack([r, g, b], -1).reshape(-1, 3)
    return np.concatenate([centres, rgb_cube(2)]) if corners else centres


def val_check_interval(max_steps: int) -> int:
    """Training steps between validations: max_steps // 10 (150 for 1,501 steps; the last at 1,500)."""
    return max(1, int(max_steps) // 10)


def _check(subdivisions: int, batch_size: int) -> None:
    if int(subdivisions) < 2:
        raise ConfigError(f"data.subdivisions={subdivisions} must be an integer ≥ 2")
    if int(batch_size) < 1:
        raise ConfigError(f"data.batch_size={batch_size} must be ≥ 1")


SAMPLE_AT = ("centres", "corners")


class ValidationSet:
    """The validation colours with exact labels, in fixed batches: `centres` (the re-runs' 351 colours
    for s = 8) or `corners`, the lattice linspace(0, 1, s)³ (2.10: s = 4, 64 colours, batch 1)."""

    def __init__(
        self,
        subdivisions: int = 8,
        batch_size: int = 64,
        labels: Mapping[str, Mapping] | None = None,
        sample_at: str = "centres",
    ):
        _check(subdivisions, batch_size)
        if sample_at not in SAMPLE_AT:
            raise ConfigError(f"data.validation_at={sample_at!r} must be one of {', '.join(SAMPLE_AT)}")
        label_functions = build_labels(labels, "data.validation_labels")
        rgb = cell_centres(int(subdivisions)) if sample_at == "centres" else lattice(int(subdivisions))
        self.batch_size = int(batch_size)
        self.label_names = list(label_functions)
        self.colors = torch.tensor(rgb, dtype=torch.float32)
        self.labels = torch.tensor(exact_values(label_functions, rgb), dtype=torch.float32)

    def __len__(self) -> int:
        return -(-len(self.colors) // self.batch_size)

    def __iter__(self) -> Iterator[tuple[Tensor, Tensor]]:
        return zip(self.colors.split(self.batch_size), self.labels.split(self.batch_size))

    def batch_sizes(self) -> list[int]:
        return [len(part) for part in self.colors.split(self.batch_size)]

    def labels_for(self, label_names: Sequence[str]) -> Tensor:
        """The exact labels as columns in `label_names` order ([n, len(label_names)]): a label the set
        does not validate is a column of zeros (see `validates`)."""
        columns = [
            self.labels[:, self.label_names.index(name)]
            if name in self.label_names
            else torch.zeros(len(self.colors))
            for name in label_names
        ]
        return torch.stack(columns, -1) if columns else torch.zeros(len(self.colors), 0)

    def validates(self, label_names: Iterable[str]) -> bool:
        """Whether every one of `label_names` is among this set's labels (upstream skips a term whose
        label is absent from the validation batches: 2.4.1 never logs val_subspace)."""
        return all(name in self.label_names for name in label_names)

    def epoch_mean(
        self, term: Callable[[Tensor, Tensor], Tensor], latents: Tensor, labels: Tensor | None = None
    ) -> Tensor:
        """Σ_j B_j · term(z_j, y_j) / Σ_j B_j over the fixed batches j, for latents [..., n, K] of this
        set's colours in order (a population's leading member axis is kept: the result is [...]);
        `labels` [n, L] default to the set's own."""
        if latents.shape[-2] != len(self.colors):
            raise ValueError(
                f"latents hold {latents.shape[-2]} colours; the validation set has {len(self.colors)}"
            )
        labels = (self.labels if labels is None else labels).to(device=latents.device, dtype=latents.dtype)
        labels = labels.expand(*latents.shape[:-2], *labels.shape)
        total = None
        for z, y in zip(latents.split(self.batch_size, -2), labels.split(self.batch_size, -2)):
            value = term(z, y) * z.shape[-2]
            total = value if total is None else total + value
        assert total is not None
        return total / len(self.colors)


class LatticeBatches(ColorBatches):
    """Training batches from the RGB lattice, sampled uniformly with replacement (see the module doc).

    Iterates like `ColorBatches` (`(rgb [B, 3], labels [B, n_labels])`, one epoch per iteration), so
    populations stack it the same way. `validation` is the matching `ValidationSet` with the exact
    labels named in `validation_labels` (a subset of `labels`: 2.4.1 trains on red and vibrant but
    validates red only), at `validation_at` (centres or corners) of a lattice of
    `validation_subdivisions` (default: `subdivisions`) in batches of `validation_batch_size`
    (default: `batch_size`).
    """

    def __init__(
        self,
        subdivisions: int = 8,
        batch_size: int = 64,
        labels: Mapping[str, Mapping] | None = None,
        validation_labels: Sequence[str] | None = None,
        validation_at: str = "centres",
        validation_subdivisions: int | None = None,
        validation_batch_size: int | None = None,
        seed: int = 0,
        device_draws: bool = True,
    ):
        _check(subdivisions, batch_size)
        label_configs = dict(labels or {})
        label_functions = build_labels(label_configs)
        validation_labels = list(validation_labels or [])
        missing = [name for name in validation_labels if name not in label_functions]
        if missing:
            raise ConfigError(f"data.validation_labels={validation_labels}: {missing} not in data.labels")
        rgb = lattice(int(subdivisions))
        self.batch_size = int(batch_size)
        self.label_names = list(label_functions)
        self.colors = torch.tensor(rgb, dtype=torch.float32)
        self.weights = torch.ones(len(rgb), dtype=torch.float64)  # uniform (for device-side draws)
        self.label_probability = torch.tensor(probabilities(label_functions, rgb), dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.seed = int(seed)
        self.device_draws = bool(device_draws)
        self.validation = ValidationSet(
            subdivisions if validation_subdivisions is None else validation_subdivisions,
            batch_size if validation_batch_size is None else validation_batch_size,
            {name: label_configs[name] for name in validation_labels},
            validation_at,
        )

    def draw_epoch(self) -> tuple[Tensor, Tensor]:
        """One epoch: n = s³ indices uniform on the lattice (with replacement), then
        y = 1[u < p] per sample."""
        n = len(self.colors)
        index = torch.randint(n, (n,), generator=self.generator)
        return self.colors[index], draw_labels(self.label_probability[index], self.generator)
