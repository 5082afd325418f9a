"""Small, dependency-light statistics for comparing sweep arms (numpy + scipy only).

Everything here works on plain sequences of numbers (one value per trial, e.g. one
seed per trial). Non-finite values (NaN, +-inf, e.g. from a diverged run) are
dropped before any statistic is computed and counted separately by `summarize`.

Formulas
--------
summarize:
    n = number of finite values x_1..x_n,  mean = (1/n) sum x_i,
    sd = sqrt( sum (x_i - mean)^2 / (n - 1) )   (ddof = 1; NaN when n < 2),
    median = middle value of the sorted x (mean of the two middle ones when n is even).

ratio_of_medians:
    ratio = median(t) / median(c).
    Percentile bootstrap: for b = 1..B draw t*_b (n_t values with replacement from t)
    and, independently, c*_b (n_c values with replacement from c), both from one
    `numpy.random.default_rng(seed)`; r_b = median(t*_b) / median(c*_b);
    CI = [q_{(1-ci)/2}(r), q_{(1+ci)/2}(r)]  (numpy linear-interpolated percentiles).

mann_whitney:
    two-sided p of the Mann-Whitney U test, `scipy.stats.mannwhitneyu(t, c,
    alternative="two-sided")` (exact distribution for small samples without ties,
    normal approximation with tie correction otherwise). For two fully separated
    groups of 5 the exact p is 2 / C(10, 5) = 2/252 = 0.00794.

verdict (the rule; `VERDICT_RULE` is the same text, printed in reports):
    Effect size = ratio of medians treatment/control with its bootstrap CI (null
    value 1). If any finite value in either group is <= 0 a ratio is not
    meaningful, so the difference of medians treatment - control is used instead
    (same bootstrap, null value 0). "Better side" means below the null for a
    lower-is-better metric and above it for a higher-is-better metric.
      * inconclusive  - either group has fewer than 3 finite values;
      * supported     - p < alpha AND the whole CI lies strictly on the better side;
      * not supported - p < alpha AND the whole CI lies strictly on the worse side;
      * inconclusive  - everything else (CI straddles the null, or p >= alpha;
                        this includes "no detectable difference").
    Several metrics for one hypothesis are combined by `combine_outcomes`:
    supported only if every metric is supported, not supported if any metric is
    not supported, inconclusive otherwise.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Iterable, Sequence

import numpy as np
from scipy import stats as _sps

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
MIN_N = 3

VERDICT_RULE = (
    "Effect = ratio of medians treatment/control (difference of medians, null 0, "
    "if any value is <= 0) with a 95% percentile-bootstrap CI (10,000 resamples of "
    "each group independently, seed 0); p = two-sided Mann–Whitney U. "
    "**supported**: p < 0.05 and the whole CI lies on the better side of 1 "
    "(below 1 for lower-is-better, above 1 for higher-is-better); "
    "**not supported**: p < 0.05 and the whole CI lies on the worse side; "
    "**inconclusive**: anything else, including fewer than 3 finite values in "
    "either group. A hypothesis with several metrics is supported only if all "
    "are supported, not supported if any is not supported, otherwise inconclusive."
)


def _finite(values: Iterable[float]) -> np.ndarray:
    a = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()
    return a[np.isfinite(a)]


def summarize(values: Iterable[float]) -> dict:
    """Summary of the finite values: n, n_nonfinite, mean, sd (ddof=1), median.

    mean = sum(x)/n; sd = sqrt(sum((x - mean)^2)/(n - 1)) (NaN if n < 2);
    median = middle of the sorted values. Non-finite inputs are not used but are
    counted in ``n_nonfinite``. With no finite values mean/sd/median are NaN.
    """
    a = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()
    f = a[np.isfinite(a)]
    n = int(f.size)
    return {
        "n": n,
        "n_nonfinite": int(a.size - n),
        "mean": float(f.mean()) if n else math.nan,
        "sd": float(f.std(ddof=1)) if n >= 2 else math.nan,
        "median": float(np.median(f)) if n else math.nan,
    }


def _boot_medians(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Medians of ``n_boot`` resamples (with replacement) of x, in memory-bounded chunks."""
    out = np.empty(n_boot)
    chunk = max(1, 2_000_000 // max(1, x.size))
    for s in range(0, n_boot, chunk):
        k = min(chunk, n_boot - s)
        idx = rng.integers(0, x.size, size=(k, x.size))
        out[s:s + k] = np.median(x[idx], axis=1)
    return out


def _bootstrap(treatment, control, n_boot, ci, seed, measure):
    t, c = _finite(treatment), _finite(control)
    if t.size == 0 or c.size == 0:
        return math.nan, math.nan, math.nan
    with np.errstate(divide="ignore", invalid="ignore"):
        mt, mc = np.median(t), np.median(c)
        point = float(mt / mc) if measure == "ratio" else float(mt - mc)
        rng = np.random.default_rng(seed)
        bt = _boot_medians(t, n_boot, rng)
        bc = _boot_medians(c, n_boot, rng)
        r = bt / bc if measure == "ratio" else bt - bc
    if not np.all(np.isfinite(r)):
        return point, math.nan, math.nan
    alpha = (1.0 - ci) / 2.0
    lo, hi = np.percentile(r, [100 * alpha, 100 * (1 - alpha)])
    return point, float(lo), float(hi)


def ratio_of_medians(treatment: Sequence[float], control: Sequence[float],
                     n_boot: int = 10000, ci: float = 0.95, seed: int = 0):
    """(ratio, lo, hi): ratio = median(t)/median(c) with a percentile bootstrap CI.

    Each group is resampled independently with replacement (``n_boot`` times, one
    ``numpy.random.default_rng(seed)`` for both, treatment drawn first); the CI is
    the [(1-ci)/2, (1+ci)/2] percentiles of median(t*)/median(c*). Deterministic
    for a fixed seed. lo/hi are NaN if any bootstrap ratio is non-finite (a
    resampled control median of 0); all three are NaN if a group is empty.
    """
    return _bootstrap(treatment, control, n_boot, ci, seed, "ratio")


def diff_of_medians(treatment: Sequence[float], control: Sequence[float],
                    n_boot: int = 10000, ci: float = 0.95, seed: int = 0):
    """(diff, lo, hi): diff = median(t) - median(c), same bootstrap as `ratio_of_medians`."""
    return _bootstrap(treatment, control, n_boot, ci, seed, "difference")


def mann_whitney(treatment: Sequence[float], control: Sequence[float]) -> float:
    """Two-sided Mann–Whitney U p-value of the finite values (NaN if a group is empty).

    ``scipy.stats.mannwhitneyu(t, c, alternative="two-sided")``: exact when small
    and tie-free, else normal approximation with tie correction. Fully separated
    groups of 5 and 5 give p = 2/C(10,5) = 2/252.
    """
    t, c = _finite(treatment), _finite(control)
    if t.size == 0 or c.size == 0:
        return math.nan
    p = float(_sps.mannwhitneyu(t, c, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else p


@dataclass
class Verdict:
    """Outcome of one treatment-vs-control comparison on one metric.

    ``ratio`` is the point estimate (a difference when ``measure == "difference"``),
    [lo, hi] its CI, ``null`` the no-effect value (1 for a ratio, 0 for a difference).
    """

    ratio: float
    lo: float
    hi: float
    p: float
    n_t: int
    n_c: int
    outcome: str
    better: str = "lower"
    measure: str = "ratio"
    null: float = 1.0

    def to_dict(self) -> dict:
        return asdict(self)


def verdict(treatment: Sequence[float], control: Sequence[float], better: str = "lower",
            alpha: float = 0.05, n_boot: int = 10000, ci: float = 0.95, seed: int = 0) -> Verdict:
    """Compare treatment with control on one metric; see the module docstring for the rule.

    supported: p < alpha and the whole CI is strictly on the better side of the null
    (ratio: 1; difference: 0); not supported: p < alpha and the whole CI strictly on
    the worse side; inconclusive otherwise, and whenever a group has < 3 finite values.
    ``better`` is "lower" or "higher".
    """
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")
    t, c = _finite(treatment), _finite(control)
    measure = "ratio" if (t.size and c.size and t.min() > 0 and c.min() > 0) else "difference"
    null = 1.0 if measure == "ratio" else 0.0
    est, lo, hi = _bootstrap(t, c, n_boot, ci, seed, measure)
    p = mann_whitney(t, c)
    outcome = INCONCLUSIVE
    if t.size >= MIN_N and c.size >= MIN_N and not (math.isnan(lo) or math.isnan(hi) or math.isnan(p)):
        below, above = hi < null, lo > null
        good, bad = (below, above) if better == "lower" else (above, below)
        if p < alpha and good:
            outcome = SUPPORTED
        elif p < alpha and bad:
            outcome = NOT_SUPPORTED
    return Verdict(est, lo, hi, p, int(t.size), int(c.size), outcome, better, measure, null)


def combine_outcomes(outcomes: Iterable[str]) -> str:
    """supported if all are supported; not supported if any is; else inconclusive."""
    outcomes = list(outcomes)
    if not outcomes:
        return INCONCLUSIVE
    if any(o == NOT_SUPPORTED for o in outcomes):
        return NOT_SUPPORTED
    if all(o == SUPPORTED for o in outcomes):
        return SUPPORTED
    return INCONCLUSIVE
