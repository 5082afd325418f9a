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
the study each result by trial. Each trial has the sampled parameters as params and the fixed
overrides as user attributes, as in Hydra's Optuna sweeper. A job that raised, or returned a value
that is not one float per direction, is FAIL (user attribute ``failure``: the error type); more
failures in a batch than ``max_failure_rate`` allows end the sweep when at least one of them was a
job that raised (a rejected return value alone never ends it, as upstream). A job ended from outside
(`excolor.errors.TrialInterrupted`, e.g. ``scancel`` on SLURM) is FAIL ``interrupted`` and its slot
runs again. Without a lock
(a database server), a trial whose rank among the live and finished trials reaches ``n_trials`` is
surplus: it is recorded FAIL with user attributes ``interrupted`` and ``surplus`` and not run.

Before each batch it logs "trials done i of n" and the best trials so far. It parses the search
space before it writes anything (a bad one: one line ``excolor: error: …``, exit 2), saves
``multirun.yaml`` in the sweep dir, names the study's objectives after the task config's
``objective`` (`_results`), and when it ends, also after an error, writes
``optimization_results.yaml`` (`_results`) and the sweep's report. The grid sampler runs as in
Hydra's Optuna sweeper (`_grid`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Literal

import optuna
from hydra.core.plugins import Plugins
from hydra.core.utils import JobStatus
from hydra.errors import OverrideParseException
from hydra.types import HydraContext, TaskFunction
from omegaconf import DictConfig, OmegaConf
from optuna.trial import TrialState

from excolor.config import fail
from excolor.console import TRUSTED_PACKAGES
from excolor.errors import TrialInterrupted
from excolor.study_storage import open_storage, resolve_storage, shown, storage_file
from hydra_plugins.excolor_sweeper._grid import grid_sampler, is_grid
from hydra_plugins.excolor_sweeper._lock import study_lock
from hydra_plugins.excolor_sweeper._ownership import Heartbeat, claim, is_stale
from hydra_plugins.excolor_sweeper._results import (
    name_objectives,
    objective_names,
    write_optimization_results,
)
from hydra_plugins.excolor_sweeper._search_space import SearchSpace, search_space
from hydra_plugins.excolor_sweeper._settle import FAILURE, INTERRUPTED, finished, settle
from hydra_plugins.excolor_sweeper._trust import build_custom_search_space

log = logging.getLogger(__name__)


def best_so_far(study: optuna.Study) -> str:
    """The (first three) best trials in one line."""
    if not any(t.state == TrialState.COMPLETE for t in study.get_trials(deepcopy=False)):
        return "none complete yet"
    return "; ".join(
        f"#{t.number} {[round(v, 6) for v in t.values]} {t.params}" for t in study.best_trials[:3]
    )


def directions(direction: Any) -> list[Literal["minimize", "maximize"]]:
    """``hydra.sweeper.direction`` (one name or a list) as a list of ``minimize`` / ``maximize``."""
    items = (
        list(direction)
        if isinstance(direction, (list, tuple)) or OmegaConf.is_list(direction)
        else [direction]
    )
    names = [getattr(d, "name", str(d)) for d in items]
    for name in names:
        if name not in ("minimize", "maximize"):
            raise ValueError(f"hydra.sweeper.direction: {name!r} is neither minimize nor maximize")
    return ["minimize" if name == "minimize" else "maximize" for name in names]


def tell(
    study: optuna.Study,
    trial: optuna.Trial,
    values: list[float] | None = None,
    state: TrialState | None = None,
) -> None:
    """``study.tell``; the grid sampler's "study.stop" outside ``optimize`` (its grid is exhausted) is
    no error here: the trial is recorded all the same, and the sweep counts its trials itself."""
    try:
        study.tell(trial, values, state=state)
    except RuntimeError as error:
        if not (isinstance(study.sampler, optuna.samplers.GridSampler) and "Study.stop" in str(error)):
            raise


