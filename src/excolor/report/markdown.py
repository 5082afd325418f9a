"""The report's markdown: a `SweepResult`'s sections (counts, compute and metrics per arm, one
verdict line per hypothesis, the dose response, failed and incomplete trials) and a
`StudyResult`'s section. Every number is spelled by `excolor.report.format`.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from excolor.report import stats
from excolor.report.divergence import Divergence
from excolor.report.dose import BETTER, WORSE
from excolor.report.format import (
    MISSING,
    fmt_estimate,
    fmt_num,
    fmt_p,
    fmt_seconds,
    fmt_steps,
    fmt_value,
    md_row,
    md_rule,
    selector_label,
    short_key,
)
from excolor.report.reference_markdown import reference_cell, reference_markdown
from excolor.report.result import (
    ArmResult,
    Band,
    DoseEffect,
    DoseResult,
    FactorialResult,
    FailedTrial,
    HypothesisResult,
    IncompleteTrial,
    MetricVerdict,
    NoDose,
    NoFactorial,
    StudyResult,
    SweepResult,
)
from excolor.run_record import FAILURE_FILE, MEMBERS_FILE, METRICS_FILE, TRAIN_SECONDS
from excolor.study_storage import shown

_EFFECT_NAMES = {
    (True, "ratio"): "median of per-seed ratios",
    (True, "difference"): "median of per-seed differences",
    (False, "ratio"): "ratio of medians",
    (False, "difference"): "difference of medians",
}


# -------------------------------------------------------------------------------------- hypotheses
def _sample_size(
    metric: MetricVerdict, n_unmatched: int, why_unpaired: str = "", members_per_seed=(1, 1)
) -> str:
    """n = 64 seeds, paired (and members left out for want of a partner), or n = 10 vs 12 seeds
    (unpaired: why); where a side's members of one seed were summarised by their median, how many."""
    verdict = metric.verdict
    summarised = ""
    if tuple(members_per_seed) != (1, 1):
        summarised = (
            f"; each side's members of one seed summarised by their median, up to "
            f"{members_per_seed[0]} and {members_per_seed[1]} per seed"
        )
    if not verdict.paired:
        why = f"; unpaired: {why_unpaired}" if why_unpaired else ""
        return f"n = {verdict.n_t} vs {verdict.n_c} seeds{why}{summarised}"
    unmatched = f"; {n_unmatched} members without a partner left out" if n_unmatched else ""
    return f"n = {verdict.n_pairs} seeds, paired{summarised}{unmatched}"


def _ratio_sign(measure: str) -> str:
    return "/" if measure == "ratio" else " − "


def fmt_margin(margin: float) -> str:
    """±10 % for 0.1."""
    return f"±{fmt_num(100 * margin)} %"


def fmt_family(verdict) -> str:
    """The family beside an adjusted p: "family H1-dose: 28 tests"."""
    tests = "test" if verdict.family_size == 1 else "tests"
    return f"family {verdict.family}: {verdict.family_size} {tests}"


def _interval(verdict) -> str:
    """[95% BCa CI lo, hi], or the CI that is a single point, said as such."""
    point, lo, hi = fmt_estimate(verdict.effect, verdict.lo, verdict.hi)
    level = f"{fmt_num(100 * verdict.ci_level)}%"
    if verdict.lo == verdict.hi:
        if verdict.margin is not None:  # every per-seed ratio is this value: the TOST p decides
            return f"{point} [{level} CI: a single point, {lo}: every per-seed ratio is {lo}]"
        return f"{point} [{level} CI: a single point, {lo}; no evidence either way]"
    ci_name = "BCa CI" if verdict.ci_method in ("BCa", "degenerate") else f"{verdict.ci_method} CI"
    return f"{point} [{level} {ci_name} {lo}, {hi}]"


def divergence_text(divergence: Divergence) -> str:
    """diverged: 3 of 32 members (3 seeds) vs 0 of 32 (0 seeds), McNemar exact p = 0.25; or none."""
    if not divergence.any:
        return f"diverged: 0 of {divergence.n_members_t} vs 0 of {divergence.n_members_c} members"
    return (
        f"diverged: {divergence.members_t} of {divergence.n_members_t} members ({divergence.seeds_t} of "
        f"{divergence.n_seeds_t} seeds) vs {divergence.members_c} of {divergence.n_members_c} "
        f"({divergence.seeds_c} of {divergence.n_seeds_c} seeds), {divergence.test} p = {fmt_p(divergence.p)}"
    )


