"""The three figures of one evaluation setting, drawn from a model: color slices, error by color,
latent spheres (see excolor.plots for what each shows)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from torch import nn

from excolor.colors import rgb_cube
from excolor.cubes import LOSS_CUBE, display_cube, loss_cube
from excolor.interventions import Intervention, intervene
from excolor.plans import Plan
from excolor.plots import plot_color_slices, plot_error_by_color, plot_latent_spheres

LATENT_GRID = 20  # the latent cube: RGB grid of 20 per axis
LATENT_DIMS = 4  # the latent spheres' views read dims 0–3


def describe(model: nn.Module) -> str:
    config = getattr(model, "config", {})
    parts = [f"{config.get('output', '?')} output"]
    if not config.get("normalize", True):
        parts.append("no L2 bottleneck")
    return ", ".join(parts)


@torch.inference_mode()
def draw_figures(
    model: nn.Module,
    name: str,
    interventions: Sequence[nn.Module],
    loss_error: np.ndarray,
    layer: str,
    out_dir: Path,
    cube: tuple[int, int, int] = LOSS_CUBE,
) -> list[Path]:
    """Write `colors-<name>.png`, `error-<name>.png`, `latents-<name>.png` into out_dir (the latent spheres
    where the latent at `layer` has the ≥ 4 dimensions their views read); `loss_error` is the per-color
    error on the loss cube of shape `cube`."""
    device = next(model.parameters()).device
    label = f"{'no intervention' if name == 'none' else name} · {describe(model)}"

    hsv, rgb = display_cube()  # [H, S, V, 3]
    colors = torch.tensor(rgb.reshape(-1, 3), dtype=torch.float32, device=device)
    with intervene(model, layer, interventions):
        recon = model(colors).cpu().numpy().reshape(rgb.shape)
    to_svh = (1, 2, 0, 3)
    slices = plot_color_slices(
        rgb.transpose(to_svh),
        recon.transpose(to_svh),
        hsv[:, 0, 0, 0],
        hsv[0, :, 0, 1],
        hsv[0, 0, :, 2],
        f"Predicted colors · {label}",
        out_dir / f"colors-{name}.png",
    )

    hsv_loss, _ = loss_cube(cube)
    error = plot_error_by_color(
        loss_error.reshape(hsv_loss.shape[:3]),
        hsv_loss[:, 0, 0, 0],
        hsv_loss[0, :, 0, 1],
        hsv_loss[0, 0, :, 2],
        f"Reconstruction error · {label}",
        out_dir / f"error-{name}.png",
    )

    true = rgb_cube(LATENT_GRID)
    if int(getattr(model, "width", LATENT_DIMS)) < LATENT_DIMS:  # a pruned model: no 4-D latent to view
        return [slices, error]
    captured: list[torch.Tensor] = []
    with intervene(model, layer, interventions, capture=captured):
        recon = model(torch.tensor(true, dtype=torch.float32, device=device)).cpu().numpy()
    cones = [cone for module in interventions if isinstance(module, Intervention) for cone in module.cones()]
    latents = plot_latent_spheres(
        captured[0].cpu().numpy(),
        recon,
        true,
        f"Latents · {label}",
        out_dir / f"latents-{name}.png",
        cones=cones,
    )
    return [slices, error, latents]


def draw_plan_figures(
    model: nn.Module, name: str, plan: Plan, out_dir: Path, cube: tuple[int, int, int] = LOSS_CUBE
) -> list[Path]:
    """The three figures of one evaluation plan (a chapter variant) for one plain model: the plan's
    transform applied to a copy, its interventions hooked on its layer, and its per-colour error on
    the loss cube (`Plan.errors`), as `colors-<name>.png`, `error-<name>.png`, `latents-<name>.png`."""
    shown = plan.transform(model) if plan.transform is not None else model  # eval mode, as `model`
    loss_error = plan.errors(shown, loss_cube(cube)[1].reshape(-1, 3))[0]
    return draw_figures(shown, name, list(plan.interventions), loss_error, plan.layer, out_dir, cube)
