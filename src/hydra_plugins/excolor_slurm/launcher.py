"""``hydra/launcher: slurm`` (conf/hydra/launcher/slurm.yaml): Hydra's submitit SLURM launcher, plus

- **job states without accounting**: submitit polls ``sacct``; where SLURM keeps no accounting
  (``sacct``: "Slurm accounting storage is disabled") it polls ``squeue --states=all`` instead
  (`_states.SlurmStates`), so the terminal gets no "Bypassing sacct error" lines and a job that SLURM
  ended without a result is still seen to end;
- **a result for every job**: a job that SLURM ended is its trial's failure, not the batch's —
  CANCELLED (``scancel``, a lost node) → `TrialInterrupted` (a resumable sweep runs the slot again),
  TIMEOUT → `TrialTimedOut` (kept FAIL, with ``failure.json`` in the run dir), any other state →
  `RuntimeError` naming it (`_states.job_return`);
- **the time limit**: submitit sends USR2 ``signal_delay_s`` before it; a job that is that close to
  ``timeout_min`` fails its trial with `TrialTimedOut` (the task writes ``failure.json``) instead of
  being requeued, since a trial rerun from scratch would meet the same limit; a USR2 earlier than
  that is a preemption, requeued as submitit does;
- **a stopped sweep stops its trials**: SIGTERM (``scancel`` of a sweeper job) or Ctrl-C while the
  sweeping process waits cancels its unfinished trial jobs, then exits (status 143 / 130); the next run
  of the sweep settles those trials as interrupted;
- **logs next to the run**: each trial job links its SLURM stdout and stderr into its run dir as
  ``slurm.out`` / ``slurm.err`` (the files stay in ``submitit_folder``);
- **clean submission**: trials are submitted in submitit's ``clean_env``, so a sweeper running inside
  an ``sbatch`` job does not pass that job's SLURM settings on to its trials.

Kept free of heavy imports: Hydra imports this module at every start-up (plugin discovery).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from hydra.core.singleton import Singleton
from hydra.core.utils import JobReturn, filter_overrides, run_job, setup_globals
from hydra_plugins.hydra_submitit_launcher import submitit_launcher
from hydra_plugins.hydra_submitit_launcher.config import BaseQueueConf
from omegaconf import OmegaConf, open_dict

log = logging.getLogger(__name__)

# SLURM sends a `--signal` up to this many seconds earlier than asked (its event resolution).
SIGNAL_SLACK_S = 60
LOG_LINKS = {"slurm.out": "stdout", "slurm.err": "stderr"}


class SlurmLauncher(submitit_launcher.SlurmLauncher):
    """``_target_: hydra_plugins.excolor_slurm.launcher.SlurmLauncher`` (the submitit_slurm settings)."""

    def __call__(
        self,
        sweep_overrides: list[str],
        job_dir_key: str,
        job_num: int,
        job_id: str,
        singleton_state: dict[type, Singleton],
    ) -> JobReturn:
        """In the trial's job: link its logs into its run dir, then run the task (as Hydra's launcher)."""
        import submitit

        assert self.hydra_context is not None and self.config is not None and self.task_function is not None
        self._started = time.time()
        Singleton.set_state(singleton_state)
        setup_globals()
        sweep_config = self.hydra_context.config_loader.load_sweep_config(self.config, sweep_overrides)
        environment = submitit.JobEnvironment()
        with open_dict(sweep_config.hydra.job):
            sweep_config.hydra.job.id = environment.job_id
            sweep_config.hydra.job.num = job_num
        run_dir = Path(str(sweep_config.hydra.sweep.dir)) / str(sweep_config.hydra.sweep.subdir)
        link_logs(run_dir, environment.paths)
        return run_job(
            hydra_context=self.hydra_context,
            task_function=self.task_function,
            config=sweep_config,
            job_dir_key=job_dir_key,
            job_subdir_key="hydra.sweep.subdir",
        )

    def checkpoint(self, *args: Any, **kwargs: Any) -> Any:
        """submitit's USR2 handler, in the trial's job: at the time limit the trial fails; else (a
        preemption) the job is requeued with the same arguments."""
        from excolor.errors import TrialTimedOut

        limit_s = 60.0 * float(self.params["timeout_min"])
        elapsed = time.time() - getattr(self, "_started", time.time())
        if elapsed >= limit_s - float(self.params.get("signal_delay_s", 0)) - SIGNAL_SLACK_S:
            raise TrialTimedOut(
                f"the trial's job is at its SLURM time limit (hydra.launcher.timeout_min="
                f"{self.params['timeout_min']}; SLURM's warning signal came after {elapsed:.0f} s): "
                "not requeued"
            )
        return super().checkpoint(*args, **kwargs)

    def launch(self, job_overrides: Sequence[Sequence[str]], initial_job_idx: int) -> Sequence[JobReturn]:
        import submitit

        from hydra_plugins.excolor_slurm import _states

        assert self.config is not None and len(job_overrides) > 0
        sweep_dir = Path(str(self.config.hydra.sweep.dir))
        sweep_dir.mkdir(parents=True, exist_ok=True)
        if "mode" in self.config.hydra.sweep:
            os.chmod(sweep_dir, mode=int(str(self.config.hydra.sweep.mode), 8))
        log.info("Submitit 'slurm' sweep output dir : %s", sweep_dir)
        job_params = []
        for idx, overrides in enumerate(job_overrides, start=initial_job_idx):
            log.info("\t#%d : %s", idx, " ".join(filter_overrides(overrides)))
            job_params.append(
                (list(overrides), "hydra.sweep.dir", idx, f"job_id_for_{idx}", Singleton.get_state())
            )
        executor = self._executor(submitit)
        with submitit.helpers.clean_env():
            jobs = executor.map_array(self, *zip(*job_params))
        states = _states.SlurmStates()
        for job in jobs:
            job.watcher = states
        with _states.cancel_on_stop(jobs):
            return [
                _states.job_return(job, list(overrides), lambda o=overrides, i=idx: self._run_dir(o, i))
                for idx, (job, overrides) in enumerate(zip(jobs, job_overrides), start=initial_job_idx)
            ]

    def _executor(self, submitit: Any) -> Any:
        """The submitit executor with this launcher's parameters (as Hydra's launcher builds it)."""
        init_keys = {"max_num_timeout", "python"}
        executor = submitit.AutoExecutor(
            cluster=self._EXECUTOR,
            folder=self.params["submitit_folder"],
            **{f"{self._EXECUTOR}_{k}": v for k, v in self.params.items() if k in init_keys},
        )
        shared = set(OmegaConf.structured(BaseQueueConf).keys())
        executor.update_parameters(
            **{
                k if k in shared else f"{self._EXECUTOR}_{k}": v
                for k, v in self.params.items()
                if k not in init_keys | {"submitit_folder"}
            }
        )
        return executor

    def _run_dir(self, overrides: Sequence[str], job_num: int) -> Path:
        """A job's run dir, composed as the job composes it (for a job that ended without writing)."""
        assert self.hydra_context is not None and self.config is not None
        config = self.hydra_context.config_loader.load_sweep_config(self.config, list(overrides))
        with open_dict(config.hydra.job):
            config.hydra.job.num = job_num
        return Path(str(config.hydra.sweep.dir)) / str(config.hydra.sweep.subdir)


def link_logs(run_dir: Path, paths: Any) -> None:
    """``run_dir/slurm.out`` and ``slurm.err``: relative links to the job's submitit log files."""
    run_dir.mkdir(parents=True, exist_ok=True)
    for name, attribute in LOG_LINKS.items():
        link = run_dir / name
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(Path(getattr(paths, attribute)).absolute(), run_dir.absolute()))
