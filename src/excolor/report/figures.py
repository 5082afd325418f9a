"""The sweep report's figures: ``metrics.png``, ``dose.png``, ``optuna.png`` and ``pareto.png``.

- `plot_metrics`: one panel per metric, a box (quartiles, orange median) plus jittered
  points (one per population member) for each arm; log y for MSE-like metrics when all values are > 0.
- `plot_dose`: one panel per metric, metric vs the dose key: per series a line through the
  medians and a band from the 25th to the 75th percentile over members; log x for log-spaced
  doses; on hypothesis metrics, markers where treatment is significantly better (▲ green) or
  worse (▼ red) than control after Holm.
- `plot_optuna`: a grid of param-vs-objective scatters (rows: objectives, columns: params),
  the top trials / Pareto front in red; categorical params are jittered, log-distributed
  params get a log x axis; a reference trial (``enqueue_trials``) is a labelled black diamond.
- `plot_pareto` (``pareto.png``, two objectives): objective vs objective, every complete trial, the
  Pareto front in red joined by its staircase, each reference trial a labelled black diamond.

matplotlib is imported only when a figure is drawn; jitter is seeded, so figures are reproducible.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from excolor.report.dose import BETTER, WORSE
from excolor.report.format import fmt_value, values_label
from excolor.report.optuna_study import completed
from excolor.report.reference import better_side
from excolor.report.result import DoseEffect, DoseResult, NoDose, StudyResult, SweepResult

DPI = 100
# A reference trial (``enqueue_trials``): the same black diamond in every figure (◆ in the tables).
REFERENCE_STYLE = {"marker": "D", "color": "k", "s": 46, "zorder": 4, "edgecolors": "w", "linewidths": 0.8}


def _use_log(name: str, values: np.ndarray) -> bool:
    """A log scale for MSE-like (``mse``/``recon``) quantities whose values are all positive."""
    lowered = name.lower()
    return ("mse" in lowered or "recon" in lowered) and values.size > 0 and bool(np.all(values > 0))


def plot_metrics(result: SweepResult, path: Path) -> Path | None:
    """Per-arm box + strip plots of the analysed metrics; None (nothing written) without data."""
    from matplotlib.figure import Figure

    metrics = result.metric_names
    arms = [arm for arm in result.arms if arm.n_members > 0]
    if not metrics or not arms:
        return None
    labels = [arm.label.replace(", ", "\n") for arm in arms]
    longest = max(len(line) for label in labels for line in label.split("\n"))
    per_arm = min(max(0.75, 0.075 * longest), 1.3)
    panel_width = max(3.2, per_arm * len(arms) + 1.2)
    rotate = 0.075 * longest > per_arm
    ncols = max(1, min(3, len(metrics), int(13 // panel_width)))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(panel_width * ncols, 3.3 * nrows + 0.4), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    jitter = np.random.default_rng(0)
    most = max(arm.n_members for arm in arms)
    point_size, point_alpha = (14, 0.75) if most <= 50 else (6, 0.4) if most <= 500 else (2, 0.25)

    for ax, metric in zip(axes, metrics):
        data = []
        for arm in arms:
            values = np.array(
                [value for value in arm.metrics[metric].values if value is not None], dtype=float
            )
            data.append(values[np.isfinite(values)])
        all_values = np.concatenate(data) if data else np.array([])
        log = _use_log(metric, all_values)
        positions = np.arange(1, len(arms) + 1)
        nonempty = [index for index, arm_values in enumerate(data) if arm_values.size]
        if nonempty:
            ax.boxplot(
                [data[index] for index in nonempty],
                positions=positions[nonempty],
                widths=0.55,
                showfliers=False,
                medianprops={"color": "tab:orange", "linewidth": 1.5},
                boxprops={"color": "0.35"},
                whiskerprops={"color": "0.35"},
                capprops={"color": "0.35"},
            )
        for position, arm_values in zip(positions, data):
            x = position + jitter.uniform(-0.15, 0.15, arm_values.size)
            ax.scatter(
                x, arm_values, s=point_size, alpha=point_alpha, color="tab:blue", zorder=3, linewidths=0
            )
        if log:
            ax.set_yscale("log")
        ax.set_xticks(positions)
        ax.set_xticklabels(
            labels, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8
        )
        ax.set_xlim(0.4, len(arms) + 0.6)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(axis="y", which="both", labelsize=8)
        ax.grid(axis="y", alpha=0.3, which="both" if log else "major")
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    counts = sorted({arm.n_members for arm in arms})
    n_text = f"n = {counts[0]} per arm" if len(counts) == 1 else f"n = {counts[0]}–{counts[-1]} per arm"
    fig.suptitle(
        f"per-arm metrics over population members ({n_text})\n"
        f"box: quartiles, orange: median; points: members",
        fontsize=9,
    )
    fig.savefig(path, dpi=DPI)
    return path


SERIES_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:purple", "tab:brown", "tab:pink")
_UNITS = {"seconds": "s"}


def _axis_label(name: str) -> str:
    """A metric name with its unit where it has one (``train/seconds (s)``)."""
    unit = next((unit for word, unit in _UNITS.items() if word in name), None)
    return f"{name} ({unit})" if unit else name


def plot_dose(dose: DoseResult | NoDose | None, path: Path) -> Path | None:
    """The dose–response figure of `excolor.report.dose.analyse_dose`; None (nothing written) without data."""
    from matplotlib.figure import Figure
    from matplotlib.legend_handler import HandlerTuple
    from matplotlib.patches import Patch

    if not isinstance(dose, DoseResult) or not dose.bands:
        return None
    metrics = list(dose.bands)
    ncols = min(2, len(metrics))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(5.2 * ncols, 3.4 * nrows + 0.9), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    effects = {effect.metric: effect for effect in dose.effects}
    handles, counts = {}, set()
    for ax, metric in zip(axes, metrics):
        values = []
        for series_index, (label, bands) in enumerate(dose.bands[metric].items()):
            shown = [band for band in bands if band.n]
            x = np.array([band.x for band in shown], dtype=float)
            median, q25, q75 = (
                np.array([getattr(band, statistic) for band in shown], dtype=float)
                for statistic in ("median", "q25", "q75")
            )
            counts.update(band.n for band in shown)
            color = SERIES_COLORS[series_index % len(SERIES_COLORS)]
            (line,) = ax.plot(x, median, "-o", color=color, markersize=3.5, linewidth=1.6)
            ax.fill_between(x, q25, q75, color=color, alpha=0.2, linewidth=0)
            handles.setdefault(label, (line, Patch(color=color, alpha=0.2, linewidth=0)))
            values += [q25, q75, median]
        finite = np.concatenate(values) if values else np.array([])
        finite = finite[np.isfinite(finite)]
        if dose.log_x:
            ax.set_xscale("log")
        if _use_log(metric, finite):
            ax.set_yscale("log")
        if metric in effects:
            _mark_significant(ax, effects[metric])
        ax.set_xlabel(dose.key, fontsize=8)
        ax.set_ylabel(_axis_label(metric), fontsize=8)
        ax.set_title(metric, fontsize=9)
        ax.tick_params(which="both", labelsize=8)
        ax.grid(alpha=0.3, which="both" if dose.log_x else "major")
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.legend(
        list(handles.values()),
        [f"{label}: median, IQR band" for label in handles],
        loc="outside lower center",
        ncols=min(3, len(handles)),
        fontsize=8,
        frameon=False,
        handler_map={tuple: HandlerTuple(ndivide=1)},
    )
    sizes = sorted(counts)
    n_text = (f"{sizes[0]}" if sizes[0] == sizes[-1] else f"{sizes[0]}–{sizes[-1]}") if sizes else "0"
    fig.suptitle(f"dose response: median and IQR over members ({n_text} per point) vs {dose.key}", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


def _mark_significant(ax, effect: DoseEffect) -> None:
    """▲ (green) / ▼ (red) along the top of the panel where treatment is better / worse than
    control after Holm across the doses; a small legend names them."""
    from matplotlib.transforms import blended_transform_factory

    top = blended_transform_factory(ax.transData, ax.transAxes)
    treatment = values_label(effect.treatment)
    marked = False
    for direction, marker, color in ((BETTER, "^", "tab:green"), (WORSE, "v", "tab:red")):
        xs = [row.x for row in effect.rows if row.direction == direction]
        if xs:
            ax.scatter(
                xs,
                [1.0] * len(xs),
                marker=marker,
                color=color,
                s=40,
                transform=top,
                zorder=4,
                label=f"{treatment} {direction}",
                clip_on=False,
            )
            marked = True
    if marked:
        ax.legend(fontsize=7, loc="best", title="Holm p < 0.05", title_fontsize=7, framealpha=0.85)


def _is_log_distribution(distribution: Any) -> bool:
    return bool(getattr(distribution, "log", False)) or type(distribution).__name__ in (
        "LogUniformDistribution",
        "IntLogUniformDistribution",
    )


def _log_x(ax: Any) -> None:
    """A log x axis labelled at 1, 2 and 5 per decade in plain numbers (0.2, 1, 5): matplotlib's
    default labels the minor ticks of an axis spanning under two decades, and they overlap."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_xscale("log")
    ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())


