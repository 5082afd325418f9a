"""The chapter's re-runs beside upstream (excolor.report.chapter): Welch's t by hand, the rows read
from trials, the pairs and the report's lines."""

import math
from pathlib import Path

import pytest
from omegaconf import OmegaConf
from scipy import stats

from excolor.errors import ConfigError
from excolor.report.chapter import (
    chapter_markdown,
    experiment_rows,
    pair_rows,
    parse_chapter,
    upstream_figures,
    welch,
)
from excolor.report.sweep import Member, Trial
from excolor.run_record import Status


def test_welch_by_hand():
    # m1 = 0.95, s1 = 0.02; m2 = 0.9515, s2 = 0.0236; n = 60 each:
    # t = −0.0015 / √(0.0004/60 + 0.00055696/60) = −0.0015 / 0.0039937 = −0.37559
    t, p = welch(0.95, 0.02, 60, 0.9515, 0.0236, 60)
    assert t == pytest.approx(-0.0015 / math.sqrt((0.0004 + 0.00055696) / 60), rel=1e-9)
    assert t == pytest.approx(-0.37559, abs=1e-5)
    v1, v2 = 0.0004 / 60, 0.00055696 / 60
    dof = (v1 + v2) ** 2 / (v1**2 / 59 + v2**2 / 59)
    assert p == pytest.approx(2 * stats.t.sf(abs(t), dof), rel=1e-9)
    assert welch(0.5, 0.1, 60, 0.5, 0.1, 60) == (0.0, 1.0)


def test_upstream_figures_are_the_spec_table():
    """Spec §14's table, one entry per re-run."""
    figures = upstream_figures()
    assert sorted(figures) == ["ex2.10.1", "ex2.4.1", "ex2.5.1", "ex2.7.1", "ex2.9.1"]
    assert [figures[e]["pareto"] for e in ("ex2.4.1", "ex2.5.1", "ex2.7.1", "ex2.9.1", "ex2.10.1")] == [
        4,
        12,
        12,
        22,
        9,
    ]
    assert figures["ex2.4.1"]["score"] == {"min": 0.8821, "max": 0.9910, "mean": 0.9515, "std": 0.0236}
    assert figures["ex2.10.1"]["best"] == {"seed": 52, "score": 0.9769}


def trial(name, tag, scores, **metrics):
    record = Trial(name, Path(name), Status.OK, OmegaConf.create({"tag": tag}), metrics=metrics)
    record.members = [Member(record, i, seed, {}, {"score": s}) for i, (seed, s) in enumerate(scores.items())]
    return record


def test_rows_pairs_and_lines():
    upstream = {
        "ex2.4.1": {
            "n": 60,
            "score": {"mean": 0.5, "std": 0.1},
            "pareto": 4,
            "best": {"seed": 7, "score": 0.9},
        }
    }
    trials = [
        trial(
            "0",
            "ex2.4.1",
            {0: 0.2, 1: 0.4, 2: 0.9},
            **{
                "chapter/pareto_size": 2,
                "chapter/best_seed": 2,
                "chapter/best_score": 0.9,
                "train/seconds": 10.0,
                "eval/seconds": 2.5,
            },
        ),
        trial("1", "ex2.5.1", {0: 0.3, 1: 0.6, 2: 0.9, 3: 0.1}),
    ]
    rows = experiment_rows(trials, upstream)
    first = rows[0]
    assert first.stats == pytest.approx({"n": 3, "min": 0.2, "max": 0.9, "mean": 0.5, "std": math.sqrt(0.13)})
    assert (first.pareto, first.best_seed, first.best_score, first.seconds) == (2, 2, 0.9, 12.5)
    assert first.welch_t == pytest.approx(0.0, abs=1e-12) and first.welch_p == pytest.approx(1.0)
    assert rows[1].upstream is None and rows[1].welch_p is None and rows[1].seconds is None
    # paired over the 3 shared seeds: differences +0.1, +0.2, 0.0
    (pair,) = pair_rows(rows, [["ex2.4.1", "ex2.5.1"], ["ex2.9.1", "ex2.10.1"]])
    assert (pair.n, pair.mean_difference) == (3, pytest.approx(0.1))
    # sd 0.1, se 0.1/√3 = 0.057735, t(0.975, 2) = 4.302653: half-width 0.248414
    assert pair.ci == pytest.approx((-0.148414, 0.348414), abs=1e-6)
    assert pair.holm_p == pair.p  # a family of one
    # ours − upstream: se² = 0.13/3 + 0.01/60 = 0.0435; Welch–Satterthwaite
    # ν = 0.0435² / ((0.13/3)²/2 + (0.01/60)²/59) = 2.015410
    half = stats.t.ppf(0.975, 2.015410) * math.sqrt(0.0435)
    assert first.welch_ci == pytest.approx((-half, half), abs=1e-5) and 0.88 < half < 0.90
    text = "\n".join(chapter_markdown(rows, [pair]))
    assert (
        "| ex2.4.1 | 3 | 0.5000 ± 0.3606 | 0.5000 ± 0.1000 | 1 | 2 / 4 | 2 (0.9000) | 7 (0.9000) | 12.5 |"
        in text
    )
    assert "no evidence that the mean scores differ at p < 0.01 (not a test of equivalence)" in text
    assert "| ex2.4.1 | ex2.5.1 | 3 | +0.1000 [-0.1484, +0.3484] |" in text


def test_parse_chapter():
    assert parse_chapter(None) is None and parse_chapter(True) == []
    assert parse_chapter({"pairs": [["a", "b"]]}) == [["a", "b"]]
    for bad in ({"pairs": [["a"]]}, {"other": 1}, "yes"):
        with pytest.raises(ConfigError, match="report.chapter"):
            parse_chapter(bad)


def test_mean_interval_by_hand():
    """[1, 2, 3, 4, 5]: x̄ = 3, s = √2.5, s/√5 = √0.5 = 0.70711, t_{0.975, 4} = 2.776445 (the t table):
    3 ± 1.963243."""
    import numpy as np

    from excolor.report.chapter import mean_interval

    low, high = mean_interval(np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert (low, high) == pytest.approx(
        (3 - 2.776445 * math.sqrt(0.5), 3 + 2.776445 * math.sqrt(0.5)), abs=1e-5
    )


def test_welch_interval_by_hand():
    """m1 = 10, s1 = 2, n1 = 4; m2 = 8, s2 = 1, n2 = 9: a = s1²/n1 = 1, b = s2²/n2 = 1/9, se = √(10/9),
    ν = (10/9)² / (1/3 + (1/81)/8) = 3.68664; the interval is 2 ± t_{0.975, ν} · se."""
    from excolor.report.chapter import welch_interval

    dof = (10 / 9) ** 2 / (1 / 3 + (1 / 81) / 8)
    assert dof == pytest.approx(3.68664, abs=1e-5)
    half = stats.t.ppf(0.975, dof) * math.sqrt(10 / 9)
    assert welch_interval(10, 2, 4, 8, 1, 9) == pytest.approx((2 - half, 2 + half), rel=1e-12)
    assert 2.776 < stats.t.ppf(0.975, dof) < 3.182  # between the table's t for 4 and 3 degrees of freedom
