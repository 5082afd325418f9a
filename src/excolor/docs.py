"""Rebuild every number in README.md and docs/ from the code at hand: one command.

    python -m excolor.docs               # seed-0 runs, README tables, figures, example reports
    python -m excolor.docs --sweeps      # first rerun every example sweep (hours on a laptop CPU)

1. **Seed 0** (`seed_table`): `python -m excolor.train model=<output> seed=0` for the linear and the
   sigmoid model (run dirs under `outputs/docs/`; the checkpoint cache makes a rerun on unchanged code
   cheap), tabulated beside the seed notebook's printout, which is read from `docs/ex-2.3-math.md`.
   The linear run's figures become `docs/figures/`.
2. **Over seeds**: the h2 sweep's table (`excolor.report.results_table`), from `multirun/h2`.
3. **Metrics**: the table of every metric name and its meaning, from the schema (`excolor.metrics`).
   **Speed**: the benchmark tables, rendered from `bench.json` and `docs/bench-population-cpu.json`
   (`python -m excolor.bench … --out` writes them; a benchmark is not rerun here).
4. **Example reports**: `python -m excolor.report multirun/<sweep> --out docs/examples/<sweep>` for
   every sweep in `EXAMPLE_SWEEPS` whose sweep dir exists (all of them with `--sweeps`), and their
   verdict lines, as the reports wrote them, in the README.

README.md holds each generated block between `<!-- excolor.docs:NAME -->` and
`<!-- /excolor.docs:NAME -->`; only those blocks are rewritten. A test reruns the seed-0 linear run
and checks it against the README's block (`tests/test_docs.py`).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from excolor.config import CONF_DIR, fail
from excolor.metrics import MAX_MSE, MEDIAN_MSE, SCHEMA, TRAIN_RECON, eval_name
from excolor.run_record import Status, read_run

ROOT = CONF_DIR.parent
MATH = ROOT / "docs" / "ex-2.3-math.md"
FIGURES = ("colors-none.png", "colors-suppression.png", "error-suppression.png", "latents-repulsion.png")
EXAMPLE_SWEEPS = (
    "h2",
    "h1",
    "h1_history",
    "h1_dose",
    "h1_factors",
    "falloff",
    "population_check",
    "m2_reruns",
)
SEED_OUTPUTS = ("linear", "sigmoid")
# README rows: (label, model.output, evaluation setting, whether the row shows the train recon)
SEED_ROWS = (
    ("sigmoid, no intervention", "sigmoid", "none", True),
    ("linear, no intervention", "linear", "none", True),
    ("linear, suppression", "linear", "suppression", False),
    ("linear, repulsion", "linear", "repulsion", False),
)
SEED_HEADER = (
    "| variant | final train recon (excolor: mean of last 50 steps) | max MSE | median MSE "
    "| seed: train recon | seed: max MSE | seed: median MSE |"
)


def fmt(value: float) -> str:
    """3 significant digits, trailing zeros kept; below 0.001 in scientific notation with an unpadded
    exponent: 3.70e-5, 2.17e-4, 0.00136, 0.216."""
    text = f"{value:.2e}" if value != 0 and abs(value) < 1e-3 else f"{value:#.3g}"
    mantissa, _, exponent = text.partition("e")
    return mantissa.rstrip(".") + (f"e{int(exponent)}" if exponent else "")


def seed_run_dir(root: Path, output: str) -> Path:
    return root / "outputs" / "docs" / f"seed0-{output}"


def run_seed(root: Path, output: str, extra: Sequence[str] = ()) -> Path:
    """`python -m excolor.train model=<output> seed=0` into its docs run dir (replaced if present)."""
    run_dir = seed_run_dir(root, output)
    shutil.rmtree(run_dir, ignore_errors=True)
    # portable kernels, named even while they are the default: the README's rows are the same on every CPU
    command = [
        sys.executable,
        "-m",
        "excolor.train",
        f"model={output}",
        "seed=0",
        "logger=none",
        "reproducible=portable",
        f"hydra.run.dir={run_dir}",
        *extra,
    ]
    subprocess.run(command, check=True, cwd=root)
    return run_dir


def seed_printout(math_doc: Path = MATH) -> dict[str, list[str]]:
    """The seed notebook's numbers, from the table under "What the seed measured" in the math doc:
    variant label → [train recon, max MSE, median MSE] as printed (a cell that is prose → "(…)")."""
    text = math_doc.read_text()
    section = text.split("## What the seed measured", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] not in ("variant", "---"):
            label = cells[0].replace(" output", "")
            rows[label] = [
                cell if not cell.startswith("(") else "(not recomputed in the seed)" for cell in cells[1:]
            ]
    return rows


def seed_table(metrics: dict[str, dict], printout: dict[str, list[str]]) -> str:
    """The README's seed-0 table: excolor's numbers (`metrics`: model.output → metrics.json) beside
    the seed's."""
    lines = [SEED_HEADER, "|---|---|---|---|---|---|---|"]
    for label, output, setting, with_recon in SEED_ROWS:
        run = metrics[output]
        ours = [
            fmt(run[TRAIN_RECON]) if with_recon else "",
            fmt(run[eval_name(setting, MAX_MSE)]),
            fmt(run[eval_name(setting, MEDIAN_MSE)]),
        ]
        lines.append("| " + " | ".join([label, *ours, *printout.get(label, ["", "", ""])]) + " |")
    return "\n".join(lines)


