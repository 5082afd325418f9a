"""A Hydra multirun sweep dir as the report's trials and members, read through the run-record contract.

A sweep dir, as Hydra writes it, holds ``multirun.yaml`` (the sweep's composed config) and one
subdir per trial (``0/``, ``1/``, ...). Each trial dir is a run dir, read by
`excolor.run_record.read_run` only: its status (*ok*, *failed* or *incomplete*), config, overrides,
metrics or error, and members. The report spells no file name of a run dir.

Samples are population **members**: an ok trial has one `Member` per member record (a trial from
before populations is a population of one; `excolor.run_record` says how it reads). A trial whose
members cannot be read is *failed* with the reason (the contract's). A member's value of a key
(`Member.value`) is its grid value for a grid key, its seed for ``seed``, else the trial's config
value. Run-wide metrics (the fit's ``train/seconds``) are not per member: a member's
``train/seconds`` is the run's divided by its number of members.

A trial that failed because training diverged (`excolor.errors.TrainingDiverged`: every member
diverged) still has members: each seed × grid point of its population, marked ``diverged``, every
metric NaN (`diverged_members`): a diverged member is an outcome of its arm, not a gap.

A key that names a config group chosen by an override (``regularizers=ex2.2``) has that option's name
as its value (the composed config holds the group's content there).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from excolor import run_record
from excolor.errors import ConfigError, TrainingDiverged
from excolor.report.errors import ReportError
from excolor.run_record import Status

SWEEP_CONFIG_FILE = "multirun.yaml"  # Hydra's, beside the trial dirs: not a run dir's file


@dataclass(eq=False)  # compared by identity: the analysis keys each member's arm on it
class Member:
    """One population member of an ok trial: its seed, grid values and metrics (a sample)."""

    trial: Trial
    index: int
    seed: int | None
    grid: dict[str, float]
    metrics: dict[str, float]
    diverged: bool = False  # its trial failed with TrainingDiverged: every result metric is NaN

    def value(self, key: str) -> Any:
        """The grid value for a grid key, the seed for ``seed``, else the trial's config value."""
        if key in self.grid:
            return self.grid[key]
        if key == run_record.SEED:
            return self.seed
        return self.trial.value(key)

    def number(self, metric: str) -> float | None:
        """The member's metric as a float (None if absent; NaN kept; NaN for a diverged member's result)."""
        value = self.metrics.get(metric)
        if value is None and self.diverged and metric not in run_record.BOOKKEEPING:
            return math.nan
        return None if value is None else float(value)


@dataclass
class Trial:
    """One trial dir: its status, config, overrides, metrics or error, and its members (ok trials)."""

    name: str
    path: Path
    status: Status
    config: DictConfig | None = None
    overrides: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    members: list[Member] = field(default_factory=list)

    def override_map(self) -> dict[str, str]:
        """The ``key=value`` overrides as a mapping (``+``/``~`` prefixes dropped)."""
        overrides = {}
        for override in self.overrides:
            if "=" not in override:
                continue
            key, value = override.split("=", 1)
            overrides[key.lstrip("+~")] = value
        return overrides

    def value(self, key: str) -> Any:
        """Config value at ``key`` (falls back to the override string; None if absent)."""
        override = self.override_map().get(key)
        if self.config is not None:
            value = OmegaConf.select(self.config, key, default=None, throw_on_resolution_failure=False)
            if isinstance(value, DictConfig) and override is not None:
                return override  # a config group chosen by an override: the option's name
            if value is not None:
                return (
                    OmegaConf.to_container(value, resolve=False)
                    if isinstance(value, (DictConfig, ListConfig))
                    else value
                )
        return override

    def number(self, metric: str) -> float | None:
        """The metric as a float; None if absent or not a number (booleans are not numbers)."""
        value = self.metrics.get(metric)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return None
        return float(value)

    def grid_points(self) -> list[dict[str, float]]:
        """The distinct grid points of the trial: from its members, else from its config's
        ``population.grid`` (a failed or incomplete trial), else one empty point."""
        if self.members:
            return list({tuple(sorted(member.grid.items())): member.grid for member in self.members}.values())
        grid = select_value(self.config, "population.grid") if self.config is not None else None
        if isinstance(grid, dict) and grid and all(isinstance(values, list) for values in grid.values()):
            return [dict(zip(grid, point)) for point in itertools.product(*grid.values())]
        return [{}]