def outcome_text(outcome: str, margin: float | None) -> str:
    """The outcome as the verdict line says it: "equivalent within ±10 %" for an equivalence verdict."""
    if margin is not None and outcome == stats.EQUIVALENT:
        return f"equivalent within {fmt_margin(margin)}"
    if margin is not None:
        return f"not shown equivalent within {fmt_margin(margin)}"
    return outcome


def verdict_line(hypothesis: HypothesisResult) -> str:
    """One hypothesis (as analysed) in one markdown line: outcome, then per metric the effect, its
    CI, the test's p (Holm-adjusted too, with its family, in a family of several tests) and n, then the
    divergence per side."""
    treatment, control = selector_label(hypothesis.treatment), selector_label(hypothesis.control)
    several = len(hypothesis.metrics) > 1
    parts = []
    for metric in hypothesis.metrics:
        verdict = metric.verdict
        part = (
            f"{metric.metric} {treatment}{_ratio_sign(verdict.measure)}{control}: "
            f"{_EFFECT_NAMES[verdict.paired, verdict.measure]} "
            f"{_interval(verdict)}, {verdict.test} p = {fmt_p(verdict.p)}"
        )
        if verdict.family_size > 1:
            part += f", Holm p = {fmt_p(verdict.p_holm)} ({fmt_family(verdict)})"
        part += f" ({_sample_size(metric, hypothesis.n_unmatched, hypothesis.why_unpaired, hypothesis.members_per_seed)})"
        if several:
            judged = "" if hypothesis.margin is not None else f"{verdict.better} is better: "
            part += f" → {judged}{outcome_text(verdict.outcome, hypothesis.margin)}"
        parts.append(part)
    claim = f" ({hypothesis.claim})" if hypothesis.claim else ""
    return (
        f"**{hypothesis.name}**{claim}: {outcome_text(hypothesis.outcome, hypothesis.margin)} — "
        + "; ".join(parts)
        + f"; {divergence_text(hypothesis.divergence)}"
    )


# ------------------------------------------------------------------------------------------ sweep
def _overrides(trial: FailedTrial | IncompleteTrial) -> str:
    return " ".join(trial.overrides) or "(no overrides)"


def _header(sweep_dir: Path, result: SweepResult) -> list[str]:
    counts, total_compute = result.counts, result.compute
    lines = [
        f"# Sweep report: `{sweep_dir}`",
        "",
        f"- Trials: {counts.total} — ok {counts.ok}, failed {counts.failed}, incomplete {counts.incomplete}",
        f"- Samples: {counts.members} population members of the ok trials (a trial without "
        f"{MEMBERS_FILE} is one member)",
    ]
    compute_line = (
        f"- Training compute: {fmt_seconds(total_compute.train_seconds)} total "
        f"(sum of `{TRAIN_SECONDS}` over {total_compute.n_timed} ok trials; failed/incomplete not counted)"
    )
    if result.has_steps:
        compute_line += f"; mean steps per trial {fmt_steps(total_compute.mean_steps)}"
    lines.append(compute_line)
    how = "from report.arms" if result.arm_keys_declared else "default: the overrides that vary"
    keys = ", ".join(f"`{key}`" for key in result.arm_keys) or "nothing (one arm, `all`)"
    return lines + [f"- Arms by: {keys} ({how})", ""]


def _compute_table(result: SweepResult) -> list[str]:
    lines = [
        "## Compute per arm",
        "",
        "Trials ok / failed / incomplete that feed the arm; train time is each trial's "
        f"`{TRAIN_SECONDS}` shared by its members in the arm.",
        "",
    ]
    head = ["arm", "ok", "failed", "incomplete", "members", "train time", "per member"]
    if result.has_steps:
        head.append("mean steps")
    lines += [md_row(head), md_rule(len(head))]
    for arm in result.arms:
        row = [
            arm.label,
            str(arm.n_ok),
            str(arm.n_failed),
            str(arm.n_incomplete),
            str(arm.n_members),
            fmt_seconds(arm.compute.train_seconds),
            fmt_seconds(arm.compute.seconds_per_member),
        ]
        if result.has_steps:
            row.append(fmt_steps(arm.compute.mean_steps))
        lines.append(md_row(row))
    return lines + [""]


