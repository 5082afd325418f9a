"""The chapter's metrics (spec m2-family §1.9, §15.6): similarity and vibrancy features, r / r², the
sweep score on the 8³ lattice, the post-hoc correlation and the 17 named-colour table, by hand."""

import math

import numpy as np
import pytest

from excolor.colors import rgb_cube
from excolor.errors import ConfigError
from excolor.named_colors import NAMES, format_table, named_color_table, named_colors
from excolor.scores import (
    SimilarityScore,
    VibrancyScore,
    correlation,
    pearson_r,
    r_squared,
    similarity_feature,
    vibrancy_feature,
)

RED, ORANGE, YELLOW, LIME, CYAN, PINK = (1, 0, 0), (1, 0.5, 0), (1, 1, 0), (0.5, 1, 0), (0, 1, 1), (1, 0, 0.5)
GREY, DARK_RED, PINKISH, PEACH = (0.5, 0.5, 0.5), (0.5, 0, 0), (1, 0.5, 0.5), (1, 0.75, 0.5)


def test_similarity_to_red_by_hand():
    colors = np.array([RED, ORANGE, YELLOW, LIME, CYAN, PINK, GREY, DARK_RED, PINKISH, PEACH], float)
    # hues at s = v = 1 (r̄ = 1): σ_h = (90 − Δh)/90 → 1, 2/3, 1/3, 0, 0, 2/3
    # grey: s = 0 → (1 − |0 − 1|) = 0; dark red (0, 1, ½): σ' = 1, value term ½ → ½
    # (1, ½, ½) = (0, ½, 1): σ' = 1, saturation term ½ → ½
    # peach (1, ¾, ½) = (30°, ½, 1): r̄ = ¾, σ' = ¾·⅔ + ¼ = ¾, saturation term ½ → 3/8
    expected = [1, 2 / 3, 1 / 3, 0, 0, 2 / 3, 0, 0.5, 0.5, 0.375]
    assert similarity_feature(colors, 1).tolist() == pytest.approx(expected)
    assert similarity_feature(colors, 3).tolist() == pytest.approx([x**3 for x in expected])


def test_vibrancy_feature_by_hand():
    colors = np.array([RED, DARK_RED, PINKISH, GREY, (0, 0, 0)], float)
    # S·V = 1, ½, ½, 0, 0; power 2.3: 0.5^2.3 = 0.20306…
    assert vibrancy_feature(colors, 2.3).tolist() == pytest.approx([1, 0.5**2.3, 0.5**2.3, 0, 0])


def test_pearson_by_hand():
    # x = 1, 2, 3, 4 against 1, 3, 2, 4: Σdxdy = 4, Σdx² = Σdy² = 5 → r = 0.8, r² = 0.64
    assert pearson_r(np.array([1, 3, 2, 4.0]), np.array([1, 2, 3, 4.0])).item() == pytest.approx(0.8)
    assert r_squared(np.array([1, 3, 2, 4.0]), np.array([1, 2, 3, 4.0])).item() == pytest.approx(0.64)
    # rows are members; a constant row has no r (NaN) and scores 0
    rows = np.array([[1, 3, 2, 4.0], [4, 3, 2, 1.0], [2, 2, 2, 2.0]])
    r = pearson_r(rows, np.array([1, 2, 3, 4.0]))
    assert r[:2].tolist() == pytest.approx([0.8, -1.0]) and math.isnan(r[2])
    assert r_squared(rows, np.array([1, 2, 3, 4.0])).tolist() == pytest.approx([0.64, 1.0, 0.0])


def test_correlation_matches_scipy_and_hand():
    r, p = correlation(np.array([1, 3, 2, 4.0]), np.array([1, 2, 3, 4.0]))
    # r = 0.8 with n = 4: t = r√(n − 2)/√(1 − r²) = 0.8·√2/0.6 = 1.8856; two-sided p (df 2) = 0.2
    assert r == pytest.approx(0.8) and p == pytest.approx(0.2)


