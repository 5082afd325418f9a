"""The Optuna sweeper, made resumable and talkative.

Hydra's Optuna sweeper already stores its study (`hydra.sweeper.storage`) and loads it again when the
same `study_name` exists, but on a rerun it would run `n_trials` *more* trials and number its job
directories from 0 again, over the old ones. This subclass, on every start:

- marks trials left RUNNING by a killed sweep as FAIL (user attribute `interrupted`), so their slots
  are run again;
- runs only `n_trials` minus the trials already finished (COMPLETE, or FAIL that was not an
  interruption): completed trials are kept and never rerun;
- numbers job directories by Optuna trial number, so `<sweep dir>/<N>/` is trial N, across reruns;
- reseeds the sampler when the study already has trials (a seeded sampler would otherwise propose
  the same parameters as the first run did);
- saves `multirun.yaml` in the sweep dir (the report reads it) and logs progress before each batch:
  trials done of n, and the best values so far.
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
                    study._storage.set_trial_user_attr(trial._trial_id, "interrupted", True)
                    study._storage.set_trial_state(trial._trial_id, TrialState.FAIL)
                    log.warning("trial %d was interrupted; its slot runs again", trial.number)
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
        return super().sweep(arguments)