def _metric_cells(arm: ArmResult, metric: str) -> list[str]:
    """mean ± sd (with n, and the non-finite count, where not every member has a value) and median."""
    summary = arm.metrics[metric]
    cell = f"{fmt_num(summary.mean)} ± {fmt_num(summary.sd)}"
    if summary.n != arm.n_members:
        cell += (
            f" (n={summary.n}" + (f", {summary.n_nonfinite} non-finite" if summary.n_nonfinite else "") + ")"
        )
    return [cell, fmt_num(summary.median)]


def _metrics_table(result: SweepResult, metrics_png: Path | None) -> list[str]:
    lines = ["## Metrics per arm", ""]
    if result.metric_names:
        head = ["arm", "n"]
        for metric in result.metric_names:
            head += [f"{metric} mean ± sd", f"{metric} median"]
        lines += [md_row(head), md_rule(len(head))]
        for arm in result.arms:
            lines.append(
                md_row(
                    [arm.label, str(arm.n_members)]
                    + [cell for metric in result.metric_names for cell in _metric_cells(arm, metric)]
                )
            )
        lines.append("")
    else:
        lines += ["No metrics.", ""]
    if metrics_png is not None:
        lines += [f"![metrics per arm]({metrics_png.name})", ""]
    return lines


def _trial_lists(result: SweepResult) -> list[str]:
    lines = []
    if result.failed:
        lines += ["## Failed trials", ""]
        lines += [
            f"- `{trial.trial}/` `{_overrides(trial)}`: {trial.error_type}: {trial.error}"
            for trial in result.failed
        ]
        lines.append("")
    if result.incomplete:
        lines += [f"## Incomplete trials (no {METRICS_FILE} or {FAILURE_FILE})", ""]
        lines += [f"- `{trial.trial}/` `{_overrides(trial)}`" for trial in result.incomplete]
        lines.append("")
    return lines


def sweep_markdown(
    sweep_dir: Path, result: SweepResult, metrics_png: Path | None, dose_png: Path | None = None
) -> list[str]:
    """The report's lines for an analysed sweep (`excolor.report.analysis.analyse`), Optuna aside."""
    lines = _header(sweep_dir, result) + _compute_table(result) + _metrics_table(result, metrics_png)
    if result.hypotheses:
        lines += ["## Hypotheses", ""]
        lines += [f"- {verdict_line(hypothesis)}" for hypothesis in result.hypotheses]
        lines += ["", f"Rule: {stats.VERDICT_RULE}", ""]
    if result.dose is not None:
        lines += dose_markdown(result.dose, dose_png.name if dose_png is not None else None)
    if result.factorial is not None:
        lines += factorial_markdown(result.factorial)
    return lines + _trial_lists(result)


# ---------------------------------------------------------------------------------- dose response
def _band_cell(band: Band) -> str:
    """median [q25, q75] (n)."""
    if not band.n:
        return MISSING
    return f"{fmt_num(band.median)} [{fmt_num(band.q25)}, {fmt_num(band.q75)}]"


def _runs(doses: list[float], selected: list[bool]) -> str:
    """The selected doses as runs of neighbours: "0.01–1.52 (7 values), 43.3"."""
    runs, start = [], None
    for index, chosen in enumerate(selected + [False]):
        if chosen and start is None:
            start = index
        elif not chosen and start is not None:
            length = index - start
            first, last = fmt_num(doses[start]), fmt_num(doses[index - 1])
            runs.append(
                first
                if length == 1
                else f"{first}, {last}"
                if length == 2
                else f"{first}–{last} ({length} values)"
            )
            start = None
    return ", ".join(runs)


def where_sentence(effect: DoseEffect) -> str:
    """Where treatment is better / worse than control after Holm (the dose table's summary)."""
    treatment, control = selector_label(effect.treatment), selector_label(effect.control)
    doses = [row.x for row in effect.rows]
    better = [row.direction == BETTER for row in effect.rows]
    worse = [row.direction == WORSE for row in effect.rows]
    parts = []
    if any(better):
        parts.append(f"better at {_runs(doses, better)}")
    if any(worse):
        parts.append(f"worse at {_runs(doses, worse)}")
    rest = len(effect.rows) - sum(better) - sum(worse)
    if rest:
        parts.append(
            f"no significant difference at the other {rest} of {len(effect.rows)} values"
            if parts
            else f"no significant difference at any of the {len(effect.rows)} values"
        )
    return (
        f"{treatment} vs {control} on {effect.metric} ({effect.better} is better): " + "; ".join(parts) + "."
    )


