"""Save and reload trained models: Lightning's checkpoint plus the model's constructor arguments.

Checkpoints are read with ``torch.load(..., weights_only=True)`` only: a ``model.ckpt`` comes from a
run dir or a (possibly shared) cache directory, and an unrestricted unpickle would run any
``__reduce__`` payload planted in it. Lightning's ``save_checkpoint(weights_only=True)`` writes only
tensors, ints, strings and dicts, which the restricted unpickler accepts; anything else is refused
with one line (CheckpointError).
"""

from __future__ import annotations

import importlib
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from excolor.errors import CheckpointError
from excolor.model import ColorAutoencoder
from excolor.population_model import StackedModel, stacked_class
from excolor.run_record import CHECKPOINT_FILE

MODEL_CONFIG_KEY = "excolor_model"
# The model class ("module:qualname") the population stacks; a checkpoint without it holds ColorAutoencoders.
ARCHITECTURE_KEY = "excolor_architecture"


def architecture_name(model_class: type) -> str:
    """ "module:qualname" of a model class, as the checkpoint records it."""
    return f"{model_class.__module__}:{model_class.__qualname__}"


def architecture(name: str, file: Path) -> type[nn.Module]:
    """The model class a checkpoint names ("module:qualname"); CheckpointError unless it is an nn.Module."""
    module_name, _, qualname = name.partition(":")
    try:
        found: object = importlib.import_module(module_name)
        for part in qualname.split("."):
            found = getattr(found, part)
    except Exception as error:  # not importable here: say which, in one line
        raise CheckpointError(
            f"cannot read checkpoint {file}: its model class {name} is not importable ({type(error).__name__})"
        ) from None
    if not (isinstance(found, type) and issubclass(found, nn.Module)):
        raise CheckpointError(f"refusing checkpoint {file}: its model class {name} is not a torch module")
    return found


def checkpoint_file(path: str | Path) -> Path:
    """`path` itself, or `path/model.ckpt` for a run directory; CheckpointError if there is none."""
    path = Path(path)
    file = path / CHECKPOINT_FILE if path.is_dir() else path
    if not file.is_file():
        raise CheckpointError(f"no checkpoint at {file}")
    return file


def read_checkpoint(file: Path, map_location: str = "cpu") -> dict:
    """The checkpoint dict, read with the restricted (weights-only) unpickler; one-line errors."""
    try:
        checkpoint = torch.load(file, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as error:
        # torch's message runs to a page; a "… GLOBAL x.y …" line names a refused object (a payload or
        # a class), any other "Unsupported …" line says the bytes are no pickle at all.
        lines = [line.strip().rstrip(".") for line in str(error).splitlines()]
        culprit = next((line for line in lines if "GLOBAL" in line), None)
        if culprit is None:
            reason = next(
                (line for line in lines if line.startswith("Unsupported")), lines[0] if lines else ""
            )
            raise CheckpointError(f"cannot read checkpoint {file}: UnpicklingError: {reason}") from None
        raise CheckpointError(
            f"refusing checkpoint {file}: it holds more than tensors and plain data ({culprit})"
        ) from None
    except Exception as error:  # a truncated or foreign file: say which, in one line
        reason = str(error).splitlines()[0].split(". ")[0] if str(error) else ""  # torch's messages run on
        raise CheckpointError(f"cannot read checkpoint {file}: {type(error).__name__}: {reason}") from None
    for key in ("state_dict", MODEL_CONFIG_KEY):
        if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get(key), dict):
            raise CheckpointError(
                f"cannot read checkpoint {file}: no {key!r} entry (not an excolor checkpoint)"
            )
    return checkpoint


def load_population(path: str | Path, map_location: str = "cpu") -> StackedModel:
    """Rebuild the trained population from a run directory (or a .ckpt file), in eval mode: a
    `StackedModel` of the recorded model class (ColorAutoencoder when none is recorded). A checkpoint
    of a single ColorAutoencoder (written before populations) loads as a population of one."""
    file = checkpoint_file(path)
    checkpoint = read_checkpoint(file, map_location)
    config = dict(checkpoint[MODEL_CONFIG_KEY])
    name = checkpoint.get(ARCHITECTURE_KEY, architecture_name(ColorAutoencoder))
    if not isinstance(name, str):
        raise CheckpointError(f"cannot read checkpoint {file}: {ARCHITECTURE_KEY}={name!r} is no class name")
    template = architecture(name, file)
    try:
        model = stacked_class(template)(**config) if "members" in config else template(**config)
        state = {
            k.removeprefix("model."): v for k, v in checkpoint["state_dict"].items() if k.startswith("model.")
        }
        model.load_state_dict(state)
    except Exception as error:  # wrong shapes or arguments: a checkpoint of another model
        reason = str(error).splitlines()[0] if str(error) else ""
        raise CheckpointError(f"cannot read checkpoint {file}: {type(error).__name__}: {reason}") from None
    if not isinstance(model, StackedModel):
        model = StackedModel.from_members([model])
    return model.to(map_location).eval()


def load_model(path: str | Path, member: int = 0, map_location: str = "cpu") -> Any:
    """Member `member` of the trained population in a run directory (or a .ckpt file), as a plain
    model of its class (a ColorAutoencoder for excolor's own model group) in eval mode."""
    population = load_population(path, map_location)
    if not 0 <= member < population.size:
        raise CheckpointError(
            f"member={member} is not in {checkpoint_file(path)}: it holds {population.size} member(s)"
        )
    return population.member(member).eval()