def bench_table(bench: dict) -> str:
    """The README's speed table, from the `python -m excolor.bench --out bench.json` output."""
    return "\n".join(
        [
            "| fit (framework) | plain loop | ratio | evaluation | start-up to first step |",
            "|---:|---:|---:|---:|---:|",
            f"| {bench['fit_seconds']:.2f} s | {bench['plain_seconds']:.2f} s | **{bench['ratio']:.2f}** "
            f"| {bench['eval_seconds']:.2f} s | {bench['startup_seconds']:.1f} s |",
            "",
            f"Machine: {bench['machine']}; medians of {bench['repeats']} repeats.",
        ]
    )


def population_bench_table(bench: dict) -> str:
    """The README's population-speed table, from `python -m excolor.bench --population N --out FILE`."""
    device = {"cpu": "CPU (1 thread)", "cuda": "CUDA"}.get(
        bench["population_device"].split(":")[0], bench["population_device"]
    )
    return "\n".join(
        [
            "| device | N | population fit | per member | single fit | `population_ratio` | population eval "
            "| single eval | `population_total_ratio` |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
            f"| {device} | {bench['population_size']} | {bench['population_fit_seconds']:.1f} s | {bench['member_seconds']:.3f} s "
            f"| {bench['single_fit_seconds']:.1f} s | **{bench['population_ratio']:.3f}** | {bench['population_eval_seconds']:.1f} s "
            f"| {bench['single_eval_seconds']:.2f} s | **{bench['population_total_ratio']:.3f}** |",
            *population_reference_rows(bench),
            "",
            f"Machine: {bench['machine']}.",
        ]
    )


def metrics_table() -> str:
    """The README's metric table: every entry of the metric schema (`excolor.metrics.SCHEMA`)."""
    lines = ["| metric | better | unit | per | meaning |", "|---|---|---|---|---|"]
    for metric in SCHEMA:
        lines.append(
            f"| `{metric.pattern}` | {metric.direction or ''} | {metric.unit} | {metric.scope} | {metric.meaning} |"
        )
    return "\n".join(lines)


def population_reference_rows(bench: dict) -> list[str]:
    """The population fit against the bare stacked loop and the evaluation per member against a single run's,
    when the bench measured them (a table of their own below the main one)."""
    if "population_plain_fit_seconds" not in bench:
        return []
    return [
        "",
        "| bare stacked loop (same population) | population fit ÷ bare loop | population eval per member ÷ single eval |",
        "|---:|---:|---:|",
        (
            f"| {bench['population_plain_fit_seconds']:.1f} s | **{bench['population_plain_ratio']:.2f}** "
            f"| **{bench['population_eval_ratio']:.3f}** |"
        ),
    ]


