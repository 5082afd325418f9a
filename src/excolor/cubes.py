"""The fixed color grids that evaluation scores and the figures draw (numpy only).

Their own module so that evaluation (which draws figures) and figures (which draw these grids) do
not import each other.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from excolor.colors import hsv_cube, hue_steps

# The seed's "HD" loss cube, (hues, saturations, values): 552,960 colors (`evaluation.loss_cube`).
LOSS_CUBE = (240, 48, 48)


@cache
def loss_cube(shape: tuple[int, int, int] = LOSS_CUBE) -> tuple[np.ndarray, np.ndarray]:
    """hues × saturations × values colors, hues k / hues and linspace(0, 1, n) for the others (so pure red
    and black are always in it), (hsv, rgb) each [H, S, V, 3]. The default is the seed's HD cube."""
    hues, saturations, values = shape
    return hsv_cube(hue_steps(1 / hues), np.linspace(0, 1, saturations), np.linspace(0, 1, values))


@cache
def display_cube() -> tuple[np.ndarray, np.ndarray]:
    """24 hues × 4 saturations × 8 values, for the color-slice figure; [H, S, V, 3]."""
    return hsv_cube(hue_steps(1 / 24), np.linspace(0, 1, 4), np.linspace(0, 1, 8))
