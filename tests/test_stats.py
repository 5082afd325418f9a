import math

import numpy as np
import pytest

from excolor import stats


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
    r, lo, hi = stats.ratio_of_medians([1, 2, 3], [2, 4, 6], n_boot=2000)
    assert r == pytest.approx(0.5)
    assert lo <= r <= hi
    # every bootstrap median of t lies in [1, 3] and of c in [2, 6]
    assert 1 / 6 - 1e-12 <= lo and hi <= 1.5 + 1e-12


def test_bootstrap_deterministic_for_seed():
    rng = np.random.default_rng(1)
    t, c = rng.lognormal(0, 1, 12), rng.lognormal(0.5, 1, 12)
    a = stats.ratio_of_medians(t, c, seed=3)
    b = stats.ratio_of_medians(t, c, seed=3)
    d = stats.ratio_of_medians(t, c, seed=4)
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
    assert v.ratio == pytest.approx(np.median(t) / np.median(c))
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
    assert v.ratio == pytest.approx(-3.0)
    assert v.outcome == stats.SUPPORTED


def test_verdict_bad_direction():
    with pytest.raises(ValueError):
        stats.verdict([1, 2, 3], [1, 2, 3], better="smaller")


def test_combine_outcomes():
    S, N, I = stats.SUPPORTED, stats.NOT_SUPPORTED, stats.INCONCLUSIVE
    assert stats.combine_outcomes([S, S]) == S
    assert stats.combine_outcomes([S, I]) == I
    assert stats.combine_outcomes([S, N]) == N
    assert stats.combine_outcomes([]) == I
