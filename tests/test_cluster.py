"""Sweeps on a real SLURM cluster, and one Optuna study shared on a real PostgreSQL server, both from
`scripts/local-cluster.sh start` (they skip with one line when it is not running; under CI=true they fail).

Tiny trials throughout (population.size=2, trainer.max_steps=100, logger=none). The fault tests print
the study's trials by state before and after each cancel (`pytest -s` shows them; the README quotes them).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import string
import subprocess
import sys
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

import warm
from excolor.run_record import Status, read_run
from inprocess import Completed
from readme_blocks import read_block
from smoke import SMOKE_CUBE

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "local-cluster.sh"
TINY = ["trainer.max_steps=100", "population.size=2", "logger=none", SMOKE_CUBE]
# A fault test's trial must still be running seconds after its job starts, on a fast or a loaded
# machine alike, without the CPU a long training would take from the other tests: 40 steps with
# 0.15 s of sleep after each (tests/support/sleepy.py, on the cluster's PYTHONPATH).
SLEEPY = ["trusted_packages=[sleepy]"]
FAULT = [
    "trainer.max_steps=40",
    "population.size=2",
    "logger=none",
    SMOKE_CUBE,
    *SLEEPY,
    "+callbacks.sleep={_target_: sleepy.SleepEachStep, seconds: 0.15}",
]
NOISE = ("sacct", "Bypassing", "srun", "Traceback", "submitit WARNING")

pytestmark = [pytest.mark.cluster, pytest.mark.slow]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> dict[str, str]:
    """The environment for commands on the local cluster: SLURM_CONF, the partition, the study URL, and
    a fresh checkpoint cache."""
    done = subprocess.run([str(SCRIPT), "env"], capture_output=True, text=True)
    if done.returncode != 0:
        reason = (
            f"no local SLURM cluster and PostgreSQL server: run `{SCRIPT.relative_to(ROOT)} start` as root"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    settings = dict(
        line.removeprefix("export ").split("=", 1) for line in done.stdout.splitlines() if "=" in line
    )
    return {
        **os.environ,
        **settings,
        "EXCOLOR_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "PYTHONPATH": os.pathsep.join(
            [str(ROOT / "src"), str(ROOT / "tests" / "support"), os.environ.get("PYTHONPATH", "")]
        ),
    }


TIME_LIMIT_TEST = "test_trial_at_the_time_limit_is_recorded_failed"


@pytest.fixture(scope="module", autouse=True)
def time_limit_sweep(request, cluster, tmp_path_factory):
    """A grid sweep whose one trial (1 s of sleep after each of its 3,001 steps: `tests/support/sleepy.py`)
    has a 1-minute SLURM time limit, started with the module when its test is selected: its minute of
    waiting overlaps the other tests, and it waits without using the CPU they need."""
    if not any(item.name == TIME_LIMIT_TEST for item in request.session.items):
        yield None
        return
    tmp_path = tmp_path_factory.mktemp("time-limit")
    sweep_dir = tmp_path / "h2"
    # 3,001 steps of at least 1 s each: SLURM's 1-minute limit always hits it
    overrides = [
        "sweep=h2",
        *SLEEPY,
        "+callbacks.sleep={_target_: sleepy.SleepEachStep, seconds: 1.0}",
        "logger=none",
        *slurm(cluster),
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweeper.params.model=linear",
        "hydra.launcher.timeout_min=1",
        "hydra.launcher.signal_delay_s=15",
    ]
    log = tmp_path / "sweeper.log"
    sweeper = warm.start("excolor.train", "-m", *overrides, cwd=tmp_path, env=cluster, output=log)
    yield sweeper, sweep_dir, log
    if sweeper.poll() is None:  # the test did not wait for it: stop it (SIGTERM cancels its trial job)
        sweeper.terminate()
    sweeper.wait(timeout=120)


def readme_command(start: str) -> list[str]:
    """The command of the README's cluster block that starts with `start`, split as the shell would
    (before expanding variables), without its comment."""
    block = read_block((ROOT / "README.md").read_text(), "cluster")
    (line,) = [line for line in block.splitlines() if line.startswith(start)]
    return shlex.split(line.split("  #")[0])


def readme_sweep(cluster: dict[str, str], start: str) -> list[str]:
    """A README sweep command's arguments after `python -m excolor.train -m`, on the local partition."""
    words = readme_command(start)
    assert words[:4] == ["python", "-m", "excolor.train", "-m"]
    assert f"hydra.launcher.partition={cluster['EXCOLOR_SLURM_PARTITION']}" in words
    return words[4:]


