"""Selecting members for a hypothesis, summarising them by seed and pairing treatment with control.

A member matches a selector (``config path or grid key -> value``) when every value equals
the member's (`excolor.report.sweep.Member.value`), compared as YAML text too (``true`` vs
True, ``0.1`` vs 0.1).

**The unit is the seed.** Members that share a seed share their initialisation and data stream, so
they are not independent samples: a side's members of one seed (its grid points, pooled arms, the
trials of an Optuna search that all train seeds 0–15) are first summarised into one value per seed,
and n is the number of seeds. A seed's value is the median of its members' values where a diverged
member (a non-finite value: NaN, ±inf) counts as the worst value (`excolor.report.stats.worst_value`);
the seed is diverged (NaN) when that median is the worst value (the median of [x, worst] is worst).
Formally, with o = x for lower-is-better and o = −x for higher, diverged members at o = +inf:
value = median(o) (back to x's sign), NaN when it is infinite.

The comparison is **paired** when every member has a seed and at least `excolor.report.stats.MIN_N`
seeds are shared; seeds the other side lacks are left out of the paired test and their members counted
(``n_unmatched``). Otherwise the seeds are compared unpaired and ``why_unpaired`` names the reason with
its counts ("only 2 shared seeds; pairing needs 3").
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from excolor.report import stats
from excolor.report.format import fmt_value
from excolor.report.spec import Hypothesis
from excolor.report.sweep import Member


def matches(member: Member, selector: dict[str, Any]) -> bool:
    """Whether the member has every ``key -> value`` of the selector (compared as YAML text too)."""
    for key, wanted in selector.items():
        found = member.value(key)
        if not (found == wanted or fmt_value(found) == fmt_value(wanted)):
            return False
    return True


def seed_median(values: Iterable[float], better: str) -> float:
    """A seed's value: the median of its members' values, a non-finite one counting as the worst;
    NaN (diverged) when the median is the worst. [1, 2, nan] → 2; [1, nan] → NaN (lower is better)."""
    sign = 1.0 if better == "lower" else -1.0
    oriented = sorted(sign * value if math.isfinite(value) else math.inf for value in values)
    if not oriented:
        return math.nan
    half = len(oriented) // 2
    middle = oriented[half] if len(oriented) % 2 else (oriented[half - 1] + oriented[half]) / 2
    return sign * middle if math.isfinite(middle) else math.nan


@dataclass
class Groups:
    """Treatment and control as units (the members of one seed, or one member without a seed),
    aligned unit by unit when ``paired``."""

    treatment: list[list[Member]]
    control: list[list[Member]]
    paired: bool = False
    n_unmatched: int = 0
    why_unpaired: str = ""
    per_unit: tuple[int, int] = (1, 1)  # the most members summarised into one unit, per side

    def values(self, metric: str, better: str = "lower") -> tuple[np.ndarray, np.ndarray]:
        """Each unit's `seed_median` of the metric. A unit without the metric on a side is left out
        (paired: with its partner)."""

        def column(units: list[list[Member]]) -> list[float | None]:
            found = []
            for unit in units:
                values = [value for member in unit if (value := member.number(metric)) is not None]
                found.append(seed_median(values, better) if values else None)
            return found

        treatment, control = column(self.treatment), column(self.control)
        if self.paired:
            kept = [(t, c) for t, c in zip(treatment, control) if t is not None and c is not None]
            return np.array([t for t, _ in kept], dtype=float), np.array([c for _, c in kept], dtype=float)
        return (
            np.array([t for t in treatment if t is not None], dtype=float),
            np.array([c for c in control if c is not None], dtype=float),
        )


def unit_key(member: Member) -> Any:
    """The member's seed (the unit), or the member itself when it has none."""
    return member if member.seed is None else member.seed


def units_by_seed(members: list[Member]) -> dict[Any, list[Member]]:
    """Members grouped by `unit_key`, in order of first appearance."""
    units: dict[Any, list[Member]] = {}
    for member in members:
        units.setdefault(unit_key(member), []).append(member)
    return units


def _why_unpaired(n_shared: int) -> str:
    if n_shared == 0:
        return "no shared seeds"
    return f"only {n_shared} shared seed{'s' if n_shared != 1 else ''}; pairing needs {stats.MIN_N}"


def pair_members(treatment: list[Member], control: list[Member]) -> Groups:
    """The two sides as seeds, paired by seed when the rule in the module docstring allows."""
    treatment_units, control_units = units_by_seed(treatment), units_by_seed(control)
    per_unit = (
        max(map(len, treatment_units.values()), default=1),
        max(map(len, control_units.values()), default=1),
    )
    if any(member.seed is None for member in treatment + control):
        return Groups(
            list(treatment_units.values()),
            list(control_units.values()),
            why_unpaired="a member without a seed",
            per_unit=per_unit,
        )
    shared = [key for key in treatment_units if key in control_units]
    if len(shared) < stats.MIN_N:
        return Groups(
            list(treatment_units.values()),
            list(control_units.values()),
            why_unpaired=_why_unpaired(len(shared)),
            per_unit=per_unit,
        )
    paired_members = sum(len(treatment_units[key]) + len(control_units[key]) for key in shared)
    return Groups(
        [treatment_units[key] for key in shared],
        [control_units[key] for key in shared],
        True,
        len(treatment) + len(control) - paired_members,
        per_unit=per_unit,
    )


def select_sides(hypothesis: Hypothesis, members: list[Member]) -> tuple[list[Member], list[Member]]:
    """The members matching the hypothesis' treatment selector, and those matching its control."""
    return (
        [member for member in members if matches(member, hypothesis.treatment)],
        [member for member in members if matches(member, hypothesis.control)],
    )


def compare_groups(
    groups: Groups,
    directions: dict[str, str],
    seed: int = 0,
    margin: float | None = None,
    n_boot: int = stats.N_RESAMPLES,
) -> list[stats.Verdict]:
    """One verdict per ``metric -> better`` (raw p: the family's Holm comes after, `excolor.report.family`)."""
    return [
        stats.verdict(
            *groups.values(metric, better),
            better=better,
            paired=groups.paired,
            seed=seed,
            margin=margin,
            n_boot=n_boot,
        )
        for metric, better in directions.items()
    ]
