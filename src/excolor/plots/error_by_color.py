"""Figure 2, error by color: the per-color reconstruction error (MSE) on the "loss cube" as three
line charts, against hue, saturation and value, each line drawn in the colors it stands for."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from excolor.plots._common import (
    OUTLINE,
    as_array,
    check_grid_args,
    hsv_to_rgb,
    new_figure,
    outlined,
    save,
)

# v targets of panel (a): the values at indices 47, 37, 27, 17, 7 of linspace(0, 1, 48)
_ERR_V_TARGETS = tuple(i / 47 for i in (47, 37, 27, 17, 7))
_ERR_HUE_TARGETS = tuple(k / 6 for k in range(6))  # 0°, 60°, ..., 300°


def _nearest(values: np.ndarray, target: float) -> int:
    return int(np.argmin(np.abs(values - target)))


def _nearest_hue(hues: np.ndarray, target: float) -> int:
    d = np.abs(np.mod(hues - target + 0.5, 1.0) - 0.5)  # circular distance in turns
    return int(np.argmin(d))


def _ylim_from_zero(ax, data: np.ndarray) -> None:
    """Y axis from 0 to a little above the largest finite value shown (0..1 if none)."""
    data = data[np.isfinite(data)]
    top = float(data.max()) if data.size else 0.0
    ax.set_ylim(0.0, top * 1.08 if top > 0 else 1.0)


def plot_error_by_color(mse, hues, saturations, values, title, path) -> Path:
    """Per-color reconstruction error as three line charts in one row.

    `mse` has shape [H, S, V]: the MSE of each color of the "loss cube" (hue, saturation,
    value), `hues` [H] are fractions of a turn, `saturations` [S], `values` [V] in [0, 1]. NaNs
    show as gaps in the lines.

    (a) MSE vs hue (degrees) at the saturation nearest 1, one line per value for the five values
        nearest 1, 37/47, 27/47, 17/47, 7/47 (indices 47, 37, 27, 17, 7 of linspace(0, 1, 48)).
        The curve is closed at 360° when the first hue is 0.
    (b) MSE vs saturation at the value nearest 1, one line per hue for the hues nearest
        0°, 60°, ..., 300°.
    (c) MSE vs value at the saturation nearest 1, one line per hue for the same six hues.

    Each line is drawn in the colors it stands for, with a thin dark outline on a light gray
    background so that yellow and near-black lines are both visible: in (a) the line runs over
    all hues, so each segment has the color (hue, s = 1, v) of its point (a rainbow as bright as
    v; its legend swatch is the gray of that v); in (b) and (c) each line is its pure hue.
    Legends name the value or hue. The y axes start at 0.
    """
    title, path, hues, saturations, values = check_grid_args(title, path, hues, saturations, values)
    H, S, V = hues.size, saturations.size, values.size
    mse = as_array("mse", mse, 3)
    if mse.shape != (H, S, V):
        raise ValueError(
            f"mse must have shape [H, S, V] = {(H, S, V)} "
            f"(len(hues), len(saturations), len(values)), got {mse.shape}"
        )

    s1 = _nearest(saturations, 1.0)
    v1 = _nearest(values, 1.0)
    v_idx = list(dict.fromkeys(_nearest(values, t) for t in _ERR_V_TARGETS))
    h_idx = list(dict.fromkeys(_nearest_hue(hues, t) for t in _ERR_HUE_TARGETS))

    order_h = np.argsort(hues, kind="stable")
    hx = hues[order_h] * 360.0
    close = H > 1 and abs(hues[order_h[0]]) < 1e-9 and hues[order_h[-1]] < 1.0
    if close:
        hx = np.append(hx, 360.0)
    order_s = np.argsort(saturations, kind="stable")
    order_v = np.argsort(values, kind="stable")

    bg = "#d4d4d4"
    fig = new_figure((12, 3.4))
    fig.subplots_adjust(left=0.06, right=0.99, bottom=0.17, top=0.80, wspace=0.22)
    ax_a, ax_b, ax_c = fig.subplots(1, 3)
    lw = 1.6

    # (a) MSE vs hue at s = 1, one line per value; each segment in the color (hue, 1, v).
    from matplotlib.collections import LineCollection

    handles_a = []
    for vi in sorted(v_idx, key=lambda i: values[i]):  # brightest drawn last (on top)
        y = mse[order_h, s1, vi]
        hh = hues[order_h]
        if close:
            y = np.append(y, y[0])
            hh = np.append(hh, 1.0)
        pts = np.stack([hx, y], axis=-1)
        segs = np.stack([pts[:-1], pts[1:]], axis=1)
        seg_col = hsv_to_rgb(0.5 * (hh[:-1] + hh[1:]), 1.0, values[vi])
        # one continuous dark outline under the per-segment colors
        ax_a.plot(hx, y, color=OUTLINE, lw=lw + 1.6, solid_capstyle="round")
        ax_a.add_collection(LineCollection(list(segs), colors=seg_col, linewidths=lw, capstyle="round"))
        # legend proxy: a neutral gray of the same value
        (proxy,) = ax_a.plot(
            [], [], color=(values[vi],) * 3, lw=lw, path_effects=outlined(lw), label=f"v = {values[vi]:.2f}"
        )
        handles_a.append(proxy)
    ax_a.set_xlim(0, 360)
    ax_a.set_xticks(np.arange(0, 361, 60))
    ax_a.set_xlabel("hue (°)")
    ax_a.set_title(f"(a) vs hue, s = {saturations[s1]:.2f}", fontsize=10)
    _ylim_from_zero(ax_a, mse[:, s1, v_idx])

    # (b) MSE vs saturation at v = 1; (c) MSE vs value at s = 1; one line per hue
    for ax, xs, order, get, label in (
        (ax_b, saturations, order_s, lambda hi: mse[hi, :, v1], "saturation"),
        (ax_c, values, order_v, lambda hi: mse[hi, s1, :], "value"),
    ):
        for hi in h_idx:
            col = hsv_to_rgb(hues[hi], 1.0, 1.0)
            ax.plot(
                xs[order],
                get(hi)[order],
                color=col,
                lw=lw,
                path_effects=outlined(lw),
                label=f"{hues[hi] * 360:.0f}°",
            )
        ax.set_xlabel(label)
        _ylim_from_zero(ax, np.stack([get(hi) for hi in h_idx]))
        lo, hi_ = float(xs.min()), float(xs.max())
        ax.set_xlim(lo, hi_ if hi_ > lo else lo + 1.0)
    ax_b.set_title(f"(b) vs saturation, v = {values[v1]:.2f}", fontsize=10)
    ax_c.set_title(f"(c) vs value, s = {saturations[s1]:.2f}", fontsize=10)

    for ax in (ax_a, ax_b, ax_c):
        ax.set_facecolor(bg)
        ax.set_ylabel("MSE")
        ax.grid(True, color="white", lw=0.6, alpha=0.7)
        ax.set_axisbelow(True)
        ax.tick_params(labelsize=8)
        ax.legend(
            handles=handles_a[::-1] if ax is ax_a else None,
            fontsize=7,
            facecolor=bg,
            edgecolor="#999999",
            framealpha=0.85,
            handlelength=1.6,
            labelspacing=0.3,
            borderpad=0.4,
        )
        ax.yaxis.get_offset_text().set_fontsize(7)

    fig.suptitle(title, fontsize=12)
    return save(fig, path)
