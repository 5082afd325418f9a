"""The numbers of a sweep report: trials and spec → `SweepResult`.

Members are grouped into arms, and each arm gets its trial counts, compute and metric summaries;
each hypothesis gets one `excolor.report.stats.verdict` per metric and, with ``report.dose``, the
dose–response analysis (`excolor.report.dose`).

Samples are population members (`excolor.report.sweep.Member`). A member's arm is its values
of the arm keys (config keys or grid keys), so one trial may feed several arms (a grid-key arm)
and a failed trial counts as failed in every arm its grid points would have fed. Compute is per
trial: a trial's ``train/seconds`` is shared among arms in proportion to its members in each.

A hypothesis compares the members matching its treatment and control selectors, each side's members
summarised per seed and paired by seed when they share seeds (`excolor.report.pairing`); the sides'
divergence is compared (`excolor.report.divergence`); all of the hypothesis' p-values (its metrics and
its dose rows) are Holm-adjusted as one family (`excolor.report.family`) and the metrics' outcomes
combined with `excolor.report.stats.combine_outcomes` (supported only if all are, not supported if
any is). With ``report.factorial``: the main effects and two-way interactions (`excolor.report.factorial`).

The members are those of the ok trials and the diverged members of trials that failed because training
diverged (`excolor.report.sweep.diverged_members`): a diverged member is an outcome of its arm.
"""

from __future__ import annotations

import math

import numpy as np

from excolor.report import stats
from excolor.report.divergence import compare_divergence
from excolor.report.dose import analyse_dose
from excolor.report.factorial import analyse_factorial
from excolor.report.family import adjust_families
from excolor.report.format import values_label
from excolor.report.pairing import compare_groups, pair_members, select_sides
from excolor.report.result import (
    ArmResult,
    Compute,
    Counts,
    FailedTrial,
    HypothesisResult,
    IncompleteTrial,
    MetricSummary,
    MetricVerdict,
    SweepResult,
)
from excolor.report.spec import Hypothesis, Spec
from excolor.report.sweep import Member, Trial
from excolor.run_record import TRAIN_SECONDS, TRAIN_STEPS, Status


def _point_values(trial: Trial, point: dict, keys: list[str]) -> dict:
    """A grid point's values of ``keys``: the point's for grid keys, else the trial's config value."""
    return {key: point[key] if key in point else trial.value(key) for key in keys}


class Arms:
    """Each member's arm label (`values_label` of its arm-key values: ``output=linear, weight=0.1``,
    or ``all`` without arm keys) and each trial's arm labels (those of its members, or, for a trial
    without members, those its grid points would have fed), in order of appearance."""

    def __init__(self, trials: list[Trial], keys: list[str]):
        self.of_member: dict[Member, str] = {
            member: values_label({key: member.value(key) for key in keys})
            for trial in trials
            for member in trial.members
        }
        self.of_trial: dict[str, list[str]] = {}
        for trial in trials:
            labels = [self.of_member[member] for member in trial.members] or [
                values_label(_point_values(trial, point, keys)) for point in trial.grid_points()
            ]
            self.of_trial[trial.name] = list(dict.fromkeys(labels))
        self.labels = list(dict.fromkeys(label for labels in self.of_trial.values() for label in labels))


def compute(trials: list[Trial], share: dict[str, float] | None = None) -> Compute:
    """Training time and steps of the trials (finite values only); ``share`` weighs each trial's
    seconds by the fraction of its members counted (default 1)."""
    share = share or {}
    seconds, steps = [], []
    for trial in trials:
        trial_seconds, trial_steps = trial.number(TRAIN_SECONDS), trial.number(TRAIN_STEPS)
        if trial_seconds is not None and math.isfinite(trial_seconds):
            seconds.append(trial_seconds * share.get(trial.name, 1.0))
        if trial_steps is not None and math.isfinite(trial_steps):
            steps.append(trial_steps)
    n_members = sum(len(trial.members) * share.get(trial.name, 1.0) for trial in trials)
    total = float(sum(seconds)) if seconds else None
    return Compute(
        train_seconds=total,
        n_timed=len(seconds),
        mean_seconds=float(np.mean(seconds)) if seconds else None,
        seconds_per_member=total / n_members if total is not None and n_members else None,
        mean_steps=float(np.mean(steps)) if steps else None,
    )


