"""Save and reload trained models: Lightning's checkpoint plus the model's constructor arguments."""

from __future__ import annotations

from pathlib import Path

import torch

from excolor.errors import CheckpointError
from excolor.model import ColorAutoencoder

CHECKPOINT_NAME = "model.ckpt"
MODEL_CONFIG_KEY = "excolor_model"


def load_model(path: str | Path, map_location: str = "cpu") -> ColorAutoencoder:
    """Rebuild the trained ColorAutoencoder from a run directory (or a .ckpt file), in eval mode."""
    path = Path(path)
    file = path / CHECKPOINT_NAME if path.is_dir() else path
    if not file.is_file():
        raise CheckpointError(f"no checkpoint at {file}")
    try:
        checkpoint = torch.load(file, map_location=map_location, weights_only=False)
        model = ColorAutoencoder(**checkpoint[MODEL_CONFIG_KEY])
        state = {k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")}
        model.load_state_dict(state)
    except Exception as error:  # a truncated or foreign file: say which, in one line
        reason = str(error).splitlines()[0].split(". ")[0] if str(error) else ""  # torch's messages run on
        raise CheckpointError(f"cannot read checkpoint {file}: {type(error).__name__}: {reason}") from None
    return model.eval()
