"""Color-space formulas and the color grids the experiment trains and evaluates on (numpy only)."""

from __future__ import annotations

import numpy as np


def hsv_to_rgb(h: np.ndarray, s: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Standard HSV→RGB: with i = ⌊6h⌋, f = 6h − i, p = v(1−s), q = v(1−fs), t = v(1−(1−f)s),
    (r, g, b) = (v,t,p), (q,v,p), (p,v,t), (p,q,v), (t,p,v), (v,p,q) for i mod 6 = 0…5."""
    h, s, v = np.broadcast_arrays(np.asarray(h, float), np.asarray(s, float), np.asarray(v, float))
    i = np.floor(h * 6.0)
    f = h * 6.0 - i
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    i = i.astype(int) % 6
    r = np.choose(i, [v, q, p, p, t, v])
    g = np.choose(i, [t, v, v, q, p, p])
    b = np.choose(i, [p, p, t, v, v, q])
    return np.stack([r, g, b], axis=-1)


def rgb_to_hsv(rgb: np.ndarray) -> np.ndarray:
    """Standard RGB→HSV with h in [0, 1): v = max, s = (max − min)/max (0 for black), hue from the
    channel that holds the max."""
    rgb = np.asarray(rgb, float)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    v = rgb.max(-1)
    c = v - rgb.min(-1)
    s = np.where(v > 0, c / np.where(v > 0, v, 1), 0.0)
    safe_c = np.where(c > 0, c, 1)
    h = np.where(v == r, ((g - b) / safe_c) % 6, np.where(v == g, (b - r) / safe_c + 2, (r - g) / safe_c + 4))
    h = np.where(c > 0, h / 6.0, 0.0) % 1.0
    return np.stack([h, s, v], axis=-1)


def hue_steps(step: float) -> np.ndarray:
    """Cyclic hues 0, step, 2·step, … < 1 (1 itself is 0 again)."""
    n = int(round(1 / step))
    return np.arange(n) / n


def hsv_cube(hues: np.ndarray, saturations: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid of every (h, s, v) combination, axes ordered [H, S, V]. Returns (hsv [H,S,V,3], rgb [H,S,V,3])."""
    h, s, v = np.meshgrid(hues, saturations, values, indexing="ij")
    return np.stack([h, s, v], -1), hsv_to_rgb(h, s, v)


def rgb_cube(n: int) -> np.ndarray:
    """RGB grid of `n` points per axis (linspace(0, 1, n)), flattened to [n³, 3]."""
    axis = np.linspace(0, 1, n)
    r, g, b = np.meshgrid(axis, axis, axis, indexing="ij")
    return np.stack([r, g, b], -1).reshape(-1, 3)


def sampling_weight(s: np.ndarray, v: np.ndarray, n_hues: int, n_saturations: int) -> np.ndarray:
    """w(s, v) = (1 − v)/(n_s·n_h) + (1 − s)·v/n_h + s·v: black 1/(n_s n_h), white 1/n_h, vibrant 1."""
    return (1 - v) / (n_saturations * n_hues) + (1 - s) * v / n_hues + s * v


def redness(rgb: np.ndarray) -> np.ndarray:
    """redness(r, g, b) = r·(1 − g/2 − b/2)."""
    rgb = np.asarray(rgb, float)
    return rgb[..., 0] * (1 - rgb[..., 1] / 2 - rgb[..., 2] / 2)


def vibrancy(hsv: np.ndarray) -> np.ndarray:
    """vibrancy = S·V of the color's HSV form."""
    return hsv[..., 1] * hsv[..., 2]


def hsv_similarity(hsv1: np.ndarray, hsv2: np.ndarray) -> np.ndarray:
    """sim = (r·hue_sim + 1 − r)·(1 − |s1 − s2|)·(1 − |v1 − v2|), hue_angle = 360·min(|h1−h2|, 1−|h1−h2|),
    hue_sim = max(0, (90 − hue_angle)/90), r = (s1 v1 + s2 v2)/2."""
    hsv1, hsv2 = np.broadcast_arrays(np.asarray(hsv1, float), np.asarray(hsv2, float))
    h1, s1, v1 = hsv1[..., 0], hsv1[..., 1], hsv1[..., 2]
    h2, s2, v2 = hsv2[..., 0], hsv2[..., 1], hsv2[..., 2]
    dh = np.abs(h1 - h2)
    hue_angle = 360 * np.minimum(dh, 1 - dh)
    hue_sim = np.maximum(0.0, (90 - hue_angle) / 90)
    r = (s1 * v1 + s2 * v2) / 2
    return (r * hue_sim + 1 - r) * (1 - np.abs(s1 - s2)) * (1 - np.abs(v1 - v2))
