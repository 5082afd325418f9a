"""Small, dependency-light statistics for comparing sweep arms (numpy + scipy only): summaries,
effects with bootstrap CIs, rank tests, Holm's adjustment and the verdict rule.

Everything here works on plain sequences of numbers, one value per sample; a sample is one
population member (one seed at one grid point). Non-finite values (NaN, ±inf, e.g. from a
diverged member) are dropped before any statistic is computed and counted by `summarize`;
in a paired comparison a pair is dropped when either of its values is non-finite.

Formulas
--------
summarize:
    n = number of finite values x_1..x_n,  mean = (1/n) Σ x_i,
    sd = sqrt( Σ (x_i − mean)² / (n − 1) )   (ddof = 1; NaN when n < 2),
    median = middle value of the sorted x (mean of the two middle ones when n is even),
    q25, q75 = numpy's linearly interpolated 25th / 75th percentiles (the IQR band).

Effects (null value 1 for a ratio, 0 for a difference). A ratio needs every finite value of
both groups > 0; otherwise the difference is used.
    unpaired:  ratio of medians  median(t) / median(c)   (difference: median(t) − median(c));
    paired:    median of per-pair ratios  median_i(t_i / c_i)   (difference: median_i(t_i − c_i)).
    CI: BCa bootstrap (`scipy.stats.bootstrap(..., method="BCa")`, 9,999 resamples,
    `numpy.random.default_rng(seed)`): unpaired resamples each group independently, paired
    resamples the per-pair ratios (= resampling whole pairs). The BCa interval is the
    [Φ(z0 + (z0 + z_a)/(1 − â(z0 + z_a)))] percentiles of the bootstrap distribution, with
    bias z0 from the share of resamples below the point and acceleration â from the jackknife.
    Degenerate data (every value equal up to float rounding) give the CI [point, point]; where BCa is undefined
    (e.g. a median's bootstrap distribution that is mostly one value) the percentile interval
    of the same resamples is used and ``ci_method`` says so. Non-finite resampled effects
    (a resampled control median of 0) make the CI NaN.

Tests (two-sided):
    unpaired:  Mann–Whitney U, `scipy.stats.mannwhitneyu(t, c)` (exact when small and tie-free,
               normal approximation with tie correction otherwise). Fully separated groups of
               5 and 5: p = 2 / C(10, 5) = 2/252.
    paired:    Wilcoxon signed-rank, `scipy.stats.wilcoxon(d)` on d_i = log(t_i / c_i) for a
               ratio (so it tests the same scale-free quantity the effect measures) or
               d_i = t_i − c_i for a difference; zero differences are dropped ("wilcox"),
               p = 1 when all are zero. Exact for n ≤ 50 without ties: with ranks R_i of |d_i|,
               W = min(Σ_{d>0} R_i, Σ_{d<0} R_i) and p = 2·#{sign patterns with W' ≤ W}/2^n
               (capped at 1). All 5 differences of one sign: p = 2/32 = 0.0625, the smallest
               p five pairs can give.

Holm (step-down, family-wise error ≤ alpha): sort the m finite p-values p_(1) ≤ … ≤ p_(m);
    p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)); NaN p-values stay NaN and do not count in m.
    [0.01, 0.04, 0.03] → [0.03, 0.06, 0.06].

verdict (the rule; `VERDICT_RULE` is the same text, printed in reports):
    "Better side" means below the null for a lower-is-better metric, above it for higher.
      * inconclusive  - fewer than 3 finite values (pairs) in either group;
      * supported     - Holm-adjusted p < alpha AND the whole CI lies strictly on the better side;
      * not supported - Holm-adjusted p < alpha AND the whole CI lies strictly on the worse side;
      * inconclusive  - everything else.
    The Holm family is the metrics of one hypothesis (`verdicts`); a single metric's adjusted
    p is its p. Several metrics are combined by `combine_outcomes`: supported only if every
    metric is supported, not supported if any is not supported, inconclusive otherwise.

In the code, t, c, d, p and m are the symbols of these formulas (treatment, control, differences,
p-values, their count).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

# One sample of a metric: a sequence or a 1-D array of floats.
Values = Sequence[float] | np.ndarray

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
MIN_N = 3
N_RESAMPLES = 9999
WILCOXON = "Wilcoxon signed-rank"
MANN_WHITNEY = "Mann–Whitney"

VERDICT_RULE = (
    "Samples are population members (one seed at one grid point); a side's members of one seed and "
    "grid point (pooled arms, searched trials that reuse seeds) are first summarised by their median, "
    "so a seed counts once. Where treatment and control "
    "share seeds (and grid points) the comparison is paired: effect = median of the per-seed "
    "ratios treatment/control, p = two-sided Wilcoxon signed-rank on the log ratios; otherwise "
    "effect = ratio of medians, p = two-sided Mann–Whitney U. A difference (null 0) replaces the "
    "ratio (null 1) if any value is ≤ 0. CI: 95% BCa bootstrap (9,999 resamples, seed 0; pairs "
    "are resampled whole). p-values of a hypothesis' metrics are Holm-adjusted. "
    "**supported**: adjusted p < 0.05 and the whole CI lies on the better side of the null "
    "(below for lower-is-better, above for higher-is-better); **not supported**: adjusted "
    "p < 0.05 and the whole CI on the worse side; **inconclusive**: anything else, including "
    "fewer than 3 finite values (pairs) in either group. A hypothesis with several metrics is "
    "supported only if all are supported, not supported if any is not supported, otherwise "
    "inconclusive."
)


def _finite(values: Iterable[float]) -> np.ndarray:
    """The finite values as a flat float array."""
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()
    return array[np.isfinite(array)]


def summarize(values: Iterable[float]) -> dict:
    """Summary of the finite values: n, n_nonfinite, mean, sd (ddof=1), median, q25, q75.

    mean = Σx/n; sd = sqrt(Σ(x − mean)²/(n − 1)) (NaN if n < 2); median = middle of the sorted
    values; q25/q75 = linearly interpolated percentiles. Non-finite inputs are not used but are
    counted in ``n_nonfinite``. With no finite values every statistic is NaN.
    """
    array = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()
    finite = array[np.isfinite(array)]
    n = int(finite.size)
    q25, median, q75 = np.percentile(finite, [25, 50, 75]) if n else (math.nan,) * 3
    return {
        "n": n,
        "n_nonfinite": int(array.size - n),
        "mean": float(finite.mean()) if n else math.nan,
        "sd": float(finite.std(ddof=1)) if n >= 2 else math.nan,
        "median": float(median),
        "q25": float(q25),
        "q75": float(q75),
    }


# --------------------------------------------------------------------------- multiple testing


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm step-down adjusted p-values, in the input order.

    Sort the m finite p-values ascending, p_(1) ≤ … ≤ p_(m); p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) p_(j)).
    NaN stays NaN and is not counted in m. [0.01, 0.04, 0.03] → [0.03, 0.06, 0.06].
    """
    p = np.asarray(p_values, dtype=float)
    adjusted = np.full(p.shape, math.nan)
    tested = np.flatnonzero(~np.isnan(p))
    order = tested[np.argsort(p[tested], kind="stable")]
    m = order.size
    running_max = 0.0
    for rank, index in enumerate(order):
        running_max = max(running_max, min(1.0, (m - rank) * p[index]))
        adjusted[index] = running_max
    return [float(value) for value in adjusted]


