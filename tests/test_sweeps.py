"""Sweeps: every sweep config composes with the settings it promises, and tiny sweeps run end to end
through the real entry point, `python -m excolor.train -m sweep=…`, each a process of its own started
warm (tests/warm.py: forked from an interpreter that has torch and Lightning imported).

A 30-step trial takes about a second, most of it evaluation, so every test's sweeps start at once from
one module fixture on a small thread pool, and each test then checks its own sweep's outputs. Only the
sweeps that the selected tests need are started (`pytest -k h2` runs only the h2 sweep).

Each sweep runs in its own directory with its own checkpoint cache (EXCOLOR_CACHE_DIR), 30 steps per
trial on the CPU, and is shrunk from the shipped sizes with overrides (fewer seeds, fewer trials).

Hydra/Optuna behaviour these tests pin down (see the individual tests):

- Basic sweeper + a failing trial: every trial still runs, then Hydra re-raises the first failure and
  exits 1 (and calls no `on_multirun_end` callback); our basic sweeper writes report.md all the same.
- Optuna sweeper + a failing trial: the trial is recorded FAIL, the study goes on (max_failure_rate
  1.0), the exit code is 0 and the report lists the failed trial.
- Optuna sweeps tell the study a batch's results only after the whole batch (hydra.sweeper.n_jobs
  trials) returns; a kill in the middle of a batch leaves every trial of the batch RUNNING, even one
  whose job had finished and written metrics.json. On resume the sweeper records such a finished trial
  COMPLETE from its metrics.json, marks the others FAIL (interrupted) and runs their slots again.
- The resume test leaves two trials RUNNING between a run with n_trials=4 and a rerun with
  n_trials=6, claimed by a process that then exits (as a SIGKILL leaves them): trial 4 without a
  directory (interrupted: FAIL, its slot runs again) and trial 5 with a failure.json (a real failure:
  FAIL, kept, never rerun). So one rerun checks both: 1 new trial (number and directory 6), the first
  4 untouched.
- Two sweep processes started at once on one study (the default journal file storage) run n_trials
  between them: every number once, every trial COMPLETE, both processes ran trials.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from hydra import compose, initialize_config_dir
from hydra.core.override_parser.overrides_parser import OverridesParser
from omegaconf import OmegaConf

import excolor.config  # noqa: F401 - registers the excolor_conf resolver before any compose
import warm
from excolor.config import CONF_DIR, VERSION_BASE
from excolor.reproducible import PORTABLE, PORTABLE_DISPATCH
from excolor.run_record import DISPATCH, DISPATCH_MODE, read_members
from inprocess import Completed
from kernels import FORCED, forced_env
from smoke import SMOKE_CUBE

STEPS = 30
TINY = [f"trainer.max_steps={STEPS}", "trainer.accelerator=cpu", SMOKE_CUBE]
SMALL_POPULATION = "population.size=2"  # the shipped sweeps train 16–64 seeds per trial
TIMEOUT = 300
SWEEPS_DIR = CONF_DIR.parent / "sweeps"
SWEEP_NAMES = sorted(p.stem for p in SWEEPS_DIR.glob("*.yaml"))
OUR_SWEEPER = "hydra_plugins.excolor_sweeper.resumable.ResumableOptunaSweeper"
JOURNAL = "optuna.journal"  # the Optuna sweeps' storage: a journal file in the sweep dir
# A sweep process that claims trials and exits, as a killed sweep leaves them: RUNNING, owner gone.
CLAIM_AND_EXIT = """
import sys, optuna
from excolor.study_storage import open_storage
from hydra_plugins.excolor_sweeper._ownership import claim
study = optuna.load_study(study_name=sys.argv[2], storage=open_storage(sys.argv[1]))
for _ in range(int(sys.argv[3])):
    trial = study.ask()
    claim(trial)
    print(trial.number)
"""


# --------------------------------------------------------------------------- helpers


def sweep_env(root: Path, forced: dict[str, str] | None = None) -> dict:
    """The suite's environment with `root/cache` as the cache; `forced`: the dispatch variables an outside
    environment forces instead of the suite's portable ones."""
    return {
        **(os.environ if forced is None else forced_env(**forced)),
        "EXCOLOR_CACHE_DIR": str(root / "cache"),
        "WANDB_MODE": "disabled",
        "PYTHONUNBUFFERED": "1",
    }


def train_arguments(*overrides: str, multirun: bool = True) -> list[str]:
    """`python -m excolor.train`'s arguments."""
    return [*(["-m"] if multirun else []), *overrides]


