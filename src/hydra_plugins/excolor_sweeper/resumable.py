"""The resumable Optuna sweeper's plugin class (see `_impl` for what it adds to Hydra's).

Kept free of heavy imports: Hydra imports every public module under hydra_plugins at each start-up,
so optuna loads only when this sweeper is actually used (modules named `_…` are not scanned).
"""

from __future__ import annotations

from typing import Any

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class ResumableOptunaSweeper(OptunaSweeper):
    """`hydra.sweeper._target_: hydra_plugins.excolor_sweeper.resumable.ResumableOptunaSweeper`
    (takes the same settings as Hydra's Optuna sweeper)."""

    def __init__(self, **settings: Any) -> None:
        from hydra_plugins.excolor_sweeper._impl import ResumableOptunaSweeperImpl

        self.sweeper = ResumableOptunaSweeperImpl(**settings)