def verdict_lines(report_md: str) -> list[str]:
    """The hypothesis bullets of a report.md ("## Hypotheses"), as the report wrote them."""
    if "\n## Hypotheses\n" not in report_md:
        return []
    section = report_md.split("\n## Hypotheses\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("- **")]


def verdicts_block(examples: Path) -> str:
    """Every example report's verdict lines, each led by its report's directory."""
    lines = []
    for sweep in EXAMPLE_SWEEPS:
        report = examples / sweep / "report.md"
        if report.is_file():
            lines += [
                f"- `docs/examples/{sweep}/` — {line[2:]}" for line in verdict_lines(report.read_text())
            ]
    return "\n".join(lines)


def _block_pattern(name: str) -> re.Pattern:
    return re.compile(
        rf"(<!-- excolor\.docs:{re.escape(name)} -->\n)(.*?)(<!-- /excolor\.docs:{re.escape(name)} -->)", re.S
    )


def replace_block(text: str, name: str, content: str) -> str:
    """`text` with the block between `<!-- excolor.docs:name -->` and its end marker replaced."""
    pattern = _block_pattern(name)
    if not pattern.search(text):
        raise ValueError(f"README has no block <!-- excolor.docs:{name} -->")
    body = content + "\n" if content else ""
    return pattern.sub(lambda match: match.group(1) + body + match.group(3), text)


def ok_metrics(run_dir: Path) -> dict:
    record = read_run(run_dir)
    if record.status != Status.OK:
        raise ValueError(f"{run_dir}: the run is {record.status.value}")
    return record.metrics


def rebuild(root: Path = ROOT, sweeps: bool = False) -> list[Path]:
    """Everything in the module docstring, run from the project root `root`; returns the files written."""
    os.chdir(root)
    from excolor.report import build_report
    from excolor.report.results_table import table

    written = []
    metrics = {output: ok_metrics(run_seed(root, output)) for output in SEED_OUTPUTS}
    readme = (root / "README.md").read_text()
    readme = replace_block(readme, "seed0", seed_table(metrics, seed_printout()))
    readme = replace_block(readme, "metrics", metrics_table())
    for figure in FIGURES:
        shutil.copy2(seed_run_dir(root, "linear") / figure, root / "docs" / "figures" / figure)
        written.append(root / "docs" / "figures" / figure)
    for sweep in EXAMPLE_SWEEPS:
        sweep_dir = Path("multirun") / sweep  # relative: the report prints it (and no machine's paths)
        if sweeps:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "excolor.train",
                    "-m",
                    f"sweep={sweep}",
                    f"hydra.sweep.dir={sweep_dir}",
                ],
                check=True,
                cwd=root,
            )
        if sweep_dir.is_dir():
            written.append(build_report(sweep_dir, Path("docs") / "examples" / sweep))
    readme = replace_block(readme, "verdicts", verdicts_block(Path("docs", "examples")))
    for block, file, render in (
        ("bench", Path("bench.json"), bench_table),
        ("bench-population", Path("docs", "bench-population-cpu.json"), population_bench_table),
    ):
        if file.is_file():
            readme = replace_block(readme, block, render(json.loads(file.read_text())))
    if Path("multirun", "h2").is_dir():
        readme = replace_block(readme, "h2", table(Path("multirun", "h2")))
    (root / "README.md").write_text(readme)
    written.append(root / "README.md")
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m excolor.docs", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--sweeps", action="store_true", help="rerun every example sweep first (hours)")
    args = parser.parse_args(argv)
    try:
        for path in rebuild(sweeps=args.sweeps):
            print(path)
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        fail(f"docs: {error}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
