"""The chapter's re-runs beside upstream's printed figures (spec m2-family §9–§14): the ``report.chapter``
node of a sweep whose trials are experiments (``experiment=ex2.4.1,…``), each one population of seeds.

Per trial (its experiment is the config's ``tag``): the score over its members (min, max, mean and
the sample standard deviation s, ddof = 1, as pandas' describe), the Pareto-set size, the best member
(seed, score) and the run's wall seconds (fit + evaluation, every member in one process), beside
upstream's (`upstream_m2.yaml`, the one place those numbers live), and Welch's t from the summary
statistics (n₁ = ours, n₂ = upstream's 60):

    t = (m₁ − m₂) / √(s₁²/n₁ + s₂²/n₂),   ν = (s₁²/n₁ + s₂²/n₂)² / ((s₁²/n₁)²/(n₁ − 1) + (s₂²/n₂)²/(n₂ − 1))

with a two-sided p from Student's t with ν degrees of freedom (scipy.stats.ttest_ind_from_stats,
equal_var=False). ``pairs`` ([[a, b], …]) compare two experiments seed by seed where they share seeds:
the mean of score_b − score_a and the Wilcoxon signed-rank p over the shared seeds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from scipy import stats

from excolor.errors import ConfigError
from excolor.metrics import (
    BEST_SCORE,
    BEST_SEED,
    CHAPTER_SCORE,
    EVAL_SECONDS,
    PARETO_SIZE,
    TRAIN_SECONDS,
    label_count_name,
)
from excolor.report.stats import CONFIDENCE, holm
from excolor.report.sweep import Trial

UPSTREAM_FILE = Path(__file__).with_name("upstream_m2.yaml")
EXPERIMENT_KEY = "tag"  # the config key naming a trial's experiment (the presets set it)
CHAPTER_KEYS = ("pairs",)


def upstream_figures(path: Path = UPSTREAM_FILE) -> dict[str, dict[str, Any]]:
    """Upstream's printed figures per experiment (see the data file's header)."""
    return yaml.safe_load(path.read_text())


def welch(mean1: float, std1: float, n1: int, mean2: float, std2: float, n2: int) -> tuple[float, float]:
    """Welch's t and its two-sided p from summary statistics (module doc)."""
    result = stats.ttest_ind_from_stats(mean1, std1, n1, mean2, std2, n2, equal_var=False)
    return float(result.statistic), float(result.pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy's result class is built at runtime


def welch_interval(
    mean1: float, std1: float, n1: int, mean2: float, std2: float, n2: int, level: float = CONFIDENCE
) -> tuple[float, float]:
    """The `level` confidence interval of mean1 − mean2 from summary statistics:
    (m1 − m2) ± t_{(1+level)/2, ν} · √(s1²/n1 + s2²/n2), with Welch–Satterthwaite's
    ν = (s1²/n1 + s2²/n2)² / ((s1²/n1)²/(n1 − 1) + (s2²/n2)²/(n2 − 1))."""
    a, b = std1**2 / n1, std2**2 / n2
    se = math.sqrt(a + b)
    dof = (a + b) ** 2 / (a**2 / (n1 - 1) + b**2 / (n2 - 1)) if a + b > 0 else float(n1 + n2 - 2)
    half = float(stats.t.ppf((1 + level) / 2, dof)) * se
    return mean1 - mean2 - half, mean1 - mean2 + half


def mean_interval(values: np.ndarray, level: float = CONFIDENCE) -> tuple[float, float]:
    """The `level` confidence interval of the mean of `values` (n ≥ 2): x̄ ± t_{(1+level)/2, n−1} · s/√n."""
    low, high = stats.t.interval(level, len(values) - 1, loc=values.mean(), scale=stats.sem(values))
    return float(low), float(high)


@dataclass
class ExperimentRow:
    """One trial's figures and upstream's for the same experiment (None where upstream has none)."""

    experiment: str
    trial: str
    scores: dict[int, float]  # seed → score
    pareto: int | None
    best_seed: int | None
    best_score: float | None
    seconds: float | None
    upstream: dict[str, Any] | None
    welch_t: float | None = None
    welch_p: float | None = None
    welch_ci: tuple[float, float] | None = None  # CONFIDENCE interval of our mean − upstream's
    stats: dict[str, float] = field(default_factory=dict)
    labels: dict[str, float] = field(default_factory=dict)  # label → mean labels/n/<label> over members
    validation: dict[str, dict[str, float]] = field(default_factory=dict)  # val/<term> → min, max, mean, std


@dataclass
class PairRow:
    """Two experiments compared seed by seed: n shared seeds, mean of b − a with its CONFIDENCE
    interval, Wilcoxon p and Holm's adjusted p over the report's pairs (the family)."""

    a: str
    b: str
    n: int
    mean_difference: float
    ci: tuple[float, float]
    p: float
    holm_p: float = float("nan")


def _number(value: Any) -> float | None:
    return None if value is None or isinstance(value, bool) else float(value)


def _describe(values: np.ndarray) -> dict[str, float]:
    """min, max, mean and the sample standard deviation (ddof = 1; NaN for one value)."""
    return {
        "min": float(values.min()),
        "max": float(values.max()),
        "mean": float(values.mean()),
        "std": float(values.std(ddof=1)) if len(values) > 1 else math.nan,
    }


def experiment_rows(
    trials: Sequence[Trial], upstream: Mapping[str, dict] | None = None
) -> list[ExperimentRow]:
    """One row per ok trial with scored members, in trial order."""
    upstream = upstream_figures() if upstream is None else upstream
    rows = []
    for trial in trials:
        scores = {
            int(member.seed): float(value)
            for member in trial.members
            if member.seed is not None and (value := member.number(CHAPTER_SCORE)) is not None
        }
        if not scores:
            continue
        experiment = str(trial.value(EXPERIMENT_KEY))
        train, evaluate = _number(trial.metrics.get(TRAIN_SECONDS)), _number(trial.metrics.get(EVAL_SECONDS))
        best_seed = _number(trial.metrics.get(BEST_SEED))
        pareto = _number(trial.metrics.get(PARETO_SIZE))
        row = ExperimentRow(
            experiment,
            trial.name,
            scores,
            None if pareto is None else int(pareto),
            None if best_seed is None else int(best_seed),
            _number(trial.metrics.get(BEST_SCORE)),
            None if train is None or evaluate is None else train + evaluate,
            upstream.get(experiment),
        )
        values = np.array(list(scores.values()))
        row.stats = {"n": len(values), **_describe(values)}
        for label in (row.upstream or {}).get("labels", {}):
            counts = [member.number(label_count_name(label)) for member in trial.members]
            if counts and all(count is not None for count in counts):
                row.labels[label] = float(np.mean([count for count in counts if count is not None]))
        for metric in (row.upstream or {}).get("validation", {}):
            found = [v for member in trial.members if (v := member.number(metric)) is not None]
            if len(found) > 1:
                row.validation[metric] = _describe(np.array(found))
        if row.upstream is not None and len(values) > 1:
            theirs = row.upstream[CHAPTER_SCORE]
            both = (
                (row.stats["mean"], row.stats["std"], len(values)),
                (theirs["mean"], theirs["std"], row.upstream["n"]),
            )
            row.welch_t, row.welch_p = welch(*both[0], *both[1])
            row.welch_ci = welch_interval(*both[0], *both[1])
        rows.append(row)
    return rows


def pair_rows(rows: Sequence[ExperimentRow], pairs: Sequence[Sequence[str]]) -> list[PairRow]:
    """Each configured pair present in `rows`, over the seeds both hold."""
    by_name = {row.experiment: row for row in rows}
    found = []
    for a, b in pairs:
        if a not in by_name or b not in by_name:
            continue
        seeds = sorted(set(by_name[a].scores) & set(by_name[b].scores))
        if len(seeds) < 2:
            continue
        difference = np.array([by_name[b].scores[s] - by_name[a].scores[s] for s in seeds])
        p = float(stats.wilcoxon(difference).pvalue) if np.any(difference != 0) else 1.0  # pyright: ignore[reportAttributeAccessIssue]
        found.append(PairRow(a, b, len(seeds), float(difference.mean()), mean_interval(difference), p))
    for pair, adjusted in zip(found, holm([pair.p for pair in found])):
        pair.holm_p = adjusted
    return found


def parse_chapter(node: Any) -> list[list[str]] | None:
    """The validated ``report.chapter`` node (``true`` or a mapping with ``pairs``): the pairs, or None
    when the node is absent or false."""
    if node is None or node is False:
        return None
    if node is True:
        return []
    if not isinstance(node, dict) or set(node) - set(CHAPTER_KEYS):
        raise ConfigError(f"report.chapter must be true or a mapping with keys {', '.join(CHAPTER_KEYS)}")
    pairs = node.get("pairs") or []
    if not isinstance(pairs, list) or not all(
        isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair) for pair in pairs
    ):
        raise ConfigError(f"report.chapter.pairs must be a list of [experiment, experiment], got {pairs!r}")
    return [list(pair) for pair in pairs]


