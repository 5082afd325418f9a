import math

import numpy as np
import pytest

from excolor.report import stats


def test_summarize_by_hand():
    # values 1, 2, 4, 9 (+ a NaN and an inf that are ignored but counted)
    s = stats.summarize([1.0, 2.0, 4.0, 9.0, float("nan"), float("inf")])
    assert s["n"] == 4 and s["n_nonfinite"] == 2
    assert s["mean"] == pytest.approx(4.0)  # 16 / 4
    # squared deviations 9 + 4 + 0 + 25 = 38; sd = sqrt(38 / 3)
    assert s["sd"] == pytest.approx(math.sqrt(38 / 3))
    assert s["median"] == pytest.approx(3.0)  # (2 + 4) / 2


def test_summarize_small_and_empty():
    s = stats.summarize([5.0])
    assert s["n"] == 1 and s["mean"] == 5.0 and s["median"] == 5.0 and math.isnan(s["sd"])
    e = stats.summarize([float("nan")])
    assert e["n"] == 0 and e["n_nonfinite"] == 1 and math.isnan(e["mean"])


def test_ratio_of_medians_point_and_ci():
    v = stats.verdict([1, 2, 3], [2, 4, 6], n_boot=2000)  # unpaired: the ratio of medians
    assert v.measure == "ratio" and not v.paired
    r, lo, hi = v.effect, v.lo, v.hi
    assert r == pytest.approx(0.5)
    assert lo <= r <= hi
    # every bootstrap median of t lies in [1, 3] and of c in [2, 6]
    assert lo >= 1 / 6 - 1e-12 and hi <= 1.5 + 1e-12


def test_bootstrap_deterministic_for_seed():
    rng = np.random.default_rng(1)
    t, c = rng.lognormal(0, 1, 12), rng.lognormal(0.5, 1, 12)
    a, b, d = ((v.effect, v.lo, v.hi) for v in (stats.verdict(t, c, seed=seed) for seed in (3, 3, 4)))
    assert a == b
    assert a[0] == d[0] and (a[1], a[2]) != (d[1], d[2])
    assert a[1] <= a[0] <= a[2]


def test_mann_whitney_fully_separated_exact():
    # U = 0; exact two-sided p = 2 / C(10, 5) = 2 / 252
    assert math.comb(10, 5) == 252
    p = stats.mann_whitney([1, 2, 3, 4, 5], [6, 7, 8, 9, 10])
    assert p == pytest.approx(2 / 252)
    assert p == pytest.approx(0.00794, abs=1e-5)


def test_mann_whitney_identical_groups():
    assert stats.mann_whitney([1, 2, 3], [1, 2, 3]) == pytest.approx(1.0)


def test_verdict_clearly_better_lower():
    t = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
    c = [2.0, 2.1, 1.9, 2.05, 1.95, 2.02]
    v = stats.verdict(t, c, better="lower")
    assert v.outcome == stats.SUPPORTED
    assert v.effect == pytest.approx(np.median(t) / np.median(c))
    assert v.hi < 1 and v.p < 0.05 and (v.n_t, v.n_c) == (6, 6)
    assert v.measure == "ratio"


def test_verdict_clearly_worse_lower():
    t = [2.0, 2.1, 1.9, 2.05, 1.95, 2.02]
    c = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
    v = stats.verdict(t, c, better="lower")
    assert v.outcome == stats.NOT_SUPPORTED and v.lo > 1


def test_verdict_higher_is_better():
    t = [2.0, 2.1, 1.9, 2.05, 1.95, 2.02]
    c = [1.0, 1.1, 0.9, 1.05, 0.95, 1.02]
    assert stats.verdict(t, c, better="higher").outcome == stats.SUPPORTED
    assert stats.verdict(c, t, better="higher").outcome == stats.NOT_SUPPORTED


def test_verdict_overlapping_inconclusive():
    t = [1.0, 2.0, 3.0, 4.0, 5.0]
    c = [1.5, 2.5, 3.5, 4.5, 0.5]
    v = stats.verdict(t, c, better="lower")
    assert v.outcome == stats.INCONCLUSIVE
    assert v.lo < 1 < v.hi


def test_verdict_too_few_values_inconclusive():
    v = stats.verdict([1.0, 1.1], [5.0, 5.1, 5.2, 5.3], better="lower")
    assert v.outcome == stats.INCONCLUSIVE and v.n_t == 2


