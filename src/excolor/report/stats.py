"""Small, dependency-light statistics for comparing sweep arms (numpy + scipy only): summaries,
effects with bootstrap CIs, rank tests, equivalence (TOST), Holm's adjustment and the verdict rule.

Everything here works on plain sequences of numbers, one value per **unit**: a seed (the caller,
`excolor.report.pairing`, first summarises a seed's members into one value). A non-finite value
(NaN, +inf or −inf alike) is a **diverged** unit, an outcome and not a gap: in the tests and the
effects it counts as the worst value of its side (`worst_value`); `summarize` counts it apart.

Formulas
--------
summarize (finite values only; the non-finite ones are counted in n_nonfinite):
    n = number of finite values x_1..x_n,  mean = (1/n) Σ x_i,
    sd = sqrt( Σ (x_i − mean)² / (n − 1) )   (ddof = 1; NaN when n < 2),
    median = middle value of the sorted x (mean of the two middle ones when n is even),
    q25, q75 = numpy's linearly interpolated 25th / 75th percentiles (the IQR band).

Measure. A ratio (null 1) when every finite value of both sides is > 0, else a difference (null 0).

Worst value (a diverged unit): +inf when lower is better; when higher is better 0 for a ratio (the
values are > 0, so 0 is below all of them) and −inf for a difference. A paired unit where both sides
diverged is a tie: its per-pair effect is the null (ratio 1, difference 0).

Effects (null value 1 for a ratio, 0 for a difference):
    unpaired:  ratio of medians  median(t) / median(c)   (difference: median(t) − median(c));
    paired:    median of per-pair ratios  median_i(t_i / c_i)   (difference: median_i(t_i − c_i)).
    CI: bootstrap over units (`scipy.stats.bootstrap`, 9,999 resamples, `numpy.random.default_rng(seed)`):
    unpaired resamples each side's units independently, paired resamples the per-pair effects (whole
    seeds). BCa: the [Φ(z0 + (z0 + z_a)/(1 − â(z0 + z_a)))] percentiles of the bootstrap distribution,
    with bias z0 from the share of resamples below the point and acceleration â from the jackknife.
    With a diverged unit (worst values) or where BCa is undefined, the percentile interval of the
    same resamples, taken without interpolation (numpy's ``inverted_cdf``, so an infinite bound stays
    infinite), and ``ci_method`` says so. Every sample constant: the CI is the point ("degenerate");
    a CI whose bounds are equal (a point) is never taken as evidence (`decide`).

Tests (two-sided; exact while small, `EXACT_MAX_N`; `excolor.report.exact` counts the permutation
distributions with the data's mid-ranks, so ties, such as diverged units, are handled exactly):
    unpaired:  Mann–Whitney U when n_t + n_c ≤ EXACT_MAX_N: the exact permutation distribution of the
               rank sum ([5, 5, 5] vs [1, 1, 1, 1]: 1 of the C(7, 3) = 35 splits is as extreme on each
               side, p = 2/35 = 0.057); above, the normal approximation with tie correction
               (`scipy.stats.mannwhitneyu`). Fully separated groups of 5 and 5: p = 2 / C(10, 5) = 2/252.
    paired:    Wilcoxon signed-rank on d_i = log(t_i / c_i) for a ratio (±inf for a pair with one
               diverged side) or d_i = t_i − c_i, zeros dropped: exact over the 2^n sign patterns when
               n ≤ EXACT_MAX_N; above, the normal approximation (`scipy.stats.wilcoxon`). With ranks R_i of |d_i|, W = min(Σ_{d>0} R_i, Σ_{d<0} R_i),
               p = 2·#{sign patterns with W' ≤ W}/2^n (capped at 1). All 5 differences of one sign:
               p = 2/32 = 0.0625. p = 1 when every difference is 0.

Equivalence (TOST, margin m, e.g. 0.1 for ±10 % on the ratio): the ratio lies within [1 − m, 1 + m].
    paired:   p_low  = Wilcoxon one-sided "greater" on d_i − log(1 − m),
              p_high = Wilcoxon one-sided "less" on d_i − log(1 + m);
    unpaired: the same two one-sided Mann–Whitney tests on log t − log(1 ∓ m) against log c;
    p = max(p_low, p_high). The CI is the 1 − 2α (90 %) interval. A difference measure has no
    relative margin: p is NaN (not shown equivalent).

Holm (step-down, family-wise error ≤ alpha): sort the m finite p-values p_(1) ≤ … ≤ p_(m);
    p̃_(i) = max_{j ≤ i} min(1, (m − j + 1) · p_(j)); NaN p-values stay NaN and do not count in m.
    [0.01, 0.04, 0.03] → [0.03, 0.06, 0.06]. The family is every test of one hypothesis
    (`excolor.report.family`).

verdict (the rule; `VERDICT_RULE` is the same text, printed in reports):
    "Better side" means below the null for a lower-is-better metric, above it for higher.
      * inconclusive  - fewer than 3 units (pairs) in either group, or a CI that is a point;
      * supported     - Holm-adjusted p < alpha AND the whole CI lies strictly on the better side;
      * not supported - Holm-adjusted p < alpha AND the whole CI lies strictly on the worse side;
      * inconclusive  - everything else.
    An equivalence verdict: equivalent within ±m if the adjusted TOST p < alpha AND the 90 % CI lies
    inside [1 − m, 1 + m]; else not shown equivalent.
    Several metrics are combined by `combine_outcomes`: supported (equivalent) only if every metric
    is, not supported if any is not supported, inconclusive (not shown equivalent) otherwise.

In the code, t, c, d, p and m are the symbols of these formulas (treatment, control, differences,
p-values, their count or the margin).
"""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as _sps

