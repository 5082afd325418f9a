"""The population figure: how each metric is distributed over the members of one run.

Without a grid: one panel per metric, a box plot with every member as a jittered point. With a grid
over one key: one panel per metric, the median over seeds at each grid value with the interquartile
band (25th–75th percentile), log x when the grid values are positive and span more than a decade.
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
    for ax, name in zip(axes, names):
        values = np.array([row[name] for row in rows], dtype=float)
        if key is None:
            ax.boxplot(values[np.isfinite(values)], widths=0.5, showfliers=False)
            jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(values))
            ax.scatter(1 + jitter, values, s=8, alpha=0.6, color="tab:blue", zorder=3)
            ax.set_xticks([1], [f"{len(values)} members"])
        else:
            x = np.array([row[key] for row in rows], dtype=float)
            points = np.unique(x)
            with np.errstate(all="ignore"):
                q25, q50, q75 = (
                    np.array([np.nanpercentile(values[x == p], q) for p in points]) for q in (25, 50, 75)
                )
            ax.fill_between(points, q25, q75, alpha=0.25, color="tab:blue", label="IQR")
            ax.plot(points, q50, "o-", color="tab:blue", label="median")
            if (points > 0).all() and points.max() / points.min() > 10:
                ax.set_xscale("log")
            ax.set_xlabel(key, fontsize=8)
            if ax is axes[0]:
                ax.legend(fontsize=7)
        if _log_scale(name, values):
            ax.set_yscale("log")
        ax.set_title(name, fontsize=9)
        ax.grid(alpha=0.3)
    seeds = len({row["seed"] for row in rows})
    fig.suptitle(
        f"Population: {len(rows)} members, {seeds} seeds" + (f", grid over {key}" if key else ""), fontsize=11
    )
    return save(fig, path)