def test_verdict_nonpositive_uses_difference():
    t = [-2.0, -2.1, -1.9, -2.05, -1.95]
    c = [1.0, 1.1, 0.9, 1.05, 0.95]
    v = stats.verdict(t, c, better="lower")
    assert v.measure == "difference" and v.null == 0.0
    assert v.effect == pytest.approx(-3.0)
    assert v.outcome == stats.SUPPORTED


def test_verdict_bad_direction():
    with pytest.raises(ValueError):
        stats.verdict([1, 2, 3], [1, 2, 3], better="smaller")


def test_combine_outcomes():
    S, N, U = stats.SUPPORTED, stats.NOT_SUPPORTED, stats.INCONCLUSIVE
    assert stats.combine_outcomes([S, S]) == S
    assert stats.combine_outcomes([S, U]) == U
    assert stats.combine_outcomes([S, N]) == N
    assert stats.combine_outcomes([]) == U


def test_summarize_quartiles_by_hand():
    # sorted 1, 2, 4, 9: the 25th percentile sits at position 0.75 -> 1 + 0.75 * (2 - 1) = 1.75,
    # the 75th at position 2.25 -> 4 + 0.25 * (9 - 4) = 5.25
    s = stats.summarize([9.0, 1.0, 4.0, 2.0])
    assert s["q25"] == pytest.approx(1.75) and s["q75"] == pytest.approx(5.25)


def test_holm_by_hand():
    # sorted 0.01, 0.03, 0.04 -> 3 * 0.01 = 0.03, 2 * 0.03 = 0.06, 1 * 0.04 = 0.04 -> running max 0.06
    assert stats.holm([0.01, 0.04, 0.03]) == pytest.approx([0.03, 0.06, 0.06])
    assert stats.holm([0.2]) == pytest.approx([0.2])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])  # capped at 1
    adjusted = stats.holm([0.01, float("nan"), 0.04])  # NaN is not tested: m = 2
    assert (
        adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
    )
    assert stats.holm([]) == []


def test_wilcoxon_by_hand_count():
    # d = 1, 2, -3, 4, 5: ranks of |d| are 1..5, W- = 3. Sign patterns of 5 ranks whose negative
    # ranks sum to <= 3: {}, {1}, {2}, {3}, {1, 2} = 5 of 32 -> two-sided p = 2 * 5/32 = 0.3125
    assert stats.wilcoxon_signed_rank([1, 2, -3, 4, 5]) == pytest.approx(10 / 32)
    # all of one sign: only the empty pattern -> p = 2/2^n
    assert stats.wilcoxon_signed_rank([-1, -2, -3, -4, -5]) == pytest.approx(2 / 32)
    assert stats.wilcoxon_signed_rank([-1, -2, -3, -4, -5, -6]) == pytest.approx(2 / 64)
    assert stats.wilcoxon_signed_rank([0.0, 0.0, 0.0]) == 1.0
    assert math.isnan(stats.wilcoxon_signed_rank([]))


def test_median_of_ratios_by_hand():
    # per-pair ratios 2/1 = 2, 3/2 = 1.5, 8/2 = 4 -> median 2 (the ratio of medians would be 3/2 = 1.5)
    v = stats.verdict([2, 3, 8], [1, 2, 2], paired=True, n_boot=2000)  # paired: the median of ratios
    effect, lo, hi = v.effect, v.lo, v.hi
    assert effect == pytest.approx(2.0)
    assert 1.5 <= lo <= effect <= hi <= 4.0  # every resampled median is one of the ratios
    # a non-finite value is a diverged unit, its side's worst (verdict's docstring): that pair's ratio is
    # inf, so the median of 1.5, 2, 4, inf is (2 + 4) / 2 = 3
    assert stats.verdict(
        [2, 3, 8, float("nan")], [1, 2, 2, 5], paired=True, n_boot=2000
    ).effect == pytest.approx(3.0)


