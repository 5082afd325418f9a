"""The population figure: how each metric is distributed over the members of one run.

Without a grid: one panel per metric, a box plot with every member as a jittered point. With a grid:
one panel per metric, the median over seeds at each value of the first grid key with the interquartile
band (25th–75th percentile), log x when the grid values are positive and span more than a decade; a
second grid key with at most `SERIES` values gets one line and band per value; further keys are
pooled (the title says so).
MSE-like metrics (`…_mse`, `…recon`) are drawn on a log y axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from excolor.metrics import BASELINE, MAX_MSE, MEDIAN_MSE, SCORE, TRAIN_RECON, eval_name
from excolor.plots._common import check_path, new_figure, save

METRICS = (
    eval_name(BASELINE, MEDIAN_MSE),
    eval_name(BASELINE, MAX_MSE),
    eval_name("suppression", SCORE),
    eval_name("suppression", MAX_MSE),
    eval_name("repulsion", SCORE),
    eval_name("repulsion", MAX_MSE),
    TRAIN_RECON,
)


SERIES = 6  # the most values of a second grid key drawn as lines of their own
COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown")


def _log_scale(name: str, values: np.ndarray) -> bool:
    finite = values[np.isfinite(values)]
    return (name.endswith("_mse") or name.endswith("recon")) and len(finite) > 0 and bool((finite > 0).all())


def plot_population(rows: list[dict], grid_keys: list[str], path, metrics=METRICS) -> Path:
    """One panel per metric in `metrics` present in `rows` (members.csv's rows). With `grid_keys`,
    x is the first grid key: median and IQR band over the members at each value."""
    path = check_path(path)
    names = [name for name in metrics if rows and name in rows[0]]
    if not names:
        raise ValueError("plot_population: the rows hold none of the metrics to draw")
    columns = min(len(names), 4)
    lines = -(-len(names) // columns)
    fig = new_figure((3.6 * columns, 3.0 * lines))
    fig.set_layout_engine("constrained")
    axes = fig.subplots(lines, columns, squeeze=False).ravel()
    for ax in axes[len(names) :]:
        ax.set_visible(False)
    key = grid_keys[0] if grid_keys else None
    second = grid_keys[1] if len(grid_keys) > 1 else None
    series = sorted({row[second] for row in rows}) if second else [None]
    if len(series) > SERIES:
        second, series = None, [None]
    for ax, name in zip(axes, names):
        values = np.array([row[name] for row in rows], dtype=float)
        if key is None:
            ax.boxplot(values[np.isfinite(values)], widths=0.5, showfliers=False)
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(values))
            ax.scatter(1 + jitter, values, s=8, alpha=0.6, color="tab:blue", zorder=3)
            ax.set_xticks([1], [f"{len(values)} members"])
        else:
            x = np.array([row[key] for row in rows], dtype=float)
            for color, level in zip(COLORS, series):
                member = np.array([second is None or row[second] == level for row in rows])
                points = np.unique(x[member])
                with np.errstate(all="ignore"):
                    q25, q50, q75 = (
                        np.array([np.nanpercentile(values[member & (x == p)], q) for p in points])
                        for q in (25, 50, 75)
                    )
                label = "median" if second is None else f"{second.rsplit('.', 1)[-1]} = {level:g}"
                ax.fill_between(points, q25, q75, alpha=0.2, color=color)
                ax.plot(points, q50, "o-", color=color, label=label)
            if (x > 0).all() and x.max() / x.min() > 10:
                ax.set_xscale("log")
            ax.set_xlabel(key, fontsize=8)
            if ax is axes[0]:
                ax.legend(fontsize=7, title=None if second is None else "median, IQR band", title_fontsize=7)
        if _log_scale(name, values):
            ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    seeds = len({row["seed"] for row in rows})
    over = ", ".join(k for k in (key, second) if k)
    pooled = [k for k in grid_keys if k not in (key, second)]
    title = f"Population: {len(rows)} members, {seeds} seeds" + (f", grid over {over}" if over else "")
    fig.suptitle(title + (f" (pooled over {', '.join(pooled)})" if pooled else ""), fontsize=11)
    return save(fig, path)
