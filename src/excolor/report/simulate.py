"""Null simulations of the report's verdicts: how often does a comparison with no true effect come out
as a claim? Each scenario draws synthetic sweeps (members with seeds, grid points and metrics, no
training) and runs them through the report's own analysis (`excolor.report.analysis.analyse`).

    python -m excolor.report.simulate                      # 1,000 datasets per scenario
    python -m excolor.report.simulate --datasets 200 --seeds 16 --doses 5   # a quick look

Scenarios (α = 0.05; every value log-normal: log y = μ_dose + u_s + v_{s,arm} + ε):

- ``pooled``: two arms (``normalize`` true/false), ``--seeds`` seeds × ``--doses`` grid points each,
  one pooled hypothesis over the grid. u_s ~ N(0, 1) is the seed's shift shared by both arms;
  v_{s,arm} ~ N(0, 0.3) is the seed's shift *within an arm*, shared by all of that arm's grid points
  (its members share initialisation and data stream); ε ~ N(0, 0.3) per member. No arm effect.
  False positive: the verdict is supported or not supported.
- ``divergence``: two arms, ``--seeds`` seeds, no grid; u_s ~ N(0, 1), ε ~ N(0, 0.3). Informative
  divergence: a treatment member whose ε is in the top quarter (ε > 0.674 · 0.3) diverges (its value
  NaN) with probability 0.8; control members never do. The arms' values have one distribution, but
  the members that would have done worst are missing from the treatment arm. False positive: the
  verdict is *supported* (treatment better).
- ``family``: the ``pooled`` design with two metrics and a dose hypothesis (``report.dose``), v = 0:
  every test is of a true null. False positive: any claim in the hypothesis' family, pooled or per dose
  (the family-wise error).

The standard error of a rate r over n datasets is sqrt(r (1 − r) / n); a design holds α when its rate
is ≤ 0.05 + 2 SE, the SE taken at 0.05 (0.0638 for 1,000 datasets). The bootstrap CI needs few resamples here (``--n-boot``, default 999): the p-value,
which decides, does not depend on it.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from omegaconf import OmegaConf

from excolor.config import fail
from excolor.metrics import BASELINE, MEDIAN_MSE, eval_name
from excolor.metrics import SCORE as SCORE_STAT
from excolor.report import stats
from excolor.report.analysis import analyse
from excolor.report.dose import NO_DIFFERENCE
from excolor.report.result import DoseResult, SweepResult
from excolor.report.spec import Hypothesis, Spec
from excolor.report.sweep import Member, Trial
from excolor.run_record import Status

ALPHA = 0.05
ARM_KEY, DOSE_KEY = "model.normalize", "regularizers.unit.weight"
MSE, SCORE = eval_name(BASELINE, MEDIAN_MSE), eval_name("suppression", SCORE_STAT)
SEED_SD, ARM_SEED_SD, NOISE_SD = 1.0, 0.3, 0.3
DIVERGE_QUANTILE, DIVERGE_PROBABILITY = 0.674, 0.8  # ε above its 75th percentile; then with this probability


@dataclass
class Design:
    """The size of a simulated sweep: seeds per arm and grid points per seed."""

    seeds: int = 32
    doses: int = 13


def _trial(name: str, members: list[tuple[int, dict, dict]]) -> Trial:
    """An ok trial holding the given (seed, grid, metrics) members."""
    trial = Trial(name=name, path=None, status=Status.OK, config=OmegaConf.create({}))  # type: ignore[arg-type]
    trial.members = [
        Member(trial, index, seed, grid, metrics) for index, (seed, grid, metrics) in enumerate(members)
    ]
    return trial


def _hypothesis(metrics: dict[str, str]) -> Hypothesis:
    return Hypothesis("H", "", {ARM_KEY: True}, {ARM_KEY: False}, metrics)


def _doses(design: Design) -> np.ndarray:
    return np.logspace(-2, 2, design.doses)


def pooled_sweep(
    rng: np.random.Generator,
    design: Design,
    arm_seed_sd: float = ARM_SEED_SD,
    metrics: tuple[str, ...] = (MSE,),
) -> list[Trial]:
    """Two arms × seeds × doses of log-normal values with no arm effect (module docstring)."""
    doses = _doses(design)
    shift = rng.normal(0, SEED_SD, (len(metrics), design.seeds))
    trials: list[Trial] = []
    for arm in (True, False):
        arm_shift = rng.normal(0, arm_seed_sd, (len(metrics), design.seeds))
        members = []
        for seed in range(design.seeds):
            for index, dose in enumerate(doses):
                log_values = (
                    0.1 * index + shift[:, seed] + arm_shift[:, seed] + rng.normal(0, NOISE_SD, len(metrics))
                )
                members.append(
                    (
                        seed,
                        {ARM_KEY: arm, DOSE_KEY: float(dose)},
                        dict(zip(metrics, np.exp(log_values).tolist())),
                    )
                )
        trials.append(_trial(str(len(trials)), members))
    return trials


def divergence_sweep(rng: np.random.Generator, design: Design) -> list[Trial]:
    """Two arms × seeds, treatment members in ε's top quarter diverging (module docstring)."""
    shift = rng.normal(0, SEED_SD, design.seeds)
    trials: list[Trial] = []
    for arm in (True, False):
        noise = rng.normal(0, NOISE_SD, design.seeds)
        diverged = (
            arm & (noise > DIVERGE_QUANTILE * NOISE_SD) & (rng.random(design.seeds) < DIVERGE_PROBABILITY)
        )
        values = np.where(diverged, math.nan, np.exp(shift + noise))
        trials.append(
            _trial(
                str(len(trials)),
                [(seed, {ARM_KEY: arm}, {MSE: float(values[seed])}) for seed in range(design.seeds)],
            )
        )
    return trials


