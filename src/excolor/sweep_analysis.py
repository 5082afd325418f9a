"""The numbers of a sweep report: members grouped into arms, per-arm compute and metric
summaries, one `excolor.stats.verdict` per hypothesis metric and, with ``report.dose``, the
dose–response analysis (`excolor.dose`).

Samples are population members (`excolor.sweep_results.Member`). A member's arm is its values
of the arm keys (config keys or grid keys), so one trial may feed several arms (a grid-key arm)
and a failed trial counts as failed in every arm its grid points would have fed. Compute is per
trial: a trial's ``train/seconds`` is shared among arms in proportion to its members in each.

A hypothesis compares the members matching its treatment and control selectors, paired by
seed when they share seeds (`excolor.pairing`); its metrics' p-values are Holm-adjusted and
combined with `excolor.stats.combine_outcomes` (supported only if all are, not supported if any
is). The result is a plain dict: rendered as markdown by `excolor.report` and written, as is
(less the per-member values), to ``summary.json``.
"""

from __future__ import annotations

import math

import numpy as np

from excolor import stats
from excolor.dose import analyse_dose
from excolor.pairing import compare_groups, matches, pair_members
from excolor.report_format import fmt_value
from excolor.sweep_results import FAILED, INCOMPLETE, OK, Member, Spec, Trial


def arm_label(values: dict, keys: list[str]) -> str:
    """``output=linear, weight=0.1`` (last path component = value), or ``all`` without keys."""
    return ", ".join(f"{k.split('.')[-1]}={fmt_value(values[k])}" for k in keys) or "all"


def _point_values(trial: Trial, point: dict, keys: list[str]) -> dict:
    """A grid point's values of ``keys``: the point's for grid keys, else the trial's config value."""
    return {k: point[k] if k in point else trial.value(k) for k in keys}


def _compute(trials: list[Trial], share: dict[str, float] | None = None) -> dict:
    """Training time and steps of the trials (finite values only); ``share`` weighs each trial's
    seconds by the fraction of its members counted (default 1)."""
    share = share or {}
    secs, steps = [], []
    for t in trials:
        s, n = t.number("train/seconds"), t.number("train/steps")
        if s is not None and math.isfinite(s):
            secs.append(s * share.get(t.name, 1.0))
        if n is not None and math.isfinite(n):
            steps.append(n)
    n_members = sum(len(t.members) * share.get(t.name, 1.0) for t in trials)
    total = float(sum(secs)) if secs else None
    return {"train_seconds": total, "n_timed": len(secs),
            "mean_seconds": float(np.mean(secs)) if secs else None,
            "seconds_per_member": total / n_members if total is not None and n_members else None,
            "mean_steps": float(np.mean(steps)) if steps else None}


def _member_values(members: list[Member], metric: str) -> list[float]:
    """The members' values of ``metric`` (members without one skipped; NaN kept)."""
    return [v for v in (m.number(metric) for m in members) if v is not None]


def _arm_summary(label: str, trials: list[Trial], members: list[Member], spec: Spec) -> dict:
    """Counts, compute and metric summaries of one arm."""
    touching = [t for t in trials if label in t.arms]
    ok_trials = [t for t in touching if t.status == OK]
    share = {t.name: sum(m.arm == label for m in t.members) / len(t.members) for t in ok_trials if t.members}
    first = members[0] if members else None
    return {
        "arm": label,
        "values": {k: (first.value(k) if first else touching[0].value(k)) for k in spec.arms},
        "trials": [t.name for t in touching],
        "n_ok": len(ok_trials),
        "n_failed": sum(t.status == FAILED for t in touching),
        "n_incomplete": sum(t.status == INCOMPLETE for t in touching),
        "n_members": len(members),
        "compute": _compute(ok_trials, share),
        "metrics": {m: {**stats.summarize(_member_values(members, m)), "values": _member_values(members, m)}
                    for m in spec.metrics},
    }


def _hypothesis(h, members: list[Member]) -> dict:
    """One hypothesis: its members, pairing and Holm-adjusted verdict per metric."""
    treatment = [m for m in members if matches(m, h.treatment)]
    control = [m for m in members if matches(m, h.control)]
    groups = pair_members(treatment, control, ignore=set(h.treatment) | set(h.control))
    per = [{"metric": metric, **v.to_dict()} for metric, v in zip(h.metrics, compare_groups(groups, h.metrics))]
    return {"name": h.name, "claim": h.claim, "treatment": h.treatment, "control": h.control,
            "treatment_trials": list(dict.fromkeys(m.trial.name for m in treatment)),
            "control_trials": list(dict.fromkeys(m.trial.name for m in control)),
            "n_treatment": len(treatment), "n_control": len(control),
            "paired": groups.paired, "n_unmatched": groups.n_unmatched, "why_unpaired": groups.why_unpaired,
            "outcome": stats.combine_outcomes(p["outcome"] for p in per), "metrics": per}


def analyse(trials: list[Trial], spec: Spec) -> dict:
    """Assign each member (and trial) its arm label and summarise counts, compute, metrics,
    hypotheses and the dose response."""
    for t in trials:
        for m in t.members:
            m.arm = arm_label({k: m.value(k) for k in spec.arms}, spec.arms)
        t.arms = list(dict.fromkeys(m.arm for m in t.members)) or list(dict.fromkeys(
            arm_label(_point_values(t, point, spec.arms), spec.arms) for point in t.grid_points()))
    arm_order = list(dict.fromkeys(a for t in trials for a in t.arms))
    ok = [t for t in trials if t.status == OK]
    members = [m for t in ok for m in t.members]
    has_steps = any(t.number("train/steps") is not None for t in ok)

    arms = [_arm_summary(a, trials, [m for m in members if m.arm == a], spec) for a in arm_order]
    hyps = [_hypothesis(h, members) for h in spec.hypotheses]
    return {
        "counts": {OK: len(ok), FAILED: sum(t.status == FAILED for t in trials),
                   INCOMPLETE: sum(t.status == INCOMPLETE for t in trials), "total": len(trials),
                   "members": len(members)},
        "arm_keys": spec.arms, "arm_keys_declared": spec.arms_declared, "metric_names": spec.metrics,
        "compute": _compute(ok), "has_steps": has_steps,
        "arms": arms, "hypotheses": hyps,
        "dose": analyse_dose(members, spec) if spec.dose else None,
        "failed": [{"trial": t.name, "overrides": t.overrides, "type": t.error_type, "error": t.error}
                   for t in trials if t.status == FAILED],
        "incomplete": [{"trial": t.name, "overrides": t.overrides} for t in trials if t.status == INCOMPLETE],
    }
