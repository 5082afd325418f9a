"""The model's named taps, the activations regularizers read and interventions rewrite (torch-free:
the checks before any work read it).

- `encoder`: h, the encoder's output, before the normalisation;
- `bottleneck`: z = h / ‖h‖, after it (the normalisation module's name).
"""

from __future__ import annotations

from typing import Any

from excolor.errors import ConfigError

ENCODER, BOTTLENECK = "encoder", "bottleneck"
LAYERS = (ENCODER, BOTTLENECK)


def check_layer(key: str, layer: Any) -> str:
    """`layer` if it names a tap; else ConfigError naming `key` and the taps."""
    if layer not in LAYERS:
        raise ConfigError(f"{key}={layer!r} must be one of {', '.join(LAYERS)}")
    return layer
