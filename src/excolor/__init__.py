"""excolor: Hydra-configured sweeps for concept-anchored representation experiments.

Kept import-light (no torch at import time) so that `python -m excolor.train --help` and config
errors answer quickly.
"""

__all__ = ["load_model"]


def load_model(path):
    """Load a trained model from a run directory or a checkpoint file, in eval mode."""
    from excolor.checkpoint import load_model as _load_model

    return _load_model(path)
