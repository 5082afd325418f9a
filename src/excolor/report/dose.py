"""Dose–response: metrics against a grid key (``report.dose``), per arm, with per-dose effects.

For every value x of the dose key (a grid key such as ``regularizers.unit.weight``; a config
key works too when each trial sits at one value):

- **bands**: for each *series* (the arm keys other than the dose key, e.g. ``normalize=true`` and
  ``normalize=false``) and each report metric, the median and the IQR (25th–75th percentile)
  over the members at x;
- **effects**: for each hypothesis that does not select on the dose key (and is not an equivalence
  hypothesis) and each of its metrics,
  treatment vs control among the members at x, paired by seed where they share seeds
  (`excolor.report.pairing`: at one dose a seed is one member per side), effect and BCa CI and p as in
  `excolor.report.stats.verdict`. The rows' p-values are raw here: they are **Holm-adjusted in the
  hypothesis' family**, with its pooled verdicts and every dose of every metric
  (`excolor.report.family`), which also sets each row's direction: better / worse / no significant
  difference (`direction`).

The x axis is logarithmic when the values are positive and log-spaced (`is_log_spaced`).
The result is a `DoseResult`, or a `NoDose` saying why there is none.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from excolor.report import stats
from excolor.report.format import values_label
from excolor.report.pairing import pair_members, select_sides
from excolor.report.result import Band, DoseBand, DoseEffect, DoseResult, DoseRow, NoDose
from excolor.report.spec import Hypothesis, Spec
from excolor.report.sweep import Member

BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no significant difference"


def is_log_spaced(values: list[float]) -> bool:
    """Positive and either spanning ≥ 100× or with equal steps in log (within 10%) and not in linear."""
    doses = np.sort(np.asarray(values, dtype=float))
    if doses.size < 2 or doses[0] <= 0:
        return False
    if doses[-1] / doses[0] >= 100:
        return True
    if doses.size < 3:
        return False
    log_steps, steps = np.diff(np.log(doses)), np.diff(doses)
    equal_in_log = np.ptp(log_steps) <= 0.1 * np.mean(log_steps)
    equal_in_linear = np.ptp(steps) <= 0.1 * np.mean(steps)
    return bool(equal_in_log and not equal_in_linear)


def _dose_of(member: Member, key: str) -> float | None:
    """The member's value of the dose key as a float (None if absent or not a number)."""
    value = member.value(key)
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _series_label(member: Member, keys: list[str]) -> str:
    return values_label({key: member.value(key) for key in keys})


def band(members: list[Member], metric: str) -> Band:
    """n, median, q25, q75 of the members' metric."""
    summary = stats.summarize(
        [value for value in (member.number(metric) for member in members) if value is not None]
    )
    return Band(summary["n"], summary["median"], summary["q25"], summary["q75"])


def direction(outcome: str) -> str:
    """A dose row's direction from its verdict's outcome."""
    return {stats.SUPPORTED: BETTER, stats.NOT_SUPPORTED: WORSE}.get(outcome, NO_DIFFERENCE)


def _effect_rows(
    hypothesis: Hypothesis,
    metric: str,
    better: str,
    doses: list[float],
    members_at: dict[float, list[Member]],
    n_boot: int,
) -> list[DoseRow]:
    """One row per dose: treatment vs control at that dose (raw p; the family adjusts it)."""
    rows = []
    for dose in doses:
        treatment, control = select_sides(hypothesis, members_at[dose])
        groups = pair_members(treatment, control)
        verdict = stats.verdict(
            *groups.values(metric, better), better=better, paired=groups.paired, n_boot=n_boot
        )
        rows.append(
            DoseRow(
                dose,
                verdict,
                groups.n_unmatched,
                band(treatment, metric),
                band(control, metric),
                direction(verdict.outcome),
            )
        )
    return rows


def analyse_dose(members: list[Member], spec: Spec, n_boot: int = stats.N_RESAMPLES) -> DoseResult | NoDose:
    """The dose analysis of the ok members (module docstring); `NoDose` says why there is none."""
    key = spec.dose
    if key is None:
        raise ValueError("analyse_dose: the spec names no dose key")
    dosed = [(member, dose) for member in members if (dose := _dose_of(member, key)) is not None]
    if not dosed:
        return NoDose(key, f"no member has a numeric value of {key}")
    doses = sorted({dose for _, dose in dosed})
    members_at = {dose: [member for member, member_dose in dosed if member_dose == dose] for dose in doses}
    series_keys = [arm_key for arm_key in spec.arms if arm_key != key]
    series = list(dict.fromkeys(_series_label(member, series_keys) for member, _ in dosed))

    def series_band(metric: str, label: str, dose: float) -> DoseBand:
        in_series = [member for member in members_at[dose] if _series_label(member, series_keys) == label]
        return DoseBand(**dataclasses.asdict(band(in_series, metric)), x=dose)

    bands = {
        metric: {label: [series_band(metric, label, dose) for dose in doses] for label in series}
        for metric in spec.metrics
    }
    effects = [
        DoseEffect(
            hypothesis.name,
            metric,
            better,
            hypothesis.treatment,
            hypothesis.control,
            _effect_rows(hypothesis, metric, better, doses, members_at, n_boot),
        )
        for hypothesis in spec.hypotheses
        if key not in hypothesis.selected_keys and hypothesis.equivalence is None
        for metric, better in hypothesis.metrics.items()
    ]
    return DoseResult(key, doses, is_log_spaced(doses), series_keys, series, bands, effects)
