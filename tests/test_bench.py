"""Smoke test of the benchmark: `python -m excolor.bench --quick` runs and writes its figures.

No timing thresholds: the numbers depend on the machine and its load."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

KEYS = ("fit_seconds", "plain_seconds", "ratio", "eval_seconds", "startup_seconds")


def bench(tmp_path: Path, *arguments: str) -> tuple[subprocess.CompletedProcess, Path]:
    """`python -m excolor.bench arguments… --out <tmp>/bench.json` in a fresh process (it starts its own
    runs as fresh processes: kernels are pinned per process)."""
    out = tmp_path / "bench.json"
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache"), "WANDB_MODE": "disabled"}
    done = subprocess.run(
        [sys.executable, "-m", "excolor.bench", *arguments, "--out", str(out)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return done, out


BENCHES = {  # test → the bench's arguments
    "test_bench_quick_writes_positive_finite_figures": ("--quick",),
    "test_bench_population_writes_its_figures": ("--quick", "--population", "3", "--population-only"),
}


@pytest.fixture(scope="module")
def benches(request, tmp_path_factory):
    """The selected tests' benchmarks, started together (each mostly waits on the runs it starts)."""
    selected = {item.originalname for item in request.session.items if item.module is request.module}
    pool = ThreadPoolExecutor(max_workers=2)
    futures = {
        test: pool.submit(bench, tmp_path_factory.mktemp(test.removeprefix("test_")), *arguments)
        for test, arguments in BENCHES.items()
        if test in selected
    }
    yield futures
    pool.shutdown(wait=True)


@pytest.mark.slow
def test_bench_quick_writes_positive_finite_figures(benches):
    done, out = benches["test_bench_quick_writes_positive_finite_figures"].result()
    tmp_path = out.parent
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = json.loads(out.read_text())
    for key in KEYS:
        value = results[key]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), (key, value)
        assert math.isfinite(value) and value > 0, (key, value)
    assert results["ratio"] == results["fit_seconds"] / results["plain_seconds"]
    assert results["repeats"] == 1
    assert results["reproducible"] == "portable"  # the default mode; the other one timed beside it
    assert math.isfinite(results["native_fit_seconds"]) and results["native_fit_seconds"] > 0
    assert results["portable_fit_seconds"] == results["fit_seconds"]  # one repeat: the default run's own
    assert results["portable_ratio"] == results["portable_fit_seconds"] / results["native_fit_seconds"]
    assert (
        results["portable_cpu_ratio"]
        == results["portable_fit_cpu_seconds"] / results["native_fit_cpu_seconds"]
    )
    assert results["portable_fit_cpu_seconds"] > 0 and math.isfinite(results["portable_cpu_ratio"])
    assert "ratio" in done.stdout
    # the benchmark trains with the cache off: nothing is stored
    assert not (tmp_path / "cache").exists() or not any((tmp_path / "cache").iterdir())


POPULATION_KEYS = (
    "population_fit_seconds",
    "member_seconds",
    "single_fit_seconds",
    "population_ratio",
    "population_eval_seconds",
    "single_eval_seconds",
    "population_total_ratio",
    "population_eval_ratio",
    "population_plain_fit_seconds",
    "population_plain_ratio",
    "single_portable_fit_seconds",
    "single_native_fit_seconds",
    "single_portable_ratio",
    "population_portable_fit_seconds",
    "population_native_fit_seconds",
    "population_portable_ratio",
    "single_portable_cpu_ratio",
    "population_portable_cpu_ratio",
)


@pytest.mark.slow
def test_bench_population_writes_its_figures(benches):
    done, out = benches["test_bench_population_writes_its_figures"].result()
    assert done.returncode == 0, f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    results = json.loads(out.read_text())
    assert results["population_size"] == 3 and results["population_device"] == "cpu"
    for key in POPULATION_KEYS:
        assert math.isfinite(results[key]) and results[key] > 0, (key, results[key])
    assert results["member_seconds"] == results["population_fit_seconds"] / 3
    assert results["population_ratio"] == results["member_seconds"] / results["single_fit_seconds"]
    assert (
        results["population_plain_ratio"]
        == results["population_fit_seconds"] / results["population_plain_fit_seconds"]
    )
    assert (
        results["population_eval_ratio"]
        == results["population_eval_seconds"] / 3 / results["single_eval_seconds"]
    )
    assert results["population_portable_fit_seconds"] == results["population_fit_seconds"]  # the default mode
    for run in ("single", "population"):
        assert (
            results[f"{run}_portable_ratio"]
            == results[f"{run}_portable_fit_seconds"] / results[f"{run}_native_fit_seconds"]
        )
    assert "bare stacked loop of 3" in done.stdout and "portable ÷ native fit: single" in done.stdout
    assert "fit_seconds" not in results  # --population-only skips the framework-vs-plain figures


@pytest.mark.slow
def test_bench_refuses_a_bad_population(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "excolor.bench", "--population", "0"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--population=0 must be ≥ 1" in done.stderr
