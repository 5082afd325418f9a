"""The resumable Optuna sweep: ask, launch, tell, on public Hydra and Optuna API.

One sweep process, on every start and before every batch, with the study's lock held
(`excolor_sweeper._lock`):

1. settles the stale trials, those left RUNNING by a killed process (`_ownership.is_stale`), from
   their directories (`_settle`): metrics.json → COMPLETE, failure.json → FAIL (kept), neither →
   FAIL with user attribute ``interrupted`` (its slot runs again);
2. counts the trials that are finished (COMPLETE, or FAIL from a real error) or running in a live
   process; the sweep is done when they reach ``n_trials``, so several processes on one study run
   ``n_trials`` between them and a rerun runs only what is missing;
3. asks for up to ``n_jobs`` new trials and claims them (`_ownership.claim`); the first ask of a
   process that finds trials in the study reseeds the sampler, so that a resumed or second process
   does not propose the first one's parameters again.

Then it launches the batch, each trial's job in ``<sweep dir>/<trial number>/`` (through the
per-job override ``hydra.sweep.subdir``), renews the trials' heartbeats while they run, and tells
the study each result by trial; a job that raised is FAIL (user attribute ``failure``: the error
type), and more failures in a batch than ``max_failure_rate`` allows end the sweep. Without a lock
(a database server), a trial whose rank among the live and finished trials reaches ``n_trials`` is
surplus: it is recorded FAIL with user attributes ``interrupted`` and ``surplus`` and not run.

Before each batch it logs "trials done i of n" and the best trials so far. It saves
``multirun.yaml`` in the sweep dir and writes the sweep's report when it ends, also after an error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import optuna
from hydra.core.plugins import Plugins
from hydra.types import HydraContext, TaskFunction
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from excolor.study_storage import open_storage, resolve_storage, storage_file
from hydra_plugins.excolor_sweeper._lock import study_lock
from hydra_plugins.excolor_sweeper._ownership import Heartbeat, claim, is_stale
from hydra_plugins.excolor_sweeper._search_space import SearchSpace, search_space
from hydra_plugins.excolor_sweeper._settle import FAILURE, INTERRUPTED, finished, settle

log = logging.getLogger(__name__)


def best_so_far(study: optuna.Study) -> str:
    """The (first three) best trials in one line."""
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return "none complete yet"
    return "; ".join(f"#{t.number} {[round(v, 6) for v in t.values]} {t.params}" for t in study.best_trials[:3])


def directions(direction: Any) -> list[Literal["minimize", "maximize"]]:
    """``hydra.sweeper.direction`` (one name or a list) as a list of ``minimize`` / ``maximize``."""
    items = list(direction) if isinstance(direction, (list, tuple)) or OmegaConf.is_list(direction) else [direction]
    names = [getattr(d, "name", str(d)) for d in items]
    for name in names:
        if name not in ("minimize", "maximize"):
            raise ValueError(f"hydra.sweeper.direction: {name!r} is neither minimize nor maximize")
    return ["minimize" if name == "minimize" else "maximize" for name in names]


class ResumableOptunaSweep:
    """The sweep itself; `resumable.ResumableOptunaSweeper` holds one and forwards Hydra's calls."""

    def __init__(self, sampler: Any, direction: Any, storage: str | None, study_name: str | None, n_trials: int,
                 n_jobs: int, max_failure_rate: float, custom_search_space: str | None, params: Any,
                 heartbeat_interval: float, grace_period: float) -> None:
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ValueError(f"hydra.sweeper.max_failure_rate={max_failure_rate} must be in [0, 1]")
        if not isinstance(sampler, optuna.samplers.BaseSampler):
            raise ValueError(f"hydra.sweeper.sampler must build an Optuna sampler (the grid sampler needs the "
                             f"basic sweeper here), got {type(sampler).__name__}")
        self.sampler, self.directions, self.storage_spec = sampler, directions(direction), storage
        self.study_name, self.n_trials, self.n_jobs = study_name, n_trials, max(1, n_jobs)
        self.max_failure_rate, self.params = max_failure_rate, params or {}
        self.extend_search_space = (instantiate({"_target_": custom_search_space, "_partial_": True},
                                                _execution_whitelist_=custom_search_space)
                                    if custom_search_space else None)
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function)

    def sweep(self, arguments: list[str]) -> None:
        sweep_dir = Path(self.config.hydra.sweep.dir).absolute()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        try:
            self._run(sweep_dir, arguments)
        finally:
            from excolor.report import write_report_safely

            write_report_safely(sweep_dir)

    def _run(self, sweep_dir: Path, arguments: list[str]) -> None:
        if self.storage_spec is None:
            storage, lock_file = optuna.storages.InMemoryStorage(), None
        else:
            resolved = resolve_storage(str(self.storage_spec), sweep_dir)
            storage, lock_file = open_storage(resolved), storage_file(resolved)
            log.info("study %r in %s", self.study_name, resolved)
        with study_lock(lock_file):
            study = optuna.create_study(study_name=self.study_name, storage=storage, sampler=self.sampler,
                                        directions=self.directions, load_if_exists=True)
        space = search_space([f"{k}={v}" for k, v in self.params.items()] + list(arguments))
        first = True
        while True:
            with study_lock(lock_file):
                batch = self._next_batch(study, storage, sweep_dir, space, first)
            first = False
            if batch is None:
                return
            batch = [t for t in batch if not self._surplus(study, t)]
            if batch:
                self._launch(study, batch, space)

    def _next_batch(self, study: optuna.Study, storage: Any, sweep_dir: Path, space: SearchSpace,
                    first: bool) -> list[optuna.Trial] | None:
        """Settle stale trials, count, and ask for the next batch (None: the study has its n_trials)."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if is_stale(trial, self.grace_period):
                settle(study, storage, trial, sweep_dir / str(trial.number))
        trials = study.get_trials(deepcopy=False)
        done = sum(finished(t) for t in trials)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        to_run = self.n_trials - done - running
        if first and trials:
            log.info("resuming study %r: %d of %d trials finished, %d running elsewhere, %d to run",
                     self.study_name, done, self.n_trials, running, max(0, to_run))
            # A seeded sampler restarts its random stream in every process: without a reseed a
            # resumed (or a second) process would propose the first one's parameters again.
            self.sampler.reseed_rng()
        if to_run <= 0:
            log.info("trials done %d of %d (%d running elsewhere) · best so far: %s",
                     done, self.n_trials, running, best_so_far(study))
            return None
        log.info("trials done %d of %d · best so far: %s", done, self.n_trials, best_so_far(study))
        batch = []
        for _ in range(min(self.n_jobs, to_run)):
            trial = study.ask(space.distributions)
            claim(trial)
            batch.append(trial)
        return batch

    def _surplus(self, study: optuna.Study, trial: optuna.Trial) -> bool:
        """True (and the trial is recorded FAIL, interrupted, surplus) if ``n_trials`` live or finished
        trials come before it: only possible when processes on several machines ask at once."""
        before = [t for t in study.get_trials(deepcopy=False) if t.number < trial.number]
        if sum(finished(t) or t.state == TrialState.RUNNING for t in before) < self.n_trials:
            return False
        trial.set_user_attr(INTERRUPTED, True)
        trial.set_user_attr("surplus", True)
        study.tell(trial, state=TrialState.FAIL)
        log.info("trial %d is surplus (another process filled the study): not run", trial.number)
        return True

    def _launch(self, study: optuna.Study, batch: list[optuna.Trial], space: SearchSpace) -> None:
        overrides = []
        for trial in batch:
            if self.extend_search_space is not None:
                self.extend_search_space(self.config, trial)
            overrides.append(space.overrides(trial.params) + [f"hydra.sweep.subdir={trial.number}"])
        with Heartbeat(batch, self.heartbeat_interval):
            returns = self.launcher.launch(overrides, initial_job_idx=batch[0].number)
        failures = []
        for trial, ret in zip(batch, returns):
            try:
                study.tell(trial, self._values(ret.return_value))
            except Exception as error:  # noqa: BLE001 - any failure of a trial is recorded, not raised
                trial.set_user_attr(FAILURE, type(error).__name__)
                study.tell(trial, state=TrialState.FAIL)
                log.warning("trial %d failed: %s", trial.number, error)
                failures.append(error)
        if failures and len(failures) / len(batch) > self.max_failure_rate:
            log.error("%d of %d trials failed, more than max_failure_rate=%s allows", len(failures), len(batch),
                      self.max_failure_rate)
            raise failures[0]

    def _values(self, returned: Any) -> list[float]:
        values = [float(v) for v in (returned if isinstance(returned, (list, tuple)) else [returned])]
        if len(values) != len(self.directions):
            raise ValueError(f"the task returned {len(values)} objective values for {len(self.directions)} directions")
        return values
