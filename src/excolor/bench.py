"""Benchmark: the framework's training against a plain PyTorch loop, evaluation speed, start-up.

    python -m excolor.bench [--quick] [--repeats N] [--out bench.json] [--population N [--device cpu|cuda]]

1. fit_seconds: `python -m excolor.train` on its defaults (cache off), fit only, as recorded in
   metrics.json (`train/seconds`); median over repeats. Each repeat is a fresh process.
2. plain_seconds: the same model, data sampling, labels, regularizers and schedule in a plain
   PyTorch loop written here (no Lightning); median over repeats.
3. ratio = fit_seconds / plain_seconds.
   The framework run also runs in the other `reproducible` mode in every repeat (the order
   alternates): `portable_fit_seconds`, `native_fit_seconds` (medians), `portable_ratio` = the median
   of each repeat's portable ÷ native fit seconds (the cost of `reproducible=portable`,
   excolor.reproducible), and the same for the fit's CPU seconds (`train/cpu_seconds`:
   `portable_cpu_ratio`, which a loaded machine disturbs less than wall time); fit_seconds is the
   default mode's.
4. eval_seconds: the 552,960-color loss cube evaluated for the baseline + suppression + repulsion
   (metrics only, no figures), median over repeats.
5. startup_seconds: wall time from launching `python -m excolor.train` to its first training step.
6. With `--population N`: a single run and a population of N (`population.size=N`) on `--device`,
   each a fresh process: `single_fit_seconds`, `single_eval_seconds`, `population_fit_seconds`,
   `population_eval_seconds`, `member_seconds` = population fit ÷ N, `population_ratio` = member ÷
   single fit, `population_total_ratio` = (population fit + eval) ÷ N ÷ (single fit + eval),
   `population_eval_ratio` = population eval ÷ N ÷ single eval; on the CPU also
   `population_plain_fit_seconds`, the same population trained by a bare stacked loop
   (`train_plain_population`, a fresh process), and `population_plain_ratio` = population fit ÷ that,
   and both fits again in the other `reproducible` mode (no interventions evaluated):
   `single_portable_fit_seconds`, `single_native_fit_seconds`, `single_portable_ratio` = portable ÷
   native, and the same for the population (`population_portable_ratio`); `*_portable_cpu_ratio`: the
   same ratios of the fits' CPU seconds (`train/cpu_seconds`).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from excolor.run_record import (
    EVAL_SECONDS,
    FIRST_STEP_TIME,
    TRAIN_CPU_SECONDS,
    TRAIN_DEVICE,
    TRAIN_SECONDS,
    read_run,
)


def framework_run(run_dir: Path, steps: int | None, extra: Sequence[str] = ()) -> dict:
    """One `python -m excolor.train` process; returns its metrics plus the launch time."""
    overrides = ["cache.enabled=false", "evaluation.plots=false", f"hydra.run.dir={run_dir}", *extra]
    if steps:
        overrides.append(f"trainer.max_steps={steps}")
    launched = time.time()
    subprocess.run(
        [sys.executable, "-m", "excolor.train", *overrides],
        check=True,
        capture_output=True,
        env={**os.environ, "WANDB_SILENT": "true"},
    )
    metrics = dict(read_run(run_dir).metrics)
    metrics["startup_seconds"] = metrics[FIRST_STEP_TIME] - launched
    return metrics


def plain_loop(steps: int | None, seed: int = 0) -> float:
    """The same training as the framework's default run, as a bare PyTorch loop; returns its seconds."""
    return train_plain(steps, seed)[1]


