"""The three figures drawn for each run and each intervention of the color-autoencoder experiment.

* `plot_color_slices`: true vs reconstructed colors on the "display cube" (HSV grid).
* `plot_error_by_color`: per-color reconstruction error (MSE) on the "loss cube", as line charts.
* `plot_latent_spheres`: the unit-norm latents seen as points on a sphere, three 3-D views.

Pure numpy + matplotlib. Figures are built with `matplotlib.figure.Figure` (no pyplot, no global
state, Agg canvas), so this works headless and from several threads. Each function validates its
inputs (wrong shapes raise `ValueError` naming the argument), saves a PNG at 100 dpi, and returns
the output path as a `pathlib.Path`. Parent directories of the output path are created.

Hues are fractions of a turn in [0, 1) (0 = red, 1/3 = green, 2/3 = blue); they are labelled in
degrees. Saturations and values are in [0, 1].
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

__all__ = ["plot_color_slices", "plot_error_by_color", "plot_latent_spheres"]

_DPI = 100
_MAX_BYTES = 290_000  # aim for PNGs under ~300 KB

# Dark theme shared by the slice and sphere figures: mid-dark gray so that both white and black
# patches / points stand out.
_DARK_BG = "#3a3a3a"
_DARK_GAP = (0.45, 0.45, 0.45)
_LIGHT_TEXT = "#eeeeee"
_OUTLINE = "#222222"  # dark outline around colored lines


# --------------------------------------------------------------------------------------------
# helpers


def _hsv_to_rgb(h, s, v) -> np.ndarray:
    """HSV (broadcastable arrays, hue as a fraction of a turn) -> RGB array [..., 3] in [0, 1]."""
    from matplotlib.colors import hsv_to_rgb

    h, s, v = np.broadcast_arrays(np.asarray(h, float), np.asarray(s, float), np.asarray(v, float))
    return hsv_to_rgb(np.stack([np.mod(h, 1.0), s, v], axis=-1))


def _check_title(title) -> str:
    if not isinstance(title, str):
        raise TypeError(f"title must be a str, got {type(title).__name__}")
    return title


def _check_path(path) -> Path:
    try:
        p = Path(os.fspath(path))
    except TypeError:
        raise TypeError(f"path must be a str or os.PathLike, got {type(path).__name__}") from None
    if p.suffix.lower() != ".png":
        raise ValueError(f"path must end in .png, got {str(p)!r}")
    return p


def _as_1d(name: str, a) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != 1 or a.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array, got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} must be finite")
    return a


def _as_array(name: str, a, ndim: int) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    if a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {a.shape}")
    return a


def _check_grid_args(title, path, hues, saturations, values):
    """Validate the arguments the two cube figures share."""
    return (_check_title(title), _check_path(path), _as_1d("hues", hues),
            _as_1d("saturations", saturations), _as_1d("values", values))


def _clip_rgb(a: np.ndarray) -> np.ndarray:
    """Colors for display: NaN -> 0, clipped to [0, 1]."""
    return np.clip(np.nan_to_num(a, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0)


def _new_figure(figsize, facecolor="white"):
    from matplotlib.figure import Figure

    return Figure(figsize=figsize, dpi=_DPI, facecolor=facecolor)


def _save(fig, path: Path, shrink=None) -> Path:
    """Save `fig` as a PNG at `path` and clear it.

    If `shrink` is given and the PNG is larger than `_MAX_BYTES`, `shrink(step)` is called with
    step = 1, 2, ... (it should simplify the figure, returning False when it can do no more) and
    the figure is saved again, until it fits.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=_DPI, facecolor=fig.get_facecolor())
    step = 1
    while shrink is not None and path.stat().st_size > _MAX_BYTES and shrink(step):
        fig.savefig(path, dpi=_DPI, facecolor=fig.get_facecolor())
        step += 1
    # A Figure made without pyplot is not registered anywhere; clearing it releases the artists.
    fig.clf()
    return path