def slurm(cluster: dict[str, str]) -> list[str]:
    return ["hydra/launcher=slurm", f"hydra.launcher.partition={cluster['EXCOLOR_SLURM_PARTITION']}"]


def train_command(*overrides: str) -> list[str]:
    """A sweep's command line, for a batch job (a fresh interpreter on the node)."""
    return [sys.executable, "-m", "excolor.train", "-m", *overrides]


def sweep(cluster: dict[str, str], cwd: Path, *overrides: str, check: bool = True) -> Completed:
    """A sweep from this host (as a login node would start it): a process of its own, started warm
    (tests/warm.py); its trial jobs are fresh interpreters on the node."""
    done = warm.run("excolor.train", "-m", *overrides, cwd=cwd, env=cluster, timeout=600)
    if check:
        assert done.returncode == 0, done.stderr[-3000:]
    return done


def squeue(cluster: dict[str, str], *options: str) -> list[str]:
    """squeue's lines for `options` (job ids with their state: ``%i %T``)."""
    done = subprocess.run(
        ["squeue", "--noheader", "--array", "--format=%i %T", *options],
        capture_output=True,
        text=True,
        env=cluster,
        check=True,
    )
    return done.stdout.split()


def sbatch(cluster: dict[str, str], cwd: Path, name: str, command: list[str]) -> str:
    """Submit `command` as a batch job (one core, its log in cwd); returns the job id."""
    done = subprocess.run(
        [
            "sbatch",
            "--parsable",
            f"--job-name={name}",
            "--cpus-per-task=1",
            "--mem=2G",
            f"--output={cwd}/{name}-%j.out",
            f"--partition={cluster['EXCOLOR_SLURM_PARTITION']}",
            "--wrap",
            shlex.join(command),
        ],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=cluster,
        check=True,
    )
    return done.stdout.strip().split(";")[0]


def wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(every)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def job_gone(cluster: dict[str, str], job_id: str) -> bool:
    states = squeue(cluster, "--states=all", f"--jobs={job_id}")
    return all(state not in ("PENDING", "RUNNING", "COMPLETING", "CONFIGURING") for state in states[1::2])


def running_jobs(cluster: dict[str, str], name: str) -> list[str]:
    lines = squeue(cluster, f"--name={name}", "--states=RUNNING")
    return lines[0::2]