def _effect_table(effect: DoseEffect, dose_name: str) -> list[str]:
    """One (hypothesis, metric): its where sentence and a row per dose."""
    treatment, control = selector_label(effect.treatment), selector_label(effect.control)
    sign = "/" if all(row.verdict.measure == "ratio" for row in effect.rows) else " − "
    lines = [f"### {effect.hypothesis}: {effect.metric}", "", where_sentence(effect), ""]
    family = fmt_family(effect.rows[0].verdict) if effect.rows else ""
    head = [
        dose_name,
        f"{treatment}",
        f"{control}",
        f"{treatment}{sign}{control} [95% CI]",
        "test",
        "p",
        f"Holm p ({family})",
        "n seeds",
        "diverged",
        "verdict",
    ]
    lines += [md_row(head), md_rule(len(head))]
    for row in effect.rows:
        verdict = row.verdict
        point, lo, hi = fmt_estimate(verdict.effect, verdict.lo, verdict.hi)
        estimate = f"{point} (a single point)" if verdict.lo == verdict.hi else f"{point} [{lo}, {hi}]"
        sample_size = f"{verdict.n_pairs} paired" if verdict.paired else f"{verdict.n_t} vs {verdict.n_c}"
        lines.append(
            md_row(
                [
                    fmt_num(row.x),
                    _band_cell(row.treatment),
                    _band_cell(row.control),
                    estimate,
                    "Wilcoxon" if verdict.paired else "Mann–Whitney",
                    fmt_p(verdict.p),
                    fmt_p(verdict.p_holm),
                    sample_size,
                    f"{verdict.n_diverged_t} vs {verdict.n_diverged_c}",
                    row.direction,
                ]
            )
        )
    return lines + [""]


def _band_tables(dose: DoseResult, dose_name: str) -> list[str]:
    """Without hypotheses: per metric a table of the series' bands over the doses."""
    lines = []
    for metric, by_series in dose.bands.items():
        lines += [f"### {metric}", ""]
        head = [dose_name] + dose.series
        lines += [md_row(head), md_rule(len(head))]
        for index, dose_value in enumerate(dose.values):
            lines.append(
                md_row([fmt_num(dose_value)] + [_band_cell(by_series[label][index]) for label in dose.series])
            )
        lines.append("")
    return lines


def dose_markdown(dose: DoseResult | NoDose, png_name: str | None) -> list[str]:
    """The report's dose–response section: per (hypothesis, metric) a table over the doses and a
    sentence saying where treatment is better or worse; the figure; or why there is none."""
    lines = [f"## Dose response: `{dose.key}`", ""]
    if isinstance(dose, NoDose):
        return lines + [f"No dose response: {dose.reason}.", ""]
    dose_name = short_key(dose.key)
    lines.append(
        f"Series: {', '.join(dose.series)}; {len(dose.values)} values of `{dose.key}`"
        + (" (log-spaced)" if dose.log_x else "")
        + ". Cells: median [IQR] over members."
    )
    lines.append("")
    for effect in dose.effects:
        lines += _effect_table(effect, dose_name)
    if not dose.effects:
        lines += _band_tables(dose, dose_name)
    if png_name:
        lines += [f"![dose response]({png_name})", ""]
    lines += [
        (
            "Effects per dose: as in the hypotheses (paired by seed where the arms share seeds; a diverged "
            "member counts as its side's worst value). The p-values are Holm-adjusted in the hypothesis' "
            "family: its pooled verdicts and every dose of every metric, the size given in the column head."
        ),
        "",
    ]
    return lines