def _nearest(values: np.ndarray, target: float) -> int:
    return int(np.argmin(np.abs(values - target)))


def _nearest_hue(hues: np.ndarray, target: float) -> int:
    d = np.abs(np.mod(hues - target + 0.5, 1.0) - 0.5)  # circular distance in turns
    return int(np.argmin(d))


# --------------------------------------------------------------------------------------------
# 1. color slices


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
    title, path, hues, saturations, values = _check_grid_args(title, path, hues, saturations, values)
    S, V, H = saturations.size, values.size, hues.size
    true_rgb = _as_array("true_rgb", true_rgb, 4)
    recon_rgb = _as_array("recon_rgb", recon_rgb, 4)
    expected = (S, V, H, 3)
    for name, a in (("true_rgb", true_rgb), ("recon_rgb", recon_rgb)):
        if a.shape != expected:
            raise ValueError(
                f"{name} must have shape [S, V, H, 3] = {expected} "
                f"(len(saturations), len(values), len(hues), 3), got {a.shape}"
            )

    order_v = np.argsort(-values, kind="stable")  # top row = largest value
    order_h = np.argsort(hues, kind="stable")
    true_c = _clip_rgb(true_rgb)[:, order_v][:, :, order_h]
    recon_c = _clip_rgb(recon_rgb)[:, order_v][:, :, order_h]
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
    fig = _new_figure((fig_w, fig_h), facecolor=_DARK_BG)
    fig.subplots_adjust(left=left / fig_w, right=1 - right / fig_w, bottom=bottom / fig_h,
                        top=1 - top / fig_h, wspace=gap_w / panel_w)
    axes = fig.subplots(1, S, squeeze=False)[0]

    # hue ticks: about every 60 degrees (at most 7 labels)
    step_h = max(1, int(math.ceil(H / 6)))
    if H >= 12 and H % 6 == 0:
        step_h = H // 6
    h_ticks = np.arange(0, H, step_h)
    v_step = max(1, int(math.ceil(V / 9)))
    v_ticks = np.arange(0, V, v_step)

    for si, ax in enumerate(axes):
        # cell (row i, column j) is centered at (j, i); row 0 (largest value) at the top
        ax.add_collection(PolyCollection(outer_sq, facecolors=recon_c[si].reshape(-1, 3),
                                         edgecolors="none"))
        ax.add_collection(PolyCollection(inner_sq, facecolors=true_c[si].reshape(-1, 3),
                                         edgecolors="none"))
        ax.set_xlim(-0.5, H - 0.5)
        ax.set_ylim(V - 0.5, -0.5)
        ax.set_aspect("equal")
        ax.set_facecolor(_DARK_GAP)
        ax.set_title(f"s = {saturations[si]:.2f}", color=_LIGHT_TEXT, fontsize=11)
        ax.set_xticks(h_ticks)
        ax.set_xticklabels([f"{h_sorted[j] * 360:.0f}°" for j in h_ticks])
        ax.set_xlabel("hue", color=_LIGHT_TEXT)
        ax.set_yticks(v_ticks)
        if si == 0:
            ax.set_yticklabels([f"{v_sorted[i]:.2f}" for i in v_ticks])
            ax.set_ylabel("value", color=_LIGHT_TEXT)
        else:
            ax.set_yticklabels([])
        ax.tick_params(colors=_LIGHT_TEXT, labelsize=8, length=3)
        for spine in ax.spines.values():
            spine.set_visible(False)

    fig.suptitle(title, color=_LIGHT_TEXT, fontsize=13)
    fig.text(0.5, 0.1 / fig_h,
             "outer square = reconstruction, inner square = true color",
             ha="center", va="bottom", color="#bbbbbb", fontsize=8)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# 2. error by color

