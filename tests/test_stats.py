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
    assert adjusted[0] == pytest.approx(0.02) and math.isnan(adjusted[1]) and adjusted[2] == pytest.approx(0.04)
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
    # pairs with a non-finite value are dropped: the same three pairs remain
    assert stats.verdict([2, 3, 8, float("nan")], [1, 2, 2, 5], paired=True, n_boot=2000).effect == pytest.approx(2.0)


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