def test_paired_verdict_by_hand():
    # ratios 0.5 for every pair but one (0.4): median 0.5; log ratios all negative -> p = 2/2^6
    t = [1.0, 2.0, 3.0, 4.0, 5.0, 2.4]
    c = [2.0, 4.0, 6.0, 8.0, 10.0, 6.0]
    v = stats.verdict(t, c, better="lower", paired=True)
    assert v.paired and v.test == stats.WILCOXON and v.n_pairs == 6 and (v.n_t, v.n_c) == (6, 6)
    assert v.effect == pytest.approx(0.5) and v.p == pytest.approx(2 / 64)
    assert 0.4 <= v.lo <= 0.5 and v.hi == pytest.approx(0.5)
    # unpaired, the same numbers: ratio of medians (2.4 + 3)/2 ÷ (6 + 6)/2 = 2.7/6 = 0.45, Mann–Whitney
    u = stats.verdict(t, c, better="lower")
    assert not u.paired and u.test == stats.MANN_WHITNEY and u.effect == pytest.approx(0.45)


def test_paired_constant_ratio_is_degenerate_ci():
    v = stats.verdict([1, 2, 3, 4, 5], [10, 20, 30, 40, 50], paired=True)
    assert (v.effect, v.lo, v.hi) == pytest.approx((0.1, 0.1, 0.1)) and v.ci_method == "degenerate"
    assert v.p == pytest.approx(2 / 32) and v.outcome == stats.INCONCLUSIVE  # five pairs cannot reach 0.05


def test_paired_difference_for_nonpositive_values():
    # differences t - c: -1, -2, -3, -4, -5, -6, -7 -> median -4; all negative -> p = 2/2^7
    t = [0.0, -1.0, -2.0, -3.0, -4.0, -5.0, -6.0]
    c = [1.0] * 7
    v = stats.verdict(t, c, better="lower", paired=True)
    assert v.measure == "difference" and v.null == 0.0 and v.effect == pytest.approx(-4.0)
    assert v.p == pytest.approx(2 / 128) and v.hi < 0 and v.outcome == stats.SUPPORTED


def test_paired_needs_equal_lengths():
    with pytest.raises(ValueError):
        stats.verdict([1, 2, 3], [1, 2], paired=True)


def test_verdicts_holm_across_metrics():
    # each metric alone: 6 pairs, all lower -> p = 2/64 = 0.03125 < 0.05 (supported);
    # Holm over the two: sorted p both 0.03125 -> 2 * 0.03125 = 0.0625 for both -> inconclusive
    t = [1.0, 2.0, 3.0, 4.0, 5.0, 2.4]
    c = [2.0, 4.0, 6.0, 8.0, 10.0, 6.0]
    alone = stats.verdict(t, c, paired=True)
    assert alone.outcome == stats.SUPPORTED and alone.p_holm == alone.p
    both = stats.verdicts([(t, c, "lower"), (t, c, "lower")], paired=True)
    assert [v.p_holm for v in both] == pytest.approx([0.0625, 0.0625])
    assert [v.outcome for v in both] == [stats.INCONCLUSIVE, stats.INCONCLUSIVE]
    # with a strong second metric (12 pairs, all lower: p = 2/2^12) the sorted p are 2/4096 (x 2)
    # then 2/64 (x 1 = 0.03125): the first metric stays supported
    t12, c12 = list(range(1, 13)), list(range(2, 14))
    mixed = stats.verdicts([(t, c, "lower"), (t12, c12, "lower")], paired=True)
    assert mixed[1].p == pytest.approx(2 / 4096)
    assert [v.p_holm for v in mixed] == pytest.approx([2 / 64, 4 / 4096])
    assert [v.outcome for v in mixed] == [stats.SUPPORTED, stats.SUPPORTED]


def test_bca_interval_is_within_the_bootstrap_range():
    rng = np.random.default_rng(2)
    t, c = rng.lognormal(0, 0.5, 40), rng.lognormal(0.3, 0.5, 40)
    v = stats.verdict(t, c)
    assert v.ci_method == "BCa" and v.lo < v.effect < v.hi
    assert v.lo > 0.3 and v.hi < 3.0


# --------------------------------------------------------------------------- exact tests, ties, divergence