def train_plain(steps: int | None, seed: int = 0, overrides: tuple[str, ...] = ()):
    """One model of the default composition (plus `overrides`) trained by a bare PyTorch loop — no
    Lightning, no population axis: F.mse_loss, weight × schedule per term, its own Adam. Returns the
    model and the loop's seconds. (Also the reference the population tests compare members with.)"""
    import torch
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate
    from torch.nn import functional as F

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.console import trusted_targets
    from excolor.data import ContinuousBatches
    from excolor.regularizers.build import build_regularizers

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=[f"seed={seed}", *overrides])
    torch.set_num_threads(int(cfg.threads))
    with trusted_targets():
        schedule = instantiate(cfg.schedule)
        steps = steps or len(schedule)
        torch.manual_seed(seed)
        model = instantiate(cfg.model).train()
        data = instantiate(cfg.data)
        regularizers = build_regularizers(cfg.regularizers, schedule, data.label_names, model.width)
    weights = {name: regularizer.scheduled_weights(schedule) for name, regularizer in regularizers.items()}
    learning_rates = schedule["lr"].tolist()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rates[0])

    started = time.perf_counter()
    for step, (x, labels) in enumerate(ContinuousBatches(data, steps)):
        for group in optimizer.param_groups:
            group["lr"] = learning_rates[step]
        y, latents = model.forward_with_latents(x)
        loss = F.mse_loss(y, x)
        for name, regularizer in regularizers.items():
            if weights[name][step] != 0:
                loss = loss + weights[name][step] * regularizer(latents[regularizer.layer], labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return model, time.perf_counter() - started


def train_plain_population(size: int, steps: int | None, seed: int = 0, overrides: tuple[str, ...] = ()):
    """A population of `size` seeds (`population.size`, plus `overrides`) trained by a bare stacked
    loop — the population analogue of `train_plain`, no Lightning: the framework's stacked model and
    per-member data streams, each member's loss_n = MSE_n + Σ_r schedule_r(step) · multiplier_{r,n} ·
    term_{r,n}, one Adam over the stacked tensors stepping on Σ_n loss_n. Returns the model and the
    loop's seconds (the reference the framework's population fit is measured against)."""
    import torch
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.console import trusted_targets
    from excolor.data import ContinuousBatches
    from excolor.regularizers.build import build_regularizers

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=[f"seed={seed}", f"population.size={size}", *overrides])
    torch.set_num_threads(int(cfg.threads))
    with trusted_targets():
        schedule = instantiate(cfg.schedule)
        steps = steps or len(schedule)
        population = instantiate(cfg.population)
        model = population.build_model(cfg.model).train()
        data = population.build_data(cfg.data)
        regularizers = build_regularizers(
            cfg.regularizers, schedule, data.label_names, model.width, population
        )
    terms = list(regularizers.values())
    columns = [regularizer.schedule_column(schedule)[:steps] for regularizer in terms]
    # Each term's weight per step and member, schedule × multiplier rounded once from float64 (as the
    # framework's table): a row per step, no per-step host work.
    weights = torch.stack(
        [
            torch.tensor(column, dtype=torch.float64)[:, None] * reg.member_weights
            for column, reg in zip(columns, terms)
        ],
        1,
    ).float()
    learning_rates = schedule["lr"].tolist()
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rates[0])

    started = time.perf_counter()
    for step, (x, labels) in enumerate(ContinuousBatches(data, steps)):
        if len(population) == 1:
            x, labels = x[0], labels[0]
        for group in optimizer.param_groups:
            group["lr"] = learning_rates[step]
        y, latents = model.forward_with_latents(x)
        loss = ((y - x) ** 2).mean((-2, -1))
        for index, (column, regularizer) in enumerate(zip(columns, terms)):
            if column[step] != 0:
                loss = loss + weights[step, index] * regularizer(latents[regularizer.layer], labels)
        optimizer.zero_grad()
        loss.sum().backward()
        optimizer.step()
    return model, time.perf_counter() - started


def evaluation_seconds(run_dir: Path) -> float:
    """Loss-cube evaluation of baseline + suppression + repulsion on a trained model."""
    from hydra import compose, initialize_config_dir

    from excolor.checkpoint import load_model
    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.console import trusted_targets
    from excolor.evaluation import Evaluator, build_interventions

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train")
    model = load_model(run_dir)
    started = time.perf_counter()
    evaluator = Evaluator(model, cfg.evaluation.layer, cfg.evaluation.val_grid, cfg.evaluation.red_similarity)
    with trusted_targets():
        interventions_by_name = build_interventions(cfg.intervention, model.width)
    for name, interventions in interventions_by_name.items():
        evaluator.metrics(name, interventions)
    return time.perf_counter() - started


