"""A 2^k factorial with the seed as the unit: main effects and two-way interactions with CIs.

``report.factorial`` (`excolor.report.spec.Factorial`) names k factors, each with a low and a high
level, and the metrics with their scale. Every member falls into one cell (its levels of the k
factors; members at other levels are not used). For each metric and seed s, the cell's value y_s(cell)
is the median of the seed's members in that cell, on the metric's scale (``log``: the natural log, so
an effect is a log ratio; ``linear``: the value). A seed enters a metric's analysis only when it has a
finite value in every cell (seeds with a missing cell, or with a diverged member, are left out and
counted).

With the level code x_f(cell) = +1 (high) or −1 (low), mean over the 2^(k−1) cells with x_f = ±1:

    main effect of f, per seed:  c_s = mean(y_s | x_f = +1) − mean(y_s | x_f = −1);
    interaction f × g, per seed: c_s = [mean(y_s | f+, g+) − mean(y_s | f−, g+)]
                                       − [mean(y_s | f+, g−) − mean(y_s | f−, g−)]
                                 (how much f's effect changes when g goes from low to high, averaged
                                 over the other factors; = 2 · mean over cells of x_f x_g y_s).

The estimate is the mean over seeds of c_s, with a 95% BCa bootstrap CI that resamples seeds
(`excolor.report.stats.bca_interval`) and a two-sided Wilcoxon signed-rank p on the c_s; the p-values of
all terms of all metrics form one Holm family. Worked example (k = 2, one seed, y(−,−) = 0, y(+,−) = 2,
y(−,+) = 1, y(+,+) = 5): main f = (2 + 5)/2 − (0 + 1)/2 = 3; main g = (1 + 5)/2 − (0 + 2)/2 = 2;
f × g = (5 − 1) − (2 − 0) = 2.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from excolor.report import stats
from excolor.report.format import fmt_value, short_key
from excolor.report.result import FactorialEffect, FactorialResult, NoFactorial
from excolor.report.spec import Factorial
from excolor.report.sweep import Member


def _mean(values, axis=-1):
    """mean(x) along ``axis`` (a vectorised statistic for the bootstrap)."""
    return np.mean(values, axis=axis)


def level_code(member: Member, key: str, levels: tuple[Any, Any]) -> int | None:
    """−1 at the low level, +1 at the high level (compared as YAML text too), None at neither."""
    value = member.value(key)
    for code, level in ((-1, levels[0]), (1, levels[1])):
        if value == level or fmt_value(value) == fmt_value(level):
            return code
    return None


def contrasts(codes: np.ndarray, y: np.ndarray) -> dict[tuple[int, ...], np.ndarray]:
    """Per-seed contrasts: (f,) → main effect of f, (f, g) → interaction; ``codes`` [cells, k] of ±1,
    ``y`` [seeds, cells] (module docstring)."""

    def side_mean(mask: np.ndarray) -> np.ndarray:
        return y[:, mask].mean(axis=1)

    k = codes.shape[1]
    found: dict[tuple[int, ...], np.ndarray] = {}
    for f in range(k):
        found[(f,)] = side_mean(codes[:, f] == 1) - side_mean(codes[:, f] == -1)

    def simple(f: int, g: int, g_code: int) -> np.ndarray:
        """f's effect among the cells where g is at ``g_code``."""
        return side_mean((codes[:, f] == 1) & (codes[:, g] == g_code)) - side_mean(
            (codes[:, f] == -1) & (codes[:, g] == g_code)
        )

    for f, g in itertools.combinations(range(k), 2):
        found[(f, g)] = simple(f, g, 1) - simple(f, g, -1)
    return found


def _cell_values(members: list[Member], metric: str, scale: str) -> float:
    """The median of the members' values on the metric's scale (NaN if any is missing or non-finite)."""
    found = [member.number(metric) for member in members]
    values = [value for value in found if value is not None and math.isfinite(value)]
    if len(values) < len(found) or not values:
        return math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        median = float(np.median(values))
        return float(np.log(median)) if scale == "log" else median


def analyse_factorial(
    members: list[Member], factorial: Factorial, n_boot: int = stats.N_RESAMPLES
) -> FactorialResult | NoFactorial:
    """Main effects and two-way interactions of the factorial (module docstring)."""
    keys = list(factorial.factors)
    cells = list(itertools.product((-1, 1), repeat=len(keys)))
    by_seed: dict[int, dict[tuple[int, ...], list[Member]]] = {}
    for member in members:
        codes = tuple(level_code(member, key, factorial.factors[key]) for key in keys)
        if member.seed is None or None in codes:
            continue
        by_seed.setdefault(member.seed, {}).setdefault(codes, []).append(member)  # type: ignore[arg-type]
    complete = [seed for seed, at in by_seed.items() if len(at) == len(cells)]
    if len(complete) < stats.MIN_N:
        return NoFactorial(
            f"{len(complete)} seeds have a member in every one of the {len(cells)} cells; "
            f"the factorial needs {stats.MIN_N}"
        )
    names = [short_key(key) for key in keys]
    code_matrix = np.array(cells, dtype=float)
    effects, left_out = [], {}
    for metric, scale in factorial.metrics.items():
        y = np.array(
            [[_cell_values(by_seed[seed][cell], metric, scale) for cell in cells] for seed in complete]
        )
        usable = np.all(np.isfinite(y), axis=1)
        left_out[metric] = int(np.sum(~usable))
        if usable.sum() < stats.MIN_N:
            continue
        for term, per_seed in contrasts(code_matrix, y[usable]).items():
            lo, hi, method = stats.bca_interval((per_seed,), _mean, n_boot)
            effects.append(
                FactorialEffect(
                    " × ".join(names[index] for index in term),
                    metric,
                    scale,
                    float(per_seed.mean()),
                    lo,
                    hi,
                    method,
                    stats.wilcoxon_signed_rank(per_seed),
                    math.nan,
                    0,
                    int(per_seed.size),
                )
            )
    for effect, p_adjusted in zip(effects, stats.holm([effect.p for effect in effects])):
        effect.p_holm, effect.family_size = p_adjusted, len(effects)
    return FactorialResult(
        {key: list(levels) for key, levels in factorial.factors.items()},
        len(cells),
        len(complete),
        left_out,
        len(by_seed) - len(complete),
        effects,
    )