def metric_summary(members: list[Member], metric: str) -> MetricSummary:
    """The members' values of ``metric`` (members without one skipped; NaN kept) and their summary."""
    values = [value for value in (member.number(metric) for member in members) if value is not None]
    return MetricSummary(**stats.summarize(values), values=values)


def _arm(label: str, trials: list[Trial], members: list[Member], arms: Arms, spec: Spec) -> ArmResult:
    """Counts, compute and metric summaries of one arm."""
    touching = [trial for trial in trials if label in arms.of_trial[trial.name]]
    ok_trials = [trial for trial in touching if trial.status == Status.OK]
    share = {
        trial.name: sum(arms.of_member[member] == label for member in trial.members) / len(trial.members)
        for trial in ok_trials
        if trial.members
    }
    first = members[0] if members else None
    return ArmResult(
        label=label,
        values={key: (first.value(key) if first else touching[0].value(key)) for key in spec.arms},
        trials=[trial.name for trial in touching],
        n_ok=len(ok_trials),
        n_failed=sum(trial.status == Status.FAILED for trial in touching),
        n_incomplete=sum(trial.status == Status.INCOMPLETE for trial in touching),
        n_members=len(members),
        compute=compute(ok_trials, share),
        metrics={metric: metric_summary(members, metric) for metric in spec.metrics},
    )


def _hypothesis(hypothesis: Hypothesis, members: list[Member], n_boot: int) -> HypothesisResult:
    """One hypothesis: its members, pairing, divergence and verdict per metric (raw p: the family adjusts)."""
    treatment, control = select_sides(hypothesis, members)
    groups = pair_members(treatment, control)
    found = compare_groups(groups, hypothesis.metrics, margin=hypothesis.equivalence, n_boot=n_boot)
    verdicts = [MetricVerdict(metric, verdict) for metric, verdict in zip(hypothesis.metrics, found)]
    return HypothesisResult(
        name=hypothesis.name,
        claim=hypothesis.claim,
        treatment=hypothesis.treatment,
        control=hypothesis.control,
        treatment_trials=list(dict.fromkeys(member.trial.name for member in treatment)),
        control_trials=list(dict.fromkeys(member.trial.name for member in control)),
        n_treatment=len(treatment),
        n_control=len(control),
        paired=groups.paired,
        n_unmatched=groups.n_unmatched,
        why_unpaired=groups.why_unpaired,
        members_per_seed=list(groups.per_unit),
        outcome=stats.combine_outcomes(metric_verdict.verdict.outcome for metric_verdict in verdicts),
        metrics=verdicts,
        divergence=compare_divergence(groups, hypothesis.metrics),
        margin=hypothesis.equivalence,
    )


def analyse(trials: list[Trial], spec: Spec, n_boot: int = stats.N_RESAMPLES) -> SweepResult:
    """Group the members (and trials) into arms and summarise counts, compute, metrics, hypotheses
    (one Holm family each), the dose response and the factorial; ``n_boot``: bootstrap resamples."""
    arms = Arms(trials, spec.arms)
    ok_trials = [trial for trial in trials if trial.status == Status.OK]
    members = [
        member for trial in trials if trial.status == Status.OK or trial.members for member in trial.members
    ]
    hypotheses = [_hypothesis(hypothesis, members, n_boot) for hypothesis in spec.hypotheses]
    dose = analyse_dose(members, spec, n_boot) if spec.dose else None
    adjust_families(hypotheses, dose)
    return SweepResult(
        counts=Counts(
            ok=len(ok_trials),
            failed=sum(trial.status == Status.FAILED for trial in trials),
            incomplete=sum(trial.status == Status.INCOMPLETE for trial in trials),
            total=len(trials),
            members=len(members),
        ),
        arm_keys=spec.arms,
        arm_keys_declared=spec.arms_declared,
        metric_names=spec.metrics,
        compute=compute(ok_trials),
        has_steps=any(trial.number(TRAIN_STEPS) is not None for trial in ok_trials),
        arms=[
            _arm(label, trials, [member for member in members if arms.of_member[member] == label], arms, spec)
            for label in arms.labels
        ],
        hypotheses=hypotheses,
        dose=dose,
        failed=[
            FailedTrial(trial.name, trial.overrides, trial.error_type, trial.error)
            for trial in trials
            if trial.status == Status.FAILED
        ],
        incomplete=[
            IncompleteTrial(trial.name, trial.overrides)
            for trial in trials
            if trial.status == Status.INCOMPLETE
        ],
        factorial=analyse_factorial(members, spec.factorial, n_boot) if spec.factorial else None,
    )
