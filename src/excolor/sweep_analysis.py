"""The numbers of a sweep report: trials grouped into arms, per-arm compute and metric
summaries, and one `excolor.stats.verdict` per hypothesis metric.

Several metrics of one hypothesis are combined with `excolor.stats.combine_outcomes`
(supported only if all are, not supported if any is). The result is a plain dict: it is
rendered as markdown by `excolor.report` and written, as is, to ``summary.json``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from excolor import stats
from excolor.report_format import fmt_value
from excolor.sweep_results import FAILED, INCOMPLETE, OK, Spec, Trial


def _numbers(trials: list[Trial], metric: str) -> list[float]:
    """The trials' numeric values of ``metric`` (trials without one are skipped; NaN/inf kept)."""
    return [v for v in (t.number(metric) for t in trials) if v is not None]


def _compute(trials: list[Trial]) -> dict:
    """Training time and steps of the trials (finite values only)."""
    secs = [s for s in _numbers(trials, "train/seconds") if math.isfinite(s)]
    steps = [s for s in _numbers(trials, "train/steps") if math.isfinite(s)]
    return {"train_seconds": float(sum(secs)) if secs else None, "n_timed": len(secs),
            "mean_seconds": float(np.mean(secs)) if secs else None,
            "mean_steps": float(np.mean(steps)) if steps else None}


def _matches(t: Trial, selector: dict[str, Any]) -> bool:
    """Whether the trial has every ``config path -> value`` of the selector (compared as YAML text too)."""
    for k, want in selector.items():
        got = t.value(k)
        if not (got == want or fmt_value(got) == fmt_value(want)):
            return False
    return True


def analyse(trials: list[Trial], spec: Spec) -> dict:
    """Assign each trial its arm label and summarise counts, compute, metrics and hypotheses."""
    for t in trials:
        t.arm = ", ".join(f"{k.split('.')[-1]}={fmt_value(t.value(k))}" for k in spec.arms) or "all"
    arm_order = list(dict.fromkeys(t.arm for t in trials))
    ok = [t for t in trials if t.status == OK]
    has_steps = any(t.number("train/steps") is not None for t in ok)

    arms = []
    for a in arm_order:
        members = [t for t in trials if t.arm == a]
        ok_m = [t for t in members if t.status == OK]
        first = members[0]
        arms.append({
            "arm": a,
            "values": {k: first.value(k) for k in spec.arms},
            "trials": [t.name for t in members],
            "n_ok": len(ok_m),
            "n_failed": sum(t.status == FAILED for t in members),
            "n_incomplete": sum(t.status == INCOMPLETE for t in members),
            "compute": _compute(ok_m),
            "metrics": {m: {**stats.summarize(_numbers(ok_m, m)), "values": [t.number(m) for t in ok_m]}
                        for m in spec.metrics},
        })

    hyps = []
    for h in spec.hypotheses:
        tr = [t for t in ok if _matches(t, h.treatment)]
        co = [t for t in ok if _matches(t, h.control)]
        per = [{"metric": m, **stats.verdict(_numbers(tr, m), _numbers(co, m), better=better).to_dict()}
               for m, better in h.metrics.items()]
        hyps.append({"name": h.name, "claim": h.claim, "treatment": h.treatment, "control": h.control,
                     "treatment_trials": [t.name for t in tr], "control_trials": [t.name for t in co],
                     "outcome": stats.combine_outcomes(p["outcome"] for p in per), "metrics": per})

    return {
        "counts": {OK: len(ok), FAILED: sum(t.status == FAILED for t in trials),
                   INCOMPLETE: sum(t.status == INCOMPLETE for t in trials), "total": len(trials)},
        "arm_keys": spec.arms, "arm_keys_declared": spec.arms_declared, "metric_names": spec.metrics,
        "compute": _compute(ok), "has_steps": has_steps,
        "arms": arms, "hypotheses": hyps,
        "failed": [{"trial": t.name, "overrides": t.overrides, "type": t.error_type, "error": t.error}
                   for t in trials if t.status == FAILED],
        "incomplete": [{"trial": t.name, "overrides": t.overrides} for t in trials if t.status == INCOMPLETE],
    }
