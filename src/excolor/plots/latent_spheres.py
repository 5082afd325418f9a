"""Figure 3, latent spheres: the (unit-norm) latents as points on a sphere in orthographic 3-D
views, each point in its reconstructed color with a dot of its true color, and optional cones
(the circle at a given angle from a concept vector) drawn over them."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from excolor.plots._common import (
    DARK_BG,
    LIGHT_TEXT,
    as_array,
    check_path,
    check_title,
    clip_rgb,
    new_figure,
    outlined,
    save,
)

# Marker area (points^2) of a near point's disc at N <= 3000; scaled by sqrt(3000 / N) above.
_S_NEAR = 45.0
# Color levels per channel for the sphere points. Antialiasing off and 6-bit colors keep the PNG
# of 8000 overlapping multicolored dots under ~300 KB; the difference is not visible.
_SPHERE_LEVELS = 63.0


# --------------------------------------------------------------------------------------------
# geometry


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
    return math.cos(half_angle) * v[None, :] + math.sin(half_angle) * (
        np.cos(phi)[:, None] * e1 + np.sin(phi)[:, None] * e2
    )


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


# --------------------------------------------------------------------------------------------
# argument checks


def _check_dims(dims, K: int) -> list[tuple[int, ...]]:
    try:
        dims_t = [tuple(int(d) for d in triple) for triple in dims]
    except TypeError:
        raise ValueError(f"dims must be a sequence of (x, y, z) triples, got {dims!r}") from None
    if not dims_t:
        raise ValueError("dims must contain at least one (x, y, z) triple")
    for triple in dims_t:
        if len(triple) != 3 or len(set(triple)) != 3 or not all(0 <= d < K for d in triple):
            raise ValueError(f"each dims entry must be 3 distinct latent indices in [0, {K}), got {triple}")
    return dims_t


def _check_cones(cones, K: int) -> list[tuple[np.ndarray, float, str]]:
    cones_t = []
    for i, cone in enumerate(cones):
        try:
            concept, half_angle, style = cone
        except (TypeError, ValueError):
            raise ValueError(
                f"cones[{i}] must be (concept_vector, half_angle_radians, style), got {cone!r}"
            ) from None
        concept = np.asarray(concept, float)
        if concept.shape != (K,):
            raise ValueError(f"cones[{i}] concept vector must have shape ({K},), got {concept.shape}")
        half_angle = float(half_angle)
        if not (np.all(np.isfinite(concept)) and math.isfinite(half_angle)):
            raise ValueError(f"cones[{i}] must be finite")
        if style not in ("dashed", "solid"):
            raise ValueError(f"cones[{i}] style must be 'dashed' or 'solid', got {style!r}")
        cones_t.append((concept, half_angle, style))
    return cones_t


# --------------------------------------------------------------------------------------------
# the figure


def plot_latent_spheres(
    latents, recon_rgb, true_rgb, title, path, dims=((1, 0, 2), (1, 2, 0), (1, 3, 0)), cones=()
) -> Path:
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
    title = check_title(title)
    path = check_path(path)
    latents = as_array("latents", latents, 2)
    N, K = latents.shape
    if N == 0:
        raise ValueError("latents must have at least one row")
    if K < 3:
        raise ValueError(f"latents must have at least 3 columns (latent dims), got {K}")
    for name, a in (("recon_rgb", recon_rgb), ("true_rgb", true_rgb)):
        shape = np.shape(a)
        if shape != (N, 3):
            raise ValueError(f"{name} must have shape [N, 3] = {(N, 3)} (N = len(latents)), got {shape}")
    q = _SPHERE_LEVELS
    recon = np.round(clip_rgb(np.asarray(recon_rgb, float)) * q) / q
    true = np.round(clip_rgb(np.asarray(true_rgb, float)) * q) / q
    dims_t = _check_dims(dims, K)
    cones_t = _check_cones(cones, K)

    from matplotlib.patches import Circle

    P = len(dims_t)
    fig = new_figure((4.0 * P, 4.45), facecolor=DARK_BG)
    fig.subplots_adjust(left=0.01, right=0.99, bottom=0.06, top=0.84, wspace=0.04)
    axes = fig.subplots(1, P, squeeze=False)[0]

    # marker sizes (points^2) scaled down for many points
    dens = min(1.0, math.sqrt(3000.0 / N))
    s_near, s_far = _S_NEAR * dens, 0.5 * _S_NEAR * dens
    s_dot = 0.2 * s_near

    colored = []  # (scatter, its colors) for requantizing if the PNG is too large
    for ax, (x, y, z) in zip(axes, dims_t):
        ax.set_facecolor(DARK_BG)
        ax.add_patch(Circle((0, 0), 1.0, facecolor="black", edgecolor="#9a9a9a", lw=1.2, zorder=0))
        zc = latents[:, z]
        ok = np.isfinite(latents[:, [x, y, z]]).all(axis=1)
        far = ok & (zc < 0)
        near = ok & (zc >= 0)
        fi = np.flatnonzero(far)
        fi = fi[np.argsort(zc[fi], kind="stable")]
        ni = np.flatnonzero(near)
        ni = ni[np.argsort(zc[ni], kind="stable")]
        if fi.size:
            sc = ax.scatter(
                latents[fi, x],
                latents[fi, y],
                s=s_far,
                c=recon[fi] * 0.35,
                linewidths=0,
                zorder=1,
                antialiased=False,
            )
            colored.append((sc, recon[fi] * 0.35))
        # far cone parts go between far and near points
        for concept, half_angle, style in cones_t:
            pts = _cone_circle(concept[[x, y, z]], half_angle)
            if pts is None:
                continue
            front, back = _split_front_back(pts)
            ax.plot(back[:, 0], back[:, 1], color="#bbbbbb", lw=0.8, alpha=0.45, linestyle=style, zorder=2)
            ax.plot(
                front[:, 0],
                front[:, 1],
                color="#f2f2f2",
                lw=1.6,
                linestyle=style,
                zorder=5,
                path_effects=outlined(1.6, "black"),
            )
        if ni.size:
            # one scatter with each disc immediately followed by its dot, so a nearer disc
            # covers both the disc and the dot of a farther point
            xy = np.repeat(latents[ni][:, [x, y]], 2, axis=0)
            sizes = np.tile([s_near, s_dot], ni.size)
            cols = np.stack([recon[ni], true[ni]], axis=1).reshape(-1, 3)
            sc = ax.scatter(xy[:, 0], xy[:, 1], s=sizes, c=cols, linewidths=0, zorder=3, antialiased=False)
            colored.append((sc, cols))
        ax.set_xlim(-1.08, 1.08)
        ax.set_ylim(-1.08, 1.08)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_title(f"dims ({x}, {y}, {z})", color=LIGHT_TEXT, fontsize=11, pad=3)
        ax.set_xlabel(f"→ dim {x}   ↑ dim {y}   viewer at +dim {z}", color="#bbbbbb", fontsize=8, labelpad=2)

    fig.suptitle(title, color=LIGHT_TEXT, fontsize=12)
    fig.text(
        0.5,
        0.905,
        "disc = reconstruction, center dot = true color; far hemisphere dimmed",
        ha="center",
        color="#bbbbbb",
        fontsize=8,
    )

    def coarser_colors(step: int) -> bool:
        # very varied point colors (e.g. random data) compress badly: fewer levels per channel
        levels = {1: 31.0, 2: 15.0, 3: 7.0}.get(step)
        if levels is None:
            return False
        for sc, cols in colored:
            sc.set_facecolor(np.round(cols * levels) / levels)
        return True

    return save(fig, path, shrink=coarser_colors)
