"""The three figures of one evaluation setting, drawn from a model: color slices, error by color,
latent spheres (see excolor.plots for what each shows)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from excolor.colors import rgb_cube
from excolor.cubes import display_cube, loss_cube
from excolor.interventions import Intervention, intervene
from excolor.model import ColorAutoencoder
from excolor.plots import plot_color_slices, plot_error_by_color, plot_latent_spheres

LATENT_GRID = 20  # the latent cube: RGB grid of 20 per axis


def describe(model: ColorAutoencoder) -> str:
    config = model.config
    parts = [f"{config.get('output', '?')} output"]
    if not config.get("normalize", True):
        parts.append("no L2 bottleneck")
    return ", ".join(parts)


@torch.inference_mode()
def draw_figures(
    model: ColorAutoencoder,
    name: str,
    interventions: list[Intervention],
    loss_error: np.ndarray,
    layer: str,
    out_dir: Path,
) -> list[Path]:
    """Write `colors-<name>.png`, `error-<name>.png`, `latents-<name>.png` into out_dir."""
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

    hsv_loss, _ = loss_cube()
    error = plot_error_by_color(
        loss_error.reshape(hsv_loss.shape[:3]),
        hsv_loss[:, 0, 0, 0],
        hsv_loss[0, :, 0, 1],
        hsv_loss[0, 0, :, 2],
        f"Reconstruction error · {label}",
        out_dir / f"error-{name}.png",
    )

    true = rgb_cube(LATENT_GRID)
    captured: list[torch.Tensor] = []
    with intervene(model, layer, interventions, capture=captured):
        recon = model(torch.tensor(true, dtype=torch.float32, device=device)).cpu().numpy()
    cones = [cone for module in interventions for cone in module.cones()]
    latents = plot_latent_spheres(
        captured[0].cpu().numpy(),
        recon,
        true,
        f"Latents · {label}",
        out_dir / f"latents-{name}.png",
        cones=cones,
    )
    return [slices, error, latents]
