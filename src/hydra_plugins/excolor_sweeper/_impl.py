"""The Optuna sweeper, made resumable and talkative.

Hydra's Optuna sweeper already stores its study (`hydra.sweeper.storage`) and loads it again when the
same `study_name` exists, but on a rerun it would run `n_trials` *more* trials and number its job
directories from 0 again, over the old ones. This subclass, on every start:

- settles trials left RUNNING by a killed sweep: one whose directory has metrics.json is recorded
  COMPLETE from it, any other is marked FAIL (user attribute `interrupted`) and its slot runs again;
- runs only `n_trials` minus the trials already finished (COMPLETE, or FAIL that was not an
  interruption): completed trials are kept and never rerun;
- numbers job directories by Optuna trial number, so `<sweep dir>/<N>/` is trial N, across reruns;
- reseeds the sampler when the study already has trials (a seeded sampler would otherwise propose
  the same parameters as the first run did);
- saves `multirun.yaml` in the sweep dir (the report reads it) and logs progress before each batch:
  trials done of n, and the best values so far;
- writes the sweep's report when it ends, also when it ends in an error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, List

import optuna
from hydra_plugins.hydra_optuna_sweeper._impl import OptunaSweeperImpl
from omegaconf import OmegaConf
from optuna.trial import TrialState

log = logging.getLogger(__name__)


def _finished(trial: optuna.trial.FrozenTrial) -> bool:
    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and not trial.user_attrs.get("interrupted"))


def settle_interrupted(study: optuna.Study, trial: optuna.trial.FrozenTrial, trial_dir: Path) -> None:
    """A trial left RUNNING by a killed sweep. Hydra's sweeper tells Optuna a batch's results only
    when the whole batch has returned, so the trial may well have finished: if its directory holds
    metrics.json, record it COMPLETE with the objective values found there; otherwise mark it FAIL
    with user attribute `interrupted` (its slot runs again)."""
    import json

    storage, trial_id = study._storage, trial._trial_id
    metrics_file, config_file = trial_dir / "metrics.json", trial_dir / ".hydra" / "config.yaml"
    if metrics_file.is_file() and config_file.is_file():
        metrics = json.loads(metrics_file.read_text())
        names = OmegaConf.load(config_file).objective
        names = [names] if isinstance(names, str) else list(names)
        storage.set_trial_values(trial_id, [float(metrics[name]) for name in names])
        storage.set_trial_state(trial_id, TrialState.COMPLETE)
        log.info("trial %d finished before the sweep was killed: recorded from %s", trial.number, metrics_file)
        return
    storage.set_trial_user_attr(trial_id, "interrupted", True)
    storage.set_trial_state(trial_id, TrialState.FAIL)
    log.warning("trial %d was interrupted; its slot runs again", trial.number)


def best_so_far(study: optuna.Study) -> str:
    complete = [t for t in study.trials if t.state == TrialState.COMPLETE]
    if not complete:
        return "none complete yet"
    best = study.best_trials
    return "; ".join(f"#{t.number} {[round(v, 6) for v in t.values]} {t.params}" for t in best[:3])


class ResumableOptunaSweeperImpl(OptunaSweeperImpl):
    def sweep(self, arguments: List[str]) -> None:
        sweep_dir = Path(self.config.hydra.sweep.dir)
        sweep_dir.mkdir(parents=True, exist_ok=True)
        OmegaConf.save(self.config, sweep_dir / "multirun.yaml")
        total = self.n_trials
        if self.storage is not None:
            study = optuna.create_study(
                study_name=self.study_name, storage=self.storage, directions=self._get_directions(), load_if_exists=True
            )
            for trial in study.trials:
                if trial.state == TrialState.RUNNING:
                    settle_interrupted(study, trial, sweep_dir / str(trial.number))
            trials = study.get_trials(deepcopy=False)
            done = sum(_finished(t) for t in trials)
            self.job_idx = len(trials)
            self.n_trials = max(0, total - done)
            if trials and hasattr(self.sampler, "reseed_rng"):
                # A seeded sampler restarts its random stream on every start: without a reseed the
                # resumed sweep would propose the first trials' parameters again.
                self.sampler.reseed_rng()
            if done:
                log.info("resuming study %r: %d of %d trials finished, %d to run", self.study_name, done, total, self.n_trials)
            launch = self.launcher.launch

            def launch_with_progress(overrides, initial_job_idx):
                now = optuna.load_study(study_name=self.study_name, storage=self.storage)
                finished = sum(_finished(t) for t in now.get_trials(deepcopy=False))
                log.info("trials done %d of %d · best so far: %s", finished, total, best_so_far(now))
                return launch(overrides, initial_job_idx=initial_job_idx)

            self.launcher.launch = launch_with_progress
        try:
            return super().sweep(arguments)
        finally:
            from excolor.report import write_report_safely

            write_report_safely(sweep_dir)
