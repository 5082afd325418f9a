"""Evaluate a trained model with and without interventions on the bottleneck.

For each evaluation `<name>` (always `none`, the unintervened baseline, plus each configured
intervention) it reports, as flat metrics:

- `eval/<name>/max_mse`, `median_mse`, `mean_mse`: per-color error (mean over R, G, B of the squared
  difference between the clamped reconstruction and the input) on the loss cube, `evaluation.loss_cube`
  (the seed's 240 × 48 × 48 = 552,960 HSV colors; smaller for smoke runs);
- `eval/<name>/red_mean_mse`, `other_mean_mse`: that error's mean inside / outside the *red
  neighbourhood*: loss-cube colors whose HSV similarity to pure red (h, s, v) = (0, 1, 1) is at least
  `red_similarity` (0.5 by default: roughly hues within 45° of red that are both bright and saturated);
- `eval/<name>/score`: the targeting score, r² of the Pearson correlation, on the 8³ RGB grid,
  between per-color error under the intervention and similarity² to pure red (0 when either is constant);
- `eval/<name>/val_recon`: mean error on the 8³ RGB validation cube (`val/recon` is the baseline's);
- for each intervention, `eval/<name>/collateral` = excess_other / (excess_red + excess_other), where
  excess = the rise of red_mean_mse / other_mean_mse over the baseline's (floored at 0; collateral is 0
  when nothing rose), and `eval/<name>/focus` = score · (1 − collateral): high when the damage is both
  shaped like red and confined to it. The `falloff` sweep maximises focus.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, cast, runtime_checkable

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig
from torch import nn

from excolor.colors import hsv_similarity, rgb_cube, rgb_to_hsv
from excolor.config import config_key
from excolor.cubes import LOSS_CUBE, loss_cube  # the grids live in cubes: no import circle with figures
from excolor.interventions import Intervention, intervene
from excolor.interventions.concept import check_dim
from excolor.metrics import (
    BASELINE,
    COLLATERAL,
    EVAL_STATS,
    FOCUS,
    MAX_MSE,
    MEAN_MSE,
    MEDIAN_MSE,
    OTHER_MEAN_MSE,
    RED_MEAN_MSE,
    SCORE,
    SETTING_VAL_RECON,
    VAL_RECON,
    eval_name,
)
from excolor.validation import check_interventions, check_red_similarity

if TYPE_CHECKING:
    from excolor.model import ColorAutoencoder
    from excolor.population_model import StackedModel

log = logging.getLogger(__name__)
PURE_RED_HSV = np.array([0.0, 1.0, 1.0])


def build_interventions(configs: DictConfig | None, width: int) -> dict[str, list[Intervention]]:
    """`none` (no intervention) plus one entry per configured name; a list entry composes in order.
    Every intervention is validated (and its concept checked against the bottleneck width) here,
    before any training."""
    from hydra.utils import instantiate

    check_interventions(configs)  # the one place of its rules (`none` is reserved, each a _target_)
    evaluations: dict[str, list[Intervention]] = {BASELINE: []}
    for name, config in (configs or {}).items():
        items = list(config) if isinstance(config, ListConfig) else [config]
        with config_key(f"intervention.{name}"):
            modules = [instantiate(item) for item in items]
            checked = [check_dim(module, width) for module in modules]
        evaluations[str(name)] = checked
    return evaluations


def per_color_error(model: nn.Module, colors: torch.Tensor) -> torch.Tensor:
    """mean over channels of (clamp(model(x), 0, 1) − x)², one value per color ([..., colors]; a
    population gives [members, colors])."""
    return ((model(colors) - colors) ** 2).mean(-1)


def targeting_scores(errors: np.ndarray, similarity: np.ndarray) -> np.ndarray:
    """r² per row of `errors` [members, colors] against similarity² [colors]:
    r = Σ (e − ē)(s − s̄) / sqrt(Σ (e − ē)² · Σ (s − s̄)²); 0 where either side is constant."""
    x = np.asarray(errors, float)
    y = np.asarray(similarity, float).ravel() ** 2
    dx, dy = x - x.mean(-1, keepdims=True), y - y.mean()
    denominator = np.sqrt((dx**2).sum(-1) * (dy**2).sum())
    constant = (np.ptp(x, axis=-1) == 0) | (np.ptp(y) == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (dx * dy).sum(-1) / denominator
    return np.where(constant | ~np.isfinite(r), 0.0, r * r)


def lower_median(values: np.ndarray) -> np.ndarray:
    """torch.median's value per row of `values` [..., n]: the middle value, the lower of the two middle
    ones for an even n (element (n − 1) // 2 in sorted order), NaN for a row holding a NaN. Found by
    selection (np.partition, introselect), not torch's median kernel: ~10× faster on the loss cube."""
    middle = (values.shape[-1] - 1) // 2
    selected = np.partition(values, middle, axis=-1)[..., middle]
    return np.where(np.isnan(values).any(-1), np.nan, selected)


def focus_metrics(metrics: dict[str, float], name: str) -> dict[str, float]:
    """collateral = excess_other / (excess_red + excess_other); focus = score · (1 − collateral)."""

    def excess(stat: str) -> float:
        return max(0.0, metrics[eval_name(name, stat)] - metrics[eval_name(BASELINE, stat)])

    red, other = excess(RED_MEAN_MSE), excess(OTHER_MEAN_MSE)
    collateral = other / (red + other) if red + other > 0 else 0.0
    return {
        eval_name(name, COLLATERAL): collateral,
        eval_name(name, FOCUS): metrics[eval_name(name, SCORE)] * (1 - collateral),
    }


@runtime_checkable
class SplitModel(Protocol):
    """A model whose forward pass splits at the layer interventions hook:
    forward(x) = reconstruct(latent(x, layer), layer), op for op (ColorAutoencoder and its population),
    and whose `reconstruct` works row by row (a row's output does not depend on the other rows)."""

    def latent(self, x: torch.Tensor, layer: str) -> torch.Tensor: ...

    def reconstruct(self, z: torch.Tensor, layer: str) -> torch.Tensor: ...


def apply_interventions(z: torch.Tensor, interventions: Sequence[nn.Module]) -> torch.Tensor:
    """interventions[-1](…interventions[0](z)): what `intervene`'s hook does to the layer's output."""
    for intervention in interventions:
        z = intervention(z)
    return z


class Evaluator:
    """Holds the cubes as tensors on the model's device and evaluates settings for every member of a
    population at once (a plain model counts as a population of one).

    For a `SplitModel` the forward pass up to `layer` runs once per chunk of colors, and every setting's
    interventions then act on that latent and the rest of the model runs from it (the baseline's
    latent is the same for every setting); chunks are sized to stay in the CPU's cache (members ×
    colors ≤ `CHUNK`). Any other model runs whole per setting, with the interventions hooked on `layer`."""

    # members × colors per chunk: [members, colors, hidden] activations of ~1 MB (hidden 16), so the
    # intermediate tensors of one chunk stay in cache and are reused from the allocator's free lists.
    CHUNK = 2**14
    # Off the CPU the cost is kernel launches, not cache misses: chunks of members × colors ≤ 2^22
    # (~256 MB per [members, colors, 16] activation). With the CPU's chunks a population of 1,024 on an
    # H200 evaluated in 49.9 s (16 colors a chunk), against 5.4 s with 65,536-color chunks before.
    DEVICE_CHUNK = 2**22
    # Decoding fewer changed rows than this decodes the whole chunk: matmuls of a few rows go through
    # other kernels (torch's small-matrix loops, matrix-vector products) that round differently.
    MIN_ROWS = 16
    # Colors per forward pass for a model that cannot be split: bounds [members, colors, hidden] to ~2^26 floats.
    ACTIVATION_BUDGET = 2**26

    def __init__(
        self,
        model: nn.Module,
        layer: str = "bottleneck",
        val_grid: int = 8,
        red_similarity: float = 0.5,
        cube: tuple[int, int, int] = LOSS_CUBE,
    ):
        check_red_similarity(red_similarity)
        self.model, self.layer, self.cube = model.eval(), layer, cube
        device = next(model.parameters()).device
        hsv, rgb = loss_cube(cube)
        self.loss_colors = torch.tensor(rgb.reshape(-1, 3), dtype=torch.float32, device=device)
        red = hsv_similarity(hsv, PURE_RED_HSV).ravel() >= red_similarity
        # Index buffers, not a boolean mask: a mask index is a `nonzero` (a host sync on CUDA); the
        # gathered errors, in the same order, are those of the mask.
        self.red_index = torch.tensor(np.flatnonzero(red), device=device)
        self.other_index = torch.tensor(np.flatnonzero(~red), device=device)
        val_rgb = rgb_cube(val_grid)
        self.val_colors = torch.tensor(val_rgb, dtype=torch.float32, device=device)
        self.val_similarity = hsv_similarity(rgb_to_hsv(val_rgb), PURE_RED_HSV)
        config = getattr(model, "config", {})
        self.members = config.get("members", 1)
        self.split = isinstance(model, SplitModel)
        width = self.members * max(config.get("hidden", 16), 3)
        per_chunk = self.CHUNK if self.loss_colors.device.type == "cpu" else self.DEVICE_CHUNK
        self.chunk = (
            max(1, per_chunk // self.members) if self.split else max(1, self.ACTIVATION_BUDGET // width)
        )

    def errors(
        self, colors: torch.Tensor, settings: Mapping[str, Sequence[nn.Module]]
    ) -> dict[str, torch.Tensor]:
        """Per-color error [members, colors] under each setting (name → interventions, applied in order)."""
        if not self.split:
            return {
                name: self._hooked_errors(colors, interventions) for name, interventions in settings.items()
            }
        model, layer = cast(SplitModel, self.model), self.layer  # self.split: isinstance(model, SplitModel)
        out = {name: torch.empty(self.members, len(colors), device=colors.device) for name in settings}
        # Settings without interventions first: their error is every setting's on the rows it leaves alone.
        order = sorted(settings, key=lambda name: len(settings[name]) > 0)
        start = 0
        for part in colors.split(self.chunk):
            latent = model.latent(part, layer)
            unchanged: torch.Tensor | None = None  # the error of the latent as it is, [N, colors]
            for name in order:
                z = apply_interventions(latent, settings[name])
                if unchanged is not None and self.loss_colors.device.type == "cpu":
                    error = self._changed_rows_error(model, part, latent, z, unchanged)
                else:
                    error = ((model.reconstruct(z, layer) - part) ** 2).mean(-1)
                if not settings[name]:
                    unchanged = error
                out[name][:, start : start + len(part)] = error
            start += len(part)
        return out

    def _changed_rows_error(
        self,
        model: SplitModel,
        colors: torch.Tensor,
        latent: torch.Tensor,
        z: torch.Tensor,
        unchanged: torch.Tensor,
    ) -> torch.Tensor:
        """The per-color error [N, colors] of the intervened latent `z`, decoding only the colors whose
        latent the interventions changed in some member (the decoder works row by row: an unchanged row's
        error is `unchanged`'s, bit for bit). On the CPU only: finding the rows is a host sync elsewhere."""
        changed = (z != latent).any(-1)
        rows = (changed.any(0) if changed.dim() == 2 else changed).nonzero().flatten()
        if len(rows) == 0:
            return unchanged
        if len(rows) < self.MIN_ROWS or len(rows) == len(colors):  # tiny matmuls take other kernels
            return ((model.reconstruct(z, self.layer) - colors) ** 2).mean(-1)
        y = model.reconstruct(z.index_select(-2, rows), self.layer)
        error = ((y - colors.index_select(0, rows)) ** 2).mean(-1)
        return unchanged.reshape(error.shape[:-1] + (-1,)).index_copy(-1, rows, error)

    def _hooked_errors(self, colors: torch.Tensor, interventions: Sequence[nn.Module]) -> torch.Tensor:
        with intervene(self.model, self.layer, interventions):
            error = torch.cat(
                [per_color_error(self.model, part) for part in colors.split(self.chunk)], dim=-1
            )
        return error if error.dim() == 2 else error.unsqueeze(0)

    @torch.inference_mode()
    def evaluate(
        self, settings: Mapping[str, Sequence[nn.Module]]
    ) -> dict[str, tuple[list[dict[str, float]], np.ndarray]]:
        """Each setting's metrics per member and its per-color loss-cube error [members, colors]."""
        device = self.loss_colors.device
        settings = {name: [m.to(device) for m in interventions] for name, interventions in settings.items()}
        errors = self.errors(self.loss_colors, settings)
        val_errors = self.errors(self.val_colors, settings)
        return {name: self._metrics(name, errors[name], val_errors[name]) for name in settings}

    def metrics(
        self, name: str, interventions: Sequence[nn.Module]
    ) -> tuple[list[dict[str, float]], np.ndarray]:
        """Each member's metrics of one setting, and the per-color loss-cube error [members, colors]."""
        return self.evaluate({name: interventions})[name]

    def _metrics(
        self, name: str, error: torch.Tensor, val_error: torch.Tensor
    ) -> tuple[list[dict[str, float]], np.ndarray]:
        on_cpu = error.device.type == "cpu"
        values = {
            eval_name(name, MAX_MSE): error.max(-1).values,
            eval_name(name, MEAN_MSE): error.mean(-1),
            eval_name(name, RED_MEAN_MSE): error.index_select(-1, self.red_index).mean(-1),
            eval_name(name, OTHER_MEAN_MSE): error.index_select(-1, self.other_index).mean(-1),
            eval_name(name, SETTING_VAL_RECON): val_error.mean(-1),
        }
        if not on_cpu:  # on the device with the rest; on the CPU numpy's selection is ~10× faster
            values[eval_name(name, MEDIAN_MSE)] = error.median(-1).values
        # Everything computed on the device first; then the results come to the host.
        columns = dict(zip(values, torch.stack(list(values.values())).cpu().tolist()))
        host_error = error.cpu().numpy()
        if on_cpu:
            columns[eval_name(name, MEDIAN_MSE)] = lower_median(host_error).tolist()
        columns[eval_name(name, SCORE)] = targeting_scores(
            val_error.cpu().numpy(), self.val_similarity
        ).tolist()
        order = [eval_name(name, stat) for stat in EVAL_STATS]  # the order members.csv lists them
        members = [{key: float(columns[key][m]) for key in order} for m in range(len(error))]
        return members, host_error


def loss_cube_shape(evaluation: Mapping) -> tuple[int, int, int]:
    """`evaluation.loss_cube` as (hues, saturations, values); a run saved before the setting existed used the
    seed's cube."""
    hues, saturations, values = (int(n) for n in evaluation.get("loss_cube", LOSS_CUBE))
    return hues, saturations, values


def evaluate_run(
    model: StackedModel | ColorAutoencoder,
    evaluations: dict[str, list[Intervention]],
    cfg: DictConfig,
    out_dir: Path,
    logger=None,
) -> list[dict]:
    """Evaluate every setting for every member; draw member `cfg.member`'s figures into `out_dir`;
    log the medians over members; return each member's metrics."""
    evaluator = Evaluator(model, cfg.layer, cfg.val_grid, cfg.red_similarity, loss_cube_shape(cfg))
    members: list[dict[str, float]] | None = None
    shown = int(cfg.get("member", 0))
    for name, (values, error) in evaluator.evaluate(evaluations).items():
        interventions = evaluations[name]
        members = values if members is None else [{**old, **new} for old, new in zip(members, values)]
        medians = {key: float(np.median([member[key] for member in values])) for key in values[0]}
        log.info(
            "%-12s max %.4g · median %.4g · score %.4f%s",
            name,
            medians[eval_name(name, MAX_MSE)],
            medians[eval_name(name, MEDIAN_MSE)],
            medians[eval_name(name, SCORE)],
            " (medians over members)" if len(values) > 1 else "",
        )
        if cfg.plots:
            from excolor.figures import draw_figures
            from excolor.population_model import StackedModel

            shown_model = model.member(shown) if isinstance(model, StackedModel) else model
            paths = draw_figures(
                shown_model, name, interventions, error[shown], cfg.layer, out_dir, evaluator.cube
            )
            if logger is not None and hasattr(logger, "log_image"):
                for path in paths:
                    logger.log_image(key=f"figures/{path.stem}", images=[str(path)])
    if members is None:
        raise ValueError("evaluate_run: no evaluations (build_interventions always gives the baseline)")
    for member in members:
        for name in evaluations:
            if name != BASELINE:
                member.update(focus_metrics(member, name))
        member[VAL_RECON] = member[eval_name(BASELINE, SETTING_VAL_RECON)]
    return members
