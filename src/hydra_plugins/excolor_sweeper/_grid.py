"""The grid sampler (``hydra/sweeper/sampler: grid``), as Hydra's Optuna sweeper runs it: the sampler
config is a partial `optuna.samplers.GridSampler`, completed with the grid of the search space (every
value of each distribution, Hydra's Optuna sweeper's own `_to_grid_sampler_choices`), and ``n_trials``
is capped at the number of grid points, ∏ len(values)."""

from __future__ import annotations

import functools
import math
from typing import Any, TypeGuard

import optuna
from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl

from hydra_plugins.excolor_sweeper._search_space import SearchSpace

# The most grid points a grid sweep may have (each is a trial).
MAX_GRID_POINTS = 1_000_000


def is_grid(sampler: Any) -> TypeGuard[functools.partial]:
    """True for the grid sampler's config as instantiated: a partial GridSampler."""
    return isinstance(sampler, functools.partial) and sampler.func is optuna.samplers.GridSampler


def grid_sampler(partial: functools.partial, space: SearchSpace, n_trials: int) -> tuple[Any, int]:
    """The GridSampler over ``space`` and the number of trials to run, min(n_trials, grid points)."""
    sizes = {name: _size(d) for name, d in space.distributions.items()}
    points = math.prod(sizes.values())
    if points > MAX_GRID_POINTS:
        raise ValueError(
            f"the grid has {points} points ({', '.join(f'{k}: {n}' for k, n in sizes.items())}), "
            f"more than {MAX_GRID_POINTS}: use another sampler"
        )
    grid = {name: OptunaSweeperImpl._to_grid_sampler_choices(d) for name, d in space.distributions.items()}
    return partial(grid), min(n_trials, points)


def _size(distribution: optuna.distributions.BaseDistribution) -> int:
    """The number of grid values of a distribution, without listing them (ValueError if continuous)."""
    if isinstance(distribution, optuna.distributions.CategoricalDistribution):
        return len(distribution.choices)
    step = getattr(distribution, "step", None)
    if (
        not isinstance(
            distribution, (optuna.distributions.IntDistribution, optuna.distributions.FloatDistribution)
        )
        or step is None
    ):
        raise ValueError(
            f"the grid sampler needs discrete distributions (choice or range), got {distribution}"
        )
    return round((distribution.high - distribution.low) / step) + 1