def _claims(result: SweepResult, supported_only: bool = False) -> bool:
    """Whether the result claims anything: a hypothesis metric not inconclusive (only *supported* with
    ``supported_only``), or a dose row better or worse."""
    wanted = (stats.SUPPORTED,) if supported_only else (stats.SUPPORTED, stats.NOT_SUPPORTED)
    claims = any(
        metric.verdict.outcome in wanted for hypothesis in result.hypotheses for metric in hypothesis.metrics
    )
    if isinstance(result.dose, DoseResult):
        claims |= any(row.direction != NO_DIFFERENCE for effect in result.dose.effects for row in effect.rows)
    return claims


def scenario(name: str, design: Design) -> tuple[Callable[[np.random.Generator], list[Trial]], Spec, bool]:
    """(draw a sweep, the spec it is analysed with, whether only *supported* counts) of a scenario."""
    if name == "pooled":
        return (
            (lambda rng: pooled_sweep(rng, design)),
            Spec([], [MSE], [_hypothesis({MSE: "lower"})], True),
            False,
        )
    if name == "divergence":
        return (
            (lambda rng: divergence_sweep(rng, design)),
            Spec([], [MSE], [_hypothesis({MSE: "lower"})], True),
            True,
        )
    if name == "family":
        metrics = {MSE: "lower", SCORE: "higher"}
        return (
            (lambda rng: pooled_sweep(rng, design, 0.0, tuple(metrics))),
            Spec([], list(metrics), [_hypothesis(metrics)], True, DOSE_KEY),
            False,
        )
    raise ValueError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")


SCENARIOS = ("pooled", "divergence", "family")


def false_positive_rate(
    name: str, datasets: int, design: Design | None = None, seed: int = 0, n_boot: int = 999
) -> float:
    """The share of ``datasets`` null sweeps of scenario ``name`` on which the report claims something."""
    draw, spec, supported_only = scenario(name, design or Design())
    rng = np.random.default_rng(seed)
    return float(
        np.mean([_claims(analyse(draw(rng), spec, n_boot), supported_only) for _ in range(datasets)])
    )


def standard_error(rate: float, datasets: int) -> float:
    """sqrt(r (1 − r) / n): the standard error of a rate r over n datasets."""
    return math.sqrt(rate * (1 - rate) / datasets)


def limit(datasets: int) -> float:
    """α + 2 SE at the nominal rate: 0.05 + 2 sqrt(0.05 · 0.95 / n) (0.0638 for n = 1,000)."""
    return ALPHA + 2 * standard_error(ALPHA, datasets)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m excolor.report.simulate", description=(__doc__ or "").split("\n\n")[0]
    )
    parser.add_argument("--datasets", type=int, default=1000, help="null datasets per scenario (1000)")
    parser.add_argument("--seeds", type=int, default=32, help="seeds per arm (32)")
    parser.add_argument("--doses", type=int, default=13, help="grid points per seed (13)")
    parser.add_argument("--seed", type=int, default=0, help="the simulation's random seed (0)")
    parser.add_argument("--n-boot", type=int, default=999, help="bootstrap resamples per CI (999)")
    parser.add_argument(
        "--scenario", choices=SCENARIOS, action="append", help="one scenario (repeatable; default all)"
    )
    args = parser.parse_args(argv)
    if args.datasets < 1 or args.seeds < stats.MIN_N or args.doses < 1 or args.n_boot < 10:
        fail(f"simulate: need --datasets ≥ 1, --seeds ≥ {stats.MIN_N}, --doses ≥ 1 and --n-boot ≥ 10")
    design = Design(args.seeds, args.doses)
    print(
        f"null false-positive rates, alpha = {ALPHA}, {args.datasets} datasets each, {design.seeds} seeds per arm, "
        f"{design.doses} grid points, simulation seed {args.seed}"
    )
    for name in args.scenario or SCENARIOS:
        start = time.perf_counter()
        rate = false_positive_rate(name, args.datasets, design, args.seed, args.n_boot)
        bound = limit(args.datasets)
        print(
            f"{name:>10}: {rate:.3f} (SE {standard_error(rate, args.datasets):.3f}; limit 0.05 + 2 SE = {bound:.4f}: "
            f"{'holds' if rate <= bound else 'EXCEEDS'}) [{time.perf_counter() - start:.0f} s]",
            flush=True,
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
