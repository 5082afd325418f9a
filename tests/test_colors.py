"""Color formulas (spec: /work/shared/spec/ex-2.3-math.md, "Data" and "Evaluation").

Every expected value is worked out by hand from the spec; the arithmetic is in the comments.
"""

import colorsys

import numpy as np
import pytest

from excolor.colors import (
    hsv_cube,
    hsv_similarity,
    hsv_to_rgb,
    hue_steps,
    redness,
    rgb_cube,
    rgb_to_hsv,
    sampling_weight,
    vibrancy,
)

# (h, s, v) -> (r, g, b), by hand from the standard formula
#   i = floor(6h), f = 6h - i, p = v(1-s), q = v(1-fs), t = v(1-(1-f)s)
KNOWN = [
    ((0.0, 1.0, 1.0), (1.0, 0.0, 0.0)),  # red: i=0, f=0, p=0, t=0 -> (v, t, p)
    ((1 / 6, 1.0, 1.0), (1.0, 1.0, 0.0)),  # yellow: i=1, f=0, q=1, p=0 -> (q, v, p)
    ((1 / 3, 1.0, 1.0), (0.0, 1.0, 0.0)),  # green: i=2, f=0, t=0 -> (p, v, t)
    ((0.5, 1.0, 1.0), (0.0, 1.0, 1.0)),  # cyan: i=3, f=0, q=1 -> (p, q, v)
    ((2 / 3, 1.0, 1.0), (0.0, 0.0, 1.0)),  # blue: i=4, f=0, t=0 -> (t, p, v)
    ((1 / 12, 1.0, 1.0), (1.0, 0.5, 0.0)),  # orange: i=0, f=0.5, t=1-(0.5)=0.5 -> (v, t, p)
    ((0.25, 0.5, 0.8), (0.6, 0.8, 0.4)),  # i=1, f=0.5, p=0.8*0.5=0.4, q=0.8*(1-0.25)=0.6 -> (q, v, p)
    ((0.0, 0.0, 0.5), (0.5, 0.5, 0.5)),  # gray: s=0 -> p=q=t=v
    ((0.7, 0.3, 0.0), (0.0, 0.0, 0.0)),  # black: v=0, whatever h and s
]


@pytest.mark.parametrize("hsv, rgb", KNOWN)
def test_hsv_to_rgb_known_colors(hsv, rgb):
    np.testing.assert_allclose(hsv_to_rgb(*hsv), rgb, atol=1e-12)


def test_hsv_to_rgb_broadcasts_arrays():
    hsv = np.array([k[0] for k in KNOWN])
    out = hsv_to_rgb(hsv[:, 0], hsv[:, 1], hsv[:, 2])
    assert out.shape == (len(KNOWN), 3)
    np.testing.assert_allclose(out, [k[1] for k in KNOWN], atol=1e-12)


@pytest.mark.parametrize(
    "rgb, hsv",
    [
        ((1.0, 0.0, 0.0), (0.0, 1.0, 1.0)),  # red: v=1, c=1, max is r: h = ((0-0)/1 mod 6)/6 = 0
        ((1.0, 1.0, 0.0), (1 / 6, 1.0, 1.0)),  # yellow: max is r (=g): h = ((1-0)/1 mod 6)/6 = 1/6
        ((0.0, 0.0, 1.0), (2 / 3, 1.0, 1.0)),  # blue: max is b: h = ((0-0)/1 + 4)/6 = 2/3
        ((0.6, 0.8, 0.4), (0.25, 0.5, 0.8)),  # v=0.8, c=0.4, s=0.5, max is g: h=((0.4-0.6)/0.4+2)/6=1.5/6
        ((1.0, 0.0, 0.5), (11 / 12, 1.0, 1.0)),  # max is r: ((0-0.5)/1 mod 6)/6 = 5.5/6
        ((0.5, 0.5, 0.5), (0.0, 0.0, 0.5)),  # gray: c=0 -> h=0, s=0
        ((0.0, 0.0, 0.0), (0.0, 0.0, 0.0)),  # black: v=0 -> s=0 (no division by zero)
    ],
)
def test_rgb_to_hsv_known_colors(rgb, hsv):
    np.testing.assert_allclose(rgb_to_hsv(np.array(rgb)), hsv, atol=1e-12)