# v targets of panel (a): the values at indices 47, 37, 27, 17, 7 of linspace(0, 1, 48)
_ERR_V_TARGETS = tuple(i / 47 for i in (47, 37, 27, 17, 7))
_ERR_HUE_TARGETS = tuple(k / 6 for k in range(6))  # 0°, 60°, ..., 300°


def _outlined(lw: float, color: str = _OUTLINE):
    """Path effects: a thin dark outline under a line."""
    from matplotlib import patheffects

    return [patheffects.Stroke(linewidth=lw + 1.6, foreground=color), patheffects.Normal()]


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
    title, path, hues, saturations, values = _check_grid_args(title, path, hues, saturations, values)
    H, S, V = hues.size, saturations.size, values.size
    mse = _as_array("mse", mse, 3)
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
    fig = _new_figure((12, 3.4))
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
        seg_col = _hsv_to_rgb(0.5 * (hh[:-1] + hh[1:]), 1.0, values[vi])
        # one continuous dark outline under the per-segment colors
        ax_a.plot(hx, y, color=_OUTLINE, lw=lw + 1.6, solid_capstyle="round")
        ax_a.add_collection(LineCollection(segs, colors=seg_col, linewidths=lw,
                                           capstyle="round"))
        # legend proxy: a neutral gray of the same value
        (proxy,) = ax_a.plot([], [], color=(values[vi],) * 3, lw=lw,
                             path_effects=_outlined(lw), label=f"v = {values[vi]:.2f}")
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
            col = _hsv_to_rgb(hues[hi], 1.0, 1.0)
            ax.plot(xs[order], get(hi)[order], color=col, lw=lw, path_effects=_outlined(lw),
                    label=f"{hues[hi] * 360:.0f}°")
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
        ax.legend(handles=handles_a[::-1] if ax is ax_a else None, fontsize=7, facecolor=bg,
                  edgecolor="#999999", framealpha=0.85, handlelength=1.6, labelspacing=0.3,
                  borderpad=0.4)
        ax.yaxis.get_offset_text().set_fontsize(7)

    fig.suptitle(title, fontsize=12)
    return _save(fig, path)


# --------------------------------------------------------------------------------------------
# 3. latent spheres


