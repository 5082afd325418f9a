"""Figure 1, color slices: true vs reconstructed colors on the HSV "display cube", one panel per
saturation, hue across and value down, each color a reconstructed square around a true one."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from excolor.plots._common import (
    DARK_BG,
    LIGHT_TEXT,
    as_array,
    check_grid_args,
    clip_rgb,
    new_figure,
    save,
)

_DARK_GAP = (0.45, 0.45, 0.45)  # the gaps between patches, on the dark theme


def plot_color_slices(true_rgb, recon_rgb, hues, saturations, values, title, path) -> Path:
    """True vs reconstructed colors on the HSV "display cube", one panel per saturation.

    `true_rgb` and `recon_rgb` have shape [S, V, H, 3] (saturation, value, hue, RGB), in [0, 1]
    (values outside are clipped for display, NaN shows as black); `hues` [H] are fractions of a
    turn, `saturations` [S] and `values` [V] in [0, 1].

    The figure has S panels side by side, in the order given, titled "s = 0.33" etc. In each
    panel hue runs left to right (ticks in degrees) and value runs down the rows with v = 1 at
    the TOP and v = 0 at the bottom (rows are sorted by value, whatever the input order). Each
    color is a square patch: the full square is the RECONSTRUCTION, the small centered square
    (40 % of the side) is the TRUE color, so a reconstruction error shows up as a ring of a
    different color around the center. Patches are separated by thin gray gaps on a dark gray
    background, so both black and white patches are visible.
    """
    title, path, hues, saturations, values = check_grid_args(title, path, hues, saturations, values)
    S, V, H = saturations.size, values.size, hues.size
    true_rgb = as_array("true_rgb", true_rgb, 4)
    recon_rgb = as_array("recon_rgb", recon_rgb, 4)
    expected = (S, V, H, 3)
    for name, a in (("true_rgb", true_rgb), ("recon_rgb", recon_rgb)):
        if a.shape != expected:
            raise ValueError(
                f"{name} must have shape [S, V, H, 3] = {expected} "
                f"(len(saturations), len(values), len(hues), 3), got {a.shape}"
            )

    order_v = np.argsort(-values, kind="stable")  # top row = largest value
    order_h = np.argsort(hues, kind="stable")
    true_c = clip_rgb(true_rgb)[:, order_v][:, :, order_h]
    recon_c = clip_rgb(recon_rgb)[:, order_v][:, :, order_h]
    v_sorted = values[order_v]
    h_sorted = hues[order_h]

    # Squares of every cell in row-major (value, hue) order: outer half-side 0.45 (so 0.1 gaps
    # show the background), inner half-side 0.18 (40 % of the outer side).
    from matplotlib.collections import PolyCollection

    jj, ii = np.meshgrid(np.arange(H), np.arange(V))
    centers = np.stack([jj.ravel(), ii.ravel()], axis=-1).astype(float)
    unit = np.array([[-1, -1], [1, -1], [1, 1], [-1, 1]], dtype=float)
    outer_sq = centers[:, None, :] + 0.45 * unit[None]
    inner_sq = centers[:, None, :] + 0.18 * unit[None]

    # Layout in inches: panels share the width (18 in for 4 panels); height follows the aspect.
    left, right, gap_w, top, bottom = 0.75, 0.15, 0.3, 0.65, 0.75
    fig_w = min(max(4.5 * S, 6.0), 20.0)
    panel_w = (fig_w - left - right - gap_w * (S - 1)) / S
    panel_h = min(panel_w * V / H, 10.0)
    fig_h = panel_h + top + bottom
    fig = new_figure((fig_w, fig_h), facecolor=DARK_BG)
    fig.subplots_adjust(
        left=left / fig_w,
        right=1 - right / fig_w,
        bottom=bottom / fig_h,
        top=1 - top / fig_h,
        wspace=gap_w / panel_w,
    )
    axes = fig.subplots(1, S, squeeze=False)[0]

    # hue ticks: about every 60 degrees (at most 7 labels)
    step_h = max(1, int(math.ceil(H / 6)))
    h_ticks = np.arange(0, H, step_h)
    v_step = max(1, int(math.ceil(V / 9)))
    v_ticks = np.arange(0, V, v_step)

    for si, ax in enumerate(axes):
        # cell (row i, column j) is centered at (j, i); row 0 (largest value) at the top
        ax.add_collection(
            PolyCollection(list(outer_sq), facecolors=recon_c[si].reshape(-1, 3), edgecolors="none")
        )
        ax.add_collection(
            PolyCollection(list(inner_sq), facecolors=true_c[si].reshape(-1, 3), edgecolors="none")
        )
        ax.set_xlim(-0.5, H - 0.5)
        ax.set_ylim(V - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_facecolor(_DARK_GAP)
        ax.set_title(f"s = {saturations[si]:.2f}", color=LIGHT_TEXT, fontsize=11)
        ax.set_xticks(h_ticks)
        ax.set_xticklabels([f"{h_sorted[j] * 360:.0f}°" for j in h_ticks])
        ax.set_xlabel("hue", color=LIGHT_TEXT)
        ax.set_yticks(v_ticks)
        if si == 0:
            ax.set_yticklabels([f"{v_sorted[i]:.2f}" for i in v_ticks])
            ax.set_ylabel("value", color=LIGHT_TEXT)
        else:
            ax.set_yticklabels([])
        ax.tick_params(colors=LIGHT_TEXT, labelsize=8, length=3)
        for spine in ax.spines.values():
            spine.set_visible(False)

    fig.suptitle(title, color=LIGHT_TEXT, fontsize=13)
    fig.text(
        0.5,
        0.1 / fig_h,
        "outer square = reconstruction, inner square = true color",
        ha="center",
        va="bottom",
        color="#bbbbbb",
        fontsize=8,
    )
    return save(fig, path)