def population_figures(size: int, device: str, steps: int | None, tmp: Path, mode: str) -> dict:
    """A single run and a population of `size` on `device` (both fresh processes, cache off): fit and
    evaluation seconds as each run records them (`train/seconds`, `eval/seconds`), and their ratios.
    On the CPU also the bare stacked loop's seconds, and both fits again in the other `reproducible`
    mode: what the portable kernels cost a single run and a population (`*_portable_ratio`)."""
    from excolor.reproducible import NATIVE, PORTABLE

    trainer = ["trainer=gpu"] if device == "cuda" else ["trainer=cpu"]
    quiet = ["logger=none", "callbacks=none", *trainer]
    single = framework_run(tmp / "single", steps, quiet)
    population = framework_run(tmp / "population", steps, [*quiet, f"population.size={size}"])
    member_seconds = population[TRAIN_SECONDS] / size
    single_total = single[TRAIN_SECONDS] + single[EVAL_SECONDS]
    figures = {
        "population_size": size,
        "population_device": population[TRAIN_DEVICE],
        "single_fit_seconds": single[TRAIN_SECONDS],
        "single_eval_seconds": single[EVAL_SECONDS],
        "population_fit_seconds": population[TRAIN_SECONDS],
        "population_eval_seconds": population[EVAL_SECONDS],
        "member_seconds": member_seconds,
        "population_ratio": member_seconds / single[TRAIN_SECONDS],
        "population_total_ratio": (population[TRAIN_SECONDS] + population[EVAL_SECONDS])
        / size
        / single_total,
        "population_eval_ratio": population[EVAL_SECONDS] / size / single[EVAL_SECONDS],
    }
    if device != "cpu":
        return figures
    plain_seconds = population_plain_seconds(size, steps)
    figures["population_plain_fit_seconds"] = plain_seconds
    figures["population_plain_ratio"] = population[TRAIN_SECONDS] / plain_seconds
    other = NATIVE if mode == PORTABLE else PORTABLE
    again = [*quiet, f"reproducible={other}", "intervention=none"]  # the fit is the figure: no interventions
    runs = {"single": {mode: single}, "population": {mode: population}}
    runs["single"][other] = framework_run(tmp / f"single-{other}", steps, again)
    runs["population"][other] = framework_run(
        tmp / f"population-{other}", steps, [*again, f"population.size={size}"]
    )
    for run, by_mode in runs.items():
        portable, native = by_mode[PORTABLE], by_mode[NATIVE]
        figures[f"{run}_{PORTABLE}_fit_seconds"] = portable[TRAIN_SECONDS]
        figures[f"{run}_{NATIVE}_fit_seconds"] = native[TRAIN_SECONDS]
        figures[f"{run}_portable_ratio"] = portable[TRAIN_SECONDS] / native[TRAIN_SECONDS]
        # CPU seconds: what a loaded machine disturbs less than wall time
        figures[f"{run}_portable_cpu_ratio"] = portable[TRAIN_CPU_SECONDS] / native[TRAIN_CPU_SECONDS]
    return figures