def _orthonormal_complement(v: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two unit vectors e1, e2 with (v, e1, e2) orthonormal; v must be a unit 3-vector."""
    a = np.zeros(3)
    a[int(np.argmin(np.abs(v)))] = 1.0
    e1 = a - (a @ v) * v
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(v, e1)
    return e1, e2


def _cone_circle(concept3: np.ndarray, half_angle: float, n: int = 361) -> np.ndarray | None:
    """Points [n, 3] of the circle at angle `half_angle` from `concept3` on the unit sphere."""
    norm = float(np.linalg.norm(concept3))
    if norm < 1e-9:
        return None
    v = concept3 / norm
    e1, e2 = _orthonormal_complement(v)
    phi = np.linspace(0.0, 2.0 * np.pi, n)
    return (math.cos(half_angle) * v[None, :]
            + math.sin(half_angle) * (np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2))


def _split_front_back(pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x, y) polylines [n, 2] of the z >= 0 part and z < 0 part, with NaN breaks between runs.

    Each run is extended by one point on either side so front and back parts meet.
    """
    front = pts[:, 2] >= 0
    near_front = front | np.roll(front, 1) | np.roll(front, -1)
    near_back = ~front | np.roll(~front, 1) | np.roll(~front, -1)
    # the polyline is closed (first point == last point), so rolling wraps correctly
    f = pts[:, :2].copy()
    b = pts[:, :2].copy()
    f[~near_front] = np.nan
    b[~near_back] = np.nan
    return f, b


# Marker area (points^2) of a near point's disc at N <= 3000; scaled by sqrt(3000 / N) above.
_S_NEAR = 45.0
# Color levels per channel for the sphere points. Antialiasing off and 6-bit colors keep the PNG
# of 8000 overlapping multicolored dots under ~300 KB; the difference is not visible.
_SPHERE_LEVELS = 63.0


def plot_latent_spheres(latents, recon_rgb, true_rgb, title, path,
                        dims=((1, 0, 2), (1, 2, 0), (1, 3, 0)), cones=()) -> Path:
    """The latents as points on the unit sphere, three orthographic views side by side.

    `latents` [N, K] (K >= 3, rows roughly unit length), `recon_rgb` and `true_rgb` [N, 3] in
    [0, 1]. For each triple (x, y, z) in `dims` (distinct latent indices < K) one panel shows the
    sphere of those three dims seen from far along +z: a black disc of radius 1 with a gray
    outline, and each latent drawn at (latent[x], latent[y]) as a filled circle in its
    RECONSTRUCTED color with a small dot in its center in its TRUE color. The raw latent
    coordinates are used (not re-normalised), so points off the unit sphere show as such.

    All points are drawn (no subsampling), sorted by latent[z] so the nearest are on top; each
    disc is followed by its own dot, so nearer discs cover farther dots. Points on the far
    hemisphere (latent[z] < 0) are drawn smaller and dimmed (35 % brightness, no center dot), so
    the near hemisphere reads clearly and the far side still shows through the gaps. Marker
    size shrinks as sqrt(3000 / N) for N > 3000. Points are drawn without antialiasing and with
    6-bit colors (coarser, down to 3-bit, only if the PNG would still exceed ~300 KB, as with
    random colors) to keep the file small. Points beyond radius 1.08 fall outside the panel.

    `cones` is a sequence of (concept_vector [K], half_angle_radians, style), style "dashed" or
    "solid". On each panel the circle of points at angle half_angle from the concept vector (in
    that panel's three dims: concept[[x, y, z]], normalised; skipped if ~0) is drawn: the near
    part (z >= 0) as a white line with a black outline in the given style, on top of all
    points; the far part thin, gray and faint, above the far points but under the near ones.
    E.g. concept e0 with 90° (suppression with a = 0: the whole hemisphere) and 60° (the hole
    of repulsion, arccos 0.5).
    """
    title = _check_title(title)
    path = _check_path(path)
    latents = _as_array("latents", latents, 2)
    N, K = latents.shape
    if N == 0:
        raise ValueError("latents must have at least one row")
    if K < 3:
        raise ValueError(f"latents must have at least 3 columns (latent dims), got {K}")
    for name, a in (("recon_rgb", recon_rgb), ("true_rgb", true_rgb)):
        shape = np.shape(a)
        if shape != (N, 3):
            raise ValueError(f"{name} must have shape [N, 3] = {(N, 3)} (N = len(latents)), "
                             f"got {shape}")
    q = _SPHERE_LEVELS
    recon = np.round(_clip_rgb(np.asarray(recon_rgb, float)) * q) / q
    true = np.round(_clip_rgb(np.asarray(true_rgb, float)) * q) / q

    try:
        dims_t = [tuple(int(d) for d in triple) for triple in dims]
    except TypeError:
        raise ValueError(f"dims must be a sequence of (x, y, z) triples, got {dims!r}") from None
    if not dims_t:
        raise ValueError("dims must contain at least one (x, y, z) triple")
    for triple in dims_t:
        if len(triple) != 3 or len(set(triple)) != 3 or not all(0 <= d < K for d in triple):
            raise ValueError(f"each dims entry must be 3 distinct latent indices in [0, {K}), "
                             f"got {triple}")

    cones_t = []
    for i, cone in enumerate(cones):
        try:
            concept, half_angle, style = cone
        except (TypeError, ValueError):
            raise ValueError(f"cones[{i}] must be (concept_vector, half_angle_radians, style), "
                             f"got {cone!r}") from None
        concept = np.asarray(concept, float)
        if concept.shape != (K,):
            raise ValueError(f"cones[{i}] concept vector must have shape ({K},), "
                             f"got {concept.shape}")
        half_angle = float(half_angle)
        if not (np.all(np.isfinite(concept)) and math.isfinite(half_angle)):
            raise ValueError(f"cones[{i}] must be finite")
        if style not in ("dashed", "solid"):
            raise ValueError(f"cones[{i}] style must be 'dashed' or 'solid', got {style!r}")
        cones_t.append((concept, half_angle, style))

    from matplotlib.patches import Circle

    P = len(dims_t)
    fig = _new_figure((4.0 * P, 4.45), facecolor=_DARK_BG)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.06, top=0.84, wspace=0.04)
    axes = fig.subplots(1, P, squeeze=False)[0]

    # marker sizes (points^2) scaled down for many points
    dens = min(1.0, math.sqrt(3000.0 / N))
    s_near, s_far = _S_NEAR * dens, 0.5 * _S_NEAR * dens
    s_dot = 0.2 * s_near

    colored = []  # (scatter, its colors) for requantizing if the PNG is too large
    for ax, (x, y, z) in zip(axes, dims_t):
        ax.set_facecolor(_DARK_BG)
        ax.add_patch(Circle((0, 0), 1.0, facecolor="black", edgecolor="#9a9a9a", lw=1.2,
                            zorder=0))
        zc = latents[:, z]
        ok = np.isfinite(latents[:, [x, y, z]]).all(axis=1)
        far = ok & (zc < 0)
        near = ok & (zc >= 0)
        fi = np.flatnonzero(far)
        fi = fi[np.argsort(zc[fi], kind="stable")]
        ni = np.flatnonzero(near)
        ni = ni[np.argsort(zc[ni], kind="stable")]
        if fi.size:
            sc = ax.scatter(latents[fi, x], latents[fi, y], s=s_far, c=recon[fi] * 0.35,
                            linewidths=0, zorder=1, antialiased=False)
            colored.append((sc, recon[fi] * 0.35))
        # far cone parts go between far and near points
        for concept, half_angle, style in cones_t:
            pts = _cone_circle(concept[[x, y, z]], half_angle)
            if pts is None:
                continue
            front, back = _split_front_back(pts)
            ax.plot(back[:, 0], back[:, 1], color="#bbbbbb", lw=0.8, alpha=0.45,
                    linestyle=style, zorder=2)
            ax.plot(front[:, 0], front[:, 1], color="#f2f2f2", lw=1.6, linestyle=style,
                    zorder=5, path_effects=_outlined(1.6, "black"))
        if ni.size:
            # one scatter with each disc immediately followed by its dot, so a nearer disc
            # covers both the disc and the dot of a farther point
            xy = np.repeat(latents[ni][:, [x, y]], 2, axis=0)
            sizes = np.tile([s_near, s_dot], ni.size)
            cols = np.stack([recon[ni], true[ni]], axis=1).reshape(-1, 3)
            sc = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=cols, linewidths=0, zorder=3,
                            antialiased=False)
            colored.append((sc, cols))
        ax.set_xlim(-1.08, 1.08)
        ax.set_ylim(-1.08, 1.08)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"dims ({x}, {y}, {z})", color=_LIGHT_TEXT, fontsize=11, pad=3)
        ax.set_xlabel(f"→ dim {x}   ↑ dim {y}   viewer at +dim {z}", color="#bbbbbb",
                      fontsize=8, labelpad=2)

    fig.suptitle(title, color=_LIGHT_TEXT, fontsize=12)
    fig.text(0.5, 0.905, "disc = reconstruction, center dot = true color; "
             "far hemisphere dimmed", ha="center", color="#bbbbbb", fontsize=8)

    def coarser_colors(step: int) -> bool:
        # very varied point colors (e.g. random data) compress badly: fewer levels per channel
        levels = {1: 31.0, 2: 15.0, 3: 7.0}.get(step)
        if levels is None:
            return False
        for sc, cols in colored:
            sc.set_facecolor(np.round(cols * levels) / levels)
        return True

    return _save(fig, path, shrink=coarser_colors)
