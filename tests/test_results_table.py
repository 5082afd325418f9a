"""excolor.report.results_table: the README's over-seeds table from an h2 sweep dir, checked by hand."""

from __future__ import annotations

import subprocess
import sys

import pytest

from excolor.report.results_table import ROWS, median_iqr, table
from excolor.run_record import run_metrics, write_members, write_metrics


def make_run(path, output: str, scale: float):
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(f"model:\n  output: {output}\n")
    rows = []
    for seed in range(4):
        metrics = {key: scale * (seed + 1) for _, key in ROWS}
        metrics["eval/suppression/median_mse"] = 2 * metrics["eval/none/median_mse"]
        rows.append({"member": seed, "seed": seed, **metrics})
    write_members(path, rows)
    write_metrics(path, run_metrics([{k: v for k, v in row.items() if "/" in k} for row in rows], {}, seed=0))


def test_median_iqr_by_hand():
    # 1, 2, 3, 4: median 2.5, numpy's linear percentiles 1.75 and 3.25
    assert median_iqr([1.0, 2.0, 3.0, 4.0]) == "2.5 [1.75, 3.25]"


def test_table_from_two_runs(tmp_path):
    make_run(tmp_path / "0", "sigmoid", 3.0)
    make_run(tmp_path / "1", "linear", 1.0)
    lines = table(tmp_path).splitlines()
    assert lines[0].startswith("| 4 seeds (0–3)")
    assert "| median MSE, no intervention | 2.5 [1.75, 3.25] | 7.5 [5.25, 9.75] |" in lines
    assert "| suppression median ÷ unintervened median | 2 [2, 2] | 2 [2, 2] |" in lines
    assert lines[-1] == "| sigmoid / linear ratio of median MSE medians | | **3** |"


@pytest.mark.slow
def test_a_missing_arm_is_one_line(tmp_path):
    make_run(tmp_path / "0", "linear", 1.0)
    done = subprocess.run(
        [sys.executable, "-m", "excolor.report.results_table", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "no sigmoid run" in done.stderr


@pytest.mark.slow
def test_an_unfinished_run_is_one_line(tmp_path):
    make_run(tmp_path / "0", "linear", 1.0)
    make_run(tmp_path / "1", "sigmoid", 1.0)
    (tmp_path / "1" / "metrics.json").unlink()  # killed before it wrote its metrics: incomplete
    done = subprocess.run(
        [sys.executable, "-m", "excolor.report.results_table", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "is incomplete" in done.stderr