def test_mann_whitney_exact_with_ties():
    # [5, 5, 5] vs [1, 1, 1, 1]: of the C(7, 3) = 35 ways to pick the treatment's three values, only one is
    # as extreme on each side -> two-sided p = 2/35 (the normal approximation gave 0.025)
    assert stats.mann_whitney([5, 5, 5], [1, 1, 1, 1]) == pytest.approx(2 / 35)
    v = stats.verdict([5, 5, 5], [1, 1, 1, 1], better="higher")
    # both sides constant: the CI is the point 5 -> never evidence, whatever the p
    assert (v.effect, v.lo, v.hi, v.ci_method) == (5.0, 5.0, 5.0, "degenerate")
    assert v.outcome == stats.INCONCLUSIVE


def _signed_rank_brute_force(d):
    """Two-sided exact p over all 2^n sign patterns of the mid-ranks of |d| (zeros dropped)."""
    import itertools

    from scipy.stats import rankdata

    d = np.asarray([x for x in d if x != 0], dtype=float)
    ranks = rankdata(np.abs(d))
    observed = ranks[d > 0].sum()
    sums = np.array([np.dot(signs, ranks) for signs in itertools.product((0, 1), repeat=d.size)])
    return min(1.0, 2 * min(np.mean(sums <= observed + 1e-9), np.mean(sums >= observed - 1e-9)))


def test_wilcoxon_exact_with_ties_by_hand():
    # |d| = 1, 1, 2, 1, 3, 3: mid-ranks 2, 2, 4, 2, 5.5, 5.5; the one negative has rank 2, so T- = 2.
    # Sign patterns with T- <= 2: none negative, or one of the three rank-2 values -> 4 of 64; p = 2 * 4/64
    d = [1, 1, 2, -1, 3, 3]
    assert stats.wilcoxon_signed_rank(d) == pytest.approx(8 / 64)
    assert _signed_rank_brute_force(d) == pytest.approx(8 / 64)
    rng = np.random.default_rng(5)
    for _ in range(5):
        d = np.round(rng.normal(0.3, 1, 9), 0)  # many ties and zeros
        assert stats.wilcoxon_signed_rank(d) == pytest.approx(_signed_rank_brute_force(d))


def test_worst_values():
    assert stats.worst_value("lower", "ratio") == math.inf
    assert stats.worst_value("higher", "ratio") == 0.0
    assert stats.worst_value("higher", "difference") == -math.inf
    assert list(stats.with_worst([1.0, math.nan, -math.inf], "lower", "ratio")) == [1.0, math.inf, math.inf]
    # a pair of two diverged values is a tie; one diverged side gives the extreme ratio
    effects = stats.per_pair_effects(
        np.array([math.inf, 1.0, math.inf]), np.array([2.0, math.inf, math.inf]), "ratio"
    )
    assert list(effects) == [math.inf, 0.0, 1.0]


def test_informative_divergence_is_not_a_win():
    # 8 seeds: treatment/control ratios 0.85, 0.86, ..., 0.91 on 7, and the 8th treatment member diverged
    # (NaN). Dropping it (the old rule) left 7 pairs all below 1: p = 2/2^7 = 0.016, "supported".
    # As the worst value its log ratio is +inf: ranks of |log ratio| are 1..7 and 8 for the diverged one,
    # T+ = 8. Sign patterns with T+ <= 8 = subsets of {1..8} summing to <= 8: 1+1+1+2+2+3+4+5+6 = 25 of
    # 256; p = 2 * 25/256
    c = np.arange(1.0, 9.0)
    ratios = np.array([0.85, 0.86, 0.87, 0.88, 0.89, 0.90, 0.91])
    t = np.append(ratios * c[:7], math.nan)
    v = stats.verdict(t, c, better="lower", paired=True)
    assert v.p == pytest.approx(50 / 256) and v.outcome == stats.INCONCLUSIVE
    assert (v.n_pairs, v.n_diverged_t, v.n_diverged_c) == (8, 1, 0)
    assert v.effect == pytest.approx((0.88 + 0.89) / 2) and v.ci_method == "percentile"
    assert stats.verdict(t[:7], c[:7], better="lower", paired=True).outcome == stats.SUPPORTED


def test_infinite_values_are_diverged_like_nan():
    t = [1.0, 1.1, 1.2, math.inf, -math.inf]
    c = [2.0, 2.1, 2.2, 2.3, 2.4]
    v = stats.verdict(t, c, better="lower")
    w = stats.verdict([1.0, 1.1, 1.2, math.nan, math.nan], c, better="lower")
    assert (v.n_t, v.n_diverged_t) == (5, 2) and (v.effect, v.p) == (w.effect, w.p)
    assert v.effect == pytest.approx(1.2 / 2.2)  # median of [1, 1.1, 1.2, inf, inf]
    s = stats.summarize(t)
    assert s["n"] == 3 and s["n_nonfinite"] == 2


