"""Every bad input stops before training with one line `excolor: error: <key>…` and exit 2 (issue 9).

Most cases compose the config with hydra.compose and call the checks directly (fast); the last
group runs the real entry points: every case in ONE subprocess through `runpy` (as `python -m`
does), plus a few separate processes for the real exit status. Each checks: one line on stderr,
exit 2, no traceback, nothing written where a result would go.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from excolor.config import CONF_DIR, VERSION_BASE, checked_main, compose_config, composition_error
from excolor.errors import ConfigError
from excolor.validation import (
    check_evaluate_config,
    check_evaluation,
    check_run_config,
    check_storage_url,
    check_train_entry,
    check_writable_dir,
    expected_metrics,
)
from inprocess import run_cases


def composed(overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose(config_name="train", overrides=list(overrides))


# (overrides, substrings the one-line message must contain)
BAD_RUN = {
    "seed_str": (["seed=abc"], ["seed='abc'", "integer"]),
    "seed_float": (["seed=1.5"], ["seed=1.5", "integer"]),
    "seed_bool": (["seed=true"], ["seed=True", "integer"]),
    "seed_null": (["seed=null"], ["seed=None"]),
    "seed_negative": (["seed=-1"], ["seed=-1", "≥ 0"]),  # torch would take it as 2**64-1's alias
    "seed_beyond_64_bits": (["seed=18446744073709551616"], ["seed=18446744073709551616", "2**64-1"]),
    "member_seeds_beyond_64_bits": (
        ["seed=18446744073709551615", "population.size=2"],
        ["population.seed=18446744073709551615", "2 members", "18446744073709551616", "2**64-1"],
    ),
    "reproducible": (["reproducible=fast"], ["reproducible='fast'", "portable, native"]),
    "added_model_key": (
        ["+model.foo=1"],
        ["model.foo: no such key", "model takes: hidden, bottleneck, normalize, output"],
    ),
    "added_data_key": (["+data.colour=1"], ["data.colour: no such key", "n_hues"]),
    "added_nested_key": (
        ["+intervention.suppression.falloff.c=1"],
        ["intervention.suppression.falloff.c: no such key", "a, b, power"],
    ),
    "added_regularizer_key": (
        ["+regularizers.anchor.strength=1"],
        ["regularizers.anchor.strength", "point, column, weight"],
    ),
    "cache_dir_proc": (
        ["cache.dir=/proc/excolor-cache"],
        ["cache.dir=/proc/excolor-cache", "/proc is not writable"],
    ),
    "threads_0": (["threads=0"], ["threads=0", "≥ 1"]),
    "threads_neg": (["threads=-2"], ["threads=-2"]),
    "threads_str": (["threads=many"], ["threads='many'"]),
    "threads_float": (["threads=1.5"], ["threads=1.5"]),
    "log_every_0": (["trainer.log_every_n_steps=0"], ["trainer.log_every_n_steps=0", "≥ 1"]),
    "log_every_str": (["trainer.log_every_n_steps=often"], ["trainer.log_every_n_steps='often'"]),
    "devices_0": (["trainer.devices=0"], ["trainer.devices=0"]),
    "accelerator": (["trainer.accelerator=abacus"], ["trainer.accelerator='abacus'"]),
    "precision": (["+trainer.precision=bf17"], ["trainer.precision='bf17'", "bf16-mixed"]),
    "max_steps_big": (["trainer.max_steps=999999"], ["trainer.max_steps=999999", "3001"]),
    "max_steps_0": (["trainer.max_steps=0"], ["trainer.max_steps=0"]),
    "max_steps_str": (["trainer.max_steps=ten"], ["trainer.max_steps='ten'"]),
    "weight_inf": (["regularizers.unit.weight=inf"], ["regularizers.unit.weight=inf", "finite"]),
    "weight_nan": (["regularizers.anchor.weight=nan"], ["regularizers.anchor.weight=nan", "finite"]),
    "weight_neg_inf": (["regularizers.separate.weight=-inf"], ["regularizers.separate.weight=-inf"]),
    "weight_negative": (["regularizers.unit.weight=-1"], ["regularizers.unit.weight=-1", "≥ 0"]),
    "weight_str": (["regularizers.planar.weight=heavy"], ["regularizers.planar.weight='heavy'", "number"]),
    "power_inf": (["regularizers.separate.power=inf"], ["regularizers.separate.power=inf", "finite"]),
    "regularizer_not_config": (["regularizers.unit=3"], ["regularizers.unit", "_target_"]),
    "model_hidden_nan": (["model.hidden=nan"], ["model.hidden=nan"]),
    "model_hidden_0": (["model.hidden=0"], ["model.hidden=0", "≥ 1"]),
    "bottleneck_1": (["model.bottleneck=1"], ["model.bottleneck=1"]),
    "bottleneck_str": (["model.bottleneck=four"], ["model.bottleneck='four'"]),
    "data_nan": (["data.labels.red.k=nan"], ["data.labels.red.k=nan"]),
    "concept_str": (["concept=red"], ["concept='red'", "list of numbers"]),
    "concept_length": (["concept=[1,0,0]"], ["concept=[1.0, 0.0, 0.0]", "model.bottleneck=4"]),
    "concept_zero": (["concept=[0,0,0,0]"], ["concept=", "all zeros"]),
    "concept_nan": (["concept=[nan,0,0,0]"], ["concept[0]=nan"]),
    "concept_word": (["concept=[1,a,0,0]"], ["concept[1]='a'"]),
    "val_grid_0": (["evaluation.val_grid=0"], ["evaluation.val_grid=0", "≥ 2"]),
    "val_grid_1": (["evaluation.val_grid=1"], ["evaluation.val_grid=1"]),
    "val_grid_float": (["evaluation.val_grid=8.5"], ["evaluation.val_grid=8.5", "integer"]),
    "layer": (["evaluation.layer=foo"], ["evaluation.layer='foo'", "encoder, bottleneck"]),
    "red_similarity_0": (["evaluation.red_similarity=0"], ["evaluation.red_similarity=0"]),
    "red_similarity_big": (["evaluation.red_similarity=1.5"], ["evaluation.red_similarity=1.5", "(0, 1]"]),
    "red_similarity_nan": (["evaluation.red_similarity=nan"], ["evaluation.red_similarity=nan"]),
    "plots_str": (["evaluation.plots=maybe"], ["evaluation.plots='maybe'"]),
    "loss_cube_two": (
        ["evaluation.loss_cube=[240,48]"],
        ["evaluation.loss_cube=", "[hues, saturations, values]"],
    ),
    "loss_cube_one": (["evaluation.loss_cube=[240,1,48]"], ["evaluation.loss_cube[1]=1", "≥ 2"]),
    "loss_cube_word": (["evaluation.loss_cube=hd"], ["evaluation.loss_cube='hd'"]),
    "loss_cube_float": (["evaluation.loss_cube=[24,12.5,12]"], ["evaluation.loss_cube[1]=12.5", "integer"]),
    "member_neg": (["++evaluation.member=-1"], ["evaluation.member=-1"]),
    "member_str": (["++evaluation.member=first"], ["evaluation.member='first'"]),
    "member_too_big": (
        ["++evaluation.member=4", "++population.size=4"],
        ["evaluation.member=4", "4 members"],
    ),
    "intervention_none_name": (
        ["+intervention.none={_target_: excolor.interventions.Suppression}"],
        ["intervention.none", "reserved"],
    ),
    "intervention_not_config": (["intervention.suppression=3"], ["intervention.suppression", "_target_"]),
    "intervention_empty_list": (["+intervention.extra=[]"], ["intervention.extra", "empty"]),
    "intervention_list_item": (["+intervention.extra=[3]"], ["intervention.extra", "_target_"]),
    "intervention_inf": (
        ["intervention.suppression.falloff.power=inf"],
        ["intervention.suppression.falloff.power=inf"],
    ),
    "mapper_nan": (["intervention.repulsion.mapper.b=nan"], ["intervention.repulsion.mapper.b=nan"]),
    "objective_bogus": (["objective=bogus"], ["objective='bogus'", "not a metric"]),
    "objective_typo": (["objective=[eval/none/median]"], ["objective='eval/none/median'"]),
    "objective_unknown_setting": (["objective=eval/spin/score"], ["objective='eval/spin/score'"]),
    "objective_removed_setting": (
        ["intervention=suppression", "objective=eval/repulsion/focus"],
        ["objective='eval/repulsion/focus'"],
    ),
    "objective_none_focus": (["objective=eval/none/focus"], ["objective='eval/none/focus'"]),
    "objective_idle_regularizer": (["objective=train/anchor"], ["objective='train/anchor'"]),
    "objective_unknown_phase": (["objective=train/Warmup/loss"], ["objective='train/Warmup/loss'"]),
    "objective_empty": (["objective=[]"], ["objective=[]"]),
    "objective_number": (["objective=3"], ["objective=3"]),
    "cache_dir_file": (["cache.dir=/etc/passwd/cache"], ["cache.dir=/etc/passwd/cache", "not a directory"]),
    "interpolation": (["regularizers.unit.weight=${nope}"], ["regularizers.unit.weight", "nope"]),
    "schedule_missing": (["schedule.path=/nonexistent.csv"], ["schedule.path=/nonexistent.csv", "not found"]),
    # config-chosen code: only the whitelisted packages may be built (Hydra's instantiate gets the same list)
    "target_os_system": (
        ["logger._target_=os.system"],
        ["logger._target_='os.system'", "not a trusted target", "trusted_packages"],
    ),
    "target_subprocess": (
        ["+callbacks.shell._target_=subprocess.call"],
        ["callbacks.shell._target_='subprocess.call'"],
    ),
    "target_builtins_exec": (["population._target_=builtins.exec"], ["population._target_='builtins.exec'"]),
    "target_nested": (
        ["+intervention.suppression.extra._target_=os.remove"],
        ["intervention.suppression.extra._target_='os.remove'"],
    ),
    "target_lookalike": (
        ["model._target_=excolorx.model.ColorAutoencoder"],
        ["model._target_='excolorx.model.ColorAutoencoder'"],
    ),
}


@pytest.mark.parametrize("name", list(BAD_RUN))
def test_bad_run_config(name):
    overrides, parts = BAD_RUN[name]
    with pytest.raises(ConfigError) as error:
        check_run_config(composed(overrides))
    message = str(error.value)
    assert "\n" not in message
    for part in parts:
        assert part in message, message


@pytest.mark.parametrize(
    "text, parts",
    [
        ("STEP,PHASE,ACTION,lr\n0,Train,,0.01\n10,,,0\n100,,,0.01\n", ["lr=0", "step 10"]),
        ("STEP,PHASE,ACTION,lr\n0,Train,,0.01\n100,,,-1\n", ["lr=-", "step 1"]),
        ("STEP,PHASE,ACTION,lr\n0,Train,,0.01\n100,,,inf\n", ["'inf' is not a finite number"]),
    ],
)
def test_bad_learning_rates(tmp_path, text, parts):
    path = tmp_path / "s.csv"
    path.write_text(text)
    with pytest.raises(ConfigError) as error:
        check_run_config(composed([f"schedule.path={path}"]))
    for part in parts:
        assert part in str(error.value)


@pytest.mark.parametrize(
    "overrides",
    [
        [],
        ["objective=[eval/none/median_mse,eval/suppression/score]"],
        ["objective=eval/repulsion/focus"],
        ["objective=train/Train/loss"],
        ["objective=train/separate", "trainer.max_steps=1500"],
        ["experiment=ex2.2", "objective=train/unit_vibrant"],
        ["sweep=falloff"],
        ["sweep=h1"],
        ["sweep=h2"],
        ["sweep=h1_history"],
        ["+trainer.precision=bf16-mixed"],
        ["regularizers=none"],
    ],
)
def test_good_configs_pass(overrides):
    result = check_run_config(composed(overrides))
    assert result["steps"] >= 1


def test_expected_metrics_follow_the_config():
    """train/<term> only for a term that runs in the last 50 steps: the ex2.3 dopesheet ramps every
    weight to 0 by step 2800, so a full run has no train/separate; a 1500-step run has it."""
    cfg = composed([])
    result = check_run_config(cfg)
    names = expected_metrics(cfg, result["schedule"], 3001, ["suppression", "repulsion"])
    assert "train/separate" not in names and "train/Train/loss" in names
    assert {
        "eval/none/score",
        "eval/suppression/focus",
        "eval/repulsion/collateral",
        "val/recon",
        "seed",
    } <= names
    assert "eval/none/focus" not in names
    assert "train/separate" in expected_metrics(cfg, result["schedule"], 1500, [])


@pytest.mark.slow
def test_checks_import_no_torch():
    code = (
        "import sys; sys.path.insert(0, 'tests'); from tests.test_validation import composed; from excolor.validation import check_run_config;"
        "check_run_config(composed([])); assert 'torch' not in sys.modules, 'torch imported'"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=Path(__file__).parents[1], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.parametrize(
    "url, part",
    [
        ("/etc/passwd/journal.log", "not a directory"),
        ("", "must be a database URL"),
        ("nodb://x/y", "not a usable database URL"),
        ("sqlite://", "must name a database file"),
        ("sqlite:////etc/passwd/optuna.db", "not a directory"),
        ("sqlite:///:memory:", "must name a database file"),
        (3, "must be a database URL"),
        ("/tmp", "is a directory"),
        ("sqlite:////proc/optuna.db", "/proc is not writable"),  # root's os.access says yes to /proc
        ("/proc/journal.log", "/proc is not writable"),
    ],
)
def test_bad_storage_urls(url, part):
    with pytest.raises(ConfigError, match="hydra.sweeper.storage") as error:
        check_storage_url("hydra.sweeper.storage", url)
    assert part in str(error.value)


def test_good_storage_urls(tmp_path):
    check_storage_url("s", None)
    check_storage_url("s", f"sqlite:///{tmp_path}/new/optuna.db")
    check_storage_url("s", str(tmp_path / "new" / "journal.log"))  # a journal file
    assert not (tmp_path / "new").exists()  # checked, not created


def test_writable_dir_creates_nothing(tmp_path):
    assert check_writable_dir("k", tmp_path / "a" / "b") == tmp_path / "a" / "b"
    assert not any(tmp_path.iterdir())  # neither the directory nor the probe file
    (tmp_path / "f").write_text("")
    with pytest.raises(ConfigError, match="not a directory"):
        check_writable_dir("k", tmp_path / "f" / "x")


@pytest.mark.parametrize(
    "overrides, part",
    [
        (["model=nope"], "model: no option 'nope' (valid options: k5-two-layer, linear, sigmoid)"),
        (["trainer=gpux"], "trainer: no option 'gpux' (valid options: auto, cpu, gpu)"),
        (
            ["sweep=nope"],
            "sweep: no option 'nope' (valid options: falloff, h1, ",
        ),  # the shared sweep settings live in hydra/sweep_common
        (["foo=1"], "foo: no such key"),
        (["model.nope=1"], "model.nope: no such key"),
        (["seed=[1,"], "seed: bad override syntax"),
        (["seed"], "seed: bad override syntax"),
        (["+model=linear"], "model: chosen twice"),
        (["model=linear,sigmoid"], "model=linear,sigmoid: a list of values is a sweep"),
    ],
)
def test_composition_errors_become_one_line(overrides, part):
    with pytest.raises(Exception) as error:
        compose_config("train", overrides)
    message = composition_error(error.value, overrides)
    assert message is not None and "\n" not in message
    assert part in message and "common" not in message, message


@pytest.mark.parametrize(
    "overrides, key",
    [
        (["hydra.run.dir=/proc/excolor-run"], "hydra.run.dir"),
        (["hydra.run.dir=/sys/excolor-run"], "hydra.run.dir"),
    ],
)
def test_unwritable_run_dirs_are_found_by_trying(overrides, key):
    """Tried, not asked: as root, os.access calls /proc and /sys writable; creating a file there fails."""
    with pytest.raises(ConfigError) as error:
        check_train_entry(compose_config("train", overrides), multirun=False)
    assert str(error.value).startswith(
        f"{key}={overrides[0].split('=', 1)[1]}: "
    ) and "is not writable" in str(error.value)


def test_checked_main_stops_before_hydra(capsys):
    called = []
    with pytest.raises(SystemExit) as stop:
        checked_main(lambda: called.append(1), "train", check_train_entry, ["objective=bogus"])
    assert stop.value.code == 2 and not called
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("excolor: error: objective='bogus'")
    checked_main(lambda: called.append(1), "train", check_train_entry, ["--help"])  # Hydra's flags pass
    assert called == [1]


# --- excolor.evaluate -----------------------------------------------------------------------------------


def composed_evaluate(overrides):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose(config_name="evaluate", overrides=list(overrides))


def fake_run(tmp_path) -> Path:
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text("model: {bottleneck: 4}\nconcept: [1.0, 0.0, 0.0, 0.0]\n")
    (run / "model.ckpt").write_bytes(b"")
    return run


@pytest.mark.parametrize(
    "overrides, part",
    [
        ([], "run: missing"),
        (["run=/nonexistent/run"], "run=/nonexistent/run: no such directory"),
        (["run=/tmp"], "not a run directory"),
        (["run=RUN", "evaluation.val_grid=0"], "evaluation.val_grid=0"),
        (["run=RUN", "evaluation.layer=decoder"], "evaluation.layer='decoder'"),
        (["run=RUN", "concept=[1,0]"], "concept=[1.0, 0.0] has 2 entries"),
        (["run=RUN", "intervention.repulsion.mapper.b=inf"], "intervention.repulsion.mapper.b=inf"),
    ],
)
def test_bad_evaluate_config(tmp_path, overrides, part):
    run = fake_run(tmp_path)
    overrides = [o.replace("RUN", str(run)) for o in overrides]
    with pytest.raises(ConfigError) as error:
        check_evaluate_config(composed_evaluate(overrides))
    assert part in str(error.value)


def test_evaluate_needs_a_checkpoint(tmp_path):
    run = fake_run(tmp_path)
    (run / "model.ckpt").unlink()
    with pytest.raises(ConfigError, match="no checkpoint at .*model.ckpt"):
        check_evaluate_config(composed_evaluate([f"run={run}"]))


# --- the real entry points --------------------------------------------------------------------------------

FAST = ["logger=none", "callbacks=none", "trainer.max_steps=20", "evaluation.plots=false", "threads=1"]
ENTRY_CASES = {
    "objective": ("excolor.train", ["objective=bogus"], "objective='bogus'"),
    "val_grid": ("excolor.train", ["evaluation.val_grid=0"], "evaluation.val_grid=0"),
    "layer": ("excolor.train", ["evaluation.layer=foo"], "evaluation.layer='foo'"),
    "weight_inf": ("excolor.train", ["regularizers.unit.weight=inf"], "regularizers.unit.weight=inf"),
    "seed": ("excolor.train", ["seed=abc"], "seed='abc'"),
    "threads": ("excolor.train", ["threads=0"], "threads=0"),
    "concept": ("excolor.train", ["concept=red"], "concept='red'"),
    "unknown_option": ("excolor.train", ["model=nope"], "model: no option 'nope'"),
    "unknown_key": ("excolor.train", ["nope=1"], "nope: no such key"),
    "syntax": ("excolor.train", ["seed=[1,"], "seed: bad override syntax"),
    "cache_dir": ("excolor.train", ["cache.dir=/etc/passwd/c"], "cache.dir=/etc/passwd/c"),
    "storage": (
        "excolor.train",
        ["-m", "sweep=h1", "hydra.sweeper.storage=nodb://x"],
        "hydra.sweeper.storage=",
    ),
    "sweep_objective": ("excolor.train", ["-m", "seed=0,1", "objective=bogus"], "objective='bogus'"),
    "untrusted_target": (
        "excolor.train",
        ["+callbacks.shell._target_=subprocess.call"],
        "callbacks.shell._target_='subprocess.call' is not a trusted target",
    ),
    "aliased_target": (
        "excolor.train",
        ["model._target_=excolor.config.os.system"],
        "model._target_='excolor.config.os.system' is not a trusted target: it is defined in module posix",
    ),
    "sweep_direction": (
        "excolor.train",
        ["-m", "sweep=h1", "hydra.sweeper.direction=[minimize,minimize]"],
        "hydra.sweeper.direction[1]=minimize but eval/suppression/score is better higher",
    ),
    "sweep_target": (
        "excolor.train",
        ["-m", "model._target_=excolor.model.ColorAutoencoder,os.getcwd"],
        "model._target_='os.getcwd' is not a trusted target",
    ),
    "outside_target": (
        "excolor.train",
        ["+regularizers.spread._target_=mylab.Spread", "+regularizers.spread.column=c"],
        "regularizers.spread._target_='mylab.Spread' is not a trusted target (trusted_packages:",
    ),
    "modes_together": (
        "excolor.train",
        ["-m", "--cfg=job", "seed=0,1"],
        "--multirun and --cfg cannot be used together",
    ),
    "evaluate_no_run": ("excolor.evaluate", [], "run: missing"),
    "evaluate_missing_dir": ("excolor.evaluate", ["run=MISSING"], "no such directory"),
}


@pytest.fixture(scope="module")
def entry_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("entries")
    cases = {}
    for name, (module, argv, _) in ENTRY_CASES.items():
        argv = [a.replace("MISSING", str(root / "missing")) for a in argv]
        if module == "excolor.train":
            place = "hydra.sweep.dir" if "-m" in argv else "hydra.run.dir"
            flags = [a for a in argv if a.startswith("-")]  # argparse: flags before the overrides
            argv = [*flags, *FAST, *(a for a in argv if a not in flags), f"{place}={root / name}"]
        cases[name] = (module, argv)
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    return root, run_cases(cases, env=env, cwd=root)  # in this process: a case costs a composition


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ENTRY_CASES))
def test_entry_point_bad_input(entry_runs, name):
    root, results = entry_runs
    result = results[name]
    lines = result["stderr"].strip().splitlines()
    assert result["returncode"] == 2, result["stderr"][-2000:]
    assert len(lines) == 1 and lines[0].startswith("excolor: error: "), result["stderr"][-2000:]
    assert ENTRY_CASES[name][2] in lines[0]
    assert not (root / name).exists()  # no outputs/<date>/<time>/ stub, no metrics.json, no model.ckpt
    assert not (root / "missing").exists()  # evaluate created nothing inside a missing run dir
    assert not (root / "outputs").exists() and not (root / "multirun").exists()


@pytest.mark.parametrize(
    "argv, part",
    [
        (["-m", "excolor.train", "evaluation.layer=foo", *FAST], "evaluation.layer='foo'"),
        (["-m", "excolor.evaluate"], "run: missing"),
    ],
)
@pytest.mark.slow
def test_real_process_exit_status(tmp_path, argv, part):
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    done = subprocess.run(
        [sys.executable, *argv], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [done.stderr.strip()] and part in done.stderr
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.iterdir())  # nothing written at all


def test_a_layer_is_checked_by_one_rule_wherever_it_is_named():
    """`excolor.layers.check_layer` is the rule: the evaluation's layer, a regularizer's and the model's
    taps all refuse a name that is not a tap, naming the key."""
    import torch

    from excolor.layers import LAYERS, check_layer
    from excolor.model import ColorAutoencoder
    from excolor.regularizers import Unitarity

    assert LAYERS == ("encoder", "bottleneck") and check_layer("k", "bottleneck") == "bottleneck"
    with pytest.raises(ConfigError, match=r"^evaluation.layer='decoder' must be one of encoder, bottleneck$"):
        check_evaluation({"val_grid": 8, "layer": "decoder", "red_similarity": 0.5})
    with pytest.raises(ConfigError, match=r"^layer='decoder' must be one of encoder, bottleneck$"):
        Unitarity(column="reg-unit", layer="decoder")
    with pytest.raises(ConfigError, match=r"^layer='decoder'"):
        ColorAutoencoder().latent(torch.zeros(1, 3), "decoder")


def test_a_run_checks_its_config_and_loads_its_schedule_once(tmp_path, monkeypatch):
    """The entry point checks the config before Hydra runs; the task gets the same content from Hydra and
    reuses that verdict: one schedule load per run. A changed config is checked afresh."""
    import excolor.schedule
    from inprocess import run_module

    loads = []
    original = excolor.schedule.load_schedule

    def counting(path):
        loads.append(path)
        return original(path)

    monkeypatch.setattr(excolor.schedule, "load_schedule", counting)
    common = ["logger=none", "callbacks=none", "evaluation.plots=false", "cache.enabled=false"]
    env = {**os.environ, "WANDB_MODE": "disabled"}
    for steps in (3, 4):
        done = run_module(
            "excolor.train",
            *common,
            f"trainer.max_steps={steps}",
            f"hydra.run.dir={tmp_path / str(steps)}",
            env=env,
        )
        assert done.returncode == 0, done.stderr[-2000:]
    assert len(loads) == 2  # once per run, not once before Hydra and again in the task
    task = composed([*common, "trainer.max_steps=4"])  # without Hydra's node, as the task receives it
    assert check_run_config(task)["steps"] == 4 and len(loads) == 2  # the last verdict, reused
    task.seed = -1  # changed content: checked again
    with pytest.raises(ConfigError, match="seed=-1"):
        check_run_config(task)
