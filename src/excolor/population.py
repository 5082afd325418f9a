"""The population axis: which members one run trains, and building them.

members = every grid point × every seed, grid-major: for each combination of `grid` values (in the
order given), the seeds `seed, seed+1, …, seed+size−1`. Member m's initialisation and data stream
come from its own seed only, so it is the single run with that seed and those grid values (up to
float rounding); a run with `size=1` and no grid *is* the single run.

Grid keys are the per-member scalars the stacked model supports (`GRID_KEYS`):

- `regularizers.<name>.weight` (≥ 0): the regularizer's weight, multiplying its schedule column;
- `lr_scale` (> 0): a multiplier of the schedule's `lr` column, member n stepping with lr(t) · s_n
  (`excolor.member_adam`). A multiplier rather than a learning rate: the column is keyframed over
  the steps (warm-up, decay), and scaling it keeps that shape; 1 is the schedule as written.

Anything else (model shape, data, regularizer settings that change the computation, label
parameters) changes what every member computes, not a per-member value: it is refused in one line.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from excolor.errors import ConfigError

# A grid key must name a value each member may hold on its own in one stacked model.
REGULARIZER_WEIGHT = re.compile(r"^regularizers\.(?P<name>[A-Za-z_][\w-]*)\.weight$")
LR_SCALE = "lr_scale"
GRID_KEYS = f"{LR_SCALE}, regularizers.<name>.weight"  # the allowed keys, as the error line names them


def grid_key_minimum(key: str) -> tuple[float, bool] | None:
    """The bound a grid key's values keep, (minimum, strict); None: not a per-member scalar."""
    if key == LR_SCALE:
        return 0.0, True
    if REGULARIZER_WEIGHT.match(key):
        return 0.0, False
    return None


@dataclass(frozen=True)
class Member:
    """One member of the population: its index, its seed and its grid values (config key → value)."""

    index: int
    seed: int
    values: dict[str, float]


class Population:
    """`size` seeds from `seed` on, times every point of `grid` (config key → list of values)."""

    def __init__(self, size: int = 1, grid: Mapping[str, Sequence[float]] | None = None, seed: int = 0):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"population.size={size} must be an integer ≥ 1")
        grid = dict(grid or {})
        for key, values in grid.items():
            bound = grid_key_minimum(str(key))
            if bound is None:
                raise ConfigError(f"population.grid.{key}: not a per-member scalar (allowed: {GRID_KEYS})")
            minimum, strict = bound
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
                raise ConfigError(f"population.grid.{key}={values} must be a non-empty list of numbers")
            for value in values:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not math.isfinite(value)
                    or value < minimum
                    or (strict and value == minimum)
                ):
                    relation = ">" if strict else "≥"
                    raise ConfigError(
                        f"population.grid.{key}={list(values)}: every value must be a finite number "
                        f"{relation} {minimum:g}"
                    )
        self.size = size
        self.grid = {str(key): [float(v) for v in values] for key, values in grid.items()}
        self.seed = int(seed)
        points = itertools.product(*self.grid.values())
        self.members = [
            Member(index, self.seed + offset, dict(zip(self.grid, point)))
            for index, (point, offset) in enumerate(itertools.product(points, range(size)))
        ]

    def __len__(self) -> int:
        return len(self.members)

    @property
    def seeds(self) -> list[int]:
        """Each member's seed, in member order."""
        return [member.seed for member in self.members]

    @property
    def unique_seeds(self) -> list[int]:
        return sorted(set(self.seeds))

    def values(self, key: str) -> list[float] | None:
        """Each member's value of a grid key, or None when `key` is not on the grid."""
        return [member.values[key] for member in self.members] if key in self.grid else None

    def bind_regularizers(self, regularizers: Mapping) -> None:
        """Give every regularizer its per-member weights: the grid's values for `regularizers.<name>.weight`,
        else its configured `weight` for every member. Every grid key must name a configured regularizer."""
        for key in self.grid:
            match = REGULARIZER_WEIGHT.match(key)
            if match is None:  # lr_scale: the optimizer's (see `lr_scales`)
                continue
            name = match["name"]
            if name not in regularizers:
                raise ConfigError(
                    f"population.grid.{key}: no regularizer {name!r} (configured: {', '.join(regularizers) or 'none'})"
                )
        for name, regularizer in regularizers.items():
            regularizer.set_member_weights(
                self.values(f"regularizers.{name}.weight") or [regularizer.weight] * len(self)
            )

    def build_model(self, model_config):
        """The stacked model (any model that `stack_linears` can stack): member m initialised exactly as
        `instantiate(model_config)` is after `torch.manual_seed(m.seed)` (members that share a seed
        share their initial weights)."""
        import torch
        from hydra.utils import instantiate

        from excolor.population_model import StackedModel

        initial = {}
        for seed in self.unique_seeds:
            torch.manual_seed(seed)
            initial[seed] = instantiate(model_config)
        return StackedModel.from_members([initial[seed] for seed in self.seeds])

    def build_data(self, data_config):
        """Each seed's own `ColorBatches` stream (`data.seed` = the member's seed), stacked by member."""
        from hydra.utils import instantiate

        from excolor.data import PopulationBatches

        seeds = self.unique_seeds
        streams = [instantiate(data_config, seed=seed) for seed in seeds]
        stream_of = {seed: position for position, seed in enumerate(seeds)}
        return PopulationBatches(streams, [stream_of[seed] for seed in self.seeds])
