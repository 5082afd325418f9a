"""Selecting members for a hypothesis and pairing treatment with control by seed.

A member matches a selector (``config path or grid key -> value``) when every value equals
the member's (`excolor.report.sweep.Member.value`), compared as YAML text too (``true`` vs
True, ``0.1`` vs 0.1).

Pairing rule: a member's **pair key** is its seed plus its grid point without the keys the
hypothesis selects on (so treatment ``weight=0.1`` pairs with control ``weight=1`` of the
same seed, and in a dose sweep ``normalize=true`` pairs with ``normalize=false`` at the same
seed and weight). The **unit of analysis is the pair key**: when a side holds several members with
one key (two arms pooled into one side, or the trials of an Optuna search that all train seeds
0–15), they are summarised by their median first, so a seed counts once per side and n is the number
of seeds, not of members. The comparison is **paired** when every member has a seed and at least
`excolor.report.stats.MIN_N` keys are shared; keys the other side lacks are left out of the paired
test and their members counted (``n_unmatched``). Otherwise the units are compared unpaired.
"""

from __future__ import annotations

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


def pair_key(member: Member, ignore: Iterable[str]) -> tuple:
    """(seed, grid point without the ``ignore`` keys): members with equal keys are partners."""
    ignored = set(ignore)
    return member.seed, tuple(sorted((key, value) for key, value in member.grid.items() if key not in ignored))


@dataclass
class Groups:
    """Treatment and control as units (the members summarised into one sample: one member, unless a
    side repeats a pair key), aligned pair by pair when ``paired``."""

    treatment: list[list[Member]]
    control: list[list[Member]]
    paired: bool = False
    n_unmatched: int = 0
    why_unpaired: str = ""
    per_unit: tuple[int, int] = (1, 1)  # the most members summarised into one unit, per side

    def values(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """Each unit's median of the metric over its members (NaN where none has it, so pairs stay aligned)."""
        def column(units: list[list[Member]]) -> np.ndarray:
            medians = []
            for unit in units:
                values = [value for member in unit if (value := member.number(metric)) is not None and not np.isnan(value)]
                medians.append(float(np.median(values)) if values else np.nan)
            return np.array(medians, dtype=float)
        return column(self.treatment), column(self.control)


def units_by_key(members: list[Member], ignore: list[str]) -> dict[tuple, list[Member]]:
    """Members grouped by `pair_key`, in order of first appearance."""
    units: dict[tuple, list[Member]] = {}
    for member in members:
        units.setdefault(pair_key(member, ignore), []).append(member)
    return units


def pair_members(treatment: list[Member], control: list[Member], ignore: Iterable[str]) -> Groups:
    """The two sides as units, paired by `pair_key` when the rule in the module docstring allows."""
    ignore = list(ignore)
    if any(member.seed is None for member in treatment + control):
        return Groups([[member] for member in treatment], [[member] for member in control], why_unpaired="a member without a seed")
    treatment_units, control_units = units_by_key(treatment, ignore), units_by_key(control, ignore)
    per_unit = (max(map(len, treatment_units.values()), default=1), max(map(len, control_units.values()), default=1))
    shared = [key for key in treatment_units if key in control_units]
    if len(shared) < stats.MIN_N:
        return Groups(list(treatment_units.values()), list(control_units.values()), why_unpaired="no shared seeds", per_unit=per_unit)
    paired_members = sum(len(treatment_units[key]) + len(control_units[key]) for key in shared)
    return Groups([treatment_units[key] for key in shared], [control_units[key] for key in shared], True,
                  len(treatment) + len(control) - paired_members, per_unit=per_unit)


def select_sides(hypothesis: Hypothesis, members: list[Member]) -> tuple[list[Member], list[Member]]:
    """The members matching the hypothesis' treatment selector, and those matching its control."""
    return ([member for member in members if matches(member, hypothesis.treatment)],
            [member for member in members if matches(member, hypothesis.control)])


def compare_groups(groups: Groups, directions: dict[str, str], seed: int = 0) -> list[stats.Verdict]:
    """One verdict per ``metric -> better``, Holm-adjusted across the metrics (`excolor.report.stats.verdicts`)."""
    comparisons = [(*groups.values(metric), better) for metric, better in directions.items()]
    return stats.verdicts(comparisons, paired=groups.paired, seed=seed)
