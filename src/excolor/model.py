"""The color autoencoder: encoder → (L2 bottleneck) → decoder (→ sigmoid).

With L nonlinear layers per side (spec m2-family §1.1, `CNColorMLP(K, 16, n_nonlinear=L)`):

    encoder: Linear(3 → H) → GELU → [Linear(H → H) → GELU] × (L − 1) → Linear(H → K)
    decoder: Linear(K → H) → GELU → [Linear(H → H) → GELU] × (L − 1) → Linear(H → 3) (→ sigmoid)

Parameters: 4·H + 2·(L−1)·(H+1)·H + (H+1)·K + (K+1)·H + 3·(H+1): K=4, L=1 → 263; K=5, L=2 → 840."""

from __future__ import annotations

import torch
from torch import Tensor, nn
from torch.nn import functional as F

from excolor.errors import ConfigError

OUTPUTS = ("linear", "sigmoid")


class L2Norm(nn.Module):
    """z ↦ z / ‖z‖ over the last axis."""

    def forward(self, z: Tensor) -> Tensor:
        return F.normalize(z, dim=-1)


def nonlinear_stack(first: int, hidden: int, layers: int) -> list[nn.Module]:
    """Linear(first → hidden) → GELU, then (layers − 1) × [Linear(hidden → hidden) → GELU]."""
    modules: list[nn.Module] = [nn.Linear(first, hidden), nn.GELU()]
    for _ in range(layers - 1):
        modules += [nn.Linear(hidden, hidden), nn.GELU()]
    return modules


class ColorAutoencoder(nn.Module):
    """3 → hidden → K → hidden → 3 MLP with GELU (`nonlinear_layers` Linear+GELU pairs per side), an
    optional explicit L2 bottleneck and an optional output sigmoid. In eval mode the output is clamped
    to [0, 1]. Modules are built (and so initialised from the RNG) in forward order.

    `bottleneck` is always a module (L2Norm, or Identity when `normalize=False`) so that
    interventions and latent capture can hook it by name.
    """

    def __init__(
        self,
        hidden: int = 16,
        bottleneck: int = 4,
        normalize: bool = True,
        output: str = "linear",
        nonlinear_layers: int = 1,
    ):
        super().__init__()
        if int(bottleneck) < 2:
            raise ConfigError(f"model.bottleneck={bottleneck} must be ≥ 2")
        if int(hidden) < 1:
            raise ConfigError(f"model.hidden={hidden} must be ≥ 1")
        if (
            isinstance(nonlinear_layers, bool)
            or int(nonlinear_layers) != nonlinear_layers
            or nonlinear_layers < 1
        ):
            raise ConfigError(f"model.nonlinear_layers={nonlinear_layers} must be an integer ≥ 1")
        if output not in OUTPUTS:
            raise ConfigError(f"model.output={output!r} must be one of {', '.join(OUTPUTS)}")
        self.config = {
            "hidden": int(hidden),
            "bottleneck": int(bottleneck),
            "normalize": bool(normalize),
            "output": output,
            "nonlinear_layers": int(nonlinear_layers),
        }
        layers = int(nonlinear_layers)
        self.encoder = nn.Sequential(*nonlinear_stack(3, hidden, layers), nn.Linear(hidden, bottleneck))
        self.bottleneck = L2Norm() if normalize else nn.Identity()
        self.decoder = nn.Sequential(
            *nonlinear_stack(bottleneck, hidden, layers),
            nn.Linear(hidden, 3),
            nn.Sigmoid() if output == "sigmoid" else nn.Identity(),
        )

    @property
    def width(self) -> int:
        """K, the size of the latent."""
        return self.config["bottleneck"]

    def forward_with_latents(self, x: Tensor) -> tuple[Tensor, dict[str, Tensor]]:
        """Reconstruction plus the activations regularizers read: `encoder` (before normalisation) and
        `bottleneck` (after)."""
        encoded = self.encoder(x)
        latent = self.bottleneck(encoded)
        y = self.decoder(latent)
        return (y if self.training else y.clamp(0, 1)), {"encoder": encoded, "bottleneck": latent}

    def forward(self, x: Tensor) -> Tensor:
        y = self.decoder(self.bottleneck(self.encoder(x)))
        return y if self.training else torch.clamp(y, 0, 1)

    def latent(self, x: Tensor, layer: str) -> Tensor:
        """The output of `layer` (`encoder`: before normalisation, `bottleneck`: after) for input x:
        the forward pass up to where interventions act."""
        encoded = self.encoder(x)
        if layer == "encoder":
            return encoded
        if layer == "bottleneck":
            return self.bottleneck(encoded)
        raise ValueError(f"layer={layer!r} must be encoder or bottleneck")

    def reconstruct(self, z: Tensor, layer: str) -> Tensor:
        """The forward pass from `layer`'s output z on: forward(x) = reconstruct(latent(x, layer), layer),
        op for op, so an intervention applied to z between the two acts as a hook on `layer` would."""
        if layer == "encoder":
            z = self.bottleneck(z)
        elif layer != "bottleneck":
            raise ValueError(f"layer={layer!r} must be encoder or bottleneck")
        y = self.decoder(z)
        return y if self.training else torch.clamp(y, 0, 1)
