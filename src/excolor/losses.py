"""The per-step loss history: written as a CSV, summarised into train/* metrics."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from excolor.schedule import Schedule

TAIL = 50  # train/recon and train/loss are means over the last TAIL steps


def write_losses_csv(path: Path, history: np.ndarray, columns: list[str], schedule: Schedule) -> None:
    """One row per step: step, lr, every scheduled weight, then the loss terms (empty = skipped)."""
    steps = len(history)
    scheduled = {name: schedule[name][:steps] for name in schedule.names}
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["step", *scheduled, *columns])
        for step in range(steps):
            row = [f"{v:.6g}" for v in (scheduled[n][step] for n in scheduled)]
            row += ["" if np.isnan(v) else f"{v:.6g}" for v in history[step]]
            writer.writerow([step, *row])


def summarize_losses(history: np.ndarray, columns: list[str], schedule: Schedule) -> dict[str, float]:
    """train/<term>: mean over the last TAIL steps; train/<phase>/<term>: mean over each PHASE."""
    steps = len(history)
    metrics: dict[str, float] = {"train/steps": steps}
    tail = history[-TAIL:]
    for i, name in enumerate(columns):
        values = tail[:, i][~np.isnan(tail[:, i])]
        if len(values):
            metrics[f"train/{name}"] = float(values.mean())
    bounds = [start for start, _ in schedule.phases] + [steps]
    for (start, phase), end in zip(schedule.phases, bounds[1:]):
        segment = history[start:min(end, steps)]
        for i, name in enumerate(columns[:2]):  # loss and recon per phase
            values = segment[:, i][~np.isnan(segment[:, i])]
            if len(values):
                metrics[f"train/{phase}/{name}"] = float(values.mean())
    return metrics