def run_train(
    root: Path, *overrides: str, multirun: bool = True, log: str = "run", forced: dict[str, str] | None = None
) -> Completed:
    """Run the entry point in `root` (the cwd) with `root/cache` as the checkpoint cache, as a process of
    its own started warm (tests/warm.py); the output is also kept in `root/<log>.log` for a failing test's
    message."""
    done = warm.run(
        "excolor.train",
        *train_arguments(*overrides, multirun=multirun),
        cwd=root,
        env=sweep_env(root, forced),
        timeout=TIMEOUT,
    )
    (root / f"{log}.log").write_text(
        f"rc={done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    return done


def tail(done: Completed | subprocess.CompletedProcess, n: int = 3000) -> str:
    return f"rc={done.returncode}\n--- stdout\n{done.stdout[-n:]}\n--- stderr\n{done.stderr[-n:]}"


def trial_dirs(sweep: Path) -> list[str]:
    return sorted((p.name for p in sweep.iterdir() if p.is_dir() and p.name.isdigit()), key=int)


def metrics(trial: Path) -> dict:
    return json.loads((trial / "metrics.json").read_text())


def overrides_of(trial: Path) -> dict[str, str]:
    return dict(o.split("=", 1) for o in yaml.safe_load((trial / ".hydra" / "overrides.yaml").read_text()))


def fingerprint(path: Path) -> tuple[int, str]:
    """mtime (ns) and content hash: equal fingerprints mean the file was not rewritten."""
    return path.stat().st_mtime_ns, hashlib.sha256(path.read_bytes()).hexdigest()


def load_study(sweep: Path, name: str):
    import optuna

    from excolor.study_storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    return optuna.load_study(study_name=name, storage=open_storage(str(sweep / JOURNAL)))


def claim_and_exit(sweep: Path, name: str, n: int) -> list[int]:
    """Leave n trials RUNNING, claimed by a process that has exited; their numbers."""
    done = subprocess.run(
        [sys.executable, "-c", CLAIM_AND_EXIT, str(sweep / JOURNAL), name, str(n)],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=sweep_env(sweep.parent),
    )
    assert done.returncode == 0, done.stderr
    return [int(line) for line in done.stdout.split()]


def study_snapshot(sweep: Path, name: str) -> list[dict]:
    return [
        {
            "number": t.number,
            "state": t.state.name,
            "values": t.values,
            "params": dict(t.params),
            "user_attrs": dict(t.user_attrs),
        }
        for t in load_study(sweep, name).get_trials(deepcopy=False)
    ]


def states(snapshot: list[dict]) -> dict[str, int]:
    out: dict[str, int] = {}
    for t in snapshot:
        out[t["state"]] = out.get(t["state"], 0) + 1
    return out


def is_png(path: Path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def compose_train(*overrides: str, hydra_config: bool = True):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose("train", overrides=list(overrides), return_hydra_config=hydra_config)


def compose_task(*overrides: str):
    """The config a task sees: without the `hydra` node (whose hydra.job.num only a run sets)."""
    return compose_train(*overrides, hydra_config=False)


def parse_override(key: str, value: str):
    """The parsed sweep value of `key=value` (a ChoiceSweep, RangeSweep, IntervalSweep, …)."""
    return OverridesParser.create().parse_overrides([f"{key}={value}"])[0]


def sweep_values(key: str, value: str) -> list:
    override = parse_override(key, value)
    return list(override.sweep_iterator()) if override.is_sweep_override() else [override.value()]


# --------------------------------------------------------------------------- the sweeps
# Each function runs one sweep (or a chain of runs that depend on each other) in `root` and returns
# what its tests check. They run on the module fixture's thread pool.


def sweep_h2(root: Path) -> dict:
    """h2 with 2 models, each a population of 3 seeds, on the joblib launcher (2 workers), in an
    environment that forces the machine's fastest kernels (each loky worker is a fresh process and must pin
    the portable ones itself): the end-to-end h2 test and the joblib test share this one sweep (the basic
    launcher runs in the others)."""
    sweep = root / "h2"
    done = run_train(
        root,
        "sweep=h2",
        *TINY,
        "population.size=3",
        "hydra/launcher=joblib",
        "hydra.launcher.n_jobs=2",
        f"hydra.sweep.dir={sweep}",
        forced=FORCED,
    )
    return {"done": done, "sweep": sweep}


def sweep_h1_resume(root: Path) -> dict:
    """h1 with 4 trials; then two trials left RUNNING by a process that exits (as a kill leaves them),
    the second with a failure.json in its directory, and a rerun of the same command with n_trials=6:
    the first becomes FAIL (interrupted), the second FAIL (kept), 1 new trial runs."""
    sweep = root / "h1"
    command = ["sweep=h1", *TINY, SMALL_POPULATION, f"hydra.sweep.dir={sweep}"]
    first = run_train(root, *command, "hydra.sweeper.n_trials=4", log="first")
    out = {"first": first, "sweep": sweep}
    if first.returncode != 0:
        return out
    out["report_first"] = (sweep / "report.md").read_text() if (sweep / "report.md").is_file() else ""
    out["dirs_first"] = trial_dirs(sweep)
    out["study_first"] = study_snapshot(sweep, "h1")
    out["fingerprints"] = {
        d: fingerprint(sweep / d / "metrics.json")
        for d in out["dirs_first"]
        if (sweep / d / "metrics.json").is_file()
    }
    out["killed_number"], out["failed_number"] = claim_and_exit(sweep, "h1", 2)
    failed_dir = sweep / str(out["failed_number"])
    failed_dir.mkdir()
    (failed_dir / "failure.json").write_text(
        json.dumps({"type": "TrainingDiverged", "error": "loss is NaN at step 3"})
    )
    time.sleep(0.05)  # so that a rewritten file would show a different mtime even on coarse clocks
    out["second"] = run_train(root, *command, "hydra.sweeper.n_trials=6", log="second")
    out["dirs_second"] = trial_dirs(sweep)
    out["study_second"] = study_snapshot(sweep, "h1")
    return out


def sweep_fail_basic(root: Path) -> dict:
    sweep = root / "fail_basic"
    done = run_train(
        root, "+hydra/sweep_common=default", *TINY, "model.hidden=16,0", f"hydra.sweep.dir={sweep}"
    )
    return {"done": done, "sweep": sweep}


def sweep_fail_optuna(root: Path) -> dict:
    sweep = root / "fail_optuna"
    # A sweep override on the command line joins the Optuna search space (hydra.sweeper.params has
    # dotted keys, which an override of hydra.sweeper.params.model.hidden could not address).
    done = run_train(
        root,
        "sweep=h1",
        *TINY,
        SMALL_POPULATION,
        "hydra.sweeper.n_trials=4",
        "model.hidden=choice(16,0)",
        f"hydra.sweep.dir={sweep}",
    )
    return {"done": done, "sweep": sweep}


def sweep_cache(root: Path) -> dict:
    """A plain run trains seed 0; the falloff sweep (a population of seed 0 only) then finds it in the cache. The plain
    run deliberately differs from the sweep in logger, callbacks, evaluation and interventions, none of
    which may change the cache key."""
    run_dir = root / "pretrain"
    pretrain = run_train(
        root,
        *TINY,
        "seed=0",
        "logger=none",
        "callbacks=default",
        "evaluation.plots=false",
        "evaluation.val_grid=4",
        "evaluation.red_similarity=0.6",
        "intervention=none",
        "objective=[val/recon]",
        f"hydra.run.dir={run_dir}",
        multirun=False,
        log="pretrain",
    )
    out = {"pretrain": pretrain, "run_dir": run_dir, "sweep": root / "falloff"}
    if pretrain.returncode == 0:
        out["done"] = run_train(
            root,
            "sweep=falloff",
            *TINY,
            "hydra.sweeper.n_trials=3",
            "population.size=1",
            f"hydra.sweep.dir={out['sweep']}",
            log="falloff",
        )
    return out


def sweep_two_processes(root: Path) -> dict:
    """Two sweep processes started together on one h1 study (n_trials=6, one trial per batch each)."""
    sweep = root / "h1"
    arguments = train_arguments(
        "sweep=h1",
        "trainer.max_steps=20",
        "trainer.accelerator=cpu",
        "evaluation.plots=false",
        SMALL_POPULATION,
        "cache.enabled=false",
        "hydra.sweeper.n_trials=6",
        "hydra.sweeper.n_jobs=1",
        f"hydra.sweep.dir={sweep}",
    )
    processes = [
        warm.start(
            "excolor.train", *arguments, cwd=root, env=sweep_env(root), output=root / f"process{i}.log"
        )
        for i in (0, 1)
    ]
    codes = [p.wait(timeout=TIMEOUT) for p in processes]
    return {
        "codes": codes,
        "pids": [p.pid for p in processes],
        "sweep": sweep,
        "logs": [(root / f"process{i}.log").read_text() for i in (0, 1)],
        "study": study_snapshot(sweep, "h1"),
        "dirs": trial_dirs(sweep),
    }


def sweep_submitit_optuna(root: Path) -> dict:
    """h1 (2 trials in one batch) on the submitit_local launcher: the SLURM recipe, run locally."""
    sweep = root / "h1"
    done = run_train(
        root,
        "sweep=h1",
        *TINY,
        SMALL_POPULATION,
        "hydra.sweeper.n_trials=2",
        "hydra/launcher=submitit_local",
        f"hydra.sweep.dir={sweep}",
    )
    return {
        "done": done,
        "sweep": sweep,
        "study": study_snapshot(sweep, "h1") if (sweep / JOURNAL).is_file() else [],
    }


def sweep_sigkill(root: Path) -> dict:
    """h1 (4 trials, 2 per batch) killed with SIGKILL as soon as trial 0 has written metrics.json (trial 1
    of the same batch is then starting or running), then the same command again to the end."""
    sweep = root / "h1"
    arguments = train_arguments(
        "sweep=h1",
        "trainer.max_steps=100",
        "trainer.accelerator=cpu",
        SMALL_POPULATION,
        "hydra.sweeper.n_trials=4",
        f"hydra.sweep.dir={sweep}",
    )
    first_metrics = sweep / "0" / "metrics.json"
    out: dict = {"sweep": sweep}
    p = warm.start("excolor.train", *arguments, cwd=root, env=sweep_env(root), output=root / "killed.log")
    deadline = time.monotonic() + TIMEOUT
    while p.poll() is None and not first_metrics.is_file() and time.monotonic() < deadline:
        time.sleep(0.02)
    out["exited_early"] = p.poll()
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGKILL)  # the child leads a session of its own: the whole group
    p.wait()
    if not first_metrics.is_file():
        return out
    out["fingerprint"] = fingerprint(first_metrics)
    out["study_at_kill"] = study_snapshot(sweep, "h1")
    time.sleep(0.05)
    done = warm.run("excolor.train", *arguments, cwd=root, env=sweep_env(root), timeout=TIMEOUT)
    (root / "rerun.log").write_text(
        f"rc={done.returncode}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
    )
    out["done"] = done
    out["study"] = study_snapshot(sweep, "h1")
    out["dirs"] = trial_dirs(sweep)
    return out


SWEEPS = {
    f.__name__.removeprefix("sweep_"): f
    for f in (
        sweep_h1_resume,
        sweep_sigkill,
        sweep_two_processes,
        sweep_submitit_optuna,
        sweep_h2,
        sweep_fail_optuna,
        sweep_cache,
        sweep_fail_basic,
    )
}

# test function -> the sweeps it needs
NEEDS = {
    "test_h2_end_to_end": ["h2"],
    "test_h1_optuna_study_and_pareto_report": ["h1_resume"],
    "test_h1_rerun_runs_only_the_missing_trials": ["h1_resume"],
    "test_h1_rerun_marks_an_interrupted_trial_failed_and_reruns_its_slot": ["h1_resume"],
    "test_h1_resumes_after_sigkill": ["sigkill"],
    "test_basic_sweeper_runs_every_trial_despite_a_failure": ["fail_basic"],
    "test_optuna_sweep_records_a_failing_trial_and_goes_on": ["fail_optuna"],
    "test_falloff_sweep_reuses_cached_training": ["cache"],
    "test_joblib_launcher": ["h2"],
    "test_submitit_local_launcher": ["submitit_optuna"],
    "test_two_processes_share_one_study": ["two_processes"],
    "test_optuna_sweep_on_submitit_local": ["submitit_optuna"],
    "test_report_reads_the_sweeps_own_study": ["h1_resume"],
    "test_report_of_a_corrupt_or_missing_study_fails_and_keeps_the_old_one": ["h1_resume"],
}


@pytest.fixture(scope="module")
def sweeps(request, tmp_path_factory):
    """Start every sweep the selected tests need, 2 at a time; returns name -> Future."""
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    needed = [name for name in SWEEPS if any(name in NEEDS.get(test, []) for test in selected)]
    pool = ThreadPoolExecutor(max_workers=2)
    futures: dict[str, Future] = {}
    for name in needed:  # longest chains first
        root = tmp_path_factory.mktemp(name)
        futures[name] = pool.submit(timed, SWEEPS[name], root)
    yield futures
    pool.shutdown(wait=True, cancel_futures=True)


def timed(fn, root):
    started = time.perf_counter()
    try:
        return fn(root)
    finally:
        print(f"{fn.__name__}: {time.perf_counter() - started:.1f} s", file=sys.stderr)


def result(sweeps: dict[str, Future], name: str) -> dict:
    return sweeps[name].result(timeout=2 * TIMEOUT)


# --------------------------------------------------------------------------- composition


@pytest.mark.parametrize("name", SWEEP_NAMES)
def test_every_sweep_composes(name):
    cfg = compose_train(f"sweep={name}")
    assert cfg.hydra.sweep.dir == f"multirun/{name}"
    # hydra/sweep_common: light logging, no per-trial figures, the report at the end
    assert cfg.logger._target_.endswith("CSVLogger")
    assert not cfg.callbacks
    assert cfg.evaluation.plots is False
    assert cfg.hydra.sweeper._target_.startswith("hydra_plugins.excolor_sweeper.")
    # every swept key and every key the report groups or selects by exists in the composed config
    params = cfg.hydra.sweeper.params or {}
    for key in params:
        if key not in ("model", "experiment"):  # config groups, not values
            assert OmegaConf.select(cfg, key, default="<missing>") != "<missing>", (
                f"sweep={name}: swept key {key} is not in the config"
            )
    report = OmegaConf.to_container(cfg.report, resolve=True)
    for key in report.get("arms", []):
        assert OmegaConf.select(cfg, key, default="<missing>") != "<missing>", (
            f"sweep={name}: report arm {key}"
        )
    for h in report.get("hypotheses", []):
        for key in [*h["treatment"], *h["control"]]:
            assert OmegaConf.select(cfg, key, default="<missing>") != "<missing>", (
                f"sweep={name}: {h['name']} selects by {key}"
            )
        assert set(h["metrics"].values()) <= {"lower", "higher"}
    objectives = list(cfg.objective) if not isinstance(cfg.objective, str) else [cfg.objective]
    if "optuna" in cfg.hydra.sweeper._target_.lower():
        assert cfg.hydra.sweeper._target_ == OUR_SWEEPER
        assert len(objectives) == len(cfg.hydra.sweeper.direction), "one objective per direction"
        assert cfg.hydra.sweeper.storage == JOURNAL  # relative: inside the sweep dir
        assert cfg.hydra.sweeper.max_failure_rate == 1.0, "a failing trial must not stop the study"
    else:
        assert cfg.hydra.sweeper._target_ == "hydra_plugins.excolor_sweeper.reporting.ReportingBasicSweeper"
        assert len(objectives) == 1


def test_h2_composition():
    cfg = compose_train("sweep=h2")
    params = cfg.hydra.sweeper.params
    assert sorted(sweep_values("model", params.model)) == ["linear", "sigmoid"]
    assert "seed" not in params and cfg.population.size >= 64  # two population runs, same seeds
    assert cfg.report.hypotheses[0].name == "H2"


def test_h1_composition():
    cfg = compose_train("sweep=h1", "hydra.sweep.dir=/somewhere/h1")
    sweeper = cfg.hydra.sweeper
    assert sweeper._target_ == OUR_SWEEPER
    assert len(sweeper.direction) == 2 and set(sweeper.direction) == {"minimize", "maximize"}
    assert sweeper.n_trials >= 24
    weight = parse_override("regularizers.unit.weight", sweeper.params["regularizers.unit.weight"]).value()
    assert "log" in weight.tags
    assert weight.start < 1 < weight.end and math.log10(weight.end / weight.start) >= 3, (
        weight.start,
        weight.end,
    )
    assert sorted(sweep_values("model.normalize", sweeper.params["model.normalize"])) == [False, True]
    assert "seed" not in sweeper.params  # the seed is never searched: every trial is the same population
    assert cfg.population.size >= 16
    # the study lives inside the sweep dir, wherever that is
    from excolor.study_storage import resolve_storage

    assert resolve_storage(sweeper.storage, Path(cfg.hydra.sweep.dir)) == "/somewhere/h1/optuna.journal"
    assert sweeper.sampler._target_.endswith("create_nsgaii_sampler")  # the 1.4 sweeper's NSGA-II factory


def test_falloff_composition():
    cfg = compose_train("sweep=falloff")
    assert cfg.hydra.sweeper._target_ == OUR_SWEEPER
    assert cfg.hydra.sweeper.n_trials == 30
    assert list(cfg.hydra.sweeper.direction) == ["maximize", "maximize"]
    assert list(cfg.objective) == ["eval/suppression/focus", "eval/repulsion/focus"]


def test_h1_history_composition():
    cfg = compose_train("sweep=h1_history")
    assert sorted(sweep_values("experiment", cfg.hydra.sweeper.params.experiment)) == ["ex2.2", "ex2.3"]
    assert "seed" not in cfg.hydra.sweeper.params and cfg.population.size >= 32


def test_h1_dose_composition():
    cfg = compose_train("sweep=h1_dose")
    assert sorted(sweep_values("model.normalize", cfg.hydra.sweeper.params["model.normalize"])) == [
        False,
        True,
    ]
    weights = list(cfg.population.grid["regularizers.unit.weight"])
    assert len(weights) >= 12 and 1.0 in weights and weights == sorted(weights)
    ratios = [b / a for a, b in zip(weights, weights[1:])]
    assert max(ratios) / min(ratios) < 1.05  # log-spaced
    assert cfg.population.size >= 32 and cfg.report.dose == "regularizers.unit.weight"


def test_slurm_launcher_composes():
    cfg = compose_train("sweep=h2", "hydra/launcher=slurm")
    assert "SlurmLauncher" in cfg.hydra.launcher._target_
    assert cfg.hydra.launcher.cpus_per_task == 1
    assert cfg.hydra.launcher.timeout_min > 0


# --------------------------------------------------------------------------- end to end


@pytest.mark.slow
def test_h2_end_to_end(sweeps):
    r = result(sweeps, "h2")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    assert trial_dirs(sweep) == ["0", "1"]
    arms = set()
    for d in trial_dirs(sweep):
        m = metrics(sweep / d)
        assert m["train/steps"] == STEPS and m["population/size"] == 3
        assert math.isfinite(m["eval/none/median_mse"])
        assert [row["seed"] for row in read_members(sweep / d)] == [0, 1, 2]
        arms.add(overrides_of(sweep / d)["model"])
    assert arms == {"sigmoid", "linear"}
    report = (sweep / "report.md").read_text()
    assert "- Trials: 2 — ok 2, failed 0, incomplete 0" in report
    assert "## Metrics per arm" in report
    assert any(line.startswith("| output=sigmoid | 3 |") for line in report.splitlines()), report
    assert any(line.startswith("| output=linear | 3 |") for line in report.splitlines()), report
    verdict = [line for line in report.splitlines() if line.startswith("- **H2**")]
    # 3 pairs: the smallest two-sided Wilcoxon p is 2/2³ = 0.25, so the verdict must be inconclusive
    assert len(verdict) == 1 and ": inconclusive —" in verdict[0] and "n = 3 seeds, paired" in verdict[0], (
        report
    )
    summary = json.loads((sweep / "summary.json").read_text())
    assert {k: summary["counts"][k] for k in ("ok", "failed", "incomplete", "total")} == {
        "ok": 2,
        "failed": 0,
        "incomplete": 0,
        "total": 2,
    }
    assert [h["name"] for h in summary["hypotheses"]] == ["H2"]
    assert summary["hypotheses"][0]["outcome"] == "inconclusive"
    assert is_png(sweep / "metrics.png")
    assert "metrics.png" in report


@pytest.mark.slow
def test_h1_optuna_study_and_pareto_report(sweeps):
    r = result(sweeps, "h1_resume")
    assert r["first"].returncode == 0, tail(r["first"])
    sweep = r["sweep"]
    assert r["dirs_first"] == ["0", "1", "2", "3"]
    study = r["study_first"]
    assert [t["number"] for t in study] == [0, 1, 2, 3]
    assert states(study) == {"COMPLETE": 4}
    for t in study:
        assert set(t["params"]) == {"regularizers.unit.weight", "model.normalize"}
        assert 0.01 <= t["params"]["regularizers.unit.weight"] <= 100
        # the study's values are the trial's objectives, as written in its metrics.json
        m = metrics(sweep / str(t["number"]))
        assert t["values"] == pytest.approx([m["eval/none/median_mse"], m["eval/suppression/score"]])
    report = r["report_first"]
    assert "Trials by state: COMPLETE 4, FAIL 0, RUNNING 0." in report
    assert "### Pareto front (" in report
    lines = report.splitlines()
    head = lines.index(next(line for line in lines if line.startswith("### Pareto front")))
    table = [line for line in lines[head + 1 :] if line.startswith("|")]
    assert (
        table[0].startswith("| trial |")
        and "eval/none/median_mse" in table[0]
        and "eval/suppression/score" in table[0]
    )
    assert len(table) >= 3  # header, rule, at least one trial of the front
    assert is_png(sweep / "optuna.png")


@pytest.mark.slow
def test_h1_rerun_runs_only_the_missing_trials(sweeps):
    r = result(sweeps, "h1_resume")
    assert r["first"].returncode == 0, tail(r["first"])
    assert r["second"].returncode == 0, tail(r["second"])
    sweep, before, after = r["sweep"], r["study_first"], r["study_second"]
    assert (r["killed_number"], r["failed_number"]) == (4, 5)
    # 4 kept + 1 interrupted + 1 failed (kept) + 1 new: trial numbers run on, and so do the directories
    # (the interrupted trial never had one)
    assert [t["number"] for t in after] == [0, 1, 2, 3, 4, 5, 6]
    assert r["dirs_second"] == ["0", "1", "2", "3", "5", "6"]
    assert states(after) == {"COMPLETE": 5, "FAIL": 2}
    for old, new in zip(before, after):  # the first trials are kept as they were
        assert new == old
    for d, fp in r["fingerprints"].items():
        assert fingerprint(sweep / d / "metrics.json") == fp, f"trial {d}'s metrics.json was rewritten"
    # the new trials ran (their directories hold their own results) with new parameters: the sampler
    # was reseeded, not restarted from the first run's proposals
    new = after[6]
    m = metrics(sweep / "6")
    assert new["values"] == pytest.approx([m["eval/none/median_mse"], m["eval/suppression/score"]])
    old_weights = {t["params"]["regularizers.unit.weight"] for t in before}
    assert new["params"]["regularizers.unit.weight"] not in old_weights
    log = r["second"].stdout + r["second"].stderr
    assert "resuming study" in log and "1 to run" in log, log[-3000:]
    report = (sweep / "report.md").read_text()
    assert "Trials by state: COMPLETE 5, FAIL 2, RUNNING 0." in report


@pytest.mark.slow
def test_h1_rerun_marks_an_interrupted_trial_failed_and_reruns_its_slot(sweeps):
    r = result(sweeps, "h1_resume")
    assert r["second"].returncode == 0, tail(r["second"])
    after = {t["number"]: t for t in r["study_second"]}
    interrupted = after[r["killed_number"]]
    assert interrupted["state"] == "FAIL"
    assert interrupted["user_attrs"].get("interrupted") is True
    assert [n for n, t in after.items() if t["user_attrs"].get("interrupted")] == [r["killed_number"]]
    # the trial whose failure.json was written before the kill stays FAIL and is not rerun
    failed = after[r["failed_number"]]
    assert failed["state"] == "FAIL" and failed["user_attrs"].get("failure") == "TrainingDiverged"
    assert not (r["sweep"] / str(r["failed_number"]) / "metrics.json").exists()
    # finished trials (COMPLETE, or FAIL from a real error) = the rerun's n_trials
    assert sum(t["state"] == "COMPLETE" for t in after.values()) + 1 == 6
    assert "trial 4 was interrupted" in r["second"].stdout + r["second"].stderr


@pytest.mark.slow
def test_h1_resumes_after_sigkill(sweeps):
    r = result(sweeps, "sigkill")
    assert r["exited_early"] is None, (
        f"the sweep ended before it could be killed: {(r['sweep'].parent / 'killed.log').read_text()[-3000:]}"
    )
    assert "fingerprint" in r, "trial 0 never wrote metrics.json"
    done = r["done"]
    assert done.returncode == 0, tail(done)
    sweep, study = r["sweep"], r["study"]
    # trial 0's job finished before the kill; its results are never rewritten
    assert fingerprint(sweep / "0" / "metrics.json") == r["fingerprint"]
    assert states(study)["COMPLETE"] == 4
    # trial 0 was still RUNNING in the study at the kill (its batch was open), but its job had written
    # metrics.json: the rerun records it COMPLETE from that file instead of running it again
    at_kill = {t["number"]: t["state"] for t in r["study_at_kill"]}
    assert at_kill[0] == "RUNNING"
    trial0 = next(t for t in study if t["number"] == 0)
    assert trial0["state"] == "COMPLETE" and not trial0["user_attrs"].get("interrupted")
    interrupted = [t for t in study if t["user_attrs"].get("interrupted")]
    assert interrupted and all(t["state"] == "FAIL" for t in interrupted)
    assert all(t["state"] in ("COMPLETE", "FAIL") for t in study)
    assert len(study) == 4 + len(interrupted)
    # only trials the kill caught RUNNING, without a metrics.json, were marked interrupted
    assert {t["number"] for t in interrupted} <= {n for n, s in at_kill.items() if s == "RUNNING"} - {0}
    # directories are named by trial number (a trial killed before Hydra made its directory has
    # none), and every COMPLETE trial has its metrics.json
    assert set(r["dirs"]) <= {str(t["number"]) for t in study}
    for t in study:
        if t["state"] == "COMPLETE":
            assert (sweep / str(t["number"]) / "metrics.json").is_file()


@pytest.mark.slow
def test_basic_sweeper_runs_every_trial_despite_a_failure(sweeps):
    """hidden=16 trains; hidden=0 raises ConfigError in its trial. The basic sweeper still runs every
    trial of the batch, then re-raises the failure: the exit code is 1. Our basic sweeper still writes
    report.md, listing the failed trial."""
    r = result(sweeps, "fail_basic")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 1, tail(done)
    assert trial_dirs(sweep) == ["0", "1"]
    good, bad = sweep / "0", sweep / "1"
    assert overrides_of(good)["model.hidden"] == "16" and overrides_of(bad)["model.hidden"] == "0"
    assert metrics(good)["train/steps"] == STEPS
    assert not (good / "failure.json").exists()
    assert not (bad / "metrics.json").exists()
    failure = json.loads((bad / "failure.json").read_text())
    assert set(failure) >= {"type", "error"}
    assert "model.hidden=0" in failure["error"], failure
    assert "model.hidden=0" in done.stderr + done.stdout
    report = (sweep / "report.md").read_text()
    assert "- Trials: 2 — ok 1, failed 1, incomplete 0" in report
    assert "## Failed trials" in report and "`1/`" in report


@pytest.mark.slow
def test_optuna_sweep_records_a_failing_trial_and_goes_on(sweeps):
    r = result(sweeps, "fail_optuna")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    study = study_snapshot(sweep, "h1")
    assert len(study) == 4 and trial_dirs(sweep) == ["0", "1", "2", "3"]
    failed = [t for t in study if t["state"] == "FAIL"]
    complete = [t for t in study if t["state"] == "COMPLETE"]
    assert failed and complete, study  # the seeded sampler draws both hidden=0 and hidden=16
    for t in failed:
        assert t["params"]["model.hidden"] == 0
        assert not t["user_attrs"].get("interrupted")
        trial = sweep / str(t["number"])
        assert not (trial / "metrics.json").exists()
        failure = json.loads((trial / "failure.json").read_text())
        assert "model.hidden=0" in failure["error"] and failure["type"]
    for t in complete:
        assert t["params"]["model.hidden"] == 16
        assert (sweep / str(t["number"]) / "metrics.json").is_file()
    report = (sweep / "report.md").read_text()
    assert f"Trials by state: COMPLETE {len(complete)}, FAIL {len(failed)}, RUNNING 0." in report
    section = report.split("## Failed trials", 1)[1].split("\n## ", 1)[0]
    for t in failed:
        assert f"`{t['number']}/`" in section and "model.hidden=0" in section


@pytest.mark.slow
def test_falloff_sweep_reuses_cached_training(sweeps):
    r = result(sweeps, "cache")
    assert r["pretrain"].returncode == 0, tail(r["pretrain"])
    assert metrics(r["run_dir"])["train/cached"] == 0
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    assert trial_dirs(sweep) == ["0", "1", "2"]
    study = study_snapshot(sweep, "falloff")
    assert states(study) == {"COMPLETE": 3}
    for t in study:
        m = metrics(sweep / str(t["number"]))
        assert m["seed"] == 0
        assert m["train/cached"] == 1, f"trial {t['number']} retrained"
        assert t["values"] == pytest.approx([m["eval/suppression/focus"], m["eval/repulsion/focus"]])
    # the trials differ only in their interventions, so all evaluate the same trained model
    assert len({metrics(sweep / d)["val/recon"] for d in trial_dirs(sweep)}) == 1
    assert len({t["params"]["intervention.suppression.falloff.a"] for t in study}) == 3
    assert len(list((r["sweep"].parent / "cache").iterdir())) == 1


@pytest.mark.slow
def test_cache_key_ignores_logging_evaluation_and_interventions(tmp_path):
    from excolor.cache import training_key

    base = ["trainer.max_steps=30", "seed=0"]
    key = training_key(compose_task(*base), 30, "cpu")
    same = [
        ["logger=csv"],
        ["logger=none"],
        ["callbacks=none"],
        ["evaluation.plots=false"],
        ["evaluation.val_grid=4", "evaluation.red_similarity=0.6"],
        ["intervention=none"],
        ["intervention.suppression.falloff.power=3.0"],
        ["objective=[eval/none/median_mse]"],
        ["sweep=falloff", "population.size=1"],
        [f"cache.dir={tmp_path}"],
    ]
    for extra in same:
        assert training_key(compose_task(*base, *extra), 30, "cpu") == key, extra
    # threads and the trainer group stay in the key on the safe side: a parallel reduction may round
    # differently, and the key covers the whole trainer config rather than a hand-kept list of fields.
    different = [
        ["seed=1"],
        ["model.hidden=32"],
        ["model=sigmoid"],
        ["regularizers.unit.weight=0.5"],
        ["data.batch_size=128"],
        ["population.size=2"],
        ["sweep=falloff"],
        ["threads=2"],
        ["trainer.log_every_n_steps=10"],
    ]
    for extra in different:
        assert training_key(compose_task(*base, *extra), 30, "cpu") != key, extra
    assert training_key(compose_task(*base), 31, "cpu") != key
    assert training_key(compose_task(*base), 30, "cuda") != key


@pytest.mark.slow
def test_joblib_launcher(sweeps):
    r = result(sweeps, "h2")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    assert trial_dirs(sweep) == ["0", "1"]
    assert all((sweep / d / "metrics.json").is_file() for d in trial_dirs(sweep))
    assert "Joblib" in done.stdout + done.stderr
    assert (sweep / "report.md").is_file()
    # the environment forced other kernels: each worker pinned the portable ones before importing torch
    for trial in trial_dirs(sweep):
        recorded = metrics(sweep / trial)
        assert {key: recorded[key] for key in DISPATCH} == {DISPATCH_MODE: PORTABLE, **PORTABLE_DISPATCH}


@pytest.mark.slow
def test_submitit_local_launcher(sweeps):
    """Each trial ran as a submitit job (the SLURM recipe run locally; grid sweeps go through the same
    launcher on the real cluster in test_cluster.py) and wrote its run dir; the report is written."""
    r = result(sweeps, "submitit_optuna")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    assert trial_dirs(sweep) == ["0", "1"]
    assert all(metrics(sweep / d)["train/steps"] == STEPS for d in trial_dirs(sweep))
    assert len(list((sweep / ".submitit").glob("*/*_result.pkl"))) == 2  # one job per trial
    assert (sweep / "report.md").is_file()


@pytest.mark.slow
def test_two_processes_share_one_study(sweeps):
    """Two sweep processes on one study (journal file): 6 trials between them, each number once,
    each COMPLETE with its own directory, and both processes ran trials."""
    r = result(sweeps, "two_processes")
    assert r["codes"] == [0, 0], "\n---\n".join(log[-3000:] for log in r["logs"])
    study, sweep = r["study"], r["sweep"]
    numbers = [t["number"] for t in study]
    assert sorted(numbers) == list(range(6)) and len(set(numbers)) == 6
    assert states(study) == {"COMPLETE": 6}
    assert r["dirs"] == [str(n) for n in range(6)]
    for t in study:
        m = metrics(sweep / str(t["number"]))
        assert t["values"] == pytest.approx([m["eval/none/median_mse"], m["eval/suppression/score"]])
    owners = {t["user_attrs"]["sweeper_pid"] for t in study}
    assert owners == set(r["pids"]), f"trials by process: {[t['user_attrs']['sweeper_pid'] for t in study]}"
    # the two processes' samplers did not propose the same parameters
    assert len({t["params"]["regularizers.unit.weight"] for t in study}) == 6


@pytest.mark.slow
def test_optuna_sweep_on_submitit_local(sweeps):
    r = result(sweeps, "submitit_optuna")
    done, sweep = r["done"], r["sweep"]
    assert done.returncode == 0, tail(done)
    assert trial_dirs(sweep) == ["0", "1"]
    assert states(r["study"]) == {"COMPLETE": 2}
    assert (sweep / ".submitit").is_dir()  # the jobs really went through submitit
    assert "Trials by state: COMPLETE 2, FAIL 0, RUNNING 0." in (sweep / "report.md").read_text()


def copy_sweep(r: dict, tmp_path: Path) -> Path:
    import shutil

    assert r["second"].returncode == 0, tail(r["second"])
    copy = tmp_path / "moved" / "h1"
    shutil.copytree(r["sweep"], copy)
    return copy


@pytest.mark.slow
def test_report_reads_the_sweeps_own_study(sweeps, tmp_path, monkeypatch):
    """Run from a directory that holds another optuna.journal, the report still reads the one in the
    (moved) sweep dir: a relative storage path is relative to the sweep dir."""
    from excolor import report

    sweep = copy_sweep(result(sweeps, "h1_resume"), tmp_path)
    decoy = tmp_path / "cwd"
    decoy.mkdir()
    (decoy / JOURNAL).write_text("")  # an empty journal: no study h1 in it
    monkeypatch.chdir(decoy)
    assert report.main([str(sweep)]) == 0
    text = (sweep / "report.md").read_text()
    assert "Trials by state: COMPLETE 5, FAIL 2, RUNNING 0." in text
    assert f"found at `{sweep / JOURNAL}`" in text
    # the journal file alone works as a storage argument too
    assert report.main([str(sweep / JOURNAL), "--out", str(tmp_path / "study")]) == 0
    assert "COMPLETE 5, FAIL 2" in (tmp_path / "study" / "report.md").read_text()


@pytest.mark.slow
def test_report_of_a_corrupt_or_missing_study_fails_and_keeps_the_old_one(sweeps, tmp_path, capsys):
    from excolor import report

    sweep = copy_sweep(result(sweeps, "h1_resume"), tmp_path)
    before = {
        name: fingerprint(sweep / name) for name in ("report.md", "summary.json", "metrics.png", "optuna.png")
    }
    journal = sweep / JOURNAL
    journal.write_text('{"op_code": 0, "worker_id": "x"\ngarbage\n')
    time.sleep(0.05)
    capsys.readouterr()
    assert report.main([str(sweep)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("excolor: error: cannot read optuna storage"), err
    journal.unlink()
    assert report.main([str(sweep)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("excolor: error: optuna storage not found"), err
    assert not journal.exists()  # reading never creates a study
    assert {name: fingerprint(sweep / name) for name in before} == before
    assert not [p for p in sweep.iterdir() if p.name.startswith(".report-")]  # no staging left behind