def trial_members(trial: Trial, records: list[run_record.MemberRecord]) -> list[Member]:
    """The trial's members as report samples; the run-wide ``train/seconds`` is shared among them
    (a member's share of the fit)."""
    seconds = trial.number(run_record.TRAIN_SECONDS)
    members = []
    for record in records:
        metrics = dict(record.metrics)
        if seconds is not None and run_record.TRAIN_SECONDS not in metrics:
            metrics[run_record.TRAIN_SECONDS] = seconds / len(records)
        members.append(Member(trial, record.index, record.seed, dict(record.grid), metrics))
    return members


def diverged_members(trial: Trial) -> list[Member]:
    """A trial that failed with `TrainingDiverged`: one diverged member per seed (``seed`` …
    ``seed + population.size − 1``) × grid point, as its population would have had; else none."""
    if trial.status != Status.FAILED or trial.error_type != TrainingDiverged.__name__ or trial.config is None:
        return []
    seed, size = select_value(trial.config, run_record.SEED), select_value(trial.config, "population.size", 1)
    if not isinstance(seed, int) or not isinstance(size, int):
        return []
    points = trial.grid_points()
    return [
        Member(trial, index, seed + offset, dict(point), {}, diverged=True)
        for index, (point, offset) in enumerate(itertools.product(points, range(size)))
    ]


def load_trial(path: Path) -> Trial:
    """One trial dir, read through the run-record contract (`excolor.run_record.read_run`)."""
    record = run_record.read_run(path)
    trial = Trial(
        name=path.name,
        path=path,
        status=record.status,
        config=record.config,
        overrides=record.overrides,
        metrics=record.metrics,
        error=record.error,
        error_type=record.error_type,
    )
    trial.members = trial_members(trial, record.members) or diverged_members(trial)
    return trial


def _trial_order(path: Path) -> tuple:
    """Numbered trial dirs first, in numeric order; other run dirs after, by name."""
    return (0, int(path.name), "") if path.name.isdigit() else (1, 0, path.name)


def trial_dirs(sweep_dir: Path) -> list[Path]:
    """The sweep's trial dirs in numeric order: numbered subdirs and subdirs holding a Hydra config."""

    def holds_hydra_dir(path: Path) -> bool:  # .hydra/, the parent of the contract's config file
        return (path / run_record.CONFIG_FILE).parent.is_dir()

    return sorted(
        (
            path
            for path in sweep_dir.iterdir()
            if path.is_dir() and (path.name.isdigit() or holds_hydra_dir(path))
        ),
        key=_trial_order,
    )


def load_sweep(sweep_dir: Path) -> tuple[DictConfig, list[Trial]]:
    """The sweep config (``multirun.yaml``, empty if absent) and its trials in numeric order."""
    if not sweep_dir.is_dir():
        raise ReportError(f"no such sweep dir: {sweep_dir}")
    sweep_config_path = sweep_dir / SWEEP_CONFIG_FILE
    dirs = trial_dirs(sweep_dir)
    if not sweep_config_path.is_file() and not dirs:
        raise ReportError(f"not a sweep dir (no {SWEEP_CONFIG_FILE} and no trial dirs): {sweep_dir}")
    config = OmegaConf.load(sweep_config_path) if sweep_config_path.is_file() else OmegaConf.create({})
    if not isinstance(config, DictConfig):
        raise ConfigError(f"{sweep_config_path}: expected a mapping, got a list")
    return config, [load_trial(trial_dir) for trial_dir in dirs]


def select_value(config: DictConfig, key: str, default: Any = None) -> Any:
    """Value at ``key``, resolved if possible, else raw (interpolations kept); containers -> python."""
    try:
        value = OmegaConf.select(config, key, default=default)
        if isinstance(value, (DictConfig, ListConfig)):
            return OmegaConf.to_container(value, resolve=True)
        return value
    except Exception:  # noqa: BLE001 - unresolved hydra interpolations (${now:...}) etc.
        node: Any = OmegaConf.to_container(config, resolve=False)
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node