def test_round_trip_on_a_grid():
    # hsv -> rgb -> hsv is the identity wherever hue and saturation are defined (s > 0, v > 0)
    hues = np.arange(36) / 36
    sv = np.linspace(0, 1, 10)[1:]
    hsv, rgb = hsv_cube(hues, sv, sv)
    np.testing.assert_allclose(rgb_to_hsv(rgb), hsv, atol=1e-12)
    # rgb -> hsv -> rgb is the identity everywhere, grays and black included
    cube = rgb_cube(11)
    back = rgb_to_hsv(cube)
    np.testing.assert_allclose(hsv_to_rgb(back[:, 0], back[:, 1], back[:, 2]), cube, atol=1e-12)
    # and both agree with the standard library's implementation
    expected = np.array([colorsys.rgb_to_hsv(*c) for c in cube])
    np.testing.assert_allclose(back, expected, atol=1e-12)
    h, s, v = hsv.reshape(-1, 3).T
    expected_rgb = np.array([colorsys.hsv_to_rgb(*c) for c in zip(h, s, v)])
    np.testing.assert_allclose(hsv_to_rgb(h, s, v), expected_rgb, atol=1e-12)


def test_hue_range_is_half_open():
    h = rgb_to_hsv(rgb_cube(9))[:, 0]
    assert h.min() >= 0 and h.max() < 1


def test_grids():
    # hues 0, 10/360, ..., 350/360: 36 values, 1 itself is 0 again
    np.testing.assert_allclose(hue_steps(10 / 360), np.arange(36) * 10 / 360)
    hsv, rgb = hsv_cube(hue_steps(1 / 36), np.linspace(0, 1, 10), np.linspace(0, 1, 10))
    assert hsv.shape == rgb.shape == (36, 10, 10, 3)
    cube = rgb_cube(8)
    assert cube.shape == (512, 3)
    np.testing.assert_allclose(np.unique(cube), np.linspace(0, 1, 8))


# --- sampling weight: w(s, v) = (1 - v)/(n_s n_h) + (1 - s) v / n_h + s v, n_h = 36, n_s = 10 ---


@pytest.mark.parametrize(
    "s, v, expected",
    [
        (0.0, 0.0, 1 / 360),  # black: 1/(10*36) + 0 + 0
        (0.7, 0.0, 1 / 360),  # any saturation at v=0 is black: 1/360 + 0 + 0
        (0.0, 1.0, 1 / 36),  # white: 0 + 1*1/36 + 0
        (1.0, 1.0, 1.0),  # fully vibrant: 0 + 0 + 1
        (0.5, 0.5, 31 / 120),  # 0.5/360 + 0.25/36 + 0.25 = (1 + 5 + 180)/720 = 186/720 = 31/120
        (1.0, 0.5, 0.5 / 360 + 0.5),  # 0.5/360 + 0 + 0.5
    ],
)
def test_sampling_weight(s, v, expected):
    assert sampling_weight(np.array(s), np.array(v), 36, 10) == pytest.approx(expected, rel=1e-12)


def test_sampling_weight_vectorised():
    w = sampling_weight(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 1.0]), n_hues=36, n_saturations=10)
    np.testing.assert_allclose(w, [1 / 360, 1 / 36, 1.0])


# --- labels' sources ---


