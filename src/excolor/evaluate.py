"""Hydra entry point: evaluate a finished run under any interventions, without retraining.

    python -m excolor.evaluate run=<run dir> intervention=repulsion intervention.repulsion.mapper.b=0.3

Writes metrics.json (medians over members), members.csv and the figures into a new subdirectory `<run dir>/evaluations/<time>/`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, OmegaConf, open_dict

from excolor.config import VERSION_BASE, fail, find_config_error
from excolor.console import quiet_libraries, trusted_packages, trusted_targets
from excolor.errors import CheckpointError

log = logging.getLogger("excolor.evaluate")


@hydra.main(**VERSION_BASE, config_path="../../conf", config_name="evaluate")
def main(cfg: DictConfig):
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    try:
        with trusted_targets(trusted_packages(cfg)):
            return evaluate(cfg, out_dir)
    except Exception as error:
        message = str(error) if isinstance(error, CheckpointError) else find_config_error(error)
        if message is not None:
            discard(out_dir)
            fail(message)
        raise


def discard(out_dir: Path) -> None:
    """Remove the `<run>/evaluations/<time>/` Hydra made for a refused evaluation (it holds only
    Hydra's own files then), and `evaluations/` too when nothing else is in it."""
    import contextlib
    import shutil

    shutil.rmtree(out_dir, ignore_errors=True)
    with contextlib.suppress(OSError):  # other evaluations live there
        out_dir.parent.rmdir()


def evaluate(cfg: DictConfig, out_dir: Path) -> dict:
    from hydra.utils import instantiate

    from excolor.errors import ConfigError
    from excolor.reproducible import NATIVE, dispatch, pin
    from excolor.run_record import (
        CONFIG_FILE,
        EVAL_SECONDS,
        member_rows,
        run_metrics,
        write_members,
        write_metrics,
    )

    run_dir = Path(cfg.run)
    run_config = run_dir / CONFIG_FILE
    if not run_config.is_file():
        raise ConfigError(f"run={cfg.run}: not a run directory (no {CONFIG_FILE})")
    saved = OmegaConf.load(run_config)
    if not isinstance(saved, DictConfig):
        raise ConfigError(f"run={cfg.run}: {CONFIG_FILE} is not a mapping")
    # The run's own kernels unless asked otherwise (a run from before the setting: native).
    mode = cfg.reproducible or saved.get("reproducible", NATIVE)
    pin(mode)  # before torch is imported

    import torch

    # The run's own thread count (train's `threads`, 1 by default), not torch's default of every core:
    # on a loaded 2-core machine the default made an evaluation of 64 members ~10× slower.
    torch.set_num_threads(int(saved.get("threads", 1)))

    from excolor.checkpoint import load_population
    from excolor.evaluation import build_interventions, evaluate_run
    from excolor.population import Population

    if cfg.concept is None:
        with open_dict(cfg):
            cfg.concept = OmegaConf.load(run_config).concept
    model = load_population(run_dir)
    run_cfg = OmegaConf.load(run_config)  # which members the run trained: seeds and grid values
    population = (
        instantiate(run_cfg.population)
        if "population" in run_cfg
        else Population(seed=int(OmegaConf.select(run_cfg, "seed", default=0)))
    )
    if model.size != len(population):
        raise ConfigError(
            f"run={cfg.run}: its checkpoint holds {model.size} members, its config {len(population)}"
        )
    interventions = build_interventions(cfg.intervention, model.width)
    logger = instantiate(cfg.logger) if cfg.logger else None
    if logger is not None:
        quiet_libraries()  # the logger's import brought Lightning in
    started = time.perf_counter()
    members = evaluate_run(model, interventions, cfg.evaluation, out_dir, logger)
    seconds = time.perf_counter() - started
    write_members(out_dir, member_rows(population, members))
    metrics = {
        **run_metrics(members, {EVAL_SECONDS: seconds, **dispatch(mode)}, population.seed),
        "run": str(run_dir),
    }
    log.info("wrote %s", write_metrics(out_dir, metrics))
    return metrics


def cli():
    """`python -m excolor.evaluate`: check `run=` and the settings first (one line and exit 2, and no
    `<run>/evaluations/` directory created for bad input), then run Hydra."""
    from excolor.config import checked_main
    from excolor.validation import check_evaluate_entry

    return checked_main(main, "evaluate", check_evaluate_entry)


if __name__ == "__main__":
    cli()
