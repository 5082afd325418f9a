"""End to end through the real entry point, `python -m excolor.train`, in subprocesses.

All runs start at once from one module fixture (a pool of 3 threads; the three runs that need a
filled cache wait for the run that fills it), then each test checks its runs' outputs. Each
successful run is 40 steps on the CPU, without logger, callbacks or (mostly) plots. 10
subprocesses in all: 7 training runs, 2 failing runs, and 1 that runs every bad input in turn
(see DRIVER).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import torch

import excolor
import warm
from excolor.colors import rgb_cube
from inprocess import run_module
from smoke import SMOKE_CUBE

STEPS = 40
FAST = ["logger=none", "callbacks=none", f"trainer.max_steps={STEPS}", "trainer.accelerator=cpu", SMOKE_CUBE]
NO_PLOTS = ["evaluation.plots=false"]
NO_CACHE = ["cache.enabled=false"]

# name -> (overrides, the run it reuses; the driver runs them in this order, so that one comes first)
SUCCESS = {
    "linear": (["model=linear", *NO_PLOTS, *NO_CACHE], None),
    "sigmoid": (["model=sigmoid", *NO_PLOTS, *NO_CACHE], None),
    "unnormalized": (["model.normalize=false", *NO_PLOTS, *NO_CACHE], None),
    # the cache runs share one cache dir; cache_first also draws the plots (the default)
    "cache_first": (["model=linear"], None),
    "cache_hit": (["model=linear", *NO_PLOTS], "cache_first"),
    "cache_intervention": (
        ["model=linear", *NO_PLOTS, "intervention.suppression.falloff.power=3.0"],
        "cache_first",
    ),
    "cache_seed": (["model=linear", *NO_PLOTS, "seed=1"], "cache_first"),
}

# name -> (overrides, schedule CSV text or None, substrings the one error line must contain)
GOOD_CSV_HEAD = "STEP,PHASE,ACTION,lr\n"
BAD = {
    "negative_weight": (["regularizers.unit.weight=-1"], None, ["regularizers.unit.weight", "-1"]),
    "bottleneck_1": (["model.bottleneck=1"], None, ["model.bottleneck=1"]),
    "concept_length": (["concept=[1,0,0]"], None, ["concept=[1.0, 0.0, 0.0]", "model.bottleneck=4"]),
    "lr_zero": ([], GOOD_CSV_HEAD + "0,Train,,0.01\n10,,,0\n100,,,0.01\n", ["lr=0", "step 10"]),
    "missing_csv": (
        ["schedule.path=/nonexistent.csv"],
        None,
        ["schedule.path=/nonexistent.csv", "not found"],
    ),
    "no_step_column": ([], "PHASE,ACTION,lr\nTrain,,0.01\n,,0.02\n", ["schedule.path=", "STEP"]),
    "no_lr_column": (
        [],
        "STEP,PHASE,ACTION,reg-unit\n0,Train,,0.01\n100,,,0.02\n",
        ["schedule.path=", "'lr'"],
    ),
    "non_numeric": ([], GOOD_CSV_HEAD + "0,Train,,0.01\n100,,,abc\n", ["schedule.path=", "'abc'", "line 3"]),
    "fraction_last": (
        [],
        GOOD_CSV_HEAD + "0,Train,,0.01\n100,,,0.01\n+0.5,,,0.02\n",
        ["schedule.path=", "'+0.5'"],
    ),
    "falloff_a": (
        ["intervention.suppression.falloff.a=1.5"],
        None,
        ["intervention.suppression", "falloff", "a=1.5"],
    ),
    "max_steps": (["trainer.max_steps=999999"], None, ["trainer.max_steps=999999"]),
}


# The bad inputs run through the same entry point, `excolor.train` run as `__main__` (what
# `python -m excolor.train` does), in ONE subprocess, one run per case with sys.argv set: each
# case then costs a config composition rather than a fresh interpreter (~4 s of imports).
# `bottleneck_1` and `unknown_option` also run as their own `python -m excolor.train` processes to
# check the real exit status and stderr of a process.
DRIVER = Path(__file__).with_name("entry_driver.py")
SEPARATE_PROCESSES = ("bottleneck_1",)
TIMING = (
    "train/seconds",
    "train/cpu_seconds",
    "train/first_step_time",
    "eval/seconds",
)  # timings: differ between identical runs


@dataclass
class Run:
    name: str
    returncode: int
    stdout: str
    stderr: str
    run_dir: Path
    schedule: Path | None = None

    @property
    def metrics(self) -> dict:
        return json.loads((self.run_dir / "metrics.json").read_text())

    def explain(self) -> str:
        return f"run {self.name} exited {self.returncode}\n--- stderr (tail) ---\n{self.stderr[-3000:]}"


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Run]:
    root = tmp_path_factory.mktemp("e2e")
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    env.update(EXCOLOR_CACHE_DIR=str(root / "cache"), WANDB_MODE="disabled", PYTHONUNBUFFERED="1")

    def argv(
        name: str, overrides: list[str], schedule_text: str | None = None
    ) -> tuple[list[str], Path | None]:
        schedule = None
        if schedule_text is not None:
            schedule = root / f"{name}.csv"
            schedule.write_text(schedule_text)
            overrides = [*overrides, f"schedule.path={schedule}"]
        return [f"hydra.run.dir={root / name}", *FAST, *overrides], schedule

    def launch(name: str, overrides: list[str], schedule_text: str | None = None) -> Run:
        args, schedule = argv(name, overrides, schedule_text)
        done = subprocess.run(
            [sys.executable, "-m", "excolor.train", *args],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        return Run(name, done.returncode, done.stdout, done.stderr, root / name, schedule)

    def launch_driver(
        cases: dict[str, tuple[list[str], str | None]], suffix: str, out_name: str
    ) -> dict[str, Run]:
        """Run `cases` one after the other in one driver process (`entry_driver.py`)."""
        args = {name: argv(f"{name}{suffix}", overrides, text) for name, (overrides, text) in cases.items()}
        out = root / out_name
        done = warm.run(  # a process of its own, started warm (tests/warm.py)
            DRIVER.stem,
            json.dumps({n: ["excolor.train", a] for n, (a, _) in args.items()}),
            str(out),
            cwd=root,
            env=env,
            timeout=600,
        )
        assert done.returncode == 0 and out.is_file(), done.stderr[-3000:]
        results = json.loads(out.read_text())
        return {
            name: Run(
                name, r["returncode"], r["stdout"], r["stderr"], root / f"{name}{suffix}", args[name][1]
            )
            for name, r in results.items()
        }

    # The successful runs share one driver process (in SUCCESS's order: a cache run after the run it
    # reuses), the bad inputs another; two cases also run as processes of their own.
    with ThreadPoolExecutor(max_workers=3) as pool:
        successes = pool.submit(
            launch_driver,
            {name: (overrides, None) for name, (overrides, _) in SUCCESS.items()},
            "",
            "ok.json",
        )
        bad = pool.submit(
            launch_driver,
            {name: (o, text) for name, (o, text, _) in BAD.items()},
            "_inproc",
            "driver.json",
        )
        futures: dict[str, Future] = {}
        for name in SEPARATE_PROCESSES:
            futures[f"{name}_process"] = pool.submit(launch, f"{name}_process", BAD[name][0], BAD[name][1])
        futures["unknown_option"] = pool.submit(launch, "unknown_option", ["model=nope"])
        results = {name: future.result() for name, future in futures.items()}
        results.update(successes.result())
        results.update(bad.result())
    results["_cache_dir"] = root / "cache"
    return results


REQUIRED = [
    "train/recon",
    "train/loss",
    "train/seconds",
    "val/recon",
    "seed",
    "eval/none/median_mse",
    "eval/suppression/score",
    "eval/repulsion/max_mse",
]


@pytest.mark.slow
@pytest.mark.parametrize(
    "name, output, normalize",
    [("linear", "linear", True), ("sigmoid", "sigmoid", True), ("unnormalized", "linear", False)],
)
def test_successful_run(runs, name, output, normalize):
    run = runs[name]
    assert run.returncode == 0, run.explain()
    metrics = run.metrics
    for key in REQUIRED:
        assert key in metrics, key
        assert math.isfinite(metrics[key]), (key, metrics[key])
    assert metrics["seed"] == 0
    assert metrics["train/cached"] == 0
    assert metrics["train/steps"] == STEPS
    assert 0 <= metrics["eval/suppression/score"] <= 1
    assert metrics["eval/none/median_mse"] <= metrics["eval/none/max_mse"]

    # losses.csv: a header and one row per step; train/recon is the mean of the last ≤ 50 steps
    lines = (run.run_dir / "losses.csv").read_text().splitlines()
    assert len(lines) == STEPS + 1
    header = lines[0].split(",")
    assert header[:2] == ["step", "lr"] and "recon" in header and "loss" in header
    rows = [dict(zip(header, line.split(","))) for line in lines[1:]]
    assert [int(r["step"]) for r in rows] == list(range(STEPS))
    assert float(rows[0]["lr"]) == pytest.approx(1e-8)  # the ex2.3 dopesheet's step-0 lr
    recon = [float(r["recon"]) for r in rows]
    assert metrics["train/recon"] == pytest.approx(sum(recon) / STEPS, rel=1e-4)

    # the checkpoint reloads as the configured model, and reproduces val/recon on the 8³ RGB cube
    model = excolor.load_model(run.run_dir)
    assert model.config["output"] == output and model.config["normalize"] is normalize
    assert isinstance(model.bottleneck, torch.nn.Identity) is (not normalize)
    x = torch.tensor(rgb_cube(8), dtype=torch.float32)
    with torch.no_grad():
        y = model(x)
    assert y.min() >= 0 and y.max() <= 1
    assert ((y - x) ** 2).mean().item() == pytest.approx(metrics["val/recon"], rel=1e-4)
    if output == "sigmoid":
        assert (y > 0).all() and (y < 1).all()
    assert not (run.run_dir / "colors-none.png").exists()  # evaluation.plots=false


@pytest.mark.slow
def test_runs_are_deterministic(runs):
    # Two runs of the same config and seed that both train from scratch: `linear` (cache off) and
    # `cache_first` (cache on but empty, so it trains; plots on, which must not matter). A third
    # identical run would cost ~7 s of the suite's budget for no extra coverage.
    a, b = runs["linear"], runs["cache_first"]
    assert a.returncode == 0 and b.returncode == 0, a.explain() + b.explain()
    assert a.metrics["train/cached"] == 0 and b.metrics["train/cached"] == 0
    ma, mb = a.metrics, b.metrics
    for key in TIMING:
        ma.pop(key, None), mb.pop(key, None)
    assert ma == mb
    assert (a.run_dir / "losses.csv").read_text() == (b.run_dir / "losses.csv").read_text()


@pytest.mark.slow
def test_different_seed_differs(runs):
    seed1 = runs["cache_seed"]
    assert seed1.returncode == 0, seed1.explain()
    assert seed1.metrics["seed"] == 1
    assert seed1.metrics["train/recon"] != runs["linear"].metrics["train/recon"]


@pytest.mark.slow
def test_cache_store_and_hit(runs):
    first, hit = runs["cache_first"], runs["cache_hit"]
    assert first.returncode == 0, first.explain()
    assert hit.returncode == 0, hit.explain()
    m1, m2 = first.metrics, hit.metrics
    assert m1["train/cached"] == 0
    assert m2["train/cached"] == 1
    for key, value in m1.items():
        if key.startswith(("eval/", "val/", "train/")) and key not in (
            "train/cached",
            "eval/seconds",
        ):  # training timings restored too; evaluation reruns
            assert m2[key] == value, key
    assert (hit.run_dir / "losses.csv").read_text() == (first.run_dir / "losses.csv").read_text()
    assert excolor.load_model(hit.run_dir).config == excolor.load_model(first.run_dir).config


@pytest.mark.slow
def test_cache_ignores_interventions_but_not_seed(runs):
    first, other, seed1 = runs["cache_first"], runs["cache_intervention"], runs["cache_seed"]
    assert other.returncode == 0, other.explain()
    m1, m2 = first.metrics, other.metrics
    assert m2["train/cached"] == 1  # intervention params don't shape training
    assert m2["train/recon"] == m1["train/recon"]
    assert all(m2[k] == v for k, v in m1.items() if k.startswith("eval/none/"))
    # ... but they do change the suppression's evaluation (power 2 -> 3)
    assert any(m2[k] != v for k, v in m1.items() if k.startswith("eval/suppression/"))
    assert seed1.metrics["train/cached"] == 0  # the seed does shape training
    entries = [p for p in runs["_cache_dir"].iterdir() if not p.name.startswith(".")]
    assert len(entries) == 2  # seed 0 and seed 1; no leftover staging dirs
    assert not [p for p in runs["_cache_dir"].iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_plots(runs):
    run = runs["cache_first"]
    assert run.returncode == 0, run.explain()
    for name in ("colors-none.png", "error-suppression.png", "latents-repulsion.png"):
        path = run.run_dir / name
        assert path.is_file(), name
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
@pytest.mark.parametrize("name", [*BAD, *(f"{n}_process" for n in SEPARATE_PROCESSES)])
def test_bad_input_is_one_line_error(runs, name):
    run = runs[name]
    expected = BAD[name.removesuffix("_process")][2]
    assert run.returncode != 0, run.explain()
    errors = [line for line in run.stderr.splitlines() if line.startswith("excolor: error:")]
    assert len(errors) == 1, run.explain()
    line = errors[0]
    if run.schedule is not None:
        expected = [*expected, str(run.schedule)] if name != "lr_zero" else expected
    for text in expected:
        assert text in line, (text, line)
    assert "Traceback" not in run.stderr, run.explain()
    assert not (run.run_dir / "metrics.json").exists()
    assert not (run.run_dir / "model.ckpt").exists()


@pytest.mark.slow
def test_unknown_group_option(runs):
    run = runs["unknown_option"]
    assert run.returncode == 2
    assert (
        run.stderr.strip()
        == "excolor: error: model: no option 'nope' (valid options: k5-two-layer, linear, sigmoid)"
    ), run.explain()
    assert not (run.run_dir / "metrics.json").exists()


@pytest.mark.slow
def test_a_diverged_run_fails_with_one_line_and_no_metrics(tmp_path):
    """An absurd learning rate makes the loss NaN: the run stops with exit 1, names the step, and
    leaves no metrics.json (a sweeper then records the trial as failed, never as a NaN value)."""
    schedule = tmp_path / "diverge.csv"
    schedule.write_text("STEP,PHASE,ACTION,lr,reg-unit\n0,Train,,1e30,0.1\n100,,,1e30,0.1\n")
    run = tmp_path / "run"
    done = run_module(
        "excolor.train",
        f"schedule.path={schedule}",
        "logger=none",
        "callbacks=none",
        "cache.enabled=false",
        "evaluation.plots=false",
        "regularizers=none",
        f"hydra.run.dir={run}",
        env={**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        .splitlines()[-1]
        .startswith("excolor: error: training diverged: the loss is nan at step")
    )
    assert not (run / "metrics.json").exists()


def test_undriven_regularizer_and_unused_column_are_warned_about(caplog):
    """Ex 2.2's dopesheet has `reg-polar`, which drives nothing, and no `reg-planar`, so planarity runs
    at weight 1 × its multiplier: both get a warning naming them."""
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.module import AutoencoderModule
    from excolor.population import Population
    from excolor.regularizers.build import build_regularizers

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=["experiment=ex2.2", "regularizers.planar.weight=0.5"])
    schedule = instantiate(cfg.schedule)
    with caplog.at_level("WARNING", logger="excolor.train"):
        regularizers = build_regularizers(cfg.regularizers, schedule, ["red", "vibrant"], 4)
    messages = " | ".join(r.getMessage() for r in caplog.records)
    assert (
        "regularizer 'planar': no schedule column 'reg-planar' drives it; it runs at weight 0.5" in messages
    )
    assert "schedule column 'reg-polar' drives no regularizer" in messages
    assert "'unit'" not in messages and "reg-unit-v" not in messages
    assert set(regularizers["planar"].scheduled_weights(schedule)) == {0.5}
    assert regularizers["unit"].scheduled_weights(schedule)[0] == pytest.approx(
        0.01
    )  # reg-unit at step 0 of ex2.2
    model = Population().build_model(cfg.model)
    module = AutoencoderModule(model, regularizers, schedule, len(schedule))
    assert set(module.schedule_values["planar"]) == {1.0}  # undriven: 1 × the member weight 0.5
    assert regularizers["planar"].member_weights.tolist() == [0.5]


@pytest.mark.slow
def test_the_default_wandb_logger_is_offline_and_never_prompts(tmp_path):
    """The default logger is W&B in offline mode: no account, no network, no prompt (stdin closed)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WANDB_")}
    env.update(EXCOLOR_CACHE_DIR=str(tmp_path / "cache"), HOME=str(tmp_path))  # no ~/.netrc, no saved key
    run = tmp_path / "run"
    done = warm.run(  # a process of its own (tests/warm.py), its stdin /dev/null
        "excolor.train",
        "trainer.max_steps=20",
        "callbacks=none",
        "evaluation.plots=false",
        f"hydra.run.dir={run}",
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (run / "metrics.json").is_file()
    offline_runs = list((run / "wandb").glob("offline-run-*"))
    assert len(offline_runs) == 1, list((run / "wandb").iterdir())
