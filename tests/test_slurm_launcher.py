"""The SLURM launcher's pieces that need no cluster: job states read from squeue, a result for a job that
SLURM ended, and the time-limit signal (tests/test_cluster.py runs them on a real one)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from hydra.core.utils import JobStatus

from excolor.errors import TrialInterrupted, TrialTimedOut
from hydra_plugins.excolor_slurm import _states
from hydra_plugins.excolor_slurm.launcher import SlurmLauncher


@pytest.fixture
def no_accounting(monkeypatch):
    monkeypatch.setattr(_states, "sacct_works", lambda: False)


def test_states_come_from_squeue_without_accounting(no_accounting):
    states = _states.SlurmStates()
    for job_id in ("97_0", "97_1", "98"):
        states.register_job(job_id)
    command = states._make_command()
    assert (
        command is not None and command[0] == "squeue" and "--states=all" in command and "--array" in command
    )
    assert set(command[-1].removeprefix("--jobs=").split(",")) == {"97", "98"}  # one query per array
    info = states.read_info(b"97_0|CANCELLED|vm\n97_1|RUNNING|vm\n98|TIMEOUT|vm\n")
    assert {job: fields["State"] for job, fields in info.items()} == {
        "97_0": "CANCELLED",
        "97_1": "RUNNING",
        "98": "TIMEOUT",
    }
    states._info_dict.update(info)
    assert states.is_done("97_0", mode="cache") and not states.is_done("97_1", mode="cache")


def fake_job(tmp_path: Path, state: str) -> SimpleNamespace:
    """A submitit job that ended in `state` without a result file."""
    watcher = SimpleNamespace(get_state=lambda job_id, mode: state)
    paths = SimpleNamespace(result_pickle=tmp_path / "none.pkl", stderr=tmp_path / "job.err")
    return SimpleNamespace(job_id="7_1", wait=lambda: None, paths=paths, watcher=watcher)


@pytest.mark.parametrize(
    ("state", "error"),
    [
        ("CANCELLED by 0", TrialInterrupted),
        ("NODE_FAIL", TrialInterrupted),
        ("TIMEOUT", TrialTimedOut),
        ("OUT_OF_MEMORY", RuntimeError),
    ],
)
def test_a_job_that_slurm_ended_is_its_trials_failure(tmp_path, state, error):
    run_dir = tmp_path / "3"
    run_dir.mkdir()
    ret = _states.job_return(fake_job(tmp_path, state), ["model=linear"], lambda: run_dir)
    assert ret.status == JobStatus.FAILED and ret.overrides == ["model=linear"]
    with pytest.raises(
        error, match=state.split()[0] if error is not TrialTimedOut else "time limit"
    ) as caught:
        ret.return_value  # noqa: B018 - the property raises the trial's error
    assert type(caught.value) is error
    failure = run_dir / "failure.json"
    assert failure.exists() == (error is TrialTimedOut)  # only a timeout is a failure of the trial itself
    if failure.exists():
        assert json.loads(failure.read_text())["type"] == "TrialTimedOut"


def launcher(timeout_min: int, started_ago: float) -> SlurmLauncher:
    launcher = SlurmLauncher(timeout_min=timeout_min, signal_delay_s=15, submitit_folder="unused")
    launcher._started = time.time() - started_ago
    return launcher


def test_the_time_limit_signal_fails_the_trial_and_a_preemption_requeues_it():
    # timeout_min=5: 300 s, the signal asked 15 s before the end, and SLURM may send it up to 60 s early:
    # a signal from 300 - 15 - 60 = 225 s on is the time limit's
    with pytest.raises(TrialTimedOut, match="timeout_min=5"):
        launcher(5, started_ago=230).checkpoint(["model=linear"])
    # earlier, the job is being preempted: submitit requeues the same call
    requeued = launcher(5, started_ago=200).checkpoint(["model=linear"])
    assert requeued.args == (["model=linear"],)


def test_the_time_limit_error_is_found_behind_the_library_code_it_interrupted():
    """The time-limit signal raises `TrialTimedOut` wherever the job is; inside ``inspect`` (as in the CI
    run where a trial's failure read ``TypeError: unsupported callable``) it arrives wrapped, and the
    trial still records `TrialTimedOut`."""
    import inspect

    from excolor.errors import asynchronous_cause

    class InterruptedHere:
        @property
        def __signature__(self):
            raise TrialTimedOut("the trial's job is at its SLURM time limit")

        def __call__(self):
            return None

    with pytest.raises(TypeError, match="unsupported callable") as wrapped:
        inspect.getfullargspec(InterruptedHere())
    cause = asynchronous_cause(wrapped.value)
    assert isinstance(cause, TrialTimedOut) and "time limit" in str(cause)
    plain = ValueError("an ordinary failure")
    assert asynchronous_cause(plain) is plain