# --------------------------------------------------------------------------- tests


def mann_whitney(treatment: Values, control: Values) -> float:
    """Two-sided Mann–Whitney U p-value of the finite values (NaN if a group is empty).

    ``scipy.stats.mannwhitneyu(t, c, alternative="two-sided")``: exact when small and tie-free,
    else normal approximation with tie correction. Fully separated groups of 5 and 5 give
    p = 2/C(10,5) = 2/252.
    """
    t, c = _finite(treatment), _finite(control)
    if t.size == 0 or c.size == 0:
        return math.nan
    p = float(_sps.mannwhitneyu(t, c, alternative="two-sided").pvalue)
    return 1.0 if math.isnan(p) else p


def wilcoxon_signed_rank(differences: Values) -> float:
    """Two-sided Wilcoxon signed-rank p-value of paired differences d_i (NaN if there are none).

    ``scipy.stats.wilcoxon(d)``: zeros dropped; exact for n ≤ 50 without ties, where with ranks
    R_i of |d_i|, W = min(Σ_{d>0} R_i, Σ_{d<0} R_i) and p = 2·P(W' ≤ W) over the 2^n equally likely
    sign patterns. p = 1 when every difference is 0.
    """
    d = _finite(differences)
    if d.size == 0:
        return math.nan
    if np.all(d == 0):
        return 1.0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        # scipy builds the result class at run time, so its type has no `pvalue` for a checker
        p = float(_sps.wilcoxon(d, alternative="two-sided").pvalue)  # pyright: ignore[reportAttributeAccessIssue]
    return 1.0 if math.isnan(p) else p


