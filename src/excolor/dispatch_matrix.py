"""The dispatch table: the default run under every CPU dispatch this machine supports, forced from
outside, in both `reproducible` modes — native's metrics differ, portable's are identical.

    python -m excolor.dispatch_matrix [--jobs 2] [--design each|grid|full] [--max-steps N]
                                      [--out rows.json] [--readme]
    python -m excolor.dispatch_matrix --render rows.json [--readme]

Each row forces `ATEN_CPU_CAPABILITY`, `MKL_CBWR` and `ONEDNN_MAX_CPU_ISA` in the environment of a
fresh `python -m excolor.train logger=none cache.enabled=false evaluation.plots=false` (once with
`reproducible=native`, once with `reproducible=portable`). The rows (`--design`, `combinations`):
by default nothing forced, each value of each variable alone, all three at their lowest and all at
their highest. Only what the CPU has is forced (`/proc/cpuinfo` flags). Two runs agree when every
number of their metrics.json other than timings is bit-identical. `--readme` writes the table into README.md's
`dispatch` block.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from excolor.metrics import BASELINE, MEDIAN_MSE, TRAIN_RECON, eval_name
from excolor.reproducible import NATIVE, PORTABLE
from excolor.run_record import (
    DISPATCH_ATEN,
    DISPATCH_MKL,
    DISPATCH_ONEDNN,
    EVAL_SECONDS,
    FIRST_STEP_TIME,
    TRAIN_CPU_SECONDS,
    TRAIN_SECONDS,
    Status,
    read_run,
)

UNFORCED = "unset"
ATEN, MKL, ONEDNN = "ATEN_CPU_CAPABILITY", "MKL_CBWR", "ONEDNN_MAX_CPU_ISA"
VARIABLES = (ATEN, MKL, ONEDNN)
TIMINGS = (TRAIN_SECONDS, TRAIN_CPU_SECONDS, EVAL_SECONDS, FIRST_STEP_TIME)
SHOWN = (TRAIN_RECON, eval_name(BASELINE, MEDIAN_MSE))
AVX512 = {"avx512f", "avx512bw", "avx512vl", "avx512dq"}  # what ATen and MKL need for their AVX-512 paths


def cpu_flags(cpuinfo: str) -> set[str]:
    """The `flags` of the first CPU in a /proc/cpuinfo text."""
    for line in cpuinfo.splitlines():
        if line.startswith("flags"):
            return set(line.split(":", 1)[1].split())
    return set()


def choices(flags: set[str]) -> dict[str, list[str]]:
    """Each variable's values this CPU supports (UNFORCED: the variable not set)."""
    avx2, avx512 = "avx2" in flags, flags >= AVX512
    return {
        ATEN: [UNFORCED, "default", *(["avx2"] if avx2 else []), *(["avx512"] if avx512 else [])],
        MKL: [UNFORCED, "COMPATIBLE", *(["AVX2"] if avx2 else []), *(["AVX512"] if avx512 else [])],
        ONEDNN: [
            UNFORCED,
            *(["SSE41"] if "sse4_1" in flags else []),
            *(["AVX2"] if avx2 else []),
            *(["AVX512_CORE"] if avx512 else []),
        ],
    }


DESIGNS = ("each", "grid", "full")


def combinations(values: dict[str, list[str]], design: str) -> list[dict[str, str]]:
    """The forced settings to run, each {variable: value} (UNFORCED included):
    `each`: nothing forced, every value of each variable alone, then all three at their lowest and
    all at their highest; `grid`: ATen × MKL with oneDNN unforced, then each oneDNN ISA alone;
    `full`: every combination."""
    unforced: dict[str, str] = dict.fromkeys(VARIABLES, UNFORCED)
    if design == "full":
        return [dict(zip(VARIABLES, combo)) for combo in itertools.product(*(values[v] for v in VARIABLES))]
    rows: list[dict[str, str]]
    if design == "grid":
        rows = [
            {ATEN: aten, MKL: mkl, ONEDNN: UNFORCED}
            for aten, mkl in itertools.product(values[ATEN], values[MKL])
        ]
        return rows + [{**unforced, ONEDNN: isa} for isa in values[ONEDNN] if isa != UNFORCED]
    rows = [unforced] + [
        {**unforced, v: value} for v in VARIABLES for value in values[v] if value != UNFORCED
    ]
    forced = {v: [value for value in values[v] if value != UNFORCED] for v in VARIABLES}
    if all(forced.values()):
        rows += [{v: forced[v][0] for v in VARIABLES}, {v: forced[v][-1] for v in VARIABLES}]
    return rows


def result(metrics: dict) -> tuple:
    """What two runs must share to agree: every number in metrics.json except timings, bit for bit
    (not the strings that name the kernels, which differ by design)."""
    return tuple(
        sorted(
            (key, value)
            for key, value in metrics.items()
            if key not in TIMINGS and isinstance(value, (int, float)) and not isinstance(value, bool)
        )
    )