def plot_optuna(study: StudyResult, trials: list, path: Path) -> Path | None:
    """Param-vs-objective scatter grid of a study (its summary from `load_optuna`, its Optuna
    trials); None without data."""
    from matplotlib.figure import Figure
    from optuna.distributions import CategoricalDistribution

    params, objectives = study.params, study.objectives
    done = completed(trials)
    if not params or not done:
        return None
    best = set(study.best_numbers)
    distributions: dict[str, Any] = {}
    for trial in done:
        for param, distribution in trial.distributions.items():
            distributions.setdefault(param, distribution)
    nrows, ncols = len(objectives), len(params)
    fig = Figure(figsize=(2.8 * ncols + 0.6, 2.4 * nrows + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False)
    jitter = np.random.default_rng(0)
    for column, param in enumerate(params):
        distribution = distributions.get(param)
        choices = list(distribution.choices) if isinstance(distribution, CategoricalDistribution) else None
        for row, objective in enumerate(objectives):
            ax = axes[row][column]
            for is_best, style in (
                (False, {"color": "0.55", "s": 16, "alpha": 0.7, "label": "trial"}),
                (
                    True,
                    {
                        "color": "tab:red",
                        "s": 30,
                        "edgecolors": "k",
                        "linewidths": 0.6,
                        "label": study.best_label,
                        "zorder": 3,
                    },
                ),
            ):
                points = [
                    trial for trial in done if param in trial.params and (trial.number in best) == is_best
                ]
                if not points:
                    continue
                xs = np.array(
                    [
                        choices.index(trial.params[param]) if choices else trial.params[param]
                        for trial in points
                    ],
                    dtype=float,
                )
                if choices:  # jitter so coincident categorical points stay visible
                    xs = xs + jitter.uniform(-0.12, 0.12, xs.size)
                ys = [trial.values[row] for trial in points]
                ax.scatter(xs, ys, **style)
            for reference in study.references:
                if param in reference.params:
                    x = reference.params[param]
                    ax.scatter(
                        [choices.index(x) if choices else x],
                        [reference.values[row]],
                        label=f"{reference.label} (trial {reference.number})",
                        **REFERENCE_STYLE,
                    )
            if choices:
                ax.set_xticks(range(len(choices)))
                ax.set_xticklabels([fmt_value(choice) for choice in choices], fontsize=7)
                ax.set_xlim(-0.5, len(choices) - 0.5)
            elif distribution is not None and _is_log_distribution(distribution):
                _log_x(ax)
            if _use_log(objective, np.array([trial.values[row] for trial in done], dtype=float)):
                ax.set_yscale("log")
            if row == nrows - 1:
                ax.set_xlabel(param, fontsize=8)
            if column == 0:
                ax.set_ylabel(objective, fontsize=8)
            ax.tick_params(which="both", labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(f"Optuna study {study.study}: params vs objectives", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


def plot_pareto(study: StudyResult, trials: list, path: Path) -> Path | None:
    """The two objectives against each other (see the module docstring); None unless the study has
    exactly two objectives and a complete trial."""
    from matplotlib.figure import Figure

    done = completed(trials)
    if len(study.objectives) != 2 or not done:
        return None
    best = set(study.best_numbers)
    fig = Figure(figsize=(6.4, 4.8), dpi=DPI, layout="constrained")
    ax = fig.subplots()
    others = [trial for trial in done if trial.number not in best]
    front = sorted((trial for trial in done if trial.number in best), key=lambda trial: trial.values[0])
    if others:
        ax.scatter(*zip(*[trial.values for trial in others]), color="0.55", s=18, alpha=0.7, label="trial")
    if front:
        xs, ys = zip(*[trial.values for trial in front])
        # the attainment staircase: at x the best y among the front points at least as good in x
        where = "pre" if study.directions[0] == "maximize" else "post"
        ax.step(xs, ys, where=where, color="tab:red", lw=0.8, alpha=0.6)
        ax.scatter(
            xs, ys, color="tab:red", s=30, edgecolors="k", linewidths=0.6, zorder=3, label=study.best_label
        )
    for reference in study.references:
        x, y = reference.values
        ax.scatter(
            [x], [y], label=f"{reference.label} (trial {reference.number}, reference)", **REFERENCE_STYLE
        )
        ax.annotate(
            f"{reference.label} (trial {reference.number})",
            (x, y),
            xytext=(6, 6),
            textcoords="offset points",
            fontsize=8,
        )
    for set_scale, set_label, index in ((ax.set_xscale, ax.set_xlabel, 0), (ax.set_yscale, ax.set_ylabel, 1)):
        name, direction = study.objectives[index], study.directions[index]
        if _use_log(name, np.array([trial.values[index] for trial in done], dtype=float)):
            set_scale("log")
        set_label(f"{name} ({direction}: {better_side(direction)} is better)", fontsize=9)
    ax.tick_params(which="both", labelsize=8)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="best")
    fig.suptitle(
        f"Optuna study {study.study}: {len(done)} complete trials, objective vs objective", fontsize=9
    )
    fig.savefig(path, dpi=DPI)
    return path
