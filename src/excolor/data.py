"""Training data: the HSV cube, bias-weighted sampling, and stochastic concept labels.

Everything lives in memory as tensors (3,600 colors): batches are index slices, so no worker
processes and no collate function run per step.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch

from excolor.colors import hsv_cube, hue_steps, redness, sampling_weight, vibrancy
from excolor.errors import ConfigError

# Each label is a Bernoulli draw with probability scale · source(color)^exponent.
LABEL_SOURCES = {
    "red": lambda rgb, hsv: redness(rgb),
    "vibrant": lambda rgb, hsv: vibrancy(hsv),
}


@dataclass(frozen=True)
class LabelSpec:
    """p(label) = scale · source(color)^exponent, where the label's name picks the source."""

    scale: float = 0.5
    exponent: float = 1.0

    def probability(self, name: str, rgb: np.ndarray, hsv: np.ndarray) -> np.ndarray:
        return self.scale * LABEL_SOURCES[name](rgb, hsv) ** self.exponent


class ColorBatches:
    """One epoch = `len(colors)` samples drawn with replacement ∝ w(s, v), in batches of
    `batch_size` (the last one short), each with freshly drawn binary labels.

    Iterating yields `(rgb [B, 3], labels [B, n_labels])`; `label_names` gives the label columns.
    """

    def __init__(
        self,
        n_hues: int = 36,
        n_saturations: int = 10,
        n_values: int = 10,
        batch_size: int = 64,
        labels: dict | None = None,
        seed: int = 0,
    ):
        for key, value in {"n_hues": n_hues, "n_saturations": n_saturations, "n_values": n_values}.items():
            if int(value) < 2:
                raise ConfigError(f"data.{key}={value} must be an integer ≥ 2")
        if int(batch_size) < 1:
            raise ConfigError(f"data.batch_size={batch_size} must be ≥ 1")
        labels = dict(labels or {})
        for name, spec in labels.items():
            if name not in LABEL_SOURCES:
                raise ConfigError(f"data.labels.{name}: unknown label (known: {', '.join(LABEL_SOURCES)})")
            if not 0 <= spec["scale"] <= 1 or spec["exponent"] < 0:
                raise ConfigError(f"data.labels.{name}={dict(spec)}: scale must be in [0, 1], exponent ≥ 0")
        hsv, rgb = hsv_cube(hue_steps(1 / n_hues), np.linspace(0, 1, n_saturations), np.linspace(0, 1, n_values))
        hsv, rgb = hsv.reshape(-1, 3), rgb.reshape(-1, 3)
        self.batch_size = int(batch_size)
        self.label_names = list(labels)
        self.colors = torch.tensor(rgb, dtype=torch.float32)
        self.weights = torch.tensor(sampling_weight(hsv[:, 1], hsv[:, 2], n_hues, n_saturations), dtype=torch.float64)
        probabilities = [LabelSpec(**spec).probability(name, rgb, hsv) for name, spec in labels.items()]
        self.label_probability = torch.tensor(np.stack(probabilities, -1) if probabilities else np.zeros((len(rgb), 0)), dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(int(seed))

    def __len__(self) -> int:
        return -(-len(self.colors) // self.batch_size)

    def draw_epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch's samples in order: colors [n, 3] and labels [n, n_labels]."""
        n = len(self.colors)
        index = torch.multinomial(self.weights, n, replacement=True, generator=self.generator)
        draws = torch.rand((n, self.label_probability.shape[1]), generator=self.generator)
        labels = (draws < self.label_probability[index]).float()
        return self.colors[index], labels

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        colors, labels = self.draw_epoch()
        return zip(colors.split(self.batch_size), labels.split(self.batch_size))


class PopulationBatches:
    """The members' own streams side by side: member m's batches are exactly those `streams[stream_of[m]]`
    yields alone (its own seed, its own generator), stacked into `(rgb [N, B, 3], labels [N, B, n_labels])`.
    Members that share a seed share one stream, drawn once."""

    def __init__(self, streams: list[ColorBatches], stream_of: list[int]):
        self.streams, self.stream_of = streams, torch.tensor(stream_of)
        self.batch_size = streams[0].batch_size
        self.label_names = streams[0].label_names

    def __len__(self) -> int:
        return len(self.streams[0])

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        draws = [stream.draw_epoch() for stream in self.streams]
        colors = torch.stack([epoch_colors for epoch_colors, _ in draws])[self.stream_of]
        labels = torch.stack([epoch_labels for _, epoch_labels in draws])[self.stream_of]
        return zip(colors.split(self.batch_size, dim=1), labels.split(self.batch_size, dim=1))


class ContinuousBatches:
    """`steps` batches from `batches`, epoch after epoch, as one iterable: Lightning then runs the
    whole schedule as a single epoch (one progress bar, no per-epoch hooks), while the batches and
    their random draws are exactly those of the epochs in turn."""

    def __init__(self, batches: ColorBatches | PopulationBatches, steps: int):
        self.batches, self.steps = batches, int(steps)

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        remaining = self.steps
        while remaining > 0:
            for batch in self.batches:
                yield batch
                remaining -= 1
                if remaining == 0:
                    return
