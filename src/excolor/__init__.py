"""excolor: Hydra-configured sweeps for concept-anchored representation experiments.

Kept import-light (no torch at import time) so that `python -m excolor.train --help` and config
errors answer quickly.
"""

__all__ = ["load_model"]


def load_model(path, member: int = 0):
    """Member `member` (default 0) of the trained population in a run directory or a checkpoint
    file, as a plain ColorAutoencoder in eval mode."""
    from excolor.checkpoint import load_model as _load_model

    return _load_model(path, member=member)