# --------------------------------------------------------------------------- effects and CIs


def _median_ratio(treatment, control, axis=-1):
    """median(t) / median(c) along ``axis`` (a vectorised statistic for scipy.stats.bootstrap)."""
    return np.median(treatment, axis=axis) / np.median(control, axis=axis)


def _median_difference(treatment, control, axis=-1):
    """median(t) − median(c) along ``axis``."""
    return np.median(treatment, axis=axis) - np.median(control, axis=axis)


def _median(values, axis=-1):
    """median(x) along ``axis``."""
    return np.median(values, axis=axis)


def _is_constant(values: np.ndarray) -> bool:
    """All values equal up to float rounding: max − min ≤ 1e-12 · max |x|."""
    return bool(np.ptp(values) <= 1e-12 * np.max(np.abs(values)))


def bca_interval(samples: tuple[np.ndarray, ...], statistic: Callable, n_boot: int = N_RESAMPLES,
                 ci: float = 0.95, seed: int = 0) -> tuple[float, float, str]:
    """(lo, hi, method) of a BCa bootstrap CI of ``statistic(*samples)``.

    `scipy.stats.bootstrap(samples, statistic, method="BCa")`, each sample resampled
    independently, ``numpy.random.default_rng(seed)``. Every sample constant → (point, point,
    "degenerate"); BCa undefined (NaN) → the percentile interval of the same resamples
    ("percentile"); any non-finite resampled statistic → (NaN, NaN, "undefined").
    """
    if all(_is_constant(sample) for sample in samples):
        point = float(statistic(*samples))
        return point, point, "degenerate"
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore")
        result = _sps.bootstrap(samples, statistic, n_resamples=n_boot, vectorized=True, method="BCa",
                                confidence_level=ci, rng=np.random.default_rng(seed))
        if not np.all(np.isfinite(result.bootstrap_distribution)):
            return math.nan, math.nan, "undefined"
        lo, hi = result.confidence_interval
        method = "BCa"
        if not (math.isfinite(lo) and math.isfinite(hi)):
            result = _sps.bootstrap(samples, statistic, n_resamples=0, vectorized=True, method="percentile",
                                    confidence_level=ci, bootstrap_result=result)
            (lo, hi), method = result.confidence_interval, "percentile"
    return float(lo), float(hi), method


def _unpaired_effect(t: np.ndarray, c: np.ndarray, measure: str, n_boot: int, ci: float, seed: int):
    """(effect, lo, hi, ci_method): ratio (or difference) of medians with a two-sample BCa CI."""
    statistic = _median_ratio if measure == "ratio" else _median_difference
    if t.size == 0 or c.size == 0:
        return math.nan, math.nan, math.nan, "undefined"
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = float(statistic(t, c))
    lo, hi, method = bca_interval((t, c), statistic, n_boot, ci, seed)
    return effect, lo, hi, method


def paired_values(treatment: Values, control: Values) -> tuple[np.ndarray, np.ndarray]:
    """The pairs (t_i, c_i) whose two values are both finite, as two aligned arrays."""
    t, c = np.asarray(treatment, dtype=float).ravel(), np.asarray(control, dtype=float).ravel()
    if t.shape != c.shape:
        raise ValueError(f"paired samples must have equal lengths, got {t.size} and {c.size}")
    keep = np.isfinite(t) & np.isfinite(c)
    return t[keep], c[keep]


def per_pair_effects(t: np.ndarray, c: np.ndarray, measure: str) -> np.ndarray:
    """t_i / c_i for a ratio, t_i − c_i for a difference."""
    return t / c if measure == "ratio" else t - c


# --------------------------------------------------------------------------- verdicts