@pytest.mark.parametrize(
    "rgb, expected",
    [
        ((1.0, 0.0, 0.0), 1.0),  # 1*(1 - 0 - 0)
        ((1.0, 1.0, 1.0), 0.0),  # 1*(1 - 0.5 - 0.5)
        ((1.0, 0.5, 0.0), 0.75),  # 1*(1 - 0.25 - 0)
        ((0.5, 0.0, 1.0), 0.25),  # 0.5*(1 - 0 - 0.5)
        ((0.0, 0.3, 0.2), 0.0),  # r=0
    ],
)
def test_redness(rgb, expected):
    assert redness(np.array(rgb)) == pytest.approx(expected, abs=1e-12)


def test_redness_and_vibrancy_vectorised():
    np.testing.assert_allclose(redness(np.array([[1.0, 0, 0], [1.0, 0.5, 0.0]])), [1.0, 0.75])
    # vibrancy = s*v: 0.5*0.8 = 0.4; 1*1 = 1; 0*1 = 0 (white); 1*0 = 0 (black)
    hsv = np.array([[0.3, 0.5, 0.8], [0.0, 1.0, 1.0], [0.0, 0.0, 1.0], [0.5, 1.0, 0.0]])
    np.testing.assert_allclose(vibrancy(hsv), [0.4, 1.0, 0.0, 0.0])


# --- similarity: (r*hue_sim + 1 - r)(1 - |s1-s2|)(1 - |v1-v2|) ---

RED = np.array([0.0, 1.0, 1.0])


@pytest.mark.parametrize("hsv", [(0.0, 1.0, 1.0), (0.4, 0.3, 0.7), (0.9, 0.0, 0.0), (0.55, 1.0, 0.2)])
def test_similarity_of_identical_colors_is_one(hsv):
    # hue_angle 0 -> hue_sim 1 -> (r + 1 - r) * 1 * 1 = 1
    assert hsv_similarity(np.array(hsv), np.array(hsv)) == pytest.approx(1.0)


def test_similarity_red_vs_green_is_zero():
    # |dh| = 1/3 -> 120° -> hue_sim = max(0, -30/90) = 0; r = (1 + 1)/2 = 1 -> (0 + 0) * 1 * 1 = 0
    assert hsv_similarity(RED, np.array([1 / 3, 1.0, 1.0])) == pytest.approx(0.0, abs=1e-12)


def test_similarity_partial_saturation():
    # (0, 1, 1) vs (30°, 0.5, 1): hue_sim = (90 - 30)/90 = 2/3; r = (1*1 + 0.5*1)/2 = 0.75
    # (0.75 * 2/3 + 0.25) * (1 - 0.5) * (1 - 0) = 0.75 * 0.5 = 0.375
    assert hsv_similarity(RED, np.array([1 / 12, 0.5, 1.0])) == pytest.approx(0.375)


def test_similarity_hue_is_cyclic():
    # h 0.95 vs 0.05: min(0.9, 0.1) = 0.1 -> 36°, hue_sim = 54/90 = 0.6; r = (1*1 + 1*0.5)/2 = 0.75
    # (0.75*0.6 + 0.25) * (1 - 0) * (1 - 0.5) = 0.7 * 0.5 = 0.35
    assert hsv_similarity(np.array([0.95, 1.0, 1.0]), np.array([0.05, 1.0, 0.5])) == pytest.approx(0.35)


def test_similarity_of_grays_ignores_hue():
    # s = 0 for both -> r = 0 -> hue term is 1 whatever the hues; (1 - 0)(1 - |0.2 - 0.6|) = 0.6
    assert hsv_similarity(np.array([0.0, 0.0, 0.2]), np.array([0.5, 0.0, 0.6])) == pytest.approx(0.6)


def test_similarity_broadcasts_against_one_color():
    hsv = np.array([[0.0, 1.0, 1.0], [1 / 3, 1.0, 1.0], [1 / 12, 0.5, 1.0]])
    np.testing.assert_allclose(hsv_similarity(hsv, RED), [1.0, 0.0, 0.375], atol=1e-12)
