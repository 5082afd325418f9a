"""The chapter's evaluation of a run (spec m2-family §1.9, §15.5–§15.7), after the standard evaluation
where the `chapter` group is configured. Each *variant* is an evaluation plan (`excolor.plans.Plan`: a
model transform such as ablate or prune, and interventions on the bottleneck); `baseline` is the model
itself. Per member:

- `score` = r² of Pearson(feature(x)^p, MSE(x)) over the 8³ RGB lattice (512 colours) under the
  scoring variant (`excolor.scores`: sim² with hard suppression in 2.4.1/2.5.1, vibrancy^2.3 with
  ablate [0, 1] in 2.7.1, sim³ with ablate [0] in 2.9.1/2.10.1);
- `posthoc/<variant>/r` = Pearson(feature(x)^p, MSE(x)) over the 20³ lattice (8,000 colours);
- `plan/<variant>/max_mse`, `median_mse` on the loss cube (552,960 HSV colours; the originals' prints);
- `chapter/pareto` = 1 for a member of the Pareto set over `minimise` / `maximise` (excolor.selection).

For the run: the Pareto-set size and the best member (the highest score in the set: its seed and
score), and chapter.md with the score's spread, the best member's post-hoc r (with R² and p) and its
17 named-colour table (baseline MSE and each variant's delta = variant − baseline).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import cast

import numpy as np
from torch import nn

from excolor.config import config_key
from excolor.cubes import LOSS_CUBE, loss_cube
from excolor.errors import ConfigError
from excolor.metrics import (
    BEST_SCORE,
    BEST_SEED,
    CHAPTER_SCORE,
    MAX_MSE,
    MEDIAN_MSE,
    PARETO,
    PARETO_SIZE,
    plan_name,
    posthoc_name,
)
from excolor.named_colors import format_table, named_color_table, named_colors
from excolor.plans import Plan
from excolor.scores import Score, correlation, pearson_r
from excolor.selection import best_member, pareto_front

log = logging.getLogger("excolor.train")
BASELINE_VARIANT = "baseline"
CHAPTER_FILE = "chapter.md"


class ChapterEvaluation:
    """Scores, post-hoc correlations, loss-cube statistics and the selection (see the module doc).

    `variants`: name → Plan; `score` and `score_variant`: the sweep score and the variant it is taken
    under (none: no score); `posthoc`: variant → the score whose lattice and feature^p give its r;
    `cube`: the variants whose loss-cube max/median are recorded; `minimise` / `maximise`: the
    Pareto set's metrics (none: no selection); `named_colors`: write the best member's table.
    """

    def __init__(
        self,
        variants: Mapping[str, Plan] | None = None,
        score: Score | None = None,
        score_variant: str = BASELINE_VARIANT,
        posthoc: Mapping[str, Score] | None = None,
        cube: Sequence[str] = (),
        minimise: Sequence[str] = (),
        maximise: Sequence[str] = (),
        named_colors: bool = True,
    ):
        variants = dict(variants or {})
        if BASELINE_VARIANT in variants:
            raise ConfigError(
                f"chapter.variants.{BASELINE_VARIANT}: the name is reserved for the model itself"
            )
        for name, plan in variants.items():
            if not isinstance(plan, Plan):
                raise ConfigError(f"chapter.variants.{name} must be an excolor.plans.Plan")
        self.variants: dict[str, Plan] = {BASELINE_VARIANT: Plan(), **variants}
        self.score, self.score_variant = score, str(score_variant)
        self.posthoc = dict(posthoc or {})
        self.cube = [str(name) for name in cube]
        for key, names in (
            ("score_variant", [self.score_variant]),
            ("posthoc", list(self.posthoc)),
            ("cube", self.cube),
        ):
            unknown = [name for name in names if name not in self.variants]
            if unknown:
                raise ConfigError(
                    f"chapter.{key}: {unknown} not among the variants ({', '.join(self.variants)})"
                )
        self.minimise, self.maximise = [str(m) for m in minimise], [str(m) for m in maximise]
        self.named_colors = bool(named_colors)

    def check_width(self, width: int) -> None:
        """Every variant's interventions fit a bottleneck of `width` dims (before any training)."""
        from excolor.interventions import Intervention
        from excolor.interventions.axis_suppression import AxisAlignedSuppression
        from excolor.interventions.concept import check_dim

        for name, plan in self.variants.items():
            with config_key(f"chapter.variants.{name}"):
                for intervention in plan.interventions:
                    if isinstance(intervention, Intervention):
                        check_dim(intervention, width)
                    elif isinstance(intervention, AxisAlignedSuppression):  # dims, no concept
                        intervention.check_width(width)

    def evaluate(
        self,
        model: nn.Module,
        seeds: Sequence[int],
        members: Sequence[Mapping[str, float]],
        out_dir: Path,
        plots: bool = False,
        cube: tuple[int, int, int] = LOSS_CUBE,
    ) -> tuple[list[dict[str, float]], dict[str, float]]:
        """Each member's chapter metrics and the run's (see the module doc); writes chapter.md and, with
        `plots`, the figures of every variant for the best member (`plan-<variant>` figures); `cube`: the
        loss cube's shape (`evaluation.loss_cube`)."""
        added: list[dict[str, float]] = [{} for _ in seeds]
        if self.score is not None:
            scores = self.score(self.variants[self.score_variant].errors(model, self.score.colors))
            for row, value in zip(added, scores):
                row[CHAPTER_SCORE] = float(value)
        for variant, score in self.posthoc.items():
            r = pearson_r(self.variants[variant].errors(model, score.colors), score.feature)
            for row, value in zip(added, r):
                row[posthoc_name(variant)] = float(value)
        if self.cube:
            colors = loss_cube(cube)[1].reshape(-1, 3)
            for variant in self.cube:
                errors = self.variants[variant].errors(model, colors)
                for row, error in zip(added, errors):
                    row[plan_name(variant, MAX_MSE)] = float(error.max())
                    row[plan_name(variant, MEDIAN_MSE)] = float(np.median(error))
        rows = [{**member, **extra} for member, extra in zip(members, added)]
        run: dict[str, float] = {}
        best = None
        if self.minimise or self.maximise:
            missing = sorted({m for m in self.minimise + self.maximise for row in rows if m not in row})
            if missing:
                raise ConfigError(f"chapter.minimise/maximise: {missing} not recorded by this run")
            front = pareto_front(rows, self.minimise, self.maximise)
            for index, row in enumerate(added):
                row[PARETO] = int(index in front)
            run[PARETO_SIZE] = len(front)
            if front and self.score is not None:
                best = best_member(rows, front)
                run[BEST_SEED], run[BEST_SCORE] = int(seeds[best]), float(rows[best][CHAPTER_SCORE])
        (Path(out_dir) / CHAPTER_FILE).write_text(self._report(model, seeds, rows, run, best))
        if plots:
            from excolor.figures import draw_plan_figures

            shown = self._shown(model, seeds, best)
            for variant, plan in self.variants.items():
                draw_plan_figures(shown, f"plan-{variant}", plan, Path(out_dir), cube)
        return added, run

    @staticmethod
    def _shown(model: nn.Module, seeds: Sequence[int], best: int | None) -> nn.Module:
        """The member chapter.md and the figures show (the best, else the first), as a plain model."""
        if len(seeds) > 1 and isinstance(getattr(model, "member", None), Callable):
            return cast(nn.Module, cast(Callable, model.member)(0 if best is None else best))
        return model

    def _report(
        self,
        model: nn.Module,
        seeds: Sequence[int],
        rows: Sequence[Mapping[str, float]],
        run: Mapping[str, float],
        best: int | None,
    ) -> str:
        """chapter.md: the score's spread, the selection, and the best member's r and named colours."""
        lines = ["# Chapter evaluation", ""]
        if self.score is not None:
            scores = np.array([row[CHAPTER_SCORE] for row in rows])
            lines.append(
                f"- score over {len(scores)} member(s) (variant `{self.score_variant}`): "
                f"min {scores.min():.4f} · max {scores.max():.4f} · mean {scores.mean():.4f}"
                + (f" · std {scores.std(ddof=1):.4f}" if len(scores) > 1 else "")
            )
        if PARETO_SIZE in run:
            lines.append(
                f"- Pareto set (minimise {', '.join(self.minimise) or '–'}; maximise "
                f"{', '.join(self.maximise) or '–'}): {int(run[PARETO_SIZE])} member(s)"
            )
        index = 0 if best is None else best
        if best is not None:
            lines.append(f"- best member: {best} (seed {seeds[best]}), score {run[BEST_SCORE]:.4f}")
        shown = self._shown(model, seeds, best)
        if self.posthoc:
            lines += ["", f"## Post-hoc r on the 20³ lattice (member {index}, seed {seeds[index]})", ""]
            for variant, score in self.posthoc.items():
                r, p = correlation(self.variants[variant].errors(shown, score.colors)[0], score.feature)
                lines.append(f"- `{variant}`: r = {r:.2f}, R² = {r * r:.2f}, p = {p:.2g}")
        if self.named_colors:
            _, rgb = named_colors()
            baseline = self.variants[BASELINE_VARIANT].errors(shown, rgb)[0]
            others = {
                name: plan.errors(shown, rgb)[0]
                for name, plan in self.variants.items()
                if name != BASELINE_VARIANT
            }
            lines += [
                "",
                f"## Named colours (member {index}, seed {seeds[index]}): baseline MSE and deltas",
                "",
                format_table(named_color_table(baseline, others)),
            ]
        return "\n".join(lines) + "\n"


def build_chapter(config, width: int) -> ChapterEvaluation | None:
    """The configured chapter evaluation (None when `chapter` is not set), checked before any training."""
    if not config:
        return None
    from hydra.utils import instantiate

    with config_key("chapter"):
        chapter = instantiate(config)
        if not isinstance(chapter, ChapterEvaluation):
            raise ConfigError("chapter must instantiate an excolor.chapter.ChapterEvaluation")
        chapter.check_width(width)
    return chapter
