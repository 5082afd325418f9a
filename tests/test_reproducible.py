"""reproducible=portable: the CPU kernels are pinned before torch is imported, in a fresh process,
whatever the environment forces; metrics.json records the mode and the kernels used; a process that
already runs other kernels is refused with one line; the cache key holds the mode (issue 14)."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

import warm
from excolor import reproducible
from excolor.cache import training_key
from excolor.config import CONF_DIR, VERSION_BASE
from excolor.errors import ConfigError
from excolor.run_record import DISPATCH, DISPATCH_ATEN, DISPATCH_MKL, DISPATCH_MODE, DISPATCH_ONEDNN, read_run
from kernels import FORCED, forced_env, has_avx2

ROOT = Path(__file__).parents[1]
FAST = [
    "logger=none",
    "callbacks=none",
    "trainer.max_steps=20",
    "evaluation.plots=false",
    "intervention=none",
    "cache.enabled=false",
]


def clean_env(**forced: str) -> dict[str, str]:
    """The environment without any dispatch variable (the suite's conftest sets the portable ones),
    plus `forced`."""
    return {**forced_env(**forced), "WANDB_MODE": "disabled"}


def python(code: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_modes_are_checked():
    assert reproducible.check_mode("portable") == "portable" and reproducible.check_mode("native") == "native"
    for bad in ("fast", None, 1, "Portable"):
        with pytest.raises(ConfigError, match="reproducible=.* must be one of portable, native"):
            reproducible.check_mode(bad)


def test_mkl_branch_names_follow_mkl_cbwr_h():
    assert reproducible.MKL_BRANCHES[1] == "OFF" and reproducible.MKL_BRANCHES[3] == "COMPATIBLE"
    assert reproducible.MKL_BRANCHES[10] == "AVX2" and reproducible.MKL_BRANCHES[12] == "AVX512"


PROBE = """
import json, sys
from excolor import reproducible
reproducible.pin(sys.argv[1])
before = 'torch' in sys.modules
import torch
print(json.dumps({'before': before, **reproducible.dispatch(sys.argv[1])}))
"""


def probe(mode: str, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.slow  # a fresh interpreter imports torch: a process started
def test_portable_overrides_what_the_environment_forces():
    used = probe("portable", clean_env(**FORCED))
    assert not used["before"]
    assert {key: used[key] for key in reproducible.PORTABLE_DISPATCH} == reproducible.PORTABLE_DISPATCH
    assert used[DISPATCH_MODE] == "portable"


@pytest.mark.skipif(
    not has_avx2(), reason="the CPU has no AVX2: native and portable ATen kernels are the same"
)
@pytest.mark.slow  # a fresh interpreter imports torch: a process started
def test_native_keeps_what_the_environment_forces():
    own = probe("native", clean_env())
    assert own[DISPATCH_MODE] == "native" and own[DISPATCH_ATEN] != "DEFAULT"
    assert (own[DISPATCH_MKL], own[DISPATCH_ONEDNN]) == ("OFF", "unset")
    forced = probe(
        "native", clean_env(ATEN_CPU_CAPABILITY="default", MKL_CBWR="COMPATIBLE", ONEDNN_MAX_CPU_ISA="AVX2")
    )
    assert (forced[DISPATCH_ATEN], forced[DISPATCH_MKL], forced[DISPATCH_ONEDNN]) == (
        "DEFAULT",
        "COMPATIBLE",
        "AVX2",
    )


@pytest.mark.slow  # a fresh interpreter imports torch: a process started
@pytest.mark.skipif(not has_avx2(), reason="the CPU has no AVX2: torch's own kernels are the portable ones")
def test_torch_imported_first_is_refused_in_one_line():
    code = (
        "import torch; from excolor import reproducible\n"
        "try:\n    reproducible.pin('portable')\nexcept Exception as e:\n    print(type(e).__name__, e)"
    )
    done = python(code, clean_env())
    assert done.returncode == 0, done.stderr[-2000:]
    (line,) = done.stdout.strip().splitlines()
    assert line.startswith(
        "ConfigError reproducible=portable: torch was imported in this process before the kernels were pinned"
    )
    assert "aten" in line and "fresh process" in line


@pytest.mark.slow  # a fresh interpreter imports torch: a process started
def test_a_second_mode_in_one_process_is_refused():
    code = (
        "from excolor import reproducible; reproducible.pin('portable'); import torch\n"
        "reproducible.pin('portable')\n"
        "try:\n    reproducible.pin('native')\nexcept Exception as e:\n    print(type(e).__name__, e)"
    )
    done = python(code, clean_env())
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == (
        "ConfigError reproducible=native: this process already runs torch with the portable "
        "kernels (a fresh process runs the native ones)"
    )


TRAIN = """
import json, runpy, sys
from excolor import reproducible
pin = reproducible.pin
def watched(mode):
    watched.torch_before = 'torch' in sys.modules
    pin(mode)
reproducible.pin = watched
sys.argv = ['excolor.train', *sys.argv[2:]]
try:
    runpy.run_module('excolor.train', run_name='__main__', alter_sys=True)
finally:
    open(OUT, 'w').write(json.dumps({'torch_before_pin': getattr(watched, 'torch_before', None)}))
"""


def train(tmp_path: Path, name: str, overrides: list[str], env: dict[str, str]) -> dict:
    """`python -m excolor.train` (through runpy, with `pin` watched) in a fresh process: its metrics, and
    whether torch was imported before `pin` ran."""
    run_dir, out = tmp_path / name, tmp_path / f"{name}.json"
    code = TRAIN.replace("OUT", repr(str(out)))
    done = subprocess.run(
        [sys.executable, "-c", code, "-", *FAST, *overrides, f"hydra.run.dir={run_dir}"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return {**read_run(run_dir).metrics, **json.loads(out.read_text())}


# Three fresh `python -m excolor.train` processes of 100 steps (the forced kernels already move native's last
# digits by then), side by side: the machine's own kernels, every kernel pinned from outside, and the
# portable mode under an environment that forces the fastest kernels.
FORCED_RUNS = {
    "native": (["reproducible=native"], {}),
    "native-pinned": (
        ["reproducible=native"],
        {"ATEN_CPU_CAPABILITY": "default", "MKL_CBWR": "COMPATIBLE", "ONEDNN_MAX_CPU_ISA": "SSE41"},
    ),
    "portable-forced": ([], FORCED),
}


@pytest.fixture(scope="module")
def forced_runs(tmp_path_factory) -> dict[str, dict]:
    tmp_path = tmp_path_factory.mktemp("forced")
    with ThreadPoolExecutor(max_workers=len(FORCED_RUNS)) as pool:
        futures = {
            name: pool.submit(
                train, tmp_path, name, ["trainer.max_steps=100", *overrides], clean_env(**forced)
            )
            for name, (overrides, forced) in FORCED_RUNS.items()
        }
        return {name: future.result() for name, future in futures.items()}


@pytest.mark.slow  # a fresh interpreter imports torch: a process started
def test_a_run_pins_before_torch_and_records_its_kernels(forced_runs):
    metrics = forced_runs["portable-forced"]
    assert metrics["torch_before_pin"] is False
    assert {key: metrics[key] for key in DISPATCH} == {
        DISPATCH_MODE: "portable",
        **reproducible.PORTABLE_DISPATCH,
    }


@pytest.mark.slow
@pytest.mark.skipif(not has_avx2(), reason="the CPU has no AVX2 to force")
def test_forced_kernels_change_native_metrics_but_not_portable_ones(forced_runs):
    """The machine's kernels and the pinned ones give different native metrics; the portable run, under an
    environment forcing the fastest kernels, is the run with every kernel pinned from outside, bit for bit."""
    native, pinned, portable = (forced_runs[name] for name in FORCED_RUNS)
    recon = "eval/none/median_mse"
    assert native[DISPATCH_ATEN] != pinned[DISPATCH_ATEN] and native[recon] != pinned[recon]
    assert portable[recon] == pinned[recon] and portable["train/recon"] == pinned["train/recon"]


def compose_train(overrides: list[str]):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose(config_name="train", overrides=overrides)


def test_the_mode_is_part_of_the_cache_key():
    assert compose_train([]).reproducible == "portable"
    assert training_key(compose_train(["reproducible=native"]), 3001, "cpu") != training_key(
        compose_train([]), 3001, "cpu"
    )


@pytest.mark.slow
def test_a_trial_asking_other_kernels_in_the_same_process_fails_in_one_line(tmp_path):
    """The basic launcher runs every trial in this process: the second mode cannot be had there. (A warm
    process: forked from an interpreter that imported torch under the portable kernels, as the first trial
    of a fresh one would have it.)"""
    warm.run(
        "excolor.train",
        "-m",
        *FAST,
        "reproducible=portable,native",
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        cwd=tmp_path,
        env=clean_env(),
        timeout=300,
    )
    first, second = read_run(tmp_path / "sweep" / "0"), read_run(tmp_path / "sweep" / "1")
    assert first.metrics[DISPATCH_MODE] == "portable"
    assert second.error is not None and "\n" not in second.error
    assert second.error.startswith(
        "reproducible=native: this process already runs torch with the portable kernels"
    )
