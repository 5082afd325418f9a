"""A study's reference trials (``hydra.sweeper.enqueue_trials``: user attribute ``reference``, its
label) against every other complete trial of the same study.

Per objective j with direction d_j, trial a **beats** reference r on j when its value is better:
a_j > r_j (maximize) or a_j < r_j (minimize); a **dominates** r (Pareto) when it beats r on at least
one objective and is no worse on any (a_j ≥ r_j resp. a_j ≤ r_j for every j). The values are the
trials' own objective values (in an excolor sweep: medians over a population's members).

Where the sweep dir holds the trials' members (``<sweep dir>/<trial number>/members.csv``) and they
share seeds with the reference's (a sweep that never searches the seed), every other trial is also
compared with it seed by seed on every objective
(`excolor.report.stats.verdict`, paired: median of per-seed ratios with its BCa CI, Wilcoxon
signed-rank p), the p-values Holm-adjusted across the whole comparison (every compared trial × every
objective, not only the trials shown: choosing the trials whose values beat the reference and then
testing only those would be choosing by the same noise), so that a median that is better by seed
noise alone is not read as a better weighting. Shown: the trials that beat the reference on some
objective, or that the paired test finds better on one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from excolor.report.pairing import seed_median
from excolor.report.result import ReferenceResult, ReferenceRow
from excolor.report.stats import SUPPORTED, holm, verdict
from excolor.study_storage import REFERENCE


def better(a: float, b: float, direction: str) -> bool:
    """Whether ``a`` is strictly better than ``b`` for ``direction`` (maximize / minimize)."""
    return a > b if direction == "maximize" else a < b


def better_side(direction: str) -> str:
    """The side of a metric (`excolor.report.stats`) that an Optuna direction favours."""
    return "higher" if direction == "maximize" else "lower"


def dominates(a: Sequence[float], b: Sequence[float], directions: Sequence[str]) -> bool:
    """Pareto: ``a`` better than ``b`` on at least one objective and no worse on any."""
    return any(better(x, y, d) for x, y, d in zip(a, b, directions)) and not any(
        better(y, x, d) for x, y, d in zip(a, b, directions)
    )


def seed_values(
    sweep_dir: Path | None, number: int, metrics: list[str], directions: list[str]
) -> list[dict[Any, float]]:
    """Per metric, one value per seed of trial ``number``'s members (a seed's members summarised by
    their median, `pairing.seed_median`); empty without the trial's dir or members."""
    if sweep_dir is None or not (sweep_dir / str(number)).is_dir():
        return [{} for _ in metrics]
    from excolor.report.sweep import load_trial

    members = load_trial(sweep_dir / str(number)).members
    found = []
    for metric, direction in zip(metrics, directions):
        by_seed: dict[Any, list[float]] = {}
        for member in members:
            value = member.number(metric)
            if member.seed is not None and value is not None:
                by_seed.setdefault(member.seed, []).append(value)
        found.append({seed: seed_median(values, better_side(direction)) for seed, values in by_seed.items()})
    return found


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
        if REFERENCE in reference.user_attrs
    ]


def _compare(
    reference: Any, others: list, objectives: list[str], directions: list[str], sweep_dir: Path | None
) -> ReferenceResult:
    """The reference against ``others``: every one tested, those that beat it (or test better) shown."""
    rows = [
        ReferenceRow(
            number=trial.number,
            params=dict(trial.params),
            values=list(trial.values),
            beats=[better(a, b, d) for a, b, d in zip(trial.values, reference.values, directions)],
            dominates=dominates(trial.values, reference.values, directions),
        )
        for trial in others
    ]
    n_tests = _paired_verdicts(rows, reference.number, objectives, directions, sweep_dir)
    shown = [
        row for row in rows if any(row.beats) or any(tests_better(row, j) for j in range(len(objectives)))
    ]
    shown.sort(key=lambda row: (not row.dominates, -sum(row.beats), row.number))
    return ReferenceResult(
        number=reference.number,
        label=str(reference.user_attrs[REFERENCE]),
        params=dict(reference.params),
        values=list(reference.values),
        n_compared=len(others),
        rows=shown,
        n_tests=n_tests,
    )


def tests_better(row: ReferenceRow, j: int) -> bool:
    """Whether the paired test finds the row's trial better than the reference on objective j."""
    found = row.verdicts[j] if j < len(row.verdicts) else None
    return found is not None and found.outcome == SUPPORTED


def _paired_verdicts(
    rows: list[ReferenceRow],
    reference: int,
    objectives: list[str],
    directions: list[str],
    sweep_dir: Path | None,
) -> int:
    """Each row's per-objective verdict against the reference, paired by seed, Holm across all of
    them (every compared trial, shown or not); returns the number of tests."""
    controls = seed_values(sweep_dir, reference, objectives, directions)
    found = []
    for row in rows:
        treatments = seed_values(sweep_dir, row.number, objectives, directions)
        for j, (treatment, control, direction) in enumerate(zip(treatments, controls, directions)):
            seeds = sorted(treatment.keys() & control.keys())
            if seeds:
                t, c = [treatment[s] for s in seeds], [control[s] for s in seeds]
                found.append((row, j, verdict(t, c, better_side(direction), paired=True)))
    for row, _, _ in found:
        row.verdicts = row.verdicts or [None] * len(objectives)
    for (row, j, found_verdict), p in zip(found, holm([v.p for _, _, v in found])):
        row.verdicts[j] = found_verdict.adjusted(
            found_verdict.p if math.isnan(p) else p, "against the reference", len(found)
        )
    return len(found)
