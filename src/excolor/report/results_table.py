"""The README's table of results over seeds, built from an h2 sweep dir (two population runs).

    python -m excolor.report.results_table multirun/h2

Prints a markdown table: for the linear and the sigmoid arm, the median and interquartile range over
members of each metric in ROWS, the suppression median ÷ unintervened median, and the sigmoid/linear
ratio of the medians of median MSE.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from excolor.config import fail
from excolor.metrics import BASELINE, MAX_MSE, MEDIAN_MSE, SCORE, eval_name
from excolor.report.sweep import trial_dirs
from excolor.run_record import MemberRecord, Status, read_run

ROWS = (
    ("median MSE, no intervention", eval_name(BASELINE, MEDIAN_MSE)),
    ("max MSE, no intervention", eval_name(BASELINE, MAX_MSE)),
    ("suppression max MSE", eval_name("suppression", MAX_MSE)),
    ("repulsion max MSE", eval_name("repulsion", MAX_MSE)),
    ("suppression targeting score", eval_name("suppression", SCORE)),
    ("repulsion targeting score", eval_name("repulsion", SCORE)),
)
ARMS = ("linear", "sigmoid")


def median_iqr(values: np.ndarray) -> str:
    """`median [25th, 75th percentile]`, 3 significant digits."""
    median, low, high = np.percentile(values, [50, 25, 75])
    return f"{median:.3g} [{low:.3g}, {high:.3g}]"


def arm_members(sweep_dir: Path) -> dict[str, list[MemberRecord]]:
    """model.output → the members of that arm's ok runs (read through `excolor.run_record`)."""
    arms: dict[str, list[MemberRecord]] = {}
    for run in trial_dirs(sweep_dir):
        record = read_run(run)
        if record.status != Status.OK or record.config is None:
            raise ValueError(
                f"{run}: the run is {record.status.value}" + (f" ({record.error})" if record.error else "")
            )
        arms.setdefault(record.config.model.output, []).extend(record.members)
    return arms


def table(sweep_dir: Path) -> str:
    """The markdown table (module docstring) of the sweep dir's linear and sigmoid runs."""
    arms = arm_members(sweep_dir)
    missing = [arm for arm in ARMS if arm not in arms]
    if missing:
        raise ValueError(
            f"{sweep_dir}: no {', '.join(missing)} run (an h2 sweep dir holds one run per model.output)"
        )

    def column(arm: str, key: str) -> np.ndarray:
        return np.array([member.metrics[key] for member in arms[arm]], dtype=float)

    seeds = sorted(
        {member.seed for members in arms.values() for member in members if member.seed is not None}
    )
    lines = [
        f"| {len(seeds)} seeds ({seeds[0]}–{seeds[-1]}): median [IQR] over members | linear | sigmoid |",
        "|---|---|---|",
    ]
    for label, key in ROWS:
        lines.append(
            f"| {label} | {median_iqr(column('linear', key))} | {median_iqr(column('sigmoid', key))} |"
        )
    spread = {
        arm: median_iqr(
            column(arm, eval_name("suppression", MEDIAN_MSE)) / column(arm, eval_name(BASELINE, MEDIAN_MSE))
        )
        for arm in ARMS
    }
    lines.append(f"| suppression median ÷ unintervened median | {spread['linear']} | {spread['sigmoid']} |")
    ratio = np.median(column("sigmoid", eval_name(BASELINE, MEDIAN_MSE))) / np.median(
        column("linear", eval_name(BASELINE, MEDIAN_MSE))
    )
    lines.append(f"| sigmoid / linear ratio of median MSE medians | | **{ratio:.3g}** |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m excolor.report.results_table", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("sweep_dir", type=Path)
    args = parser.parse_args(argv)
    try:
        print(table(args.sweep_dir))
    except (OSError, ValueError, KeyError) as error:
        fail(f"results_table: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