from excolor.report import exact

SUPPORTED = "supported"
NOT_SUPPORTED = "not supported"
INCONCLUSIVE = "inconclusive"
EQUIVALENT = "equivalent"
NOT_EQUIVALENT = "not shown equivalent"
MIN_N = 3
N_RESAMPLES = 9999
EXACT_MAX_N = 100  # exact tests up to this many units (pairs, or both sides together)
WILCOXON = "Wilcoxon signed-rank"
MANN_WHITNEY = "Mann–Whitney"
TOST_WILCOXON = "TOST Wilcoxon signed-rank"
TOST_MANN_WHITNEY = "TOST Mann–Whitney"

VERDICT_RULE = (
    "The unit is the seed: a side's members of one seed (grid points pooled, arms pooled, searched trials "
    "that reuse seeds) are first summarised by their median, so n is the number of seeds. A diverged member "
    "(a non-finite value: NaN or ±inf) is an outcome, not a gap: it counts as the worst value of its side. "
    "Where treatment and control share at least 3 seeds the comparison is paired: effect = median of the "
    "per-seed ratios treatment/control, p = two-sided Wilcoxon signed-rank on the log ratios; otherwise "
    "effect = ratio of medians, p = two-sided Mann–Whitney U; both exact (ties included) up to 100 seeds. "
    "A difference (null 0) replaces the ratio (null 1) if any value is ≤ 0. CI: 95% BCa bootstrap over "
    "seeds (9,999 resamples, seed 0; the percentile interval where a seed diverged). The p-values of all "
    "of a hypothesis' tests (every metric, and every dose of every metric) form one Holm family. "
    "**supported**: adjusted p < 0.05 and the whole CI lies on the better side of the null "
    "(below for lower-is-better, above for higher-is-better); **not supported**: adjusted "
    "p < 0.05 and the whole CI on the worse side; **inconclusive**: anything else, including "
    "fewer than 3 seeds in either group and a CI that is a single point. An equivalence hypothesis (a "
    "margin ±m): two one-sided tests (TOST) against ratios 1 − m and 1 + m, **equivalent within ±m** if "
    "the adjusted TOST p < 0.05 and the 90% CI lies inside [1 − m, 1 + m] (a CI that is a single point "
    "counts here: every per-seed ratio is that value, and the exact TOST p refuses too few seeds), else "
    "**not shown equivalent**. "
    "A hypothesis with several metrics is supported (equivalent) only if all are, not supported if any is "
    "not supported, otherwise inconclusive (not shown equivalent). Divergence per side is compared too "
    "(McNemar exact test paired by seed, Fisher's exact test unpaired), outside the family."
)