def test_similarity_score_power_matters():
    """Errors equal to sim² score 1 with p = 2; with p = 1 the four hue colours at sim 1, ⅔, ⅓, 0 give
    Pearson(x, x²) over equally spaced x: r² = 15² / (5 · 49) = 225/245."""
    score2 = SimilarityScore(power=2, subdivisions=8)
    assert score2.colors.shape == (512, 3)
    errors = similarity_feature(score2.colors, 2)
    assert score2(errors).item() == pytest.approx(1.0)
    assert score2(np.stack([errors, 3 * errors + 0.01])).tolist() == pytest.approx([1.0, 1.0])
    sims = np.array([1, 2 / 3, 1 / 3, 0])
    assert r_squared(sims**2, sims).item() == pytest.approx(225 / 245)
    with pytest.raises(ValueError):
        score2(errors[:10])


def test_vibrancy_score_by_hand():
    score = VibrancyScore(power=2.3, subdivisions=2)  # the 8 corners: S·V = 0 (black, white), else 1
    corners = rgb_cube(2)
    assert score.feature.tolist() == pytest.approx([0, 1, 1, 1, 1, 1, 1, 0])
    # errors 0.3 on the 6 vibrant corners and 0.1 on black/white: perfectly correlated
    errors = np.where(score.feature > 0.5, 0.3, 0.1)
    assert score(errors).item() == pytest.approx(1.0)
    # one vibrant corner off: e = (0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.1, 0.1)
    # against f = (0, 1, 1, 1, 1, 1, 1, 0)
    # de = e − 0.225, df = f − 0.75: Σdedf = 0.25, Σde² = 0.075, Σdf² = 1.5 → r² = 0.0625/0.1125 = 5/9
    e = np.array([0.1, 0.3, 0.3, 0.3, 0.3, 0.3, 0.1, 0.1])
    assert corners[6].tolist() == [1, 1, 0]
    assert score(e).item() == pytest.approx(5 / 9)


def test_score_settings_checked():
    for bad in ({"power": 0}, {"power": 2, "subdivisions": 1}, {"power": 2, "anchor_hsv": [0, 1]}):
        with pytest.raises(ConfigError):
            SimilarityScore(**bad)


def test_named_colors():
    names, rgb = named_colors()
    assert len(names) == 17 and names[:3] == ("red", "orange", "yellow") and names[-1] == "white"
    assert rgb[names.index("red")].tolist() == [1, 0, 0]
    assert rgb[names.index("orange")].tolist() == pytest.approx([1, 0.5, 0])
    assert rgb[names.index("cyan")].tolist() == pytest.approx([0, 1, 1])
    assert rgb[names.index("pink")].tolist() == pytest.approx([1, 0, 0.5])
    assert rgb[names.index("dark gray")].tolist() == [0.25] * 3
    # spec §1.9: greys, white, black and cyan have similarity 0 to red
    sim = similarity_feature(rgb, 1)
    assert [names[i] for i in np.flatnonzero(sim == 0)] == [
        "lime",
        "green",
        "teal",
        "cyan",
        "azure",
        "blue",
        "purple",
        *names[12:],
    ]


def test_named_color_table_by_hand():
    baseline = np.full(17, 0.001)
    ablated = baseline.copy()
    ablated[0], ablated[6] = 0.334, 0.0005  # red up, cyan down
    rows = named_color_table(baseline, {"ablated": ablated})
    assert [row["name"] for row in rows] == list(NAMES)
    assert rows[0] == {
        "name": "red",
        "baseline": 0.001,
        "ablated": 0.334,
        "ablated-delta": pytest.approx(0.333),
    }
    assert rows[6]["ablated-delta"] == pytest.approx(-0.0005)
    assert rows[1]["ablated-delta"] == 0.0
    text = format_table(rows, digits=3)
    assert text.splitlines()[0] == "| colour | baseline | Δ ablated |"
    assert "| red | 0.001 | +0.333 |" in text and "| cyan | 0.001 | -0.001 |" in text
    with pytest.raises(ValueError):
        named_color_table(baseline[:5], {})
