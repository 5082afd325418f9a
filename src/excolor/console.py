"""What a run prints: each message once, no adverts, no deprecation noise, config-chosen code trusted
only from our own packages.

- `quiet_libraries()`: Lightning gives its `lightning` logger a console handler of its own *and*
  lets records propagate to the root logger (Hydra's console and `train.log`), so every INFO line
  printed twice: its own handler goes, Hydra's logging prints each line once. Lightning's "💡 Tip"
  adverts are dropped, and so is the `LeafSpec` deprecation warning that Lightning's own pytree
  helper triggers on torch ≥ 2.10 (not our call; nothing for a user to act on). So is Lightning's
  "The `srun` command is available on your system but is not used" hint on any host with SLURM's
  `srun` on PATH: a run is one process in Lightning's own environment (`conf/trainer/auto.yaml`'s
  `plugins`), never a multi-process SLURM launch that `srun` would have to start.
- `trusted_targets()`: Hydra 1.4 warns on every `instantiate` without an execution whitelist (and
  Hydra 1.5 will refuse). The whitelist comes from this code, never from a config: `_target_`s under
  `TRUSTED_TARGETS` are built, any other is refused with one line naming it.
"""

from __future__ import annotations

import contextlib
import logging
import warnings

# Packages whose classes a config may name in `_target_` (extend it here, in code, for a new one).
TRUSTED_TARGETS = ("excolor.*", "lightning.pytorch.*", "lightning.fabric.plugins.environments.*", "torch.optim.*")
ADVERT = "💡 Tip:"
LEAFSPEC_DEPRECATION = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
SRUN_HINT = r"The `srun` command is available on your system but is not used"


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(ADVERT)


def quiet_libraries() -> None:
    """Call right after something imported Lightning, whose import adds the console handler removed
    here (idempotent): see the module docstring."""
    lightning_logger = logging.getLogger("lightning")
    for handler in list(lightning_logger.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            lightning_logger.removeHandler(handler)
    if not lightning_logger.hasHandlers():  # no Hydra logging (a plain script): keep one console handler
        lightning_logger.addHandler(logging.StreamHandler())
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    warnings.filterwarnings("ignore", message=LEAFSPEC_DEPRECATION)
    warnings.filterwarnings("ignore", message=SRUN_HINT)


def is_trusted(target: str) -> bool:
    """`target` is under one of `TRUSTED_TARGETS` (`pkg.*`: anything in the package; else exactly)."""
    return any(target.startswith(pattern[:-1]) if pattern.endswith(".*") else target == pattern for pattern in TRUSTED_TARGETS)


def trusted_targets():
    """A context in which `hydra.utils.instantiate` builds only `TRUSTED_TARGETS` (Hydra ≥ 1.4;
    nothing on older Hydra, which has no whitelist)."""
    try:
        from hydra.utils import execution_whitelist
    except ImportError:
        return contextlib.nullcontext()
    return execution_whitelist(list(TRUSTED_TARGETS))