Values = Sequence[float] | np.ndarray  # one value per unit

CONFIDENCE = 0.95  # the level of every confidence interval a report prints


def _array(values: Iterable[float]) -> np.ndarray:
    """The values as a flat float array."""
    return np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float).ravel()


def _finite(values: Iterable[float]) -> np.ndarray:
    """The finite values as a flat float array."""
    array = _array(values)
    return array[np.isfinite(array)]


def summarize(values: Iterable[float]) -> dict:
    """Summary of the finite values: n, n_nonfinite, mean, sd (ddof=1), median, q25, q75.

    mean = Σx/n; sd = sqrt(Σ(x − mean)²/(n − 1)) (NaN if n < 2); median = middle of the sorted
    values; q25/q75 = linearly interpolated percentiles. Non-finite inputs (NaN, ±inf) are not used but
    are counted in ``n_nonfinite``. With no finite values every statistic is NaN.
    """
    array = _array(values)
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


# --------------------------------------------------------------------------- diverged units


def choose_measure(treatment: Iterable[float], control: Iterable[float]) -> str:
    """ "ratio" when both sides have finite values and every finite value is > 0, else "difference"."""
    t, c = _finite(treatment), _finite(control)
    return "ratio" if (t.size and c.size and t.min() > 0 and c.min() > 0) else "difference"


def worst_value(better: str, measure: str) -> float:
    """A diverged unit's value: +inf (lower is better); 0 for a ratio, −inf for a difference (higher)."""
    _check_better(better)
    if better == "lower":
        return math.inf
    return 0.0 if measure == "ratio" else -math.inf


def with_worst(values: Iterable[float], better: str, measure: str) -> np.ndarray:
    """The values with every non-finite one (NaN, ±inf: diverged) replaced by `worst_value`."""
    array = _array(values).copy()
    array[~np.isfinite(array)] = worst_value(better, measure)
    return array


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


def _no_nan(values: Values) -> np.ndarray:
    """The values without NaN (±inf kept: a rank test ranks them)."""
    array = _array(values)
    return array[~np.isnan(array)]


def mann_whitney(treatment: Values, control: Values, alternative: str = "two-sided") -> float:
    """Mann–Whitney U p-value (NaN if a group is empty); ±inf are ranked, NaN dropped.

    Exact when n_t + n_c ≤ `EXACT_MAX_N`: the permutation distribution of the rank sum, ties included
    (`excolor.report.exact.rank_sum_p`; without ties the same as ``scipy.stats.mannwhitneyu(t, c,
    method="exact")``); above, the normal approximation with tie correction. Fully separated groups of
    5 and 5: p = 2/C(10,5) = 2/252; [5, 5, 5] vs [1, 1, 1, 1]: 2/35.
    """
    t, c = _no_nan(treatment), _no_nan(control)
    if t.size == 0 or c.size == 0:
        return math.nan
    if t.size + c.size <= EXACT_MAX_N:
        return exact.rank_sum_p(t, c, alternative)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(_sps.mannwhitneyu(t, c, alternative=alternative, method="asymptotic").pvalue)
    return 1.0 if math.isnan(p) else p


