"""The fixed color grids that evaluation scores and the figures draw (numpy only).

Their own module so that evaluation (which draws figures) and figures (which draw these grids) do
not import each other.
"""

from __future__ import annotations

from functools import cache

import numpy as np

from excolor.colors import hsv_cube, hue_steps


@cache
def loss_cube() -> tuple[np.ndarray, np.ndarray]:
    """The seed's "HD" cube: 240 hues × 48 saturations × 48 values, (hsv, rgb) each [H, S, V, 3]."""
    return hsv_cube(hue_steps(1 / 240), np.linspace(0, 1, 48), np.linspace(0, 1, 48))


@cache
def display_cube() -> tuple[np.ndarray, np.ndarray]:
    """24 hues × 4 saturations × 8 values, for the color-slice figure; [H, S, V, 3]."""
    return hsv_cube(hue_steps(1 / 24), np.linspace(0, 1, 4), np.linspace(0, 1, 8))
