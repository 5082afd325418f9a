"""Benchmark: the framework's training against a plain PyTorch loop, evaluation speed, start-up.

    python -m excolor.bench [--quick] [--repeats N] [--out bench.json] [--population N [--device cpu|cuda]]

1. fit_seconds: `python -m excolor.train` on its defaults (cache off), fit only, as recorded in
   metrics.json (`train/seconds`); median over repeats. Each repeat is a fresh process.
2. plain_seconds: the same model, data sampling, labels, regularizers and schedule in a plain
   PyTorch loop written here (no Lightning); median over repeats.
3. ratio = fit_seconds / plain_seconds.
4. eval_seconds: the 552,960-color loss cube evaluated for the baseline + suppression + repulsion
   (metrics only, no figures), median over repeats.
5. startup_seconds: wall time from launching `python -m excolor.train` to its first training step.
6. With `--population N`: a single run and a population of N (`population.size=N`) on `--device`,
   each a fresh process: `single_fit_seconds`, `single_eval_seconds`, `population_fit_seconds`,
   `population_eval_seconds`, `member_seconds` = population fit ÷ N, `population_ratio` = member ÷
   single fit, `population_total_ratio` = (population fit + eval) ÷ N ÷ (single fit + eval).
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

from excolor.run_record import EVAL_SECONDS, FIRST_STEP_TIME, TRAIN_DEVICE, TRAIN_SECONDS, read_run


def framework_run(run_dir: Path, steps: int | None, extra: Sequence[str] = ()) -> dict:
    """One `python -m excolor.train` process; returns its metrics plus the launch time."""
    overrides = ["cache.enabled=false", "evaluation.plots=false", f"hydra.run.dir={run_dir}", *extra]
    if steps:
        overrides.append(f"trainer.max_steps={steps}")
    launched = time.time()
    subprocess.run([sys.executable, "-m", "excolor.train", *overrides], check=True, capture_output=True, env={**os.environ, "WANDB_SILENT": "true"})
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


def population_figures(size: int, device: str, steps: int | None, tmp: Path) -> dict:
    """A single run and a population of `size` on `device` (both fresh processes, cache off): fit and
    evaluation seconds as each run records them (`train/seconds`, `eval/seconds`), and their ratios."""
    trainer = ["trainer=gpu"] if device == "cuda" else ["trainer=cpu"]
    quiet = ["logger=none", "callbacks=none", *trainer]
    single = framework_run(tmp / "single", steps, quiet)
    population = framework_run(tmp / "population", steps, [*quiet, f"population.size={size}"])
    member_seconds = population[TRAIN_SECONDS] / size
    single_total = single[TRAIN_SECONDS] + single[EVAL_SECONDS]
    return {
        "population_size": size,
        "population_device": population[TRAIN_DEVICE],
        "single_fit_seconds": single[TRAIN_SECONDS],
        "single_eval_seconds": single[EVAL_SECONDS],
        "population_fit_seconds": population[TRAIN_SECONDS],
        "population_eval_seconds": population[EVAL_SECONDS],
        "member_seconds": member_seconds,
        "population_ratio": member_seconds / single[TRAIN_SECONDS],
        "population_total_ratio": (population[TRAIN_SECONDS] + population[EVAL_SECONDS]) / size / single_total,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m excolor.bench", description=(__doc__ or "").partition("\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repeat of 300 steps: a smoke test, not a measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, help="also write the figures as JSON here")
    parser.add_argument("--population", type=int, metavar="N", help="also time a population of N members against a single run")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu", help="where the population comparison runs (default cpu)")
    parser.add_argument("--population-only", action="store_true", help="skip the framework-vs-plain-loop figures")
    args = parser.parse_args(argv)
    if args.population is not None and args.population < 1:
        parser.error(f"--population={args.population} must be ≥ 1")
    if args.population_only and args.population is None:
        parser.error("--population-only needs --population N")
    repeats, steps = (1, 300) if args.quick else (args.repeats, None)

    import torch

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    torch.set_num_threads(1)
    machine = f"{platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}, torch {torch.__version__}"
    results: dict = {"machine": machine, "steps": steps or "schedule"}
    if args.population is not None:
        with tempfile.TemporaryDirectory() as tmp:
            results.update(population_figures(args.population, args.device, steps, Path(tmp)))
        print(f"population of {results['population_size']} on {results['population_device']}: fit {results['population_fit_seconds']:.2f} s "
              f"({results['member_seconds']:.3f} s per member) · eval {results['population_eval_seconds']:.2f} s · single fit "
              f"{results['single_fit_seconds']:.2f} s, eval {results['single_eval_seconds']:.2f} s · ratio {results['population_ratio']:.3f} "
              f"(fit + eval: {results['population_total_ratio']:.3f})", flush=True)
    if args.population_only:
        if args.out:
            args.out.write_text(json.dumps(results, indent=2) + "\n")
        return 0

    fits, plains, evals, startups = [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(repeats):
            run_dir = Path(tmp) / f"run{i}"
            metrics = framework_run(run_dir, steps)
            fits.append(metrics[TRAIN_SECONDS])
            startups.append(metrics["startup_seconds"])
            plains.append(plain_loop(steps))
            evals.append(evaluation_seconds(run_dir))
            print(f"repeat {i + 1}/{repeats}: framework fit {fits[-1]:.2f} s · plain loop {plains[-1]:.2f} s · "
                  f"evaluation {evals[-1]:.3f} s · start-up {startups[-1]:.2f} s", flush=True)
    results.update({
        "fit_seconds": statistics.median(fits),
        "plain_seconds": statistics.median(plains),
        "ratio": statistics.median(fits) / statistics.median(plains),
        "eval_seconds": statistics.median(evals),
        "startup_seconds": statistics.median(startups),
        "repeats": repeats,
    })
    print(f"fit {results['fit_seconds']:.2f} s · plain {results['plain_seconds']:.2f} s · ratio {results['ratio']:.2f} · "
          f"eval {results['eval_seconds']:.3f} s · start-up {results['startup_seconds']:.2f} s  ({results['machine']})")
    if args.out:
        args.out.write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
