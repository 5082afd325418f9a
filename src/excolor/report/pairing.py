"""Selecting members for a hypothesis and pairing treatment with control by seed.

A member matches a selector (``config path or grid key -> value``) when every value equals
the member's (`excolor.report.sweep.Member.value`), compared as YAML text too (``true`` vs
True, ``0.1`` vs 0.1).

Pairing rule: a member's **pair key** is its seed plus its grid point without the keys the
hypothesis selects on (so treatment ``weight=0.1`` pairs with control ``weight=1`` of the
same seed, and in a dose sweep ``normalize=true`` pairs with ``normalize=false`` at the same
seed and weight). The comparison is **paired** when every member has a seed, no pair key
occurs twice within either group (two arms pooled into one side, or a seed searched by
Optuna, make it unpaired) and at least `excolor.report.stats.MIN_N` keys are shared; members whose
key the other side lacks are left out of the paired test and counted (``n_unmatched``).
Otherwise the groups are compared unpaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

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
    """Treatment and control members, aligned pair by pair when ``paired``."""

    treatment: list[Member]
    control: list[Member]
    paired: bool = False
    n_unmatched: int = 0
    why_unpaired: str = ""

    def values(self, metric: str) -> tuple[np.ndarray, np.ndarray]:
        """The metric's values of each side (missing -> NaN, so pairs stay aligned)."""
        def column(members: list[Member]) -> np.ndarray:
            return np.array([np.nan if (value := member.number(metric)) is None else value for member in members],
                            dtype=float)
        return column(self.treatment), column(self.control)


def pair_members(treatment: list[Member], control: list[Member], ignore: Iterable[str]) -> Groups:
    """The two groups, paired by `pair_key` when the rule in the module docstring allows."""
    ignore = list(ignore)
    if any(member.seed is None for member in treatment + control):
        return Groups(treatment, control, why_unpaired="a member without a seed")
    treatment_by_key = {pair_key(member, ignore): member for member in treatment}
    control_by_key = {pair_key(member, ignore): member for member in control}
    if len(treatment_by_key) < len(treatment) or len(control_by_key) < len(control):
        return Groups(treatment, control, why_unpaired="a seed occurs twice on one side")
    shared = [key for key in treatment_by_key if key in control_by_key]
    if len(shared) < stats.MIN_N:
        return Groups(treatment, control, why_unpaired="no shared seeds")
    unmatched = len(treatment) + len(control) - 2 * len(shared)
    return Groups([treatment_by_key[key] for key in shared], [control_by_key[key] for key in shared], True, unmatched)


def select_sides(hypothesis: Hypothesis, members: list[Member]) -> tuple[list[Member], list[Member]]:
    """The members matching the hypothesis' treatment selector, and those matching its control."""
    return ([member for member in members if matches(member, hypothesis.treatment)],
            [member for member in members if matches(member, hypothesis.control)])


def compare_groups(groups: Groups, directions: dict[str, str], seed: int = 0) -> list[stats.Verdict]:
    """One verdict per ``metric -> better``, Holm-adjusted across the metrics (`excolor.report.stats.verdicts`)."""
    comparisons = [(*groups.values(metric), better) for metric, better in directions.items()]
    return stats.verdicts(comparisons, paired=groups.paired, seed=seed)
