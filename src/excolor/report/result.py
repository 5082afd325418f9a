"""The typed result of a sweep report: what `excolor.report.analysis.analyse` computes and
`excolor.report.optuna_study.load_optuna` summarises, read by the markdown, the figures and
``summary.json``.

`to_summary` turns a result into summary.json's plain dicts: one key per field, in field order,
except where a field's metadata says otherwise (`SUMMARY_KEY`: another key; `FLATTEN`: the nested
dataclass' keys in its place; `IN_SUMMARY` False: left out, such as the per-member values that only
the figures draw).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from excolor.report.divergence import Divergence
from excolor.report.spec import Comparison
from excolor.report.stats import Verdict

SUMMARY_KEY, FLATTEN, IN_SUMMARY = "summary_key", "flatten", "in_summary"


def to_summary(data: Any) -> Any:
    """Dataclasses (nested in dicts and lists too) as plain dicts, as the module docstring says."""
    if dataclasses.is_dataclass(data) and not isinstance(data, type):
        summary: dict[str, Any] = {}
        for data_field in dataclasses.fields(data):
            if not data_field.metadata.get(IN_SUMMARY, True):
                continue
            value = to_summary(getattr(data, data_field.name))
            if data_field.metadata.get(FLATTEN):
                summary.update(value)
            else:
                summary[data_field.metadata.get(SUMMARY_KEY, data_field.name)] = value
        return summary
    if isinstance(data, dict):
        return {key: to_summary(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [to_summary(value) for value in data]
    return data


# ------------------------------------------------------------------------------------ sweep and arms
@dataclass
class Counts:
    """Trials by status, their total, and the members of the ok trials (the samples)."""

    ok: int
    failed: int
    incomplete: int
    total: int
    members: int


@dataclass
class Compute:
    """Training time and steps of some trials (finite values only); seconds may be a trial's share."""

    train_seconds: float | None  # the sum; None without a timed trial
    n_timed: int
    mean_seconds: float | None
    seconds_per_member: float | None
    mean_steps: float | None


@dataclass
class MetricSummary:
    """One metric over an arm's members (`excolor.report.stats.summarize`) and the values themselves."""

    n: int
    n_nonfinite: int
    mean: float
    sd: float
    median: float
    q25: float
    q75: float
    values: list[float] = field(
        default_factory=list, metadata={IN_SUMMARY: False}
    )  # per member: the figure's


@dataclass
class ArmResult:
    """One arm: its label and key values, the trials that feed it by status, its compute and metrics."""

    label: str = field(metadata={SUMMARY_KEY: "arm"})
    values: dict[str, Any]
    trials: list[str]
    n_ok: int
    n_failed: int
    n_incomplete: int
    n_members: int
    compute: Compute
    metrics: dict[str, MetricSummary]


# ------------------------------------------------------------------------------------- hypotheses
@dataclass
class MetricVerdict:
    """One hypothesis metric's verdict (Holm-adjusted in the hypothesis' family, `excolor.report.family`)."""

    metric: str
    verdict: Verdict = field(metadata={FLATTEN: True})


@dataclass
class HypothesisResult(Comparison):
    """One hypothesis: what it compares, the trials and members on each side, the pairing and the verdicts."""

    treatment_trials: list[str]
    control_trials: list[str]
    n_treatment: int
    n_control: int
    paired: bool
    n_unmatched: int  # members left out for want of a partner (paired only)
    why_unpaired: str
    members_per_seed: list[int]  # per side, the most members of one seed summarised by their median (1: none)
    outcome: str  # the metrics' outcomes combined (`excolor.report.stats.combine_outcomes`)
    metrics: list[MetricVerdict]
    divergence: Divergence  # diverged members and seeds per side, and the test of their rates
    margin: float | None = None  # an equivalence hypothesis' margin (ratio within ±margin)


# ------------------------------------------------------------------------------------ dose response
@dataclass
class Band:
    """n, median and IQR of a metric over some members."""

    n: int
    median: float
    q25: float
    q75: float


@dataclass
class DoseBand(Band):
    """A `Band` at one dose ``x``."""

    x: float


@dataclass
class DoseRow:
    """Treatment vs control at one dose: the verdict (p Holm-adjusted in the hypothesis' family), the bands of
    each side, and the direction (`excolor.report.dose.BETTER` / `WORSE` / `NO_DIFFERENCE`)."""

    x: float
    verdict: Verdict = field(metadata={FLATTEN: True})
    n_unmatched: int
    treatment: Band
    control: Band
    direction: str


