"""The run-record contract: what a run directory holds, written and read in this one place.

A run dir (`python -m excolor.train`, one trial of a sweep, or `<run>/evaluations/<time>/`) holds

- `.hydra/config.yaml` and `.hydra/overrides.yaml`: Hydra's composed config and the overrides;
- `model.ckpt` (the trained population, `excolor.checkpoint`) and `losses.csv` (the per-step losses,
  `excolor.losses`): the training outputs, which the cache copies (`TRAINING_FILES`);
- `members.csv`: one row per member: `member`, `seed`, each grid key (its config path, never a `/`),
  then every per-member metric (the same names as in metrics.json);
- `metrics.json`: the run's flat metrics: each per-member metric's **median over members**, the
  run-wide values (`RUN_WIDE`: the fit's and the evaluation's wall time, device, cache hit,
  `population/size`, the count of diverged members, the CPU kernels it trained with: `dispatch/*`)
  and `seed` (the population's first seed);
- `failure.json`: `{"type": …, "error": …}` when the run failed (a sweep's trial).

Its **status** follows from those files: *ok* with a readable metrics.json (and members.csv, when
there is one), *failed* with failure.json or an unreadable metrics.json / members.csv, *incomplete*
with neither (a process killed while it ran). Every file is written atomically (a temp file, then
one rename), so a killed process never leaves half a file that reads as a result.

A run of one member has the same metrics.json as before populations existed, plus `population/size: 1`;
a run without members.csv (written before populations) reads as a population of one.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any, TypeGuard

# The run-wide and bookkeeping metric names, declared in the metric schema (re-exported for readers).
from excolor.metrics import (  # noqa: F401
    BOOKKEEPING,
    DISPATCH_ATEN,
    DISPATCH_MKL,
    DISPATCH_MODE,
    DISPATCH_ONEDNN,
    DIVERGED,
    EVAL_SECONDS,
    FIRST_STEP_TIME,
    POPULATION_SIZE,
    RUN_WIDE,
    SEED,
    TRAIN_CACHED,
    TRAIN_CPU_SECONDS,
    TRAIN_DEVICE,
    TRAIN_SECONDS,
    TRAIN_STEPS,
    describe,
    val_name,
)

# ---------------------------------------------------------------------------------- the run's files
METRICS_FILE = "metrics.json"
FAILURE_FILE = "failure.json"
MEMBERS_FILE = "members.csv"
CHECKPOINT_FILE = "model.ckpt"
LOSSES_FILE = "losses.csv"
CONFIG_FILE = ".hydra/config.yaml"
OVERRIDES_FILE = ".hydra/overrides.yaml"
TRAINING_FILES = (CHECKPOINT_FILE, LOSSES_FILE)  # what training writes and the cache keeps

# The CPU kernels the run trained with (excolor.reproducible): the `reproducible` mode, ATen's CPU
# capability, MKL's CBWR branch, oneDNN's ISA cap (declared in the metric schema).
DISPATCH = (DISPATCH_MODE, DISPATCH_ATEN, DISPATCH_MKL, DISPATCH_ONEDNN)
MEMBER_COLUMNS = ("member", SEED)


class Status(str, Enum):
    """A run's state, read from its files (see the module docstring)."""

    OK = "ok"
    FAILED = "failed"
    INCOMPLETE = "incomplete"


# ------------------------------------------------------------------------------------------ writing
def write_json(path: Path, payload: dict) -> Path:
    """Write JSON atomically (temp file + rename): a killed process never leaves half a file."""
    path = Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)
    return path


def write_metrics(run_dir: Path, metrics: dict) -> Path:
    """The run's metrics.json (the run is *ok* from here on)."""
    return write_json(Path(run_dir) / METRICS_FILE, metrics)


def write_failure(run_dir: Path, error: BaseException) -> Path:
    """The run's failure.json: the error's type and message (the run is *failed*)."""
    return write_json(Path(run_dir) / FAILURE_FILE, {"type": type(error).__name__, "error": str(error)})


def member_rows(population, member_metrics: list[dict[str, float]]) -> list[dict]:
    """members.csv's rows: index, seed and grid values of each member, then its metrics."""
    return [
        {"member": member.index, SEED: member.seed, **member.values, **metrics}
        for member, metrics in zip(population.members, member_metrics)
    ]