def _f(value: float | None, digits: int = 4) -> str:
    return "–" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.{digits}f}"


def _p(value: float | None) -> str:
    return "–" if value is None else f"{value:.2g}"


def chapter_markdown(rows: Sequence[ExperimentRow], pairs: Sequence[PairRow]) -> list[str]:
    """The report's chapter section: a table over experiments, then one section per experiment."""
    if not rows:
        return []
    lines = [
        "## The chapter's re-runs beside upstream",
        "",
        "Ours: one process per experiment, every seed a member. Upstream: one 1-CPU container per seed "
        "(z0u/ex-preppy, spec m2-family §14). Welch's t from the summary statistics (n = 60 seeds each "
        "side, the seed the unit); the family is this table's experiments, each tested at p < 0.01 "
        "(Bonferroni: family-wise error ≤ 0.01 × the number of rows). A p ≥ 0.01 is no evidence of a "
        "difference; it is not a test of equivalence: the interval of the difference says how large "
        "one the data leave open.",
        "",
        "| experiment | n | score mean ± s (ours) | upstream | Welch p | Pareto ours / upstream | "
        "best seed (score) ours | upstream | wall s (ours, all seeds) |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        up = row.upstream or {}
        theirs = up.get(CHAPTER_SCORE, {})
        best_up = up.get("best", {})
        lines.append(
            f"| {row.experiment} | {row.stats['n']} | {_f(row.stats['mean'])} ± {_f(row.stats['std'])} | "
            + (f"{_f(theirs.get('mean'))} ± {_f(theirs.get('std'))}" if theirs else "–")
            + f" | {_p(row.welch_p)} | {row.pareto if row.pareto is not None else '–'} / {up.get('pareto', '–')} | "
            + f"{row.best_seed} ({_f(row.best_score)}) | "
            + (f"{best_up['seed']} ({_f(best_up[CHAPTER_SCORE])})" if best_up else "–")
            + f" | {_f(row.seconds, 1)} |"
        )
    lines.append("")
    for row in rows:
        up = row.upstream or {}
        theirs = up.get(CHAPTER_SCORE, {})
        runtime = up.get("runtime", {})
        lines += [
            f"### {row.experiment} (trial {row.trial})",
            "",
            "| | ours | upstream |",
            "|---|---|---|",
        ]
        for stat in ("n", "min", "max", "mean", "std"):
            ours = str(row.stats[stat]) if stat == "n" else _f(row.stats[stat])
            upstream = str(up.get("n", "–")) if stat == "n" else _f(theirs.get(stat))
            lines.append(f"| score {stat} | {ours} | {upstream} |")
        best_up = up.get("best", {})
        lines += [
            f"| Pareto-set size | {row.pareto if row.pareto is not None else '–'} | {up.get('pareto', '–')} |",
            f"| best seed (score) | {row.best_seed} ({_f(row.best_score)}) | "
            + (f"{best_up['seed']} ({_f(best_up[CHAPTER_SCORE])}) |" if best_up else "– |"),
            f"| wall seconds | {_f(row.seconds, 1)} for all {row.stats['n']} seeds in one process | "
            + (
                f"{_f(runtime.get('mean'), 1)} per seed (min {_f(runtime.get('min'), 1)}, max "
                f"{_f(runtime.get('max'), 1)}), one container each |"
                if runtime
                else "– |"
            ),
        ]
        lines += [
            f"| mean labels/n/{label} | {_f(mean, 2)} | {_f(up['labels'][label], 2)} |"
            for label, mean in row.labels.items()
        ]
        for metric, ours in row.validation.items():
            theirs = up["validation"][metric]
            lines.append(
                f"| {metric} mean ± s [min, max] | {_f(ours['mean'])} ± {_f(ours['std'])} "
                f"[{_f(ours['min'])}, {_f(ours['max'])}] | {_f(theirs['mean'])} ± {_f(theirs['std'])} "
                f"[{_f(theirs['min'])}, {_f(theirs['max'])}] |"
            )
        lines.append("")
        if row.welch_p is not None and row.welch_ci is not None:
            verdict = (
                "the mean scores differ (p < 0.01)"
                if row.welch_p < 0.01
                else "no evidence that the mean scores differ at p < 0.01 (not a test of equivalence)"
            )
            low, high = row.welch_ci
            lines += [
                f"Welch's t = {row.welch_t:.2f}, p = {_p(row.welch_p)}; our mean − upstream's = "
                f"{row.stats['mean'] - up[CHAPTER_SCORE]['mean']:+.4f}, {CONFIDENCE:.0%} CI "
                f"[{low:+.4f}, {high:+.4f}]: {verdict}.",
                "",
            ]
    if pairs:
        lines += [
            "### Paired by seed",
            "",
            f"The seed is the unit; the family is the {len(pairs)} pair(s) below (Holm).",
            "",
            f"| a | b | shared seeds | mean score b − a [{CONFIDENCE:.0%} CI] | Wilcoxon p | Holm p |",
            "|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {p.a} | {p.b} | {p.n} | {p.mean_difference:+.4f} [{p.ci[0]:+.4f}, {p.ci[1]:+.4f}] | "
            f"{_p(p.p)} | {_p(p.holm_p)} |"
            for p in pairs
        ]
        lines.append("")
    return lines


def chapter_summary(rows: Sequence[ExperimentRow], pairs: Sequence[PairRow]) -> dict[str, Any]:
    """The same numbers for summary.json."""
    return {
        "experiments": [
            {
                "experiment": row.experiment,
                "trial": row.trial,
                CHAPTER_SCORE: row.stats,
                "pareto": row.pareto,
                "best": {"seed": row.best_seed, CHAPTER_SCORE: row.best_score},
                "seconds": row.seconds,
                "welch": {"t": row.welch_t, "p": row.welch_p, "ci": row.welch_ci},
                "labels": row.labels,
                "validation": row.validation,
                "upstream": row.upstream,
            }
            for row in rows
        ],
        "pairs": [vars(pair) for pair in pairs],
    }
