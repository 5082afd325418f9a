"""A study's reference trials (``hydra.sweeper.enqueue_trials``: user attribute ``reference``, its
label) against every other complete trial of the same study.

Per objective j with direction d_j, trial a **beats** reference r on j when its value is better:
a_j > r_j (maximize) or a_j < r_j (minimize); a **dominates** r (Pareto) when it beats r on at least
one objective and is no worse on any (a_j ≥ r_j resp. a_j ≤ r_j for every j). The values are the
trials' own objective values (in an excolor sweep: medians over a population's members).

Where the sweep dir holds the trials' members (``<sweep dir>/<trial number>/members.csv``) and they
share seeds with the reference's (a sweep that never searches the seed), each trial that beats the
reference on some objective is also compared with it seed by seed on every objective
(`excolor.report.stats.verdicts`, paired: median of per-seed ratios with its BCa CI, Wilcoxon
signed-rank p), the p-values Holm-adjusted across the whole comparison (every listed trial × every
objective), so that a median that is better by seed noise alone is not read as a better weighting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from excolor.report.pairing import seed_median
from excolor.report.result import ReferenceResult, ReferenceRow
from excolor.report.stats import holm, verdict

REFERENCE = "reference"  # the trial user attribute (excolor_sweeper._enqueue) that marks a reference


def better(a: float, b: float, direction: str) -> bool:
    """Whether ``a`` is strictly better than ``b`` for ``direction`` (maximize / minimize)."""
    return a > b if direction == "maximize" else a < b


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Pareto: ``a`` better than ``b`` on at least one objective and no worse on any."""
    return any(better(x, y, d) for x, y, d in zip(a, b, directions)) and not any(
        better(y, x, d) for x, y, d in zip(a, b, directions)
    )


def seed_values(sweep_dir: Path | None, number: int, metric: str, direction: str) -> dict[Any, float]:
    """One value of ``metric`` per seed of trial ``number``'s members (a seed's members summarised by
    their median, `pairing.seed_median`); empty without the trial's dir or members."""
    if sweep_dir is None or not (sweep_dir / str(number)).is_dir():
        return {}
    from excolor.report.sweep import load_trial

    by_seed: dict[Any, list[float]] = {}
    for member in load_trial(sweep_dir / str(number)).members:
        value = member.number(metric)
        if member.seed is not None and value is not None:
            by_seed.setdefault(member.seed, []).append(value)
    better_side = "higher" if direction == "maximize" else "lower"
    return {seed: seed_median(values, better_side) for seed, values in by_seed.items()}


def compare_references(
    trials: list, objectives: list[str], directions: list[str], sweep_dir: Path | None = None
) -> list[ReferenceResult]:
    """Every complete reference trial against the other complete trials (module docstring)."""
    done = [t for t in trials if t.state.name == "COMPLETE" and t.values is not None]
    return [
        _compare(
            reference, [t for t in done if t.number != reference.number], objectives, directions, sweep_dir
        )
        for reference in done
        if REFERENCE in user_attrs(reference)
    ]


def user_attrs(trial: Any) -> dict:
    """An Optuna trial's user attributes (a plain dict)."""
    return dict(getattr(trial, "user_attrs", {}) or {})


def _compare(
    reference: Any, others: list, objectives: list[str], directions: list[str], sweep_dir: Path | None
) -> ReferenceResult:
    rows = []
    for trial in others:
        beats = [better(a, b, d) for a, b, d in zip(trial.values, reference.values, directions)]
        if any(beats):
            rows.append(
                ReferenceRow(
                    number=trial.number,
                    params=dict(trial.params),
                    values=list(trial.values),
                    beats=beats,
                    dominates=dominates(trial.values, reference.values, directions),
                )
            )
    rows.sort(key=lambda row: (not row.dominates, -sum(row.beats), row.number))
    _paired_verdicts(rows, reference.number, objectives, directions, sweep_dir)
    return ReferenceResult(
        number=reference.number,
        label=str(user_attrs(reference)[REFERENCE]),
        params=dict(reference.params),
        values=list(reference.values),
        n_compared=len(others),
        rows=rows,
    )


def _paired_verdicts(
    rows: list[ReferenceRow],
    reference: int,
    objectives: list[str],
    directions: list[str],
    sweep_dir: Path | None,
) -> None:
    """Each row's per-objective verdict against the reference, paired by seed, Holm across all of them."""
    controls = [seed_values(sweep_dir, reference, name, d) for name, d in zip(objectives, directions)]
    found = []
    for row in rows:
        for j, (name, direction) in enumerate(zip(objectives, directions)):
            treatment = seed_values(sweep_dir, row.number, name, direction)
            seeds = sorted(treatment.keys() & controls[j].keys())
            if not seeds:
                continue
            side = "higher" if direction == "maximize" else "lower"
            found.append(
                (
                    row,
                    j,
                    verdict(
                        [treatment[s] for s in seeds], [controls[j][s] for s in seeds], side, paired=True
                    ),
                )
            )
    adjusted = holm([v.p for _, _, v in found])
    for row, _, _ in found:
        row.verdicts = row.verdicts or [None] * len(objectives)
    for (row, j, found_verdict), p in zip(found, adjusted):
        row.verdicts[j] = found_verdict.adjusted(
            p if not math.isnan(p) else found_verdict.p, "against the reference", len(found)
        )
