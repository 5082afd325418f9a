"""What the three figures share: argument checks, color helpers, the dark theme, and figure
creation and saving (PNG at 100 dpi, made smaller by the figure when it is over ~300 KB)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

DPI = 100
MAX_BYTES = 290_000  # aim for PNGs under ~300 KB

# Dark theme shared by the slice and sphere figures: mid-dark gray so that both white and black
# patches / points stand out.
DARK_BG = "#3a3a3a"
LIGHT_TEXT = "#eeeeee"
OUTLINE = "#222222"  # dark outline around colored lines


# --------------------------------------------------------------------------------------------
# argument checks


def check_title(title) -> str:
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    return title


def check_path(path) -> Path:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
    if p.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(p)!r}")
    return p


def as_1d(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def as_array(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    return a


def check_grid_args(title, path, hues, saturations, values):
    """Validate the arguments the two cube figures share."""
    return (
        check_title(title),
        check_path(path),
        as_1d("hues", hues),
        as_1d("saturations", saturations),
        as_1d("values", values),
    )


# --------------------------------------------------------------------------------------------
# colors


def hsv_to_rgb(h, s, v) -> np.ndarray:
    """HSV (broadcastable arrays, hue as a fraction of a turn) -> RGB array [..., 3] in [0, 1]."""
    from matplotlib.colors import hsv_to_rgb

    h, s, v = np.broadcast_arrays(np.asarray(h, float), np.asarray(s, float), np.asarray(v, float))
    return hsv_to_rgb(np.stack([np.mod(h, 1.0), s, v], axis=-1))


def clip_rgb(a: np.ndarray) -> np.ndarray:
    """Colors for display: NaN -> 0, clipped to [0, 1]."""
    return np.clip(np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def outlined(lw: float, color: str = OUTLINE):
    """Path effects: a thin dark outline under a line."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=lw + 1.6, foreground=color), patheffects.Normal()]


# --------------------------------------------------------------------------------------------
# figure creation and saving


def new_figure(figsize, facecolor="white"):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=DPI, facecolor=facecolor)


def save(fig, path: Path, shrink=None) -> Path:
    """Save `fig` as a PNG at `path` and clear it.

    If `shrink` is given and the PNG is larger than `MAX_BYTES`, `shrink(step)` is called with
    step = 1, 2, ... (it should simplify the figure, returning False when it can do no more) and
    the figure is saved again, until it fits.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=DPI, facecolor=fig.get_facecolor())
    step = 1
    while shrink is not None and path.stat().st_size > MAX_BYTES and shrink(step):
        fig.savefig(path, dpi=DPI, facecolor=fig.get_facecolor())
        step += 1
    # A Figure made without pyplot is not registered anywhere; clearing it releases the artists.
    fig.clf()
    return path