def population_plain_seconds(size: int, steps: int | None) -> float:
    """The bare stacked loop's seconds for a population of `size` (`train_plain_population`), in a fresh
    process like the framework's runs, on one thread."""
    code = (
        "import sys, torch; from excolor.bench import train_plain_population; torch.set_num_threads(1); "
        f"print(train_plain_population({size}, {steps!r})[1])"
    )
    done = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return float(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m excolor.bench", description=(__doc__ or "").partition("\n")[0]
    )
    parser.add_argument(
        "--quick", action="store_true", help="one repeat of 300 steps: a smoke test, not a measurement"
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument(
        "--population", type=int, metavar="N", help="also time a population of N members against a single run"
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default="cpu",
        help="where the population comparison runs (default cpu)",
    )
    parser.add_argument(
        "--population-only", action="store_true", help="skip the framework-vs-plain-loop figures"
    )
    args = parser.parse_args(argv)
    if args.population is not None and args.population < 1:
        parser.error(f"--population={args.population} must be ≥ 1")
    if args.population_only and args.population is None:
        parser.error("--population-only needs --population N")
    repeats, steps = (1, 300) if args.quick else (args.repeats, None)

    from excolor.config import compose_config
    from excolor.reproducible import NATIVE, PORTABLE, pin

    mode = str(compose_config("train", []).reproducible)
    pin(mode)  # the plain loop runs the kernels of the default run it is compared with

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    torch.set_num_threads(1)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, torch {torch.__version__}"
    results: dict = {"machine": machine, "steps": steps or "schedule", "reproducible": mode}
    if args.population is not None:
        with tempfile.TemporaryDirectory() as tmp:
            results.update(population_figures(args.population, args.device, steps, Path(tmp), mode))
        print(
            f"population of {results['population_size']} on {results['population_device']}: fit {results['population_fit_seconds']:.2f} s "
            f"({results['member_seconds']:.3f} s per member) · eval {results['population_eval_seconds']:.2f} s · single fit "
            f"{results['single_fit_seconds']:.2f} s, eval {results['single_eval_seconds']:.2f} s · ratio {results['population_ratio']:.3f} "
            f"(fit + eval: {results['population_total_ratio']:.3f}; eval per member ÷ single eval: "
            f"{results['population_eval_ratio']:.3f})",
            flush=True,
        )
        if "population_plain_fit_seconds" in results:
            print(
                f"bare stacked loop of {results['population_size']}: {results['population_plain_fit_seconds']:.2f} s · "
                f"population fit ÷ bare loop {results['population_plain_ratio']:.2f}",
                flush=True,
            )
            print(
                f"portable ÷ native fit: single {results['single_portable_ratio']:.3f} "
                f"({results['single_portable_fit_seconds']:.2f} s ÷ {results['single_native_fit_seconds']:.2f} s) · "
                f"population {results['population_portable_ratio']:.3f} ({results['population_portable_fit_seconds']:.2f} s ÷ "
                f"{results['population_native_fit_seconds']:.2f} s); in CPU seconds: single "
                f"{results['single_portable_cpu_ratio']:.3f} · population {results['population_portable_cpu_ratio']:.3f}",
                flush=True,
            )
    if args.population_only:
        if args.out:
            args.out.write_text(json.dumps(results, indent=2) + "\n")
        return 0

    fits, plains, evals, startups = [], [], [], []
    by_mode: dict[str, list[dict]] = {PORTABLE: [], NATIVE: []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            run_dir, other = Path(tmp) / f"run{i}", NATIVE if mode == PORTABLE else PORTABLE
            other_first = i % 2 == 1  # alternate which mode goes first: drift in the machine's load cancels
            if other_first:
                by_mode[other].append(
                    framework_run(Path(tmp) / f"{other}{i}", steps, [f"reproducible={other}"])
                )
            metrics = framework_run(run_dir, steps)
            fits.append(metrics[TRAIN_SECONDS])
            startups.append(metrics["startup_seconds"])
            by_mode[mode].append(metrics)
            if not other_first:
                by_mode[other].append(
                    framework_run(Path(tmp) / f"{other}{i}", steps, [f"reproducible={other}"])
                )
            plains.append(plain_loop(steps))
            evals.append(evaluation_seconds(run_dir))
            print(
                f"repeat {i + 1}/{repeats}: framework fit {fits[-1]:.2f} s ({mode}; {other} {by_mode[other][-1][TRAIN_SECONDS]:.2f} s) · "
                f"plain loop {plains[-1]:.2f} s · evaluation {evals[-1]:.3f} s · start-up {startups[-1]:.2f} s",
                flush=True,
            )
    for key, name in ((TRAIN_SECONDS, "fit_seconds"), (TRAIN_CPU_SECONDS, "fit_cpu_seconds")):
        portable, native = ([run[key] for run in by_mode[m]] for m in (PORTABLE, NATIVE))
        results[f"portable_{name}"], results[f"native_{name}"] = (
            statistics.median(portable),
            statistics.median(native),
        )
        ratio = "portable_ratio" if key == TRAIN_SECONDS else "portable_cpu_ratio"
        results[ratio] = statistics.median([p / n for p, n in zip(portable, native)])
    results.update(
        {
            "fit_seconds": statistics.median(fits),
            "plain_seconds": statistics.median(plains),
            "ratio": statistics.median(fits) / statistics.median(plains),
            "eval_seconds": statistics.median(evals),
            "startup_seconds": statistics.median(startups),
            "repeats": repeats,
        }
    )
    print(
        f"fit {results['fit_seconds']:.2f} s · plain {results['plain_seconds']:.2f} s · ratio {results['ratio']:.2f} · "
        f"eval {results['eval_seconds']:.3f} s · start-up {results['startup_seconds']:.2f} s  ({results['machine']})"
    )
    print(
        f"reproducible=portable fit {results['portable_fit_seconds']:.2f} s · native {results['native_fit_seconds']:.2f} s · "
        f"portable ÷ native {results['portable_ratio']:.3f} (CPU seconds {results['portable_fit_cpu_seconds']:.2f} ÷ "
        f"{results['native_fit_cpu_seconds']:.2f} = {results['portable_cpu_ratio']:.3f})"
    )
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
