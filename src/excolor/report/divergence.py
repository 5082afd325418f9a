"""Divergence as an outcome: how many members (and seeds) of each side diverged, and whether the rates differ.

A member **diverged** when its run marked it (`excolor.run_record.DIVERGED`, or a trial that failed
with `TrainingDiverged`, `excolor.report.sweep.diverged_members`) or any of the compared metrics is
non-finite (NaN, ±inf). The unit is the seed: a seed diverged on a side when any of its members there
did. The rates are compared on the seeds:

- paired by seed (`Groups.paired`): McNemar's exact test, b = seeds diverged on the treatment side only,
  c = on the control side only, p = two-sided binomial test of b out of b + c at 1/2
  (`scipy.stats.binomtest`); p = 1 when b + c = 0. b = 5, c = 0: p = 2 · 0.5^5 = 0.0625.
- unpaired: Fisher's exact test on [[d_t, n_t − d_t], [d_c, n_c − d_c]] (`scipy.stats.fisher_exact`,
  two-sided). [[3, 0], [0, 3]]: p = 2 / C(6, 3) = 0.1.

This test is reported beside the verdict and is not part of its Holm family: the rank tests already
count a diverged member as its side's worst value.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from scipy import stats as _sps

from excolor.report.pairing import Groups
from excolor.report.sweep import Member
from excolor.run_record import DIVERGED

MCNEMAR, FISHER = "McNemar exact", "Fisher exact"


@dataclass
class Divergence:
    """Diverged members and seeds per side, and the test of the seeds' divergence rates."""

    members_t: int
    members_c: int
    n_members_t: int
    n_members_c: int
    seeds_t: int
    seeds_c: int
    n_seeds_t: int
    n_seeds_c: int
    test: str
    p: float

    @property
    def any(self) -> bool:
        return bool(self.members_t or self.members_c)


def member_diverged(member: Member, metrics: Iterable[str]) -> bool:
    """Marked diverged by its run, or a non-finite value of any of ``metrics``."""
    if member.metrics.get(DIVERGED, 0) or member.diverged:
        return True
    return any(
        (value := member.number(metric)) is not None and not math.isfinite(value) for metric in metrics
    )


def mcnemar_exact(only_treatment: int, only_control: int) -> float:
    """Two-sided exact McNemar p: binomial test of b of b + c at 1/2 (1 when b + c = 0)."""
    total = only_treatment + only_control
    return 1.0 if total == 0 else float(_sps.binomtest(only_treatment, total, 0.5).pvalue)


def fisher_exact(diverged_t: int, n_t: int, diverged_c: int, n_c: int) -> float:
    """Two-sided Fisher exact p of the 2×2 table diverged / not per side (NaN if a side is empty)."""
    if n_t == 0 or n_c == 0:
        return math.nan
    return float(_sps.fisher_exact([[diverged_t, n_t - diverged_t], [diverged_c, n_c - diverged_c]]).pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy's result class is built at runtime (_make_tuple_bunch); its fields are unknown to inference


def compare_divergence(groups: Groups, metrics: Iterable[str]) -> Divergence:
    """The sides' diverged members and seeds, and McNemar (paired) or Fisher (unpaired) on the seeds."""
    metrics = list(metrics)
    flags_t = [[member_diverged(member, metrics) for member in unit] for unit in groups.treatment]
    flags_c = [[member_diverged(member, metrics) for member in unit] for unit in groups.control]
    seeds_t, seeds_c = [any(unit) for unit in flags_t], [any(unit) for unit in flags_c]
    if groups.paired:
        only_t = sum(t and not c for t, c in zip(seeds_t, seeds_c))
        only_c = sum(c and not t for t, c in zip(seeds_t, seeds_c))
        test, p = MCNEMAR, mcnemar_exact(only_t, only_c)
    else:
        test, p = FISHER, fisher_exact(sum(seeds_t), len(seeds_t), sum(seeds_c), len(seeds_c))
    return Divergence(
        sum(map(sum, flags_t)),
        sum(map(sum, flags_c)),
        sum(map(len, flags_t)),
        sum(map(len, flags_c)),
        sum(seeds_t),
        sum(seeds_c),
        len(seeds_t),
        len(seeds_c),
        test,
        p,
    )
