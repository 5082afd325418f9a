"""The sweep report's figures: ``metrics.png``, ``dose.png`` and ``optuna.png``.

- `plot_metrics`: one panel per metric, a box (quartiles, orange median) plus jittered
  points (one per population member) for each arm; log y for MSE-like metrics when all values are > 0.
- `plot_dose`: one panel per metric, metric vs the dose key: per series a line through the
  medians and a band from the 25th to the 75th percentile over members; log x for log-spaced
  doses; on hypothesis metrics, markers where treatment is significantly better (▲ green) or
  worse (▼ red) than control after Holm.
- `plot_optuna`: a grid of param-vs-objective scatters (rows: objectives, columns: params),
  the top trials / Pareto front in red; categorical params are jittered, log-distributed
  params get a log x axis.

matplotlib is imported only when a figure is drawn; jitter is seeded, so figures are reproducible.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from excolor.optuna_study import completed
from excolor.report_format import fmt_value

DPI = 100


def _use_log(name: str, values: np.ndarray) -> bool:
    """A log scale for MSE-like (``mse``/``recon``) quantities whose values are all positive."""
    n = name.lower()
    return ("mse" in n or "recon" in n) and values.size > 0 and bool(np.all(values > 0))


def plot_metrics(result: dict, path: Path) -> Path | None:
    """Per-arm box + strip plots of the analysed metrics; None (nothing written) without data."""
    from matplotlib.figure import Figure

    metrics = result["metric_names"]
    arms = [a for a in result["arms"] if a["n_members"] > 0]
    if not metrics or not arms:
        return None
    labels = [a["arm"].replace(", ", "\n") for a in arms]
    longest = max(len(x) for s in labels for x in s.split("\n"))
    per_arm = min(max(0.75, 0.075 * longest), 1.3)
    w = max(3.2, per_arm * len(arms) + 1.2)
    rotate = 0.075 * longest > per_arm
    ncols = max(1, min(3, len(metrics), int(13 // w)))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(w * ncols, 3.3 * nrows + 0.4), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    rng = np.random.default_rng(0)
    most = max(a["n_members"] for a in arms)
    point_size, point_alpha = (14, 0.75) if most <= 50 else (6, 0.4) if most <= 500 else (2, 0.25)

    for ax, m in zip(axes, metrics):
        data = []
        for a in arms:
            v = np.array([x for x in a["metrics"][m]["values"] if x is not None], dtype=float)
            data.append(v[np.isfinite(v)])
        allv = np.concatenate(data) if data else np.array([])
        log = _use_log(m, allv)
        pos = np.arange(1, len(arms) + 1)
        nonempty = [i for i, d in enumerate(data) if d.size]
        if nonempty:
            ax.boxplot([data[i] for i in nonempty], positions=pos[nonempty], widths=0.55,
                       showfliers=False, medianprops={"color": "tab:orange", "linewidth": 1.5},
                       boxprops={"color": "0.35"}, whiskerprops={"color": "0.35"}, capprops={"color": "0.35"})
        for i, d in enumerate(data):
            x = pos[i] + rng.uniform(-0.15, 0.15, d.size)
            ax.scatter(x, d, s=point_size, alpha=point_alpha, color="tab:blue", zorder=3, linewidths=0)
        if log:
            ax.set_yscale("log")
        ax.set_xticks(pos)
        ax.set_xticklabels(labels, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
        ax.set_xlim(0.4, len(arms) + 0.6)
        ax.set_title(m, fontsize=9)
        ax.tick_params(axis="y", which="both", labelsize=8)
        ax.grid(axis="y", alpha=0.3, which="both" if log else "major")
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    counts = sorted({a["n_members"] for a in arms})
    n_text = f"n = {counts[0]} per arm" if len(counts) == 1 else f"n = {counts[0]}–{counts[-1]} per arm"
    fig.suptitle(f"per-arm metrics over population members ({n_text})\n"
                 f"box: quartiles, orange: median; points: members", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


SERIES_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink")
_UNITS = {"seconds": "s"}


def _axis_label(name: str) -> str:
    """A metric name with its unit where it has one (``train/seconds (s)``)."""
    unit = next((u for k, u in _UNITS.items() if k in name), None)
    return f"{name} ({unit})" if unit else name


def plot_dose(dose: dict, path: Path) -> Path | None:
    """The dose–response figure of `excolor.dose.analyse_dose`; None (nothing written) without data."""
    from matplotlib.figure import Figure
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.patches import Patch

    if not dose or dose.get("error") or not dose["bands"]:
        return None
    metrics = list(dose["bands"])
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.4 * nrows + 0.9), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    effects = {e["metric"]: e for e in dose["effects"]}
    handles, counts = {}, set()
    for ax, metric in zip(axes, metrics):
        values = []
        for i, (label, band) in enumerate(dose["bands"][metric].items()):
            shown = [b for b in band if b["n"]]
            x = np.array([b["x"] for b in shown], dtype=float)
            median, q25, q75 = (np.array([b[k] for b in shown], dtype=float) for k in ("median", "q25", "q75"))
            counts.update(b["n"] for b in shown)
            color = SERIES_COLORS[i % len(SERIES_COLORS)]
            (line,) = ax.plot(x, median, "-o", color=color, markersize=3.5, linewidth=1.6)
            ax.fill_between(x, q25, q75, color=color, alpha=0.2, linewidth=0)
            handles.setdefault(label, (line, Patch(color=color, alpha=0.2, linewidth=0)))
            values += [q25, q75, median]
        finite = np.concatenate(values) if values else np.array([])
        finite = finite[np.isfinite(finite)]
        if dose["log_x"]:
            ax.set_xscale("log")
        if _use_log(metric, finite):
            ax.set_yscale("log")
        if metric in effects:
            _mark_significant(ax, effects[metric])
        ax.set_xlabel(dose["key"], fontsize=8)
        ax.set_ylabel(_axis_label(metric), fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(which="both", labelsize=8)
        ax.grid(alpha=0.3, which="both" if dose["log_x"] else "major")
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.legend(list(handles.values()), [f"{label}: median, IQR band" for label in handles],
               loc="outside lower center", ncols=min(3, len(handles)), fontsize=8, frameon=False,
               handler_map={tuple: HandlerTuple(ndivide=1)})
    n = sorted(counts)
    n_text = (f"{n[0]}" if n[0] == n[-1] else f"{n[0]}–{n[-1]}") if n else "0"
    fig.suptitle(f"dose response: median and IQR over members ({n_text} per point) vs {dose['key']}", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


def _mark_significant(ax, effect: dict) -> None:
    """▲ (green) / ▼ (red) along the top of the panel where treatment is better / worse than
    control after Holm across the doses; a small legend names them."""
    from matplotlib.transforms import blended_transform_factory

    from excolor.dose import BETTER, WORSE

    top = blended_transform_factory(ax.transData, ax.transAxes)
    treatment = ", ".join(f"{k.split('.')[-1]}={fmt_value(v)}" for k, v in effect["treatment"].items())
    marked = False
    for direction, marker, color in ((BETTER, "^", "tab:green"), (WORSE, "v", "tab:red")):
        xs = [r["x"] for r in effect["rows"] if r["direction"] == direction]
        if xs:
            ax.scatter(xs, [1.0] * len(xs), marker=marker, color=color, s=40, transform=top, zorder=4,
                       label=f"{treatment} {direction}", clip_on=False)
            marked = True
    if marked:
        ax.legend(fontsize=7, loc="best", title="Holm p < 0.05", title_fontsize=7, framealpha=0.85)


def _is_log_dist(d: Any) -> bool:
    return bool(getattr(d, "log", False)) or type(d).__name__ in ("LogUniformDistribution", "IntLogUniformDistribution")


def plot_optuna(info: dict, trials: list, path: Path) -> Path | None:
    """Param-vs-objective scatter grid of a study (summary ``info`` from `load_optuna`); None without data."""
    from matplotlib.figure import Figure

    params, objectives = info["params"], info["objectives"]
    done = completed(trials)
    if not params or not done:
        return None
    best = set(info["best_numbers"])
    dists: dict[str, Any] = {}
    for t in done:
        for p, d in t.distributions.items():
            dists.setdefault(p, d)
    nr, nc = len(objectives), len(params)
    fig = Figure(figsize=(2.8 * nc + 0.6, 2.4 * nr + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(nr, nc, squeeze=False)
    jit = np.random.default_rng(0)
    for j, p in enumerate(params):
        d = dists.get(p)
        cats = list(d.choices) if type(d).__name__ == "CategoricalDistribution" else None
        for i, obj in enumerate(objectives):
            ax = axes[i][j]
            for group, style in ((False, {"color": "0.55", "s": 16, "alpha": 0.7, "label": "trial"}),
                                 (True, {"color": "tab:red", "s": 30, "edgecolors": "k", "linewidths": 0.6,
                                         "label": info["best_label"], "zorder": 3})):
                pts = [t for t in done if p in t.params and (t.number in best) == group]
                if not pts:
                    continue
                xs = np.array([cats.index(t.params[p]) if cats else t.params[p] for t in pts], dtype=float)
                if cats:  # jitter so coincident categorical points stay visible
                    xs = xs + jit.uniform(-0.12, 0.12, xs.size)
                ys = [t.values[i] for t in pts]
                ax.scatter(xs, ys, **style)
            if cats:
                ax.set_xticks(range(len(cats)))
                ax.set_xticklabels([fmt_value(c) for c in cats], fontsize=7)
                ax.set_xlim(-0.5, len(cats) - 0.5)
            elif d is not None and _is_log_dist(d):
                ax.set_xscale("log")
            if _use_log(obj, np.array([t.values[i] for t in done], dtype=float)):
                ax.set_yscale("log")
            if i == nr - 1:
                ax.set_xlabel(p, fontsize=8)
            if j == 0:
                ax.set_ylabel(obj, fontsize=8)
            ax.tick_params(which="both", labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(f"Optuna study {info['study']}: params vs objectives", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path
