"""The per-step loss history: written as a CSV, summarised into train/* metrics."""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np

from excolor.metrics import TRAIN_STEPS, phase_name, train_name
from excolor.schedule import Schedule

TAIL = 50  # train/recon and train/loss are means over the last TAIL steps


def write_losses_csv(path: Path, history: np.ndarray, columns: list[str], schedule: Schedule) -> None:
    """One row per step: step, lr, every scheduled weight, then the loss terms (empty = skipped).
    `history` is [steps, columns, members]; a population writes each term's median over members."""
    steps = len(history)
    per_step = median_over_members(history)
    scheduled = {name: schedule[name][:steps] for name in schedule.names}
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", *scheduled, *columns])
        for step in range(steps):
            row = [f"{v:.6g}" for v in (scheduled[n][step] for n in scheduled)]
            row += ["" if np.isnan(v) else f"{v:.6g}" for v in per_step[step]]
            writer.writerow([step, *row])


def median_over_members(history: np.ndarray) -> np.ndarray:
    """[steps, columns, members] → [steps, columns]; NaN where every member skipped the term."""
    with warnings.catch_warnings():  # an all-NaN (skipped) column is expected, not a problem
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(history, axis=-1)


def _nanmean(values: np.ndarray) -> np.ndarray:
    """Mean over axis 0 ignoring NaN (skipped steps); NaN where every value is NaN."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmean(values, axis=0)


def summarize_losses(history: np.ndarray, columns: list[str], schedule: Schedule) -> list[dict[str, float]]:
    """Per member, from `history` [steps, columns, members]: train/<term> = mean over the last TAIL
    steps; train/<phase>/<term> = mean over each PHASE (loss and recon). Terms a member never ran are
    left out."""
    steps, _, members = history.shape
    summaries: list[dict[str, float]] = [{TRAIN_STEPS: steps} for _ in range(members)]

    def add(name: str, means: np.ndarray) -> None:  # means: [members]
        for summary, value in zip(summaries, means):
            if not np.isnan(value):
                summary[name] = float(value)

    tail = _nanmean(history[-TAIL:])  # [columns, members]
    for i, name in enumerate(columns):
        add(train_name(name), tail[i])
    bounds = [start for start, _ in schedule.phases] + [steps]
    for (start, phase), end in zip(schedule.phases, bounds[1:]):
        segment = history[start : min(end, steps)]
        if len(segment) == 0:
            continue
        means = _nanmean(segment)
        for i, name in enumerate(columns[:2]):  # loss and recon per phase
            add(phase_name(phase, name), means[i])
    return summaries