def study_trials(cluster: dict[str, str], name: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # libpq reads the password from the cluster's PGPASSFILE (set in this process by `scenarios`)
    return optuna.load_study(study_name=name, storage=cluster["EXCOLOR_STUDY_STORAGE"]).get_trials(
        deepcopy=False
    )


def by_state(trials) -> dict[str, int]:
    """Trial counts by state; FAIL split into interrupted (its slot runs again) and failed (kept)."""
    counts = Counter()
    for trial in trials:
        state = trial.state.name
        if state == "FAIL":
            state = (
                "FAIL interrupted"
                if trial.user_attrs.get("interrupted")
                else f"FAIL {trial.user_attrs.get('failure')}"
            )
        counts[state] += 1
    return dict(sorted(counts.items()))


def assert_settled(trials, n_trials: int, sweep_dir: Path) -> None:
    """Exactly n_trials COMPLETE, each with its run dir's metrics; the rest FAIL interrupted; nothing
    RUNNING; trial numbers unique."""
    numbers = [t.number for t in trials]
    assert len(numbers) == len(set(numbers))
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == n_trials, by_state(trials)
    assert all(t.state.name == "COMPLETE" or t.user_attrs.get("interrupted") for t in trials), by_state(
        trials
    )
    for trial in complete:
        assert read_run(sweep_dir / str(trial.number)).status == Status.OK


def h1_overrides(
    cluster: dict[str, str], study: str, sweep_dir: Path, n_trials: int, n_jobs: int, size: list[str] = TINY
) -> list[str]:
    return [
        *size,
        "sweep=h1",
        *slurm(cluster),
        f"hydra.launcher.name={study}",
        f"hydra.sweeper.study_name={study}",
        f"hydra.sweeper.storage={cluster['EXCOLOR_STUDY_STORAGE']}",
        f"hydra.sweep.dir={sweep_dir}",
        f"hydra.sweeper.n_trials={n_trials}",
        f"hydra.sweeper.n_jobs={n_jobs}",
    ]


def record(name: str, figures: dict) -> None:
    """Print the figures, and keep them in $EXCOLOR_CLUSTER_FIGURES (a JSON-lines file) when set."""
    print(f"\n{name}: {json.dumps(figures)}")
    path = os.environ.get("EXCOLOR_CLUSTER_FIGURES")
    if path:
        with open(path, "a") as handle:
            handle.write(json.dumps({"test": name, **figures}) + "\n")


# ----------------------------------------------------------------------------------------------- sweeps


def scenario_grid_sweep_on_slurm(cluster, tmp_path):
    """The README's sweep=h2 command (hydra/launcher=slurm): both trials COMPLETE, each job's log linked
    into its run dir, the report written, and a quiet terminal (no sacct errors, no srun hint)."""
    sweep_dir = tmp_path / "h2"
    done = sweep(
        cluster,
        tmp_path,
        *readme_sweep(cluster, "python -m excolor.train -m sweep=h2"),
        *TINY,
        f"hydra.sweep.dir={sweep_dir}",
    )
    output = done.stdout + done.stderr
    for noise in NOISE:
        assert noise not in output, noise
    for trial in ("0", "1"):
        run = read_run(sweep_dir / trial)
        assert run.status == Status.OK, run.error
        log = (sweep_dir / trial / "slurm.out").read_text()
        assert "Job completed successfully" in log and "auto-requeue" not in log
        assert (sweep_dir / trial / "slurm.err").resolve().parent == (
            sweep_dir / trial / "slurm.out"
        ).resolve().parent
    assert (sweep_dir / "report.md").is_file()


def scenario_optuna_sweep_on_slurm(cluster, tmp_path):
    """The README's sweep=h1 command (hydra/launcher=slurm, its journal file): n_trials COMPLETE, report
    written."""
    sweep_dir = tmp_path / "h1"
    sweep(
        cluster,
        tmp_path,
        *readme_sweep(cluster, "python -m excolor.train -m sweep=h1"),
        *TINY,
        f"hydra.sweep.dir={sweep_dir}",
        "hydra.sweeper.n_trials=2",
        "hydra.sweeper.n_jobs=2",
    )
    import optuna

    study = optuna.load_study(
        study_name="h1",
        storage=optuna.storages.JournalStorage(
            optuna.storages.journal.JournalFileBackend(str(sweep_dir / "optuna.journal"))
        ),
    )
    assert [t.state.name for t in study.trials] == ["COMPLETE", "COMPLETE"]
    assert (sweep_dir / "report.md").is_file()


def scenario_two_sbatch_sweepers_share_one_postgres_study(cluster, tmp_path):
    """The README's sbatch line twice: two sweeper jobs on one PostgreSQL study: exactly n_trials trials,
    numbers unique, all COMPLETE, and each job ran some of them."""
    study, n_trials = f"shared-{uuid.uuid4().hex[:8]}", 4
    words = readme_command("sbatch --wrap")
    assert words[:2] == ["sbatch", "--wrap"] and len(words) == 3
    # the wrapped command as the batch job's shell runs it: variables expanded, in the job's working dir
    wrapped = shlex.split(string.Template(words[2]).substitute({**cluster, "PWD": str(tmp_path)}))
    assert wrapped[:4] == ["python", "-m", "excolor.train", "-m"]
    sweep_dir = tmp_path / "multirun" / "h1-shared"
    assert f"hydra.sweep.dir={sweep_dir}" in wrapped
    assert f"hydra.sweeper.storage={cluster['EXCOLOR_STUDY_STORAGE']}" in wrapped
    command = train_command(
        *wrapped[4:],
        *TINY,
        f"hydra.launcher.name={study}",
        f"hydra.sweeper.study_name={study}",
        f"hydra.sweeper.n_trials={n_trials}",
        "hydra.sweeper.n_jobs=2",
    )
    jobs = [sbatch(cluster, tmp_path, f"sweeper-{i}", command) for i in range(2)]
    wait_for(lambda: all(job_gone(cluster, job) for job in jobs), 400, "both sweeper jobs to end", every=1)
    trials = study_trials(cluster, study)
    record(
        "two sweepers, one study",
        {
            "trials": by_state(trials),
            "per sweeper": sorted(Counter(t.user_attrs["sweeper_pid"] for t in trials).values()),
        },
    )
    assert len(trials) == n_trials and [t.state.name for t in trials] == ["COMPLETE"] * n_trials
    assert_settled(trials, n_trials, sweep_dir)
    assert len({t.user_attrs["sweeper_pid"] for t in trials}) == 2  # both jobs ran trials


# ------------------------------------------------------------------------------------------------ faults


def scenario_cancelled_trial_job_runs_again(cluster, tmp_path):
    """scancel of a running trial job: the sweep records it FAIL interrupted and runs its slot again;
    it ends with n_trials COMPLETE."""
    study, n_trials = f"trialcancel-{uuid.uuid4().hex[:8]}", 2
    sweep_dir = tmp_path / "sweep"
    log = tmp_path / "sweeper.log"
    overrides = h1_overrides(cluster, study, sweep_dir, n_trials, n_jobs=2, size=FAULT)
    sweeper = warm.start("excolor.train", "-m", *overrides, cwd=tmp_path, env=cluster, output=log)
    try:
        victim = wait_for(lambda: running_jobs(cluster, study), 120, "a running trial job")[0]
        time.sleep(2)
        before = by_state(study_trials(cluster, study))
        subprocess.run(["scancel", victim], check=True, env=cluster)
        code = sweeper.wait(timeout=300)
    finally:
        if sweeper.poll() is None:
            sweeper.kill()
    output = log.read_text()
    assert code == 0, output[-3000:]
    trials = study_trials(cluster, study)
    record("scancel a trial job", {"before": before, "after": by_state(trials)})
    assert_settled(trials, n_trials, sweep_dir)
    assert by_state(trials) == {"COMPLETE": n_trials, "FAIL interrupted": 1}
    assert re.search(r"trial \d+ was interrupted \(SLURM job \S+ ended CANCELLED", output)


def scenario_cancelled_sweeper_job_is_settled_by_a_rerun(cluster, tmp_path):
    """scancel of the sweeper job cancels its trial jobs; a rerun of the same sweep settles their
    trials (interrupted) and finishes n_trials, nothing lost or repeated."""
    study, n_trials = f"sweepercancel-{uuid.uuid4().hex[:8]}", 2
    sweep_dir = tmp_path / "sweep"
    command = train_command(*h1_overrides(cluster, study, sweep_dir, n_trials, n_jobs=2, size=FAULT))
    sweeper = sbatch(cluster, tmp_path, "sweeper", command)
    trial_jobs = wait_for(lambda: running_jobs(cluster, study), 120, "the sweeper's trial jobs")
    time.sleep(2)
    before = by_state(study_trials(cluster, study))
    subprocess.run(["scancel", sweeper], check=True, env=cluster)
    wait_for(
        lambda: job_gone(cluster, sweeper) and all(job_gone(cluster, job) for job in trial_jobs),
        60,
        "the sweeper and its trials to end",
    )
    cancelled = by_state(study_trials(cluster, study))
    log = next(tmp_path.glob("sweeper-*.out")).read_text()
    assert "sweep stopped: cancelled its trial jobs" in log
    rerun = sbatch(cluster, tmp_path, "rerun", command)
    wait_for(lambda: job_gone(cluster, rerun), 300, "the rerun to end", every=1)
    trials = study_trials(cluster, study)
    record(
        "scancel the sweeper job",
        {"before": before, "after cancel": cancelled, "after rerun": by_state(trials)},
    )
    assert cancelled == {"RUNNING": n_trials}
    assert_settled(trials, n_trials, sweep_dir)
    # A trial whose job finished just before the cancel is settled COMPLETE from its metrics.json; every
    # other one is FAIL interrupted and its slot ran again: n_trials COMPLETE, nothing lost or repeated.
    states = by_state(trials)
    assert states["COMPLETE"] == n_trials and 1 <= states.get("FAIL interrupted", 0) <= n_trials, states
    assert (
        set(states) <= {"COMPLETE", "FAIL interrupted"}
        and len(trials) == n_trials + states["FAIL interrupted"]
    )


def test_trial_at_the_time_limit_is_recorded_failed(time_limit_sweep):
    """A trial whose job reaches SLURM's time limit (timeout_min=1, a full-length training) is FAIL with
    the reason in failure.json; the grid sweep still writes its report and exits 1."""
    sweeper, sweep_dir, log = time_limit_sweep
    code = sweeper.wait(timeout=300)
    output = log.read_text()
    run = read_run(sweep_dir / "0")
    record("time limit", {"status": run.status.value, "type": run.error_type, "error": run.error})
    assert code == 1, output[-3000:]
    assert run.status == Status.FAILED and run.error_type == "TrialTimedOut", (run.status, run.error)
    assert "time limit" in run.error
    assert "TrialTimedOut" in (sweep_dir / "report.md").read_text()


# ------------------------------------------------------------------------------------------------ tests
# Each scenario mostly waits (for SLURM to start a job, for a trial to run, for a cancel to settle): the
# selected ones start together when the module starts, and each test waits for its own scenario's end
# (its assertions run in the scenario; a failed one fails its test).

SCENARIOS = {
    f"test_{name.removeprefix('scenario_')}": scenario
    for name, scenario in list(globals().items())
    if name.startswith("scenario_")
}


@pytest.fixture(scope="module", autouse=True)
def scenarios(request, cluster, tmp_path_factory):
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    previous = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = cluster["PGPASSFILE"]
    pool = ThreadPoolExecutor(max_workers=len(SCENARIOS))
    futures = {
        test: pool.submit(scenario, cluster, tmp_path_factory.mktemp(test.removeprefix("test_")))
        for test, scenario in SCENARIOS.items()
        if test in selected
    }
    yield futures
    pool.shutdown(wait=True)
    if previous is None:
        os.environ.pop("PGPASSFILE", None)
    else:
        os.environ["PGPASSFILE"] = previous


def test_grid_sweep_on_slurm(scenarios):
    scenarios["test_grid_sweep_on_slurm"].result(timeout=900)


def test_optuna_sweep_on_slurm(scenarios):
    scenarios["test_optuna_sweep_on_slurm"].result(timeout=900)


def test_two_sbatch_sweepers_share_one_postgres_study(scenarios):
    scenarios["test_two_sbatch_sweepers_share_one_postgres_study"].result(timeout=900)


def test_cancelled_trial_job_runs_again(scenarios):
    scenarios["test_cancelled_trial_job_runs_again"].result(timeout=900)


def test_cancelled_sweeper_job_is_settled_by_a_rerun(scenarios):
    scenarios["test_cancelled_sweeper_job_is_settled_by_a_rerun"].result(timeout=900)