def wilcoxon_signed_rank(differences: Values, alternative: str = "two-sided") -> float:
    """Wilcoxon signed-rank p-value of paired differences d_i (NaN if there are none); ±inf ranked.

    Zeros dropped; exact for n ≤ `EXACT_MAX_N`: the sign-flip distribution of the mid-rank sum, ties
    included (`excolor.report.exact.signed_rank_p`); above, the normal approximation
    (``scipy.stats.wilcoxon``). Without ties, with ranks R_i of |d_i|, W = min(Σ_{d>0} R_i, Σ_{d<0} R_i)
    and p = 2·P(W' ≤ W) over the 2^n equally likely sign patterns. p = 1 when every difference is 0.
    """
    d = _no_nan(differences)
    if d.size == 0:
        return math.nan
    if np.all(d == 0):
        return 1.0
    if np.count_nonzero(d) <= EXACT_MAX_N:
        return exact.signed_rank_p(d, alternative)
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        p = float(_sps.wilcoxon(d, alternative=alternative, method="asymptotic").pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy's result class is built at runtime (_make_tuple_bunch); its fields are unknown to inference
    return 1.0 if math.isnan(p) else p


def tost_p(treatment: np.ndarray, control: np.ndarray, margin: float, paired: bool) -> float:
    """TOST p = max(p_low, p_high) that the ratio lies in [1 − m, 1 + m] (module docstring)."""
    if not 0 < margin < 1:
        raise ValueError(f"an equivalence margin must lie in (0, 1), got {margin!r}")
    low, high = math.log(1 - margin), math.log(1 + margin)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_t, log_c = np.log(treatment), np.log(control)
        if paired:
            d = log_t - log_c
            d[np.isnan(d)] = 0.0  # both sides diverged: a tie
            return max(wilcoxon_signed_rank(d - low, "greater"), wilcoxon_signed_rank(d - high, "less"))
    return max(mann_whitney(log_t - low, log_c, "greater"), mann_whitney(log_t - high, log_c, "less"))


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
    """All values equal up to float rounding: max − min ≤ 1e-12 · max |x| (infinite values: all equal)."""
    if not np.all(np.isfinite(values)):
        return bool(np.all(values == values[0]))
    return bool(np.ptp(values) <= 1e-12 * np.max(np.abs(values)))


def bca_interval(
    samples: tuple[np.ndarray, ...],
    statistic: Callable,
    n_boot: int = N_RESAMPLES,
    ci: float = CONFIDENCE,
    seed: int = 0,
    percentile: bool = False,
) -> tuple[float, float, str]:
    """(lo, hi, method) of a bootstrap CI of ``statistic(*samples)``, each sample resampled independently.

    `scipy.stats.bootstrap(samples, statistic, method="BCa")`, ``numpy.random.default_rng(seed)``.
    Every sample constant → (point, point, "degenerate"). With ``percentile`` (a diverged unit), a sample
    with an infinite value, an infinite resampled statistic or BCa undefined (NaN) → the percentile
    interval of the same resamples without interpolation ("percentile"; numpy's ``inverted_cdf``, so a
    bound may be ±inf); a NaN resampled statistic (∞/∞, ∞ − ∞) → (NaN, NaN, "undefined").
    """
    if all(_is_constant(sample) for sample in samples):
        with np.errstate(divide="ignore", invalid="ignore"):
            point = float(statistic(*samples))
        return point, point, "degenerate"
    percentile = percentile or not all(np.all(np.isfinite(sample)) for sample in samples)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        warnings.simplefilter("ignore")
        result = _sps.bootstrap(
            samples,
            statistic,
            n_resamples=n_boot,
            vectorized=True,
            method="percentile" if percentile else "BCa",
            confidence_level=ci,
            rng=np.random.default_rng(seed),
        )
    distribution = result.bootstrap_distribution
    if np.any(np.isnan(distribution)):
        return math.nan, math.nan, "undefined"
    lo, hi = result.confidence_interval
    if percentile or not np.all(np.isfinite(distribution)) or not (math.isfinite(lo) and math.isfinite(hi)):
        alpha = (1 - ci) / 2
        lo, hi = np.quantile(distribution, [alpha, 1 - alpha], method="inverted_cdf")
        return float(lo), float(hi), "percentile"
    return float(lo), float(hi), "BCa"


def _unpaired_effect(
    t: np.ndarray, c: np.ndarray, measure: str, n_boot: int, ci: float, seed: int, percentile: bool = False
):
    """(effect, lo, hi, ci_method): ratio (or difference) of medians with a two-sample bootstrap CI."""
    statistic = _median_ratio if measure == "ratio" else _median_difference
    if t.size == 0 or c.size == 0:
        return math.nan, math.nan, math.nan, "undefined"
    with np.errstate(divide="ignore", invalid="ignore"):
        effect = float(statistic(t, c))
    lo, hi, method = bca_interval((t, c), statistic, n_boot, ci, seed, percentile)
    return effect, lo, hi, method


def _aligned(treatment: Values, control: Values) -> tuple[np.ndarray, np.ndarray]:
    t, c = _array(treatment), _array(control)
    if t.shape != c.shape:
        raise ValueError(f"paired samples must have equal lengths, got {t.size} and {c.size}")
    return t, c


def per_pair_effects(t: np.ndarray, c: np.ndarray, measure: str) -> np.ndarray:
    """t_i / c_i for a ratio, t_i − c_i for a difference; a pair of two worst values (both diverged)
    is a tie: the null (1 or 0). Worst values give ±inf (ratio: inf or 0)."""
    with np.errstate(divide="ignore", invalid="ignore"):
        effects = t / c if measure == "ratio" else t - c
    effects[(t == c) & ~np.isfinite(effects)] = 1.0 if measure == "ratio" else 0.0
    both_zero = (t == 0) & (c == 0)
    effects[both_zero] = 1.0 if measure == "ratio" else 0.0
    return effects


# --------------------------------------------------------------------------- verdicts


@dataclass
class Verdict:
    """Outcome of one treatment-vs-control comparison on one metric.

    ``effect`` is the point estimate: median of per-pair ratios (paired) or ratio of medians
    (unpaired), a difference when ``measure == "difference"``; [lo, hi] its ``ci_level`` CI
    (``ci_method``), ``null`` the no-effect value (1 for a ratio, 0 for a difference). ``p`` is the raw
    p of ``test``, ``p_holm`` the Holm-adjusted p the outcome is decided on, in a family of
    ``family_size`` tests named ``family``. ``n_t``/``n_c`` are the units (seeds) per group, diverged
    ones included (both = ``n_pairs`` when paired), ``n_diverged_t``/``n_diverged_c`` the diverged
    units. ``margin`` (an equivalence verdict): the ratio must lie within [1 − margin, 1 + margin].
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
    ci_level: float = CONFIDENCE
    n_diverged_t: int = 0
    n_diverged_c: int = 0
    margin: float | None = None
    family: str = ""
    family_size: int = 1

    @property
    def enough(self) -> bool:
        """At least `MIN_N` units on each side."""
        return self.n_t >= MIN_N and self.n_c >= MIN_N

    def adjusted(self, p_adjusted: float, family: str, family_size: int, alpha: float = 0.05) -> Verdict:
        """This verdict with its p adjusted in a family, and the outcome decided on that p."""
        if self.margin is None:
            outcome = decide(self.lo, self.hi, p_adjusted, self.null, self.better, self.enough, alpha)
        else:
            outcome = decide_equivalence(self.lo, self.hi, p_adjusted, self.margin, self.enough, alpha)
        return dataclasses.replace(
            self, p_holm=p_adjusted, outcome=outcome, family=family, family_size=family_size
        )


def decide(
    lo: float, hi: float, p_adjusted: float, null: float, better: str, enough: bool, alpha: float = 0.05
) -> str:
    """supported / not supported / inconclusive from the CI and the adjusted p (module docstring);
    a CI that is a point (lo == hi) is inconclusive."""
    if not enough or any(math.isnan(x) for x in (lo, hi, p_adjusted)) or p_adjusted >= alpha or lo == hi:
        return INCONCLUSIVE
    below, above = hi < null, lo > null
    good, bad = (below, above) if better == "lower" else (above, below)
    return SUPPORTED if good else NOT_SUPPORTED if bad else INCONCLUSIVE


def decide_equivalence(
    lo: float, hi: float, p_adjusted: float, margin: float, enough: bool, alpha: float = 0.05
) -> str:
    """equivalent if enough units, adjusted TOST p < alpha and 1 − m ≤ lo ≤ hi ≤ 1 + m; else not shown.

    Unlike `decide`, a CI that is a point counts here: every per-seed ratio is then that value, and the
    exact TOST p already refuses too few seeds (3 identical ratios give p = 1/8)."""
    if not enough or any(math.isnan(x) for x in (lo, hi, p_adjusted)) or p_adjusted >= alpha:
        return NOT_EQUIVALENT
    return EQUIVALENT if 1 - margin <= lo and hi <= 1 + margin else NOT_EQUIVALENT


def _check_better(better: str) -> None:
    if better not in ("lower", "higher"):
        raise ValueError(f"better must be 'lower' or 'higher', got {better!r}")


def verdict(
    treatment: Values,
    control: Values,
    better: str = "lower",
    paired: bool = False,
    alpha: float = 0.05,
    n_boot: int = N_RESAMPLES,
    ci: float = CONFIDENCE,
    seed: int = 0,
    margin: float | None = None,
) -> Verdict:
    """Compare treatment with control on one metric (rule: module docstring); p_holm = p.

    One value per unit; a non-finite value is a diverged unit and counts as its side's worst value.
    paired=True needs aligned sequences (t_i and c_i from the same seed). With ``margin`` the verdict is
    an equivalence verdict (TOST, 1 − 2·alpha CI).
    """
    _check_better(better)
    t_raw, c_raw = _aligned(treatment, control) if paired else (_array(treatment), _array(control))
    measure = choose_measure(t_raw, c_raw)
    null = 1.0 if measure == "ratio" else 0.0
    t, c = with_worst(t_raw, better, measure), with_worst(c_raw, better, measure)
    ci_level = ci if margin is None else 1 - 2 * alpha
    diverged = not (np.all(np.isfinite(t_raw)) and np.all(np.isfinite(c_raw)))
    if paired:
        per_pair = per_pair_effects(t, c, measure)
        effect = float(np.median(per_pair)) if per_pair.size else math.nan
        lo, hi, method = (
            bca_interval((per_pair,), _median, n_boot, ci_level, seed, diverged)
            if per_pair.size
            else (math.nan, math.nan, "undefined")
        )
        with np.errstate(divide="ignore"):
            p = wilcoxon_signed_rank(np.log(per_pair) if measure == "ratio" else per_pair)
        test = WILCOXON
    else:
        effect, lo, hi, method = _unpaired_effect(t, c, measure, n_boot, ci_level, seed, diverged)
        p, test = mann_whitney(t, c), MANN_WHITNEY
    if margin is not None:
        p = tost_p(t, c, margin, paired) if measure == "ratio" and t.size and c.size else math.nan
        test = TOST_WILCOXON if paired else TOST_MANN_WHITNEY
    found = Verdict(
        effect,
        lo,
        hi,
        p,
        p,
        int(t.size),
        int(c.size),
        INCONCLUSIVE,
        better,
        measure,
        null,
        paired,
        int(t.size) if paired else 0,
        test,
        method,
        ci_level,
        int(np.sum(~np.isfinite(t_raw))),
        int(np.sum(~np.isfinite(c_raw))),
        margin,
    )
    return found.adjusted(p, "", 1, alpha)


def verdicts(
    comparisons: Sequence[tuple[Sequence[float], Sequence[float], str]],
    paired: bool = False,
    alpha: float = 0.05,
    n_boot: int = N_RESAMPLES,
    ci: float = CONFIDENCE,
    seed: int = 0,
    margin: float | None = None,
) -> list[Verdict]:
    """One verdict per (treatment, control, better) with the p-values Holm-adjusted across them."""
    found = [
        verdict(treatment, control, better, paired, alpha, n_boot, ci, seed, margin)
        for treatment, control, better in comparisons
    ]
    return [
        comparison.adjusted(p_adjusted, "these metrics", len(found), alpha)
        for comparison, p_adjusted in zip(found, holm([comparison.p for comparison in found]))
    ]


def combine_outcomes(outcomes: Iterable[str]) -> str:
    """supported (equivalent) if all are; not supported if any is; else inconclusive (not shown equivalent)."""
    outcomes = list(outcomes)
    if outcomes and all(outcome == EQUIVALENT for outcome in outcomes):
        return EQUIVALENT
    if any(outcome in (EQUIVALENT, NOT_EQUIVALENT) for outcome in outcomes):
        return NOT_EQUIVALENT
    if not outcomes:
        return INCONCLUSIVE
    if any(outcome == NOT_SUPPORTED for outcome in outcomes):
        return NOT_SUPPORTED
    if all(outcome == SUPPORTED for outcome in outcomes):
        return SUPPORTED
    return INCONCLUSIVE
