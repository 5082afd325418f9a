"""What a run directory holds for its population, written and read in one place.

- `members.csv`: one row per member: `member`, `seed`, each grid key (its config path), then every
  per-member metric (the same names as in metrics.json). Run-wide values (`RUN_WIDE`: the fit's and the
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
RUN_WIDE = ("train/seconds", "train/first_step_time", "train/device", "train/cached", "eval/seconds", POPULATION_SIZE)
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
    """members.csv as one dict per member; every cell a float (`member` and `seed` ints), empty → NaN.
    Raises ValueError on a file that is not such a table."""
    path = Path(run_dir) / MEMBERS_FILE
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows or any(column not in rows[0] for column in MEMBER_COLUMNS):
        raise ValueError(f"{path}: not a members table (needs columns {', '.join(MEMBER_COLUMNS)} and ≥ 1 row)")
    members = []
    for row in rows:
        if None in row or None in row.values():
            raise ValueError(f"{path}: row {len(members) + 1} has the wrong number of cells")
        values = {key: float(cell) if cell != "" else math.nan for key, cell in row.items()}
        values.update({column: int(values[column]) for column in MEMBER_COLUMNS})
        members.append(values)
    return members


def summarize_members(member_metrics: list[dict[str, float]]) -> dict[str, float]:
    """Each metric's median over the members that have it (NaN members ignored unless all are NaN)."""
    keys = list(dict.fromkeys(key for metrics in member_metrics for key in metrics))
    summary = {}
    for key in keys:
        values = np.array([metrics[key] for metrics in member_metrics if key in metrics], dtype=float)
        finite = values[~np.isnan(values)]
        summary[key] = float(np.median(finite)) if len(finite) else math.nan
    return summary
