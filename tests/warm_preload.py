"""What the warm fork server (tests/warm.py) imports once, as a fresh `python -m excolor.train` would have them
when it reaches its task: Lightning is imported after Hydra has configured logging there, so here too it
finds a root handler and adds none of its own (its loggers propagate to what the child's Hydra sets up)."""

import logging

_placeholder = logging.NullHandler()
logging.getLogger().addHandler(_placeholder)
try:
    import hydra  # noqa: F401
    import lightning.pytorch  # noqa: F401
    import optuna  # noqa: F401
    import submitit  # noqa: F401
    import torch  # noqa: F401

    import excolor.evaluation  # noqa: F401
    import excolor.module  # noqa: F401
    import excolor.report  # noqa: F401
    import hydra_plugins.excolor_sweeper.resumable  # noqa: F401
finally:
    logging.getLogger().removeHandler(_placeholder)