class ResumableOptunaSweep:
    """The sweep itself; `resumable.ResumableOptunaSweeper` holds one and forwards Hydra's calls."""

    def __init__(
        self,
        sampler: Any,
        direction: Any,
        storage: str | None,
        study_name: str | None,
        n_trials: int,
        n_jobs: int,
        max_failure_rate: float,
        custom_search_space: str | None,
        params: Any,
        heartbeat_interval: float,
        grace_period: float,
        trusted_packages: tuple[str, ...] = TRUSTED_PACKAGES,
    ) -> None:
        if not 0.0 <= max_failure_rate <= 1.0:
            raise ValueError(f"hydra.sweeper.max_failure_rate={max_failure_rate} must be in [0, 1]")
        if not (isinstance(sampler, optuna.samplers.BaseSampler) or is_grid(sampler)):
            raise ValueError(
                f"hydra.sweeper.sampler must build an Optuna sampler, got {type(sampler).__name__}"
            )
        # An Optuna sampler, or the grid sampler's partial until sweep() builds it over the search space.
        self.sampler: Any = sampler
        self.directions, self.storage_spec = directions(direction), storage
        self.study_name, self.n_trials, self.n_jobs = study_name, n_trials, max(1, n_jobs)
        self.max_failure_rate, self.params = max_failure_rate, params or {}
        self.extend_search_space = build_custom_search_space(custom_search_space, trusted_packages)
        self.heartbeat_interval, self.grace_period = heartbeat_interval, grace_period

    def setup(self, *, hydra_context: HydraContext, task_function: TaskFunction, config: DictConfig) -> None:
        self.config = config
        self.launcher = Plugins.instance().instantiate_launcher(
            config=config, hydra_context=hydra_context, task_function=task_function
        )

    def sweep(self, arguments: list[str]) -> None:
        try:
            space = search_space([f"{k}={v}" for k, v in self.params.items()] + list(arguments))
            if is_grid(self.sampler):
                self.sampler, self.n_trials = grid_sampler(self.sampler, space, self.n_trials)
                log.info("the grid sampler runs %d trials", self.n_trials)
        except (ValueError, OverrideParseException) as error:  # one line, before anything is written
            fail(str(error).splitlines()[0])
        sweep_dir = Path(self.config.hydra.sweep.dir).absolute()
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        study = None
        try:
            study, storage, lock_file = self._open_study(sweep_dir)
            self._run(study, storage, lock_file, sweep_dir, space)
        finally:
            from excolor.report import write_report_safely

            if study is not None:
                write_optimization_results(study, sweep_dir)
            write_report_safely(sweep_dir)

    def _open_study(self, sweep_dir: Path) -> tuple[optuna.Study, Any, Path | None]:
        """The study (created, or loaded to resume), its storage object and its lock file (or None)."""
        if self.storage_spec is None:
            storage, lock_file = optuna.storages.InMemoryStorage(), None
        else:
            resolved = resolve_storage(str(self.storage_spec), sweep_dir)
            storage, lock_file = open_storage(resolved), storage_file(resolved)
            log.info("study %r in %s", self.study_name, shown(resolved))
        with study_lock(lock_file):
            study = optuna.create_study(
                study_name=self.study_name,
                storage=storage,
                sampler=self.sampler,
                directions=self.directions,
                load_if_exists=True,
            )
            name_objectives(study, objective_names(self.config, len(self.directions)))
        return study, storage, lock_file

    def _run(
        self, study: optuna.Study, storage: Any, lock_file: Path | None, sweep_dir: Path, space: SearchSpace
    ) -> None:
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

    def _next_batch(
        self, study: optuna.Study, storage: Any, sweep_dir: Path, space: SearchSpace, first: bool
    ) -> list[optuna.Trial] | None:
        """Settle stale trials, count, and ask for the next batch (None: the study has its n_trials)."""
        for trial in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
            if is_stale(trial, self.grace_period):
                settle(study, storage, trial, sweep_dir / str(trial.number))
        trials = study.get_trials(deepcopy=False)
        done = sum(finished(t) for t in trials)
        running = sum(t.state == TrialState.RUNNING for t in trials)
        to_run = self.n_trials - done - running
        if first and trials:
            log.info(
                "resuming study %r: %d of %d trials finished, %d running elsewhere, %d to run",
                self.study_name,
                done,
                self.n_trials,
                running,
                max(0, to_run),
            )
            # A seeded sampler restarts its random stream in every process: without a reseed a
            # resumed (or a second) process would propose the first one's parameters again.
            self.sampler.reseed_rng()
        if to_run <= 0:
            log.info(
                "trials done %d of %d (%d running elsewhere) · best so far: %s",
                done,
                self.n_trials,
                running,
                best_so_far(study),
            )
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
        tell(study, trial, state=TrialState.FAIL)
        log.info("trial %d is surplus (another process filled the study): not run", trial.number)
        return True

    def _launch(self, study: optuna.Study, batch: list[optuna.Trial], space: SearchSpace) -> None:
        overrides = [self._configure(study, trial, batch, space) for trial in batch]
        with Heartbeat(batch, self.heartbeat_interval):
            returns = self.launcher.launch(overrides, initial_job_idx=batch[0].number)
        failures, raised = [], []
        for trial, ret in zip(batch, returns):
            try:
                values = self._values(ret.return_value)  # re-raises the job's own error
            except TrialInterrupted as error:  # its job was ended from outside (e.g. scancel): not a failure
                trial.set_user_attr(INTERRUPTED, True)
                tell(study, trial, state=TrialState.FAIL)
                log.warning("trial %d was interrupted (%s); its slot runs again", trial.number, error)
                continue
            except Exception as error:  # noqa: BLE001 - any failure of a trial is recorded, not raised
                trial.set_user_attr(FAILURE, type(error).__name__)
                tell(study, trial, state=TrialState.FAIL)
                log.warning("trial %d failed: %s", trial.number, error)
                failures.append(error)
                if ret.status == JobStatus.FAILED:
                    raised.append(error)
                continue
            tell(study, trial, values)  # a NaN value: Optuna records FAIL, with a warning
        if raised and len(failures) / len(batch) > self.max_failure_rate:
            log.error(
                "%d of %d trials failed, more than max_failure_rate=%s allows",
                len(failures),
                len(batch),
                self.max_failure_rate,
            )
            raise raised[0]

    def _configure(
        self, study: optuna.Study, trial: optuna.Trial, batch: list[optuna.Trial], space: SearchSpace
    ) -> list[str]:
        """One trial's overrides: the sampled params (``custom_search_space`` may add some), the fixed
        overrides (also stored as user attributes), and its sweep subdir. A custom parameter that is
        also a fixed one stops the sweep (its batch recorded FAIL, interrupted) before anything runs."""
        for name, value in space.fixed.items():
            trial.set_user_attr(name, value)
        if self.extend_search_space is not None:
            self.extend_search_space(self.config, trial)
        overlap = sorted(trial.params.keys() & space.fixed.keys())
        if overlap:
            for other in batch:
                other.set_user_attr(INTERRUPTED, True)
                tell(study, other, state=TrialState.FAIL)
            raise ValueError(f"custom_search_space suggests fixed parameters: {', '.join(overlap)}")
        return space.overrides(trial.params) + [f"hydra.sweep.subdir={trial.number}"]

    def _values(self, returned: Any) -> list[float]:
        values = [float(v) for v in (returned if isinstance(returned, (list, tuple)) else [returned])]
        if len(values) != len(self.directions):
            raise ValueError(
                f"the task returned {len(values)} objective values for {len(self.directions)} directions"
            )
        return values
