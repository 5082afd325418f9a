"""The README's numbers are generated (excolor.docs), and the default run reproduces its seed-0 linear
rows — printed on a quiet terminal: each message once, no adverts, no deprecation noise."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter

import pytest

from excolor import docs
from excolor.run_record import read_run
from readme_blocks import read_block

ROOT = docs.ROOT


def test_fmt_by_hand():
    assert docs.fmt(3.7022e-5) == "3.70e-5"
    assert docs.fmt(0.0013621) == "0.00136"
    assert docs.fmt(0.21612) == "0.216"
    assert docs.fmt(2.1e-4) == "2.10e-4"
    assert docs.fmt(5.592657e-5) == "5.59e-5"


def test_seed_printout_comes_from_the_math_doc():
    printout = docs.seed_printout()
    assert printout["sigmoid, no intervention"] == ["1.9e-4", "0.0016", "6.3e-5"]
    assert printout["linear, no intervention"] == ["2e-5", "0.0017", "1.6e-5"]
    assert printout["linear, suppression"] == ["", "0.19", "1.9e-5"]
    assert printout["linear, repulsion"] == ["", "0.12", "(not recomputed in the seed)"]


def test_replace_block_rewrites_only_its_block():
    text = "a\n<!-- excolor.docs:x -->\nold\n<!-- /excolor.docs:x -->\nb\n<!-- excolor.docs:y -->\nkeep\n<!-- /excolor.docs:y -->\n"
    new = docs.replace_block(text, "x", "new\nlines")
    assert read_block(new, "x") == "new\nlines"
    assert read_block(new, "y") == "keep"
    assert new.startswith("a\n") and "\nb\n" in new
    with pytest.raises(ValueError, match="no block"):
        docs.replace_block(text, "z", "")


def test_seed_table_layout():
    metrics = {
        output: {
            "train/recon": 1e-4,
            **{
                f"eval/{s}/{m}": 0.5
                for s in ("none", "suppression", "repulsion")
                for m in ("max_mse", "median_mse")
            },
        }
        for output in ("linear", "sigmoid")
    }
    lines = docs.seed_table(metrics, docs.seed_printout()).splitlines()
    assert lines[0] == docs.SEED_HEADER and len(lines) == 2 + len(docs.SEED_ROWS)
    assert lines[3] == "| linear, no intervention | 1.00e-4 | 0.500 | 0.500 | 2e-5 | 0.0017 | 1.6e-5 |"
    assert lines[4] == "| linear, suppression |  | 0.500 | 0.500 |  | 0.19 | 1.9e-5 |"


def readme_rows() -> dict[str, list[str]]:
    block = read_block((ROOT / "README.md").read_text(), "seed0")
    rows = {}
    for line in block.splitlines()[2:]:
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows[cells[0]] = cells[1:]
    return rows


@pytest.fixture(scope="module")
def default_run(tmp_path_factory, fake_srun_dir):
    """The README's main command, `python -m excolor.train` on its defaults (cache off), output piped, in the
    portable kernels (named, as the README's command names them: the same digits on every x86-64 CPU), on a
    host with SLURM's `srun` on PATH (a fake one first on PATH; as on a cluster's login node)."""
    run_dir = tmp_path_factory.mktemp("default") / "run"
    env = {key: value for key, value in os.environ.items() if not key.startswith(("WANDB", "SLURM_"))}
    env["PATH"] = f"{fake_srun_dir}{os.pathsep}{env.get('PATH', '')}"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "excolor.train",
            "reproducible=portable",
            "cache.enabled=false",
            f"hydra.run.dir={run_dir}",
        ],
        capture_output=True,
        text=True,
        cwd=run_dir.parent,
        env=env,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return read_run(run_dir), done.stdout + done.stderr


@pytest.mark.slow
def test_default_run_reproduces_the_readme_seed0_linear_rows(default_run):
    record, _ = default_run
    metrics, rows = record.metrics, readme_rows()
    assert rows["linear, no intervention"][:3] == [
        docs.fmt(metrics["train/recon"]),
        docs.fmt(metrics["eval/none/max_mse"]),
        docs.fmt(metrics["eval/none/median_mse"]),
    ]
    for setting in ("suppression", "repulsion"):
        assert rows[f"linear, {setting}"][1:3] == [
            docs.fmt(metrics[f"eval/{setting}/max_mse"]),
            docs.fmt(metrics[f"eval/{setting}/median_mse"]),
        ]


@pytest.mark.slow
def test_default_run_terminal_is_quiet(default_run):
    _, output = default_run
    for noise in (
        "Tip:",
        "litlogger",
        "LeafSpec",
        "_execution_whitelist_",
        "version_base",
        "wandb:",
        "Traceback",
        "\r",
        "v_num",
        "srun",
        "SLURM",
    ):
        assert noise not in output, noise
    # each message once: the text after Hydra's "[time][logger][LEVEL] - " prefix
    messages = [
        re.sub(r"^\[[^]]*\]\[[^]]*\]\[[^]]*\] - ", "", line) for line in output.splitlines() if line.strip()
    ]
    repeated = [message for message, count in Counter(messages).items() if count > 1]
    assert not repeated, repeated
    progress = [message for message in messages if message.startswith("step ") and "/3,001 (" in message]
    assert len(progress) == 10 and progress[-1].startswith("step 3,001/3,001 (100%)")
    # metrics printed with 4 significant digits, not wandb's 5 decimals ("3e-05")
    assert f"median {record_median(default_run):.4g}" in output


def record_median(default_run) -> float:
    return default_run[0].metrics["eval/none/median_mse"]


def test_verdict_lines_are_the_reports_own():
    report_md = "# Sweep report\n\n## Hypotheses\n\n- **H2** (claim): supported — x\n- **H3**: inconclusive — y\n\nRule: …\n\n## Failed trials\n\n- **not a verdict**\n"
    assert docs.verdict_lines(report_md) == ["- **H2** (claim): supported — x", "- **H3**: inconclusive — y"]
    assert docs.verdict_lines("# Sweep report\n\n## Metrics per arm\n") == []


def test_readme_verdicts_match_the_committed_reports():
    """The README's verdict block is what excolor.docs writes from docs/examples (regenerate, don't type)."""
    block = read_block((ROOT / "README.md").read_text(), "verdicts")
    assert block == docs.verdicts_block(ROOT / "docs" / "examples") and block.count("- `docs/examples/") >= 3


def test_readme_metric_table_is_the_schema():
    """The README's metric table is what excolor.docs renders from excolor.metrics (regenerate, don't type)."""
    block = read_block((ROOT / "README.md").read_text(), "metrics")
    assert block == docs.metrics_table() and "`eval/<setting>/focus`" in block


def test_population_bench_table_shows_the_bare_loop_when_measured():
    bench = {
        "population_device": "cpu",
        "population_size": 64,
        "population_fit_seconds": 30.0,
        "member_seconds": 0.46875,
        "single_fit_seconds": 7.0,
        "population_ratio": 0.067,
        "population_eval_seconds": 6.4,
        "single_eval_seconds": 0.2,
        "population_total_ratio": 0.05,
        "machine": "m",
    }
    assert "bare stacked loop" not in docs.population_bench_table(bench)
    table = docs.population_bench_table(
        {
            **bench,
            "population_plain_fit_seconds": 25.0,
            "population_plain_ratio": 1.2,
            "population_eval_ratio": 0.5,
        }
    )
    assert "| 25.0 s | **1.20** | **0.500** |" in table.splitlines()
