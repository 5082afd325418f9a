"""Evaluate a trained model with and without interventions on the bottleneck.

For each evaluation `<name>` (always `none`, the unintervened baseline, plus each configured
intervention) it reports, as flat metrics:

- `eval/<name>/max_mse`, `median_mse`, `mean_mse`: per-color error on the 552,960-color loss cube
  (mean over R, G, B of the squared difference between the clamped reconstruction and the input);
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
from pathlib import Path

import numpy as np
import torch
from omegaconf import DictConfig, ListConfig
from torch import nn

from excolor.colors import hsv_similarity, rgb_cube, rgb_to_hsv
from excolor.config import config_key
from excolor.cubes import loss_cube  # the grids live in cubes: no import circle with figures
from excolor.errors import ConfigError
from excolor.interventions import intervene
from excolor.interventions.concept import check_dim

log = logging.getLogger(__name__)
PURE_RED_HSV = np.array([0.0, 1.0, 1.0])
BASELINE = "none"


def build_interventions(configs: DictConfig | None, width: int) -> dict[str, list[nn.Module]]:
    """`none` (no intervention) plus one entry per configured name; a list entry composes in order.
    Every intervention is validated (and its concept checked against the bottleneck width) here,
    before any training."""
    from hydra.utils import instantiate

    evaluations: dict[str, list[nn.Module]] = {BASELINE: []}
    for name, config in (configs or {}).items():
        if name == BASELINE:
            raise ConfigError(f"intervention.{BASELINE}: the name is reserved for the baseline")
        items = list(config) if isinstance(config, ListConfig) else [config]
        with config_key(f"intervention.{name}"):
            modules = [instantiate(item) for item in items]
            for module in modules:
                check_dim(module, width)
        evaluations[str(name)] = modules
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


def focus_metrics(metrics: dict[str, float], name: str) -> dict[str, float]:
    """collateral = excess_other / (excess_red + excess_other); focus = score · (1 − collateral)."""
    def excess(region: str) -> float:
        return max(0.0, metrics[f"eval/{name}/{region}_mean_mse"] - metrics[f"eval/{BASELINE}/{region}_mean_mse"])

    red, other = excess("red"), excess("other")
    collateral = other / (red + other) if red + other > 0 else 0.0
    return {f"eval/{name}/collateral": collateral, f"eval/{name}/focus": metrics[f"eval/{name}/score"] * (1 - collateral)}


class Evaluator:
    """Holds the cubes as tensors on the model's device and evaluates one setting at a time, for every
    member of a population at once (a plain model counts as a population of one)."""

    # Colors per forward pass: bounds the [members, colors, hidden] activations to ~2^26 floats.
    ACTIVATION_BUDGET = 2**26

    def __init__(self, model: nn.Module, layer: str = "bottleneck", val_grid: int = 8, red_similarity: float = 0.5):
        if not 0 < red_similarity <= 1:
            raise ConfigError(f"evaluation.red_similarity={red_similarity} must be in (0, 1]")
        self.model, self.layer = model.eval(), layer
        device = next(model.parameters()).device
        hsv, rgb = loss_cube()
        self.loss_colors = torch.tensor(rgb.reshape(-1, 3), dtype=torch.float32, device=device)
        self.red_mask = torch.tensor(hsv_similarity(hsv, PURE_RED_HSV).ravel() >= red_similarity, device=device)
        val_rgb = rgb_cube(val_grid)
        self.val_colors = torch.tensor(val_rgb, dtype=torch.float32, device=device)
        self.val_similarity = hsv_similarity(rgb_to_hsv(val_rgb), PURE_RED_HSV)
        config = getattr(model, "config", {})
        width = config.get("members", 1) * max(config.get("hidden", 16), 3)
        self.chunk = max(1, self.ACTIVATION_BUDGET // width)

    def errors(self, colors: torch.Tensor) -> torch.Tensor:
        """Per-color error [members, colors], computed in chunks of colors (all members at once)."""
        chunks = [per_color_error(self.model, part) for part in colors.split(self.chunk)]
        error = torch.cat(chunks, dim=-1)
        return error if error.dim() == 2 else error.unsqueeze(0)

    @torch.inference_mode()
    def metrics(self, name: str, interventions: list[nn.Module]) -> tuple[list[dict[str, float]], np.ndarray]:
        """Each member's metrics of one setting, and the per-color loss-cube error [members, colors]."""
        device = self.loss_colors.device
        interventions = [m.to(device) for m in interventions]
        with intervene(self.model, self.layer, interventions):
            error = self.errors(self.loss_colors)
            val_error = self.errors(self.val_colors)
        prefix = f"eval/{name}"
        values = {
            f"{prefix}/max_mse": error.max(-1).values,
            f"{prefix}/median_mse": error.median(-1).values,
            f"{prefix}/mean_mse": error.mean(-1),
            f"{prefix}/red_mean_mse": error[:, self.red_mask].mean(-1),
            f"{prefix}/other_mean_mse": error[:, ~self.red_mask].mean(-1),
            f"{prefix}/val_recon": val_error.mean(-1),
        }
        columns = {key: value.tolist() for key, value in values.items()}
        columns[f"{prefix}/score"] = targeting_scores(val_error.cpu().numpy(), self.val_similarity).tolist()
        members = [{key: float(column[m]) for key, column in columns.items()} for m in range(len(error))]
        return members, error.cpu().numpy()


def evaluate_run(model: nn.Module, evaluations: dict[str, list[nn.Module]], cfg: DictConfig, out_dir: Path, logger=None) -> list[dict]:
    """Evaluate every setting for every member; draw member `cfg.member`'s figures into `out_dir`;
    log the medians over members; return each member's metrics."""
    evaluator = Evaluator(model, cfg.layer, cfg.val_grid, cfg.red_similarity)
    members: list[dict[str, float]] | None = None
    shown = int(cfg.get("member", 0))
    for name, interventions in evaluations.items():
        values, error = evaluator.metrics(name, interventions)
        members = values if members is None else [{**old, **new} for old, new in zip(members, values)]
        medians = {key: float(np.median([member[key] for member in values])) for key in values[0]}
        log.info("%-12s max %.4g · median %.4g · score %.4f%s", name, medians[f"eval/{name}/max_mse"], medians[f"eval/{name}/median_mse"], medians[f"eval/{name}/score"], " (medians over members)" if len(values) > 1 else "")
        if cfg.plots:
            from excolor.figures import draw_figures
            from excolor.population_model import PopulationAutoencoder

            shown_model = model.member(shown) if isinstance(model, PopulationAutoencoder) else model
            paths = draw_figures(shown_model, name, interventions, error[shown], cfg.layer, out_dir)
            if logger is not None and hasattr(logger, "log_image"):
                for path in paths:
                    logger.log_image(key=f"figures/{path.stem}", images=[str(path)])
    if members is None:
        raise ValueError("evaluate_run: no evaluations (build_interventions always gives the baseline)")
    for member in members:
        for name in evaluations:
            if name != BASELINE:
                member.update(focus_metrics(member, name))
        member["val/recon"] = member[f"eval/{BASELINE}/val_recon"]
    return members
