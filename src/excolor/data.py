"""Training data: the HSV cube, bias-weighted sampling, and stochastic concept labels.

Everything lives in memory as tensors (3,600 colors): batches are index slices, so no worker
processes and no collate function run per step.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from excolor.colors import hsv_cube, hue_steps, sampling_weight
from excolor.errors import ConfigError
from excolor.labels import build_labels, probabilities


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
        device_draws: bool = True,
    ):
        for key, value in {"n_hues": n_hues, "n_saturations": n_saturations, "n_values": n_values}.items():
            if int(value) < 2:
                raise ConfigError(f"data.{key}={value} must be an integer ≥ 2")
        if int(batch_size) < 1:
            raise ConfigError(f"data.batch_size={batch_size} must be ≥ 1")
        if not isinstance(device_draws, bool):
            raise ConfigError(f"data.device_draws={device_draws} must be true or false")
        label_functions = build_labels(labels)  # p = α · source^k (excolor.labels)
        hsv, rgb = hsv_cube(
            hue_steps(1 / n_hues), np.linspace(0, 1, n_saturations), np.linspace(0, 1, n_values)
        )
        hsv, rgb = hsv.reshape(-1, 3), rgb.reshape(-1, 3)
        self.batch_size = int(batch_size)
        self.label_names = list(label_functions)
        self.colors = torch.tensor(rgb, dtype=torch.float32)
        self.weights = torch.tensor(
            sampling_weight(hsv[:, 1], hsv[:, 2], n_hues, n_saturations), dtype=torch.float64
        )
        self.label_probability = torch.tensor(probabilities(label_functions, rgb), dtype=torch.float32)
        self.generator = torch.Generator().manual_seed(int(seed))
        self.seed = int(seed)
        # Off the CPU a population draws on the model's device (PopulationBatches.epoch); on the CPU,
        # and with device_draws=false everywhere, every stream draws from its own CPU generator.
        self.device_draws = bool(device_draws)

    def __len__(self) -> int:
        return -(-len(self.colors) // self.batch_size)

    def draw_epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch's samples in order: colors [n, 3] and labels [n, n_labels]."""
        n = len(self.colors)
        index = torch.multinomial(self.weights, n, replacement=True, generator=self.generator)
        draws = torch.rand((n, self.label_probability.shape[1]), generator=self.generator)
        labels = (draws < self.label_probability[index]).float()
        return self.colors[index], labels

    def epoch(self, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """`draw_epoch`, moved to `device` in one copy (the batches are then views on the device)."""
        colors, labels = self.draw_epoch()
        return colors.to(device), labels.to(device)

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
        self.device_draws = streams[0].device_draws
        # The data's validation set (excolor.lattice.ValidationSet), the same for every member; None
        # for data without one (the HSV cube).
        self.validation = getattr(streams[0], "validation", None)
        self._device_draws: DeviceDraws | None = None

    def __len__(self) -> int:
        return len(self.streams[0])

    def epoch(self, device: torch.device | str | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """One epoch for every member, `(rgb [N, n, 3], labels [N, n, n_labels])` on `device`. On the
        CPU (or with `device_draws=false`): each stream's own generator, exactly as `__iter__`. Elsewhere:
        `DeviceDraws`, all members at once on the device (a different stream from the CPU's)."""
        device = torch.device(device if device is not None else "cpu")
        if device.type == "cpu" or not self.device_draws:
            draws = [stream.draw_epoch() for stream in self.streams]
            colors = torch.stack([epoch_colors for epoch_colors, _ in draws])[self.stream_of]
            labels = torch.stack([epoch_labels for _, epoch_labels in draws])[self.stream_of]
            return colors.to(device), labels.to(device)
        if self._device_draws is None or self._device_draws.device != device:
            members = [self.streams[i] for i in self.stream_of.tolist()]
            self._device_draws = DeviceDraws(
                self.streams[0], [stream.seed for stream in members], device, self.member_probabilities()
            )
        return self._device_draws.draw_epoch()

    def member_probabilities(self) -> torch.Tensor | None:
        """Each member's label probabilities [N, n_colors, L] when the streams' differ (a grid over
        label parameters), else None (every member draws from the first stream's)."""
        first = self.streams[0].label_probability
        if all(torch.equal(stream.label_probability, first) for stream in self.streams[1:]):
            return None
        return torch.stack([stream.label_probability for stream in self.streams])[self.stream_of]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        colors, labels = self.epoch()
        return zip(colors.split(self.batch_size, dim=1), labels.split(self.batch_size, dim=1))


class DeviceDraws:
    """Every member's epochs drawn on `device` with counter-based uniforms (`excolor.counter_draws`):
    epoch e's sample i of member n takes u = u(key_n, (e·n_samples + i)·(1 + L) + j), j = 0 for the
    color (inverse CDF of the sampling weights: index = #{k : cdf_k ≤ u}, cdf normalised, float64) and
    j = 1…L for the labels (label_l = [u < p_l(color)]). key_n comes from member n's seed only;
    p_l is `like`'s, or member n's own from `probabilities` [N, n_colors, L] (a grid over labels)."""

    def __init__(
        self,
        like: ColorBatches,
        seeds: list[int],
        device: torch.device,
        probabilities: torch.Tensor | None = None,
    ):
        from excolor.counter_draws import member_key

        self.device = device
        self.colors = like.colors.to(device)
        self.label_probability = (like.label_probability if probabilities is None else probabilities).to(
            device
        )
        cdf = torch.cumsum(like.weights, 0)
        self.cdf = (cdf / cdf[-1]).to(device)
        self.keys = torch.tensor([member_key(seed) for seed in seeds], dtype=torch.long, device=device)
        self.lanes = 1 + self.label_probability.shape[-1]
        self.epochs = 0

    def draw_epoch(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next epoch: colors [N, n, 3] and labels [N, n, L]."""
        index, labels = self.draw_indices()
        return self.colors[index], labels

    def draw_indices(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The next epoch as color indices [N, n] and labels [N, n, L]."""
        from excolor.counter_draws import uniforms

        n = len(self.colors)
        start = self.epochs * n * self.lanes
        self.epochs += 1
        counters = torch.arange(start, start + n * self.lanes, device=self.device).reshape(n, self.lanes)
        u = uniforms(self.keys, counters)  # [N, n, lanes]
        index = torch.searchsorted(self.cdf, u[..., 0].double(), right=True).clamp_max_(n - 1)
        if self.label_probability.dim() == 3:  # member n's own probabilities
            members = torch.arange(len(index), device=self.device)[:, None]
            labels = (u[..., 1:] < self.label_probability[members, index]).float()
        else:
            labels = (u[..., 1:] < self.label_probability[index]).float()
        return index, labels


class ContinuousBatches:
    """`steps` batches from `batches`, epoch after epoch, as one iterable: Lightning then runs the
    whole schedule as a single epoch (one progress bar, no per-epoch hooks), while the batches and
    their random draws are exactly those of the epochs in turn."""

    def __init__(
        self, batches: ColorBatches | PopulationBatches, steps: int, device: torch.device | str | None = None
    ):
        self.batches, self.steps = batches, int(steps)
        self.device = device  # None: as `batches` iterate (CPU); else each epoch is made there at once

    def __len__(self) -> int:
        return self.steps

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        remaining = self.steps
        while remaining > 0:
            for batch in self._epoch():
                yield batch
                remaining -= 1
                if remaining == 0:
                    return

    def _epoch(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.device is None:
            return iter(self.batches)
        colors, labels = self.batches.epoch(self.device)
        axis = colors.dim() - 2  # the sample axis: 0 for one stream, 1 for a population
        return zip(colors.split(self.batches.batch_size, axis), labels.split(self.batches.batch_size, axis))