# -------------------------------------------------------------------------------------- factorial
def factorial_markdown(factorial: FactorialResult | NoFactorial) -> list[str]:
    """The report's factorial section: per metric a table of the main effects and two-way interactions."""
    lines = ["## Factorial effects", ""]
    if isinstance(factorial, NoFactorial):
        return lines + [f"No factorial table: {factorial.reason}.", ""]
    levels = "; ".join(
        f"`{key}`: {fmt_value(low)} → {fmt_value(high)}" for key, (low, high) in factorial.factors.items()
    )
    missing = (
        f" ({factorial.missing_seeds} more seeds lack a cell and are left out)"
        if factorial.missing_seeds
        else ""
    )
    lines += [
        (
            f"Factors (low → high): {levels}. {factorial.n_seeds} seeds have a member in every one of the "
            f"{factorial.n_cells} cells{missing}."
        ),
        "",
        (
            "Per seed, a main effect is the mean over the cells at the factor's high level minus the mean at "
            "its low level; an interaction f × g is f's effect at g high minus f's effect at g low (both "
            "averaged over the other factors). Estimate: the mean over seeds, 95% BCa CI resampling seeds, "
            "Wilcoxon signed-rank p on the per-seed contrasts, Holm over every term of every metric "
            "(family size in the column head). On a log scale an effect is a log ratio: × = exp(effect)."
        ),
        "",
    ]
    for metric in dict.fromkeys(effect.metric for effect in factorial.effects):
        effects = [effect for effect in factorial.effects if effect.metric == metric]
        scale = effects[0].scale
        left = factorial.left_out.get(metric, 0)
        lines += [f"### {metric} ({'natural log' if scale == 'log' else 'linear'} scale)", ""]
        if left:
            lines += [f"{left} seeds with a diverged member (a non-finite value) left out.", ""]
        head = (
            ["term", "effect [95% CI]"]
            + (["× [95% CI]"] if scale == "log" else [])
            + ["Wilcoxon p", f"Holm p (family of {effects[0].family_size})", "n seeds"]
        )
        lines += [md_row(head), md_rule(len(head))]
        for effect in effects:
            point, lo, hi = fmt_estimate(effect.estimate, effect.lo, effect.hi)
            row = [effect.term, f"{point} [{lo}, {hi}]"]
            if scale == "log":
                point_ratio, lo_ratio, hi_ratio = (
                    math.exp(value) if math.isfinite(value) else math.nan
                    for value in (effect.estimate, effect.lo, effect.hi)
                )
                ratio = fmt_estimate(point_ratio, lo_ratio, hi_ratio)
                row.append(f"{ratio[0]} [{ratio[1]}, {ratio[2]}]")
            lines.append(md_row(row + [fmt_p(effect.p), fmt_p(effect.p_holm), str(effect.n_seeds)]))
        lines.append("")
    return lines


# ------------------------------------------------------------------------------------------ study
def _param_cell(value: Any) -> str:
    return (
        fmt_num(value)
        if isinstance(value, (int, float)) and not isinstance(value, bool)
        else fmt_value(value)
    )


def _shown_path(location: str) -> str:
    """A file under the working directory relative to it (reports get committed: no machine's paths)."""
    try:
        return str(Path(location).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return location


def optuna_markdown(study: StudyResult, png: Path | None, pareto_png: Path | None = None) -> list[str]:
    """The report section for a study summary from `excolor.report.optuna_study.load_optuna`
    (``png``: its params-vs-objectives plot, ``pareto_png``: its Pareto plot, if any); a reference
    trial is marked in the tables and has its own section (`excolor.report.reference_markdown`)."""
    lines = [f"## Optuna study `{study.study}`", ""]
    where = f"`{shown(study.storage)}`"
    if study.storage != study.storage_resolved:
        where += f" (found at `{_shown_path(study.storage_resolved)}`)"
    lines.append(
        f"Storage {where}; objectives: "
        + ", ".join(
            f"{objective} ({direction})" for objective, direction in zip(study.objectives, study.directions)
        )
        + "."
    )
    lines.append(
        "Trials by state: " + ", ".join(f"{state} {count}" for state, count in study.counts.items()) + "."
    )
    lines.append("")
    if study.best_label == "Pareto front":
        lines.append(f"### Pareto front ({len(study.best)} trials)")
    else:
        lines.append(f"### Top {len(study.best)} trials by {study.objectives[0]} ({study.directions[0]})")
    lines.append("")
    if study.best:
        head = ["trial"] + study.params + study.objectives
        lines += [md_row(head), md_rule(len(head), label_column=False)]
        shown_rows = [(best.number, best.params, best.values, "") for best in study.best]
        shown_rows += [  # a reference off the front is shown below it, for comparison
            (ref.number, ref.params, ref.values, f" (reference, not on the {study.best_label})")
            for ref in study.references
            if ref.number not in study.best_numbers
        ]
        for number, params, values, note in shown_rows:
            cells = [reference_cell(number, study) + note]
            cells += [_param_cell(params.get(param, MISSING)) for param in study.params]
            cells += [fmt_num(value) for value in values]
            lines.append(md_row(cells))
    else:
        lines.append("No completed trials.")
    lines.append("")
    if pareto_png is not None:
        lines += [f"![Pareto plot]({pareto_png.name})", ""]
    for reference in study.references:
        lines += reference_markdown(reference, study)
    if png is not None:
        lines += [f"![params vs objectives]({png.name})", ""]
    return lines
