"""The resumable Optuna sweeper's plugin class and its config, ``hydra/sweeper: excolor_optuna``.

The config is Hydra's Optuna sweeper config (`OptunaSweeperConf`: sampler, direction, storage,
study_name, n_trials, n_jobs, max_failure_rate, custom_search_space, params; samplers are chosen with
``override hydra/sweeper/sampler: nsgaii``) plus two settings of its own:

- ``heartbeat_interval`` (s): how often a running trial's ``heartbeat`` user attribute is renewed;
- ``grace_period`` (s): a RUNNING trial whose process is on another host and whose heartbeat is
  older than this is taken for interrupted (a trial of a dead process on this host is, at once).

``custom_search_space`` and the sampler's ``_target_``s pass excolor's trusted-target check
(`excolor_sweeper._trust`) before anything is built; ``custom_search_space`` may be in one of the app's
``trusted_packages`` (read from the app config by interpolation, ``${oc.select:trusted_packages,null}``). ``storage`` takes the forms of
`excolor.study_storage` (a journal file path, ``sqlite:///…`` or a database URL; relative paths are
relative to the sweep dir). What the sweep does is described in `excolor_sweeper._impl`.

Kept free of heavy imports: Hydra imports every public module under hydra_plugins at each start-up,
so optuna loads only when this sweeper is actually used (modules named `_…` are not scanned).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hydra.core.config_store import ConfigStore
from hydra.plugins.sweeper import Sweeper
from hydra.types import HydraContext, TaskFunction
from hydra_plugins.hydra_optuna_sweeper.config import OptunaSweeperConf
from omegaconf import DictConfig

from excolor.console import TRUSTED_KEY
from excolor.console import trusted_packages as console_trusted_packages
from hydra_plugins.excolor_sweeper._trust import build_sampler, check_custom_search_space

TARGET = "hydra_plugins.excolor_sweeper.resumable.ResumableOptunaSweeper"


@dataclass
class ResumableOptunaSweeperConf(OptunaSweeperConf):
    _target_: str = TARGET
    heartbeat_interval: float = 30.0
    grace_period: float = 120.0
    # The app's own packages a custom_search_space may live in (excolor's config key; null elsewhere).
    trusted_packages: Any = "${oc.select:" + TRUSTED_KEY + ",null}"


ConfigStore.instance().store(
    group="hydra/sweeper", name="excolor_optuna", node=ResumableOptunaSweeperConf, provider="excolor"
)


class ResumableOptunaSweeper(Sweeper):
    """`hydra/sweeper: excolor_optuna` (the settings above)."""

    def __init__(
        self,
        sampler: Any,
        direction: Any,
        storage: Any,
        study_name: str | None,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        custom_search_space: str | None,
        params: Any,
        heartbeat_interval: float = 30.0,
        grace_period: float = 120.0,
        trusted_packages: Any = None,
    ) -> None:
        packages = console_trusted_packages({TRUSTED_KEY: trusted_packages})
        check_custom_search_space(custom_search_space, packages)  # before the sampler: every check first
        from hydra_plugins.excolor_sweeper._impl import ResumableOptunaSweep

        self.sweep_impl = ResumableOptunaSweep(
            build_sampler(sampler),
            direction,
            storage,
            study_name,
            n_trials,
            n_jobs,
            max_failure_rate,
            custom_search_space,
            params,
            heartbeat_interval,
            grace_period,
            packages,
        )

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.sweep_impl.setup(hydra_context=hydra_context, task_function=task_function, config=config)

    def sweep(self, arguments: list[str]) -> None:
        return self.sweep_impl.sweep(arguments)
