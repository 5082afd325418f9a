"""Job states and results for `launcher.SlurmLauncher` (imported only when a sweep launches: it needs
submitit)."""

from __future__ import annotations

import contextlib
import logging
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from hydra.core.utils import JobReturn, JobStatus
from submitit.core.utils import FailedJobError, UncompletedJobError
from submitit.slurm.slurm import SlurmInfoWatcher

from excolor.errors import TrialInterrupted, TrialTimedOut
from excolor.run_record import FAILURE_FILE, write_failure

log = logging.getLogger(__name__)

SQUEUE_HEADER = "JobID|State|NodeList"  # the fields submitit asks sacct for, in its order
INTERRUPTED_STATES = ("CANCELLED", "NODE_FAIL", "PREEMPTED", "BOOT_FAIL", "DEADLINE")


class SlurmStates(SlurmInfoWatcher):
    """submitit's job-state poller, reading ``squeue --states=all`` where ``sacct`` has no accounting
    storage to read (squeue lists a job until ``MinJobAge`` seconds after it ended)."""

    def __init__(self, delay_s: int = 60) -> None:
        super().__init__(delay_s=delay_s)
        self.sacct = sacct_works()

    def _make_command(self) -> list[str] | None:
        command = super()._make_command()
        if command is None or self.sacct:
            return command
        ids = [command[i + 1] for i, word in enumerate(command) if word == "-j"]
        return [
            "squeue",
            "--states=all",
            "--array",
            "--noheader",
            "--format=%i|%T|%N",
            f"--jobs={','.join(ids)}",
        ]

    def read_info(self, string: bytes | str) -> dict[str, dict[str, str]]:
        if not self.sacct:
            text = string.decode() if isinstance(string, bytes) else string
            string = SQUEUE_HEADER + "\n" + text
        return super().read_info(string)


def sacct_works() -> bool:
    """Whether ``sacct`` answers (it exits 1 with "Slurm accounting storage is disabled" otherwise)."""
    try:
        done = subprocess.run(
            ["sacct", "--noheader", "--allocations", "--format=JobID", "--starttime=now"],
            capture_output=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def job_return(job: Any, overrides: list[str], run_dir: Callable[[], Path]) -> JobReturn:
    """The job's result; for a job that SLURM ended without one, a failed `JobReturn` whose error says
    why (see `launcher`); ``failure.json`` is written into the run dir of a timed-out trial."""
    job.wait()
    state = "COMPLETED"
    if not job.paths.result_pickle.exists():
        state = (job.watcher.get_state(job.job_id, mode="force") or "UNKNOWN").split()[0].upper()
    if state == "COMPLETED":
        try:
            return job.results()[0]
        except (UncompletedJobError, FailedJobError) as error:
            return failed(
                overrides,
                RuntimeError(
                    f"SLURM job {job.job_id} failed outside the trial: "
                    f"{str(error).splitlines()[0]} (log: {job.paths.stderr})"
                ),
            )
    if state.startswith("TIMEOUT"):
        error: Exception = TrialTimedOut(
            f"SLURM job {job.job_id} reached its time limit (log: {job.paths.stderr})"
        )
        directory = run_dir()
        if directory.is_dir() and not (directory / FAILURE_FILE).exists():
            write_failure(directory, error)
    elif state.startswith(INTERRUPTED_STATES):
        error = TrialInterrupted(f"SLURM job {job.job_id} ended {state} before the trial finished")
    else:
        error = RuntimeError(
            f"SLURM job {job.job_id} ended {state} without a result (log: {job.paths.stderr})"
        )
    return failed(overrides, error)


def failed(overrides: list[str], error: Exception) -> JobReturn:
    return JobReturn(overrides=overrides, status=JobStatus.FAILED, _return_value=error)


class _Stopped(Exception):
    """SIGTERM reached the sweeping process."""


@contextlib.contextmanager
def cancel_on_stop(jobs: Sequence[Any]) -> Iterator[None]:
    """While the block runs, SIGTERM or Ctrl-C cancels the jobs that have not ended, then exits."""

    def stop(_signum: int, _frame: Any) -> None:
        raise _Stopped()

    main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if main else None
    try:
        yield
    except (_Stopped, KeyboardInterrupt) as reason:
        running = [job.job_id for job in jobs if not job.paths.result_pickle.exists()]
        if running:
            subprocess.run(["scancel", *running], capture_output=True, timeout=60)
            log.warning("sweep stopped: cancelled its trial jobs %s", " ".join(running))
        raise SystemExit(143 if isinstance(reason, _Stopped) else 130) from None
    finally:
        if main:
            signal.signal(signal.SIGTERM, previous)