def run(forced: dict[str, str], mode: str, run_dir: Path, max_steps: int | None) -> dict:
    """One fresh `python -m excolor.train` with `forced` in its environment; its metrics.json."""
    env = {
        key: value for key, value in os.environ.items() if key not in VARIABLES and key != "DNNL_MAX_CPU_ISA"
    }
    env.update({key: value for key, value in forced.items() if value != UNFORCED})
    command = [
        sys.executable,
        "-m",
        "excolor.train",
        "logger=none",
        "cache.enabled=false",
        "evaluation.plots=false",
        f"reproducible={mode}",
        f"hydra.run.dir={run_dir}",
    ]
    if max_steps:
        command.append(f"trainer.max_steps={max_steps}")
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    record = read_run(run_dir)
    if done.returncode != 0 or record.status != Status.OK:
        raise RuntimeError(f"{' '.join(command)} with {forced} failed:\n{done.stderr[-2000:]}")
    return record.metrics


def table(rows: list[dict]) -> str:
    """The markdown table: one line per forced setting, native and portable side by side, then
    how many distinct results each mode gave."""
    header = (
        f"| `{ATEN}` | `{MKL}` | `{ONEDNN}` | native: kernels used (ATen · MKL · oneDNN) "
        "| native: train recon | native: median MSE | portable: train recon | portable: median MSE |"
    )
    lines = [header, "|" + "---|" * 8]
    for row in rows:
        native, portable = row[NATIVE], row[PORTABLE]
        used = " · ".join(str(native[key]) for key in (DISPATCH_ATEN, DISPATCH_MKL, DISPATCH_ONEDNN))
        cells = [
            *(row["forced"][v] for v in VARIABLES),
            used,
            *(f"{native[k]:.7g}" for k in SHOWN),
            *(f"{portable[k]:.7g}" for k in SHOWN),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    counts = {mode: len({result(row[mode]) for row in rows}) for mode in (NATIVE, PORTABLE)}
    lines.append("")
    lines.append(
        f"{len(rows)} forced settings: native gave **{counts[NATIVE]}** different results, portable "
        f"**{counts[PORTABLE]}** (every number in metrics.json but the timings compared bit for bit)."
    )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m excolor.dispatch_matrix", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument("--jobs", type=int, default=1, help="runs at a time (default 1)")
    parser.add_argument(
        "--design",
        choices=DESIGNS,
        default="each",
        help="each: every value alone, plus all lowest and all highest (default); grid: ATen × MKL, "
        "then each oneDNN ISA; full: every combination",
    )
    parser.add_argument(
        "--max-steps", type=int, help="shorter runs (default: the whole schedule, as the README's table)"
    )
    parser.add_argument("--out", type=Path, help="also write every run's metrics as JSON here")
    parser.add_argument(
        "--readme", action="store_true", help="write the table into README.md's dispatch block"
    )
    parser.add_argument(
        "--render", type=Path, metavar="JSON", help="no runs: the table of a JSON that --out wrote"
    )
    args = parser.parse_args(argv)
    if args.jobs < 1:
        parser.error(f"--jobs={args.jobs} must be ≥ 1")
    if args.max_steps is not None and args.max_steps < 1:
        parser.error(f"--max-steps={args.max_steps} must be ≥ 1")
    if args.render:
        try:
            rows = json.loads(args.render.read_text())
        except (OSError, ValueError) as error:
            parser.error(f"--render {args.render}: {error}")
    else:
        rows = run_all(parser, args)
    markdown = table(rows)
    print(markdown)
    if args.out and not args.render:
        args.out.write_text(json.dumps(rows, indent=2) + "\n")
    if args.readme:
        from excolor.docs import ROOT, replace_block

        readme = ROOT / "README.md"
        readme.write_text(replace_block(readme.read_text(), "dispatch", markdown))
    return 0


def run_all(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[dict]:
    """Every forced setting in both modes; one row per setting."""
    try:
        flags = cpu_flags(Path("/proc/cpuinfo").read_text())
    except OSError:
        parser.error("no /proc/cpuinfo: this table is for Linux on x86-64")
    rows = [{"forced": forced} for forced in combinations(choices(flags), args.design)]
    lock = threading.Lock()
    with tempfile.TemporaryDirectory() as tmp:
        tasks = [
            (row, mode, Path(tmp) / f"{index}-{mode}")
            for index, row in enumerate(rows)
            for mode in (NATIVE, PORTABLE)
        ]

        def one(task) -> None:
            row, mode, run_dir = task
            metrics = run(row["forced"], mode, run_dir, args.max_steps)
            with lock:
                row[mode] = metrics
                print(f"{mode:8} {row['forced']}: train recon {metrics[TRAIN_RECON]!r}", flush=True)
                if args.out:  # what has run so far: a long table interrupted keeps its rows
                    args.out.write_text(json.dumps(rows, indent=2) + "\n")

        with ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(one, tasks))
    return rows


if __name__ == "__main__":
    sys.exit(main())