def test_higher_is_better_diverged_is_zero_on_a_ratio():
    # scores: a diverged treatment member is worse than every control value
    v = stats.verdict([math.nan, math.nan, math.nan, 0.9], [0.5, 0.5, 0.6, 0.6], better="higher")
    assert v.measure == "ratio" and v.effect == pytest.approx(0.0) and v.ci_method == "percentile"
    # every treatment value below every control value -> p = 2/C(8, 4)... with the three tied zeros: exact
    assert v.p == pytest.approx(stats.mann_whitney([0, 0, 0, 0.9], [0.5, 0.5, 0.6, 0.6]))


def test_point_ci_is_never_evidence():
    assert stats.decide(0.5, 0.5, 0.001, 1.0, "lower", True) == stats.INCONCLUSIVE
    assert stats.decide(0.4, 0.5, 0.001, 1.0, "lower", True) == stats.SUPPORTED


def test_tost_equivalence_by_hand():
    # per-seed ratios 0.97 ... 1.04 (8 seeds): every log ratio is above log 0.9 and below log 1.1, so each
    # one-sided exact Wilcoxon p is 1/2^8; p_TOST = max of the two = 1/256
    ratios = np.array([0.97, 0.98, 0.99, 1.0, 1.01, 1.02, 1.03, 1.04])
    c = np.arange(1.0, 9.0)
    v = stats.verdict(ratios * c, c, paired=True, margin=0.1)
    assert (
        v.p == pytest.approx(1 / 256) and v.test == stats.TOST_WILCOXON and v.ci_level == pytest.approx(0.9)
    )
    assert 0.97 <= v.lo < v.hi <= 1.04 and v.outcome == stats.EQUIVALENT
    # a ±2 % margin: four ratios lie outside it, and the CI too
    assert stats.verdict(ratios * c, c, paired=True, margin=0.02).outcome == stats.NOT_EQUIVALENT
    # unpaired: log t - log 0.9 above every log c when t = c shifted by ratio 1 (same values): the two one-sided
    # Mann–Whitney tests on 8 vs 8 identical values shifted by log 0.9 / log 1.1 -> fully separated: 1/C(16, 8)
    u = stats.verdict(c, c, margin=0.1)
    assert u.test == stats.TOST_MANN_WHITNEY and u.p > 0.05 and u.outcome == stats.NOT_EQUIVALENT
    assert stats.combine_outcomes([stats.EQUIVALENT, stats.EQUIVALENT]) == stats.EQUIVALENT
    assert stats.combine_outcomes([stats.EQUIVALENT, stats.NOT_EQUIVALENT]) == stats.NOT_EQUIVALENT
    with pytest.raises(ValueError):
        stats.tost_p(c, c, 1.5, True)


def test_identical_pairs_are_equivalent_when_there_are_enough_seeds():
    # every per-seed ratio exactly 1 (a population member equals its single run): the 90 % CI is the point 1,
    # inside any margin; the exact one-sided Wilcoxon p of n identical nonzero shifts is 1/2^n
    c = np.arange(1.0, 9.0)
    v = stats.verdict(c, c, paired=True, margin=0.1)
    assert (v.lo, v.hi) == (1.0, 1.0) and v.p == pytest.approx(1 / 256) and v.outcome == stats.EQUIVALENT
    three = stats.verdict(c[:3], c[:3], paired=True, margin=0.1)
    assert three.p == pytest.approx(1 / 8) and three.outcome == stats.NOT_EQUIVALENT


def test_family_adjustment_in_a_verdict():
    v = stats.verdict([1.0, 2, 3, 4, 5, 2.4], [2.0, 4, 6, 8, 10, 6], paired=True)
    adjusted = v.adjusted(0.2, "H", 28)
    assert (adjusted.p_holm, adjusted.family, adjusted.family_size, adjusted.outcome) == (
        0.2,
        "H",
        28,
        stats.INCONCLUSIVE,
    )
    assert v.outcome == stats.SUPPORTED  # unchanged: adjusted returns a copy