def write_members(run_dir: Path, rows: list[dict]) -> Path:
    """Write members.csv atomically (temp file + rename), full float precision (`repr`)."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    path = Path(run_dir) / MEMBERS_FILE
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, restval="")
        writer.writeheader()
        writer.writerows(
            {key: repr(value) if isinstance(value, float) else value for key, value in row.items()}
            for row in rows
        )
    os.replace(tmp, path)
    return path


def merge_member(train_metrics: dict, eval_metrics: dict) -> dict:
    """A member's metrics: training's, then evaluation's; a value from validation during training
    (`val/…`, the data's validation set) stands over evaluation's `val/recon` (its 8³ cube)."""
    merged = {**train_metrics, **eval_metrics}
    merged.update({key: value for key, value in train_metrics.items() if key.startswith(val_name(""))})
    return merged


def summarize_members(member_metrics: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's median over the members that have it (NaN members ignored unless all are NaN)."""
    import numpy as np  # here, not at the top: the pre-torch checks import this module for its names

    keys = list(dict.fromkeys(key for metrics in member_metrics for key in metrics))
    summary = {}
    for key in keys:
        values = np.array([metrics[key] for metrics in member_metrics if key in metrics], dtype=float)
        finite = values[~np.isnan(values)]
        summary[key] = float(np.median(finite)) if len(finite) else math.nan
    return summary


def run_metrics(
    member_metrics: list[dict[str, float]], run_wide: dict[str, Any], seed: int
) -> dict[str, Any]:
    """metrics.json's content: the members' medians, the run-wide values, the population size and
    seed, and the number of diverged members (a count, not a median)."""
    metrics = {
        **summarize_members(member_metrics),
        **run_wide,
        POPULATION_SIZE: len(member_metrics),
        SEED: int(seed),
    }
    if any(DIVERGED in member for member in member_metrics):
        metrics[DIVERGED] = sum(int(member.get(DIVERGED, 0)) for member in member_metrics)
    return metrics


# ------------------------------------------------------------------------------------------ reading
def read_members(run_dir: Path) -> list[dict[str, float]]:
    """members.csv as one dict per member: `member` and `seed` ints, every other cell a float (empty →
    NaN). Raises ValueError naming the file, line and column of anything that is not such a table."""
    path = Path(run_dir) / MEMBERS_FILE
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        rows = list(reader)
    if not header or any(column not in header for column in MEMBER_COLUMNS) or not rows:
        raise ValueError(
            f"{path.name}: not a members table (needs a header with {', '.join(MEMBER_COLUMNS)} and at least one row)"
        )
    members = []
    for line, row in enumerate(rows, start=2):
        where = f"{path.name} line {line}"
        if len(row) != len(header):
            raise ValueError(f"{where}: {len(row)} cells for {len(header)} columns")
        values = {column: _number(cell, f"{where}, column {column}") for column, cell in zip(header, row)}
        if not all(math.isfinite(values[c]) and values[c] == int(values[c]) for c in MEMBER_COLUMNS):
            raise ValueError(f"{where}: member and seed must be integers")
        values.update({column: int(values[column]) for column in MEMBER_COLUMNS})
        members.append(values)
    return members


def grid_keys(member: dict) -> list[str]:
    """The grid columns of a members.csv row: config paths (no `/`), other than member and seed;
    metric names contain a `/`, except the chapter's `score` (a name the schema knows)."""
    return [key for key in member if key not in MEMBER_COLUMNS and "/" not in key and describe(key) is None]


def _number(cell: str, where: str) -> float:
    """A cell as a float (empty → NaN); anything else is a ValueError naming the cell."""
    if cell.strip() == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None


def _is_number(value: Any) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


@dataclass(frozen=True)
class MemberRecord:
    """One trained member of a run: its index, seed, grid values (config path → value) and metrics."""

    index: int
    seed: int | None
    grid: dict[str, float]
    metrics: dict[str, float]


@dataclass
class RunRecord:
    """A run dir as read through the contract: status, config, overrides, metrics or error, members."""

    path: Path
    status: Status
    config: Any = None  # the DictConfig of .hydra/config.yaml; None if absent or unreadable
    overrides: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    members: list[MemberRecord] = field(default_factory=list)
    error: str | None = None
    error_type: str | None = None

    def number(self, metric: str) -> float | None:
        """A metrics.json value as a float; None if absent or not a number (booleans are not numbers)."""
        value = self.metrics.get(metric)
        return float(value) if _is_number(value) else None

    def objectives(self, names: str | Iterable[str] | None = None) -> list[float]:
        """The objective values of an ok run: `names`, default the run config's `objective`."""
        if self.status != Status.OK:
            raise ValueError(f"{self.path}: the run is {self.status.value}, it has no objective values")
        if names is None:
            names = None if self.config is None else self.config.get("objective")
            if names is None:
                raise ValueError(f"{self.path}: no objective in {CONFIG_FILE}")
        values = objective_values(self.metrics, names)
        return list(values) if isinstance(values, tuple) else [values]


def objective_values(metrics: dict, names: str | Iterable[str]) -> float | tuple[float, ...]:
    """The named metric(s), as a sweeper takes them: one float, or a tuple for several objectives.
    Never NaN: a missing or NaN value is a ConfigError naming it."""
    from excolor.errors import ConfigError

    names = [names] if isinstance(names, str) else [str(name) for name in names]
    values = []
    for name in names:
        if name not in metrics:
            raise ConfigError(
                f"objective={name!r} is not a metric of this run (known: {', '.join(sorted(metrics))})"
            )
        value = float(metrics[name])
        if math.isnan(value):
            raise ConfigError(f"objective {name} is NaN")
        values.append(value)
    return values[0] if len(values) == 1 else tuple(values)


def read_run(path: str | Path) -> RunRecord:
    """Read a run dir. Never raises for its content: an unreadable metrics.json or members.csv makes
    the run *failed* with the reason; an unreadable config or overrides file is left out."""
    import yaml
    from omegaconf import DictConfig, OmegaConf

    path = Path(path)
    record = RunRecord(path=path, status=Status.INCOMPLETE)
    try:
        config = OmegaConf.load(path / CONFIG_FILE) if (path / CONFIG_FILE).is_file() else None
        record.config = config if isinstance(config, DictConfig) else None
    except Exception:  # noqa: BLE001 - a half-written config does not hide the run's results
        record.config = None
    if (path / OVERRIDES_FILE).is_file():
        try:
            record.overrides = [str(o) for o in (yaml.safe_load((path / OVERRIDES_FILE).read_text()) or [])]
        except (yaml.YAMLError, TypeError):
            record.overrides = []
    if (path / METRICS_FILE).is_file():
        _read_result(record)
    elif (path / FAILURE_FILE).is_file():
        record.status = Status.FAILED
        try:
            failure = json.loads((path / FAILURE_FILE).read_text())
            record.error, record.error_type = str(failure.get("error", "")), str(failure.get("type", ""))
        except (ValueError, AttributeError, OSError) as error:
            record.error, record.error_type = f"unreadable {FAILURE_FILE}: {error}", "BadFailure"
    return record


def _read_result(record: RunRecord) -> None:
    """metrics.json and members.csv into `record`: ok, or failed with the reason."""
    try:
        metrics = json.loads((record.path / METRICS_FILE).read_text())
        if not isinstance(metrics, dict):
            raise ValueError("not a JSON object")
    except (ValueError, OSError) as error:
        record.status, record.error, record.error_type = (
            Status.FAILED,
            f"unreadable {METRICS_FILE}: {error}",
            "BadMetrics",
        )
        return
    record.metrics = metrics
    try:
        record.members = _members(record)
    except (OSError, ValueError, csv.Error) as error:
        reason = str(error).removeprefix(MEMBERS_FILE).lstrip(": ")  # the file is named once, here
        record.status, record.error, record.error_type = (
            Status.FAILED,
            f"unreadable {MEMBERS_FILE}: {reason}",
            "BadMembers",
        )
        return
    record.status = Status.OK


def _members(record: RunRecord) -> list[MemberRecord]:
    """members.csv's rows, or (no members.csv: a run from before populations) the run as one member
    with metrics.json's numbers, seeded by metrics.json's `seed`, else the config's."""
    if not (record.path / MEMBERS_FILE).is_file():
        seed = record.number(SEED)
        if seed is None and record.config is not None:
            config_seed = record.config.get("seed")
            seed = config_seed if _is_number(config_seed) and float(config_seed).is_integer() else None
        metrics = {key: value for key in record.metrics if (value := record.number(key)) is not None}
        return [MemberRecord(0, None if seed is None else int(seed), {}, metrics)]
    rows = read_members(record.path)
    size = record.number(POPULATION_SIZE)
    if size is not None and size != len(rows):
        raise ValueError(
            f"{MEMBERS_FILE}: {len(rows)} rows but {METRICS_FILE} says {POPULATION_SIZE} = {size:g}"
        )
    members = []
    for row in rows:
        grid = {key: row[key] for key in grid_keys(row)}
        metrics = {key: value for key, value in row.items() if key not in MEMBER_COLUMNS and key not in grid}
        members.append(
            MemberRecord(int(row["member"]), int(row[SEED]), grid, metrics)
        )  # ints already (read_members)
    return members