@dataclass
class Verdict:
    """Outcome of one treatment-vs-control comparison on one metric.

    ``effect`` is the point estimate: median of per-pair ratios (paired) or ratio of medians
    (unpaired), a difference when ``measure == "difference"``; [lo, hi] its CI (``ci_method``),
    ``null`` the no-effect value (1 for a ratio, 0 for a difference). ``p`` is the raw p of
    ``test``, ``p_holm`` the Holm-adjusted p the outcome is decided on. ``n_t``/``n_c`` are the
    finite values per group (both = ``n_pairs`` when paired).
    """

    effect: float
    lo: float
    hi: float
    p: float
    p_holm: float
    n_t: int
    n_c: int
    outcome: str
    better: str = "lower"
    measure: str = "ratio"
    null: float = 1.0
    paired: bool = False
    n_pairs: int = 0
    test: str = MANN_WHITNEY
    ci_method: str = "BCa"


def decide(lo: float, hi: float, p_adjusted: float, null: float, better: str, enough: bool,
           alpha: float = 0.05) -> str:
    """supported / not supported / inconclusive from the CI and the adjusted p (module docstring)."""
    if not enough or any(math.isnan(x) for x in (lo, hi, p_adjusted)) or p_adjusted >= alpha:
        return INCONCLUSIVE
    below, above = hi < null, lo > null
    good, bad = (below, above) if better == "lower" else (above, below)
    return SUPPORTED if good else NOT_SUPPORTED if bad else INCONCLUSIVE


def _check_better(better: str) -> None:
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")


def verdict(treatment: Values, control: Values, better: str = "lower", paired: bool = False,
            alpha: float = 0.05, n_boot: int = N_RESAMPLES, ci: float = 0.95, seed: int = 0) -> Verdict:
    """Compare treatment with control on one metric (rule: module docstring); p_holm = p.

    paired=True needs aligned sequences (t_i and c_i from the same seed); pairs with a
    non-finite value are dropped.
    """
    _check_better(better)
    if paired:
        t, c = paired_values(treatment, control)
    else:
        t, c = _finite(treatment), _finite(control)
    measure = "ratio" if (t.size and c.size and t.min() > 0 and c.min() > 0) else "difference"
    null = 1.0 if measure == "ratio" else 0.0
    if paired:
        per_pair = per_pair_effects(t, c, measure)
        effect = float(np.median(per_pair)) if per_pair.size else math.nan
        lo, hi, method = bca_interval((per_pair,), _median, n_boot, ci, seed) if per_pair.size \
            else (math.nan, math.nan, "undefined")
        p = wilcoxon_signed_rank(np.log(per_pair) if measure == "ratio" else per_pair)
        test = WILCOXON
    else:
        effect, lo, hi, method = _unpaired_effect(t, c, measure, n_boot, ci, seed)
        p, test = mann_whitney(t, c), MANN_WHITNEY
    outcome = decide(lo, hi, p, null, better, t.size >= MIN_N and c.size >= MIN_N, alpha)
    return Verdict(effect, lo, hi, p, p, int(t.size), int(c.size), outcome, better, measure, null,
                   paired, int(t.size) if paired else 0, test, method)


def verdicts(comparisons: Sequence[tuple[Values, Values, str]], paired: bool = False,
             alpha: float = 0.05, n_boot: int = N_RESAMPLES, ci: float = 0.95, seed: int = 0) -> list[Verdict]:
    """One verdict per (treatment, control, better) with the p-values Holm-adjusted across them."""
    found = [verdict(treatment, control, better, paired, alpha, n_boot, ci, seed)
             for treatment, control, better in comparisons]
    for comparison, p_adjusted in zip(found, holm([comparison.p for comparison in found])):
        comparison.p_holm = p_adjusted
        comparison.outcome = decide(comparison.lo, comparison.hi, p_adjusted, comparison.null, comparison.better,
                                    comparison.n_t >= MIN_N and comparison.n_c >= MIN_N, alpha)
    return found


def combine_outcomes(outcomes: Iterable[str]) -> str:
    """supported if all are supported; not supported if any is; else inconclusive."""
    outcomes = list(outcomes)
    if not outcomes:
        return INCONCLUSIVE
    if any(outcome == NOT_SUPPORTED for outcome in outcomes):
        return NOT_SUPPORTED
    if all(outcome == SUPPORTED for outcome in outcomes):
        return SUPPORTED
    return INCONCLUSIVE
