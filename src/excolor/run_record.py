"""What a run directory holds for its population, written and read in one place.

- `members.csv`: one row per member: `member`, `seed`, each grid key (its config path), then every
  per-member metric (the same names as in metrics.json). Run-wide values (the fit's and the
  evaluation's wall time, device, cache hit, population size) are not per member and stay in metrics.json only.
- `metrics.json`: the run's flat metrics: each per-member metric's **median over members**, the
  run-wide values, `population/size` and `seed` (the population's first seed).

A run of one member has the same metrics.json as before populations existed, plus `population/size: 1`.
"""

from __future__ import annotations

import csv
import math
import os
from pathlib import Path

import numpy as np

MEMBERS_FILE = "members.csv"
METRICS_FILE = "metrics.json"
POPULATION_SIZE = "population/size"
MEMBER_COLUMNS = ("member", "seed")


def member_rows(population, member_metrics: list[dict[str, float]]) -> list[dict]:
    """members.csv's rows: index, seed and grid values of each member, then its metrics."""
    return [
        {"member": member.index, "seed": member.seed, **member.values, **metrics}
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
        writer.writerows({key: repr(value) if isinstance(value, float) else value for key, value in row.items()} for row in rows)
    os.replace(tmp, path)
    return path


def read_members(run_dir: Path) -> list[dict[str, float]]:
    """members.csv as one dict per member: `member` and `seed` ints, every other cell a float (empty →
    NaN). Raises ValueError naming the file, line and column of anything that is not such a table."""
    path = Path(run_dir) / MEMBERS_FILE
    with open(path, newline="") as handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        rows = list(reader)
    if not header or any(column not in header for column in MEMBER_COLUMNS) or not rows:
        raise ValueError(f"{path.name}: not a members table (needs a header with {', '.join(MEMBER_COLUMNS)} and at least one row)")
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
    metric names always contain a `/`."""
    return [key for key in member if key not in MEMBER_COLUMNS and "/" not in key]


def _number(cell: str, where: str) -> float:
    """A cell as a float (empty → NaN); anything else is a ValueError naming the cell."""
    if cell.strip() == "":
        return math.nan
    try:
        return float(cell)
    except ValueError:
        raise ValueError(f"{where}: {cell!r} is not a number") from None


def summarize_members(member_metrics: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's median over the members that have it (NaN members ignored unless all are NaN)."""
    keys = list(dict.fromkeys(key for metrics in member_metrics for key in metrics))
    summary = {}
    for key in keys:
        values = np.array([metrics[key] for metrics in member_metrics if key in metrics], dtype=float)
        finite = values[~np.isnan(values)]
        summary[key] = float(np.median(finite)) if len(finite) else math.nan
    return summary
