"""Selecting members for a hypothesis and pairing treatment with control by seed.

A member matches a selector (``config path or grid key -> value``) when every value equals
the member's (`excolor.sweep_results.Member.value`), compared as YAML text too (``true`` vs
True, ``0.1`` vs 0.1).

Pairing rule: a member's **pair key** is its seed plus its grid point without the keys the
hypothesis selects on (so treatment ``weight=0.1`` pairs with control ``weight=1`` of the
same seed, and in a dose sweep ``normalize=true`` pairs with ``normalize=false`` at the same
seed and weight). The comparison is **paired** when every member has a seed, no pair key
occurs twice within either group (two arms pooled into one side, or a seed searched by
Optuna, make it unpaired) and at least `excolor.stats.MIN_N` keys are shared; members whose
key the other side lacks are left out of the paired test and counted (``n_unmatched``).
Otherwise the groups are compared unpaired.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import numpy as np

from excolor import stats
from excolor.report_format import fmt_value
from excolor.sweep_results import Member


def matches(member: Member, selector: dict[str, Any]) -> bool:
    """Whether the member has every ``key -> value`` of the selector (compared as YAML text too)."""
    for key, want in selector.items():
        got = member.value(key)
        if not (got == want or fmt_value(got) == fmt_value(want)):
            return False
    return True


def pair_key(member: Member, ignore: Iterable[str]) -> tuple:
    """(seed, grid point without the ``ignore`` keys): members with equal keys are partners."""
    ignored = set(ignore)
    return member.seed, tuple(sorted((k, v) for k, v in member.grid.items() if k not in ignored))


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
        def column(members):
            return np.array([np.nan if (v := m.number(metric)) is None else v for m in members], dtype=float)
        return column(self.treatment), column(self.control)


def pair_members(treatment: list[Member], control: list[Member], ignore: Iterable[str]) -> Groups:
    """The two groups, paired by `pair_key` when the rule in the module docstring allows."""
    ignore = list(ignore)
    if any(m.seed is None for m in treatment + control):
        return Groups(treatment, control, why_unpaired="a member without a seed")
    t_keys = {pair_key(m, ignore): m for m in treatment}
    c_keys = {pair_key(m, ignore): m for m in control}
    if len(t_keys) < len(treatment) or len(c_keys) < len(control):
        return Groups(treatment, control, why_unpaired="a seed occurs twice on one side")
    shared = [k for k in t_keys if k in c_keys]
    if len(shared) < stats.MIN_N:
        return Groups(treatment, control, why_unpaired="no shared seeds")
    unmatched = len(treatment) + len(control) - 2 * len(shared)
    return Groups([t_keys[k] for k in shared], [c_keys[k] for k in shared], True, unmatched)


def compare_groups(groups: Groups, directions: dict[str, str], seed: int = 0) -> list[stats.Verdict]:
    """One verdict per ``metric -> better``, Holm-adjusted across the metrics (`excolor.stats.verdicts`)."""
    comparisons = [(*groups.values(metric), better) for metric, better in directions.items()]
    return stats.verdicts(comparisons, paired=groups.paired, seed=seed)