@dataclass
class DoseEffect:
    """One (hypothesis, metric) over the doses."""

    hypothesis: str
    metric: str
    better: str
    treatment: dict[str, Any]
    control: dict[str, Any]
    rows: list[DoseRow]


@dataclass
class DoseResult:
    """The dose response: doses, per metric and series the bands, per hypothesis metric the effects."""

    key: str
    values: list[float]
    log_x: bool
    series_keys: list[str]
    series: list[str]
    bands: dict[str, dict[str, list[DoseBand]]]  # metric -> series label -> one band per dose
    effects: list[DoseEffect]


@dataclass
class NoDose:
    """Why a sweep with ``report.dose`` has no dose response."""

    key: str
    reason: str = field(metadata={SUMMARY_KEY: "error"})


# ---------------------------------------------------------------------------------------- factorial
@dataclass
class FactorialEffect:
    """One main effect or two-way interaction on one metric: the mean over seeds of the per-seed contrast
    (`excolor.report.factorial`), its 95% BCa CI over seeds, Wilcoxon p and the family's Holm p."""

    term: str  # "output" (main effect) or "output × normalize" (interaction)
    metric: str
    scale: str  # "log" (natural log of the metric) or "linear"
    estimate: float
    lo: float
    hi: float
    ci_method: str
    p: float
    p_holm: float
    family_size: int
    n_seeds: int


@dataclass
class FactorialResult:
    """The factorial analysis: factors with their (low, high) levels, the seeds in every cell, the
    seeds left out (a missing cell or a diverged member), and the effects."""

    factors: dict[str, list[Any]]
    n_cells: int
    n_seeds: int
    left_out: dict[str, int]  # metric -> seeds left out for a diverged member (non-finite value)
    missing_seeds: int  # seeds without a member in every cell
    effects: list[FactorialEffect]


@dataclass
class NoFactorial:
    """Why a sweep with ``report.factorial`` has no factorial table."""

    reason: str = field(metadata={SUMMARY_KEY: "error"})


# ---------------------------------------------------------------------------------------- the sweep
@dataclass
class FailedTrial:
    """A failed trial: its dir name, overrides and error."""

    trial: str
    overrides: list[str]
    error_type: str | None = field(metadata={SUMMARY_KEY: "type"})
    error: str | None


@dataclass
class IncompleteTrial:
    """An incomplete trial (killed while it ran): its dir name and overrides."""

    trial: str
    overrides: list[str]


@dataclass
class SweepResult:
    """The analysed sweep: counts, arms, compute, metrics per arm, hypotheses, dose response, and the
    trials that failed or did not finish."""

    counts: Counts
    arm_keys: list[str]
    arm_keys_declared: bool
    metric_names: list[str]
    compute: Compute
    has_steps: bool
    arms: list[ArmResult]
    hypotheses: list[HypothesisResult]
    dose: DoseResult | NoDose | None
    failed: list[FailedTrial]
    incomplete: list[IncompleteTrial]
    factorial: FactorialResult | NoFactorial | None = None


# --------------------------------------------------------------------------------------- the study
@dataclass
class BestTrial:
    """One of a study's best trials: its number, params and objective values."""

    number: int
    params: dict[str, Any]
    values: list[float]


@dataclass
class ReferenceRow:
    """A complete trial that beats a reference trial on at least one objective (its value is better):
    per objective whether it does, whether it dominates (Pareto), and its verdict paired by seed."""

    number: int
    params: dict[str, Any]
    values: list[float]
    beats: list[bool]
    dominates: bool
    verdicts: list[Verdict | None] = field(default_factory=list)  # per objective; empty: no members


@dataclass
class ReferenceResult:
    """A reference trial (enqueued, user attribute ``reference``) and the trials that beat it."""

    number: int
    label: str
    params: dict[str, Any]
    values: list[float]
    n_compared: int  # the other complete trials
    rows: list[ReferenceRow]  # those that beat it on an objective's value or by the paired test
    n_tests: int = 0  # paired tests (compared trials × objectives), the Holm family


@dataclass
class StudyResult:
    """An Optuna study's summary: where it is, its objectives, trial counts by state, its best trials."""

    study: str
    storage: str
    storage_resolved: str
    directions: list[str]
    objectives: list[str]
    counts: dict[str, int]
    params: list[str]
    best_label: str  # "top 5" or "Pareto front"
    best_numbers: list[int]
    best: list[BestTrial]
    references: list[ReferenceResult] = field(default_factory=list)
