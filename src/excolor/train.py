"""Hydra entry point: compose → data, model, regularizers, schedule → fit → evaluate → metrics.json.

    python -m excolor.train model=sigmoid seed=3
    python -m excolor.train -m sweep=h2

Torch and Lightning are imported inside the task, so `--help` and composition errors answer fast.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import hydra
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf

from excolor.config import VERSION_BASE, config_key, fail, find_config_error
from excolor.console import quiet_libraries, trusted_packages, trusted_targets
from excolor.errors import TrainingDiverged, asynchronous_cause
from excolor.metrics import TRAIN_RECON, VAL_RECON
from excolor.population import LR_SCALE
from excolor.run_record import objective_values, write_failure

log = logging.getLogger("excolor.train")


@hydra.main(**VERSION_BASE, config_path="../../conf", config_name="train")
def main(cfg: DictConfig):
    logging.captureWarnings(True)  # configuration warnings belong in the run's log too
    out_dir = Path(HydraConfig.get().runtime.output_dir)
    multirun = HydraConfig.get().mode == RunMode.MULTIRUN
    try:
        with trusted_targets(trusted_packages(cfg)):
            metrics = train(cfg, out_dir)
        return objective_values(metrics, cfg.objective)
    except Exception as error:
        if multirun:  # the sweeper records the trial as failed; the report lists failure.json
            cause = asynchronous_cause(error)
            write_failure(out_dir, cause)
            log.error("trial failed: %s: %s", type(cause).__name__, cause)
            if cause is not error:
                raise cause from error
            raise
        config_error = find_config_error(error)
        if config_error is not None:
            fail(config_error)
        if isinstance(error, TrainingDiverged):
            log.error("%s", error)
            fail(str(error), code=1)
        raise
    finally:  # close this run's W&B run whether it finished or failed: one process may run many trials
        if "wandb" in sys.modules:
            sys.modules["wandb"].finish()


def train(cfg: DictConfig, out_dir: Path) -> dict:
    """Build everything from `cfg` (validating before any work), train or reuse a cached model,
    evaluate, and write metrics.json into `out_dir`."""
    from hydra.utils import instantiate

    from excolor.validation import check_run_config

    # Every value the run reads, before torch is imported; it loads the schedule and its length too.
    checked = check_run_config(cfg)
    schedule, steps = checked["schedule"], checked["steps"]
    if steps < len(schedule):
        warn_cut_short(schedule, steps)
    with config_key("population"):
        population = instantiate(cfg.population)
    from excolor.reproducible import pin

    pin(cfg.reproducible)  # before torch is imported: its kernels read the dispatch once

    import torch

    from excolor.cache import CheckpointCache, training_key
    from excolor.chapter import build_chapter
    from excolor.checkpoint import load_population
    from excolor.evaluation import build_interventions, evaluate_run, loss_cube_shape
    from excolor.regularizers.build import build_regularizers
    from excolor.run_record import (
        EVAL_SECONDS,
        TRAIN_CACHED,
        member_rows,
        merge_member,
        run_metrics,
        write_members,
        write_metrics,
    )

    torch.set_num_threads(int(cfg.threads))
    with config_key("model"):
        model = population.build_model(cfg.model)
    with config_key("data"):
        data = population.build_data(cfg.data)
    regularizers = build_regularizers(cfg.regularizers, schedule, data.label_names, model.width, population)
    interventions = build_interventions(cfg.intervention, model.width)
    chapter = build_chapter(cfg.get("chapter"), model.width)

    device = resolve_device(cfg.trainer.accelerator)
    cache = CheckpointCache(cfg.cache.dir) if cfg.cache.enabled else None
    key = training_key(cfg, steps, device) if cache else None
    entry = cache.lookup(key) if cache and key else None
    logger = instantiate(cfg.logger) if cfg.logger else None
    if logger is not None:
        quiet_libraries()  # the logger's import brought Lightning in
    if entry is not None:
        log.info("reusing the cached model %s (cache.enabled=false retrains)", entry)
        assert cache is not None  # an entry comes from the cache
        cached = cache.restore(entry, out_dir)
        member_train, run_wide = cached["members"], {**cached["run"], TRAIN_CACHED: 1}
    else:
        member_train, run_wide = fit(
            cfg, model, data, regularizers, schedule, steps, out_dir, logger, population.values(LR_SCALE)
        )
        if cache and key:
            cache.store(key, out_dir, {"members": member_train, "run": run_wide})
        run_wide[TRAIN_CACHED] = 0

    model = load_population(out_dir, map_location=device)
    started = time.perf_counter()
    member_eval = evaluate_run(model, interventions, cfg.evaluation, out_dir, logger)
    members = [
        merge_member(train_metrics, eval_metrics)
        for train_metrics, eval_metrics in zip(member_train, member_eval)
    ]
    if chapter is not None:
        added, chapter_run = chapter.evaluate(
            model,
            population.seeds,
            members,
            out_dir,
            plots=bool(cfg.evaluation.plots),
            cube=loss_cube_shape(cfg.evaluation),
        )
        members = [{**member, **extra} for member, extra in zip(members, added)]
        run_wide.update(chapter_run)
    run_wide[EVAL_SECONDS] = time.perf_counter() - started
    rows = member_rows(population, members)
    write_members(out_dir, rows)
    metrics = run_metrics(members, run_wide, cfg.seed)
    if cfg.evaluation.plots and len(population) > 1:
        from excolor.plots import plot_population

        plot_population(rows, list(population.grid), out_dir / "population.png")
    if logger is not None:
        logger.log_metrics({k: v for k, v in metrics.items() if isinstance(v, (int, float))})
    written = write_metrics(out_dir, metrics)
    summary = f" (medians over {len(population)} members)" if len(population) > 1 else ""
    log.info(
        "%s %.4g · %s %.4g%s · wrote %s",
        TRAIN_RECON,
        metrics[TRAIN_RECON],
        VAL_RECON,
        metrics[VAL_RECON],
        summary,
        written,
    )
    return metrics


def warn_cut_short(schedule, steps: int) -> None:
    """A warning when trainer.max_steps ends the run before its schedule does, naming what never runs."""
    missed = schedule.unreached(steps)
    parts = []
    if missed["keyframes"]:
        parts.append(
            "keyframes at step(s) "
            + ", ".join(f"{step:,}" for step in missed["keyframes"])
            + " never reached"
        )
    if missed["phases"]:
        parts.append("phase(s) " + ", ".join(missed["phases"]) + " never run")
    if missed["peaks"]:
        parts.append(
            ", ".join(
                f"{name} peaks at {ran:.3g} of its {scheduled:.3g}"
                for name, (ran, scheduled) in missed["peaks"].items()
            )
        )
    log.warning(
        "trainer.max_steps=%s stops the %s-step schedule %s early: %s",
        f"{steps:,}",
        f"{len(schedule):,}",
        Path(schedule.path).name,
        "; ".join(parts),
    )


def resolve_device(accelerator: str) -> str:
    import torch

    if accelerator in ("gpu", "cuda") or (accelerator == "auto" and torch.cuda.is_available()):
        return "cuda"
    return "cpu"


def fit(
    cfg, model, data, regularizers, schedule, steps, out_dir, logger, lr_scales=None
) -> tuple[list[dict], dict]:
    """Train with Lightning; save model.ckpt and losses.csv; return each member's train/* metrics and
    the run-wide ones (fit seconds, device). `lr_scales`: each member's multiplier of the scheduled lr."""
    from hydra.utils import instantiate
    from lightning.pytorch.callbacks import ProgressBar

    quiet_libraries()

    from excolor.data import ContinuousBatches
    from excolor.labels import CountingBatches, LabelCounter, label_activity
    from excolor.losses import summarize_losses, write_losses_csv
    from excolor.module import AutoencoderModule
    from excolor.periodic_validation import PeriodicValidation
    from excolor.reproducible import dispatch
    from excolor.run_record import (
        CHECKPOINT_FILE,
        DIVERGED,
        FIRST_STEP_TIME,
        LOSSES_FILE,
        TRAIN_CPU_SECONDS,
        TRAIN_DEVICE,
        TRAIN_SECONDS,
    )

    validation = (
        PeriodicValidation(data.validation, regularizers, data.label_names, steps)
        if data.validation is not None
        else None
    )
    module = AutoencoderModule(
        model,
        regularizers,
        schedule,
        steps,
        log_every_n_steps=cfg.trainer.log_every_n_steps,
        cuda_graphs=bool(cfg.get("cuda_graphs", False)),
        lr_scales=lr_scales,
        validation=validation,
    )
    callbacks = [instantiate(c) for c in (cfg.callbacks or {}).values()]
    trainer = instantiate(
        cfg.trainer,
        max_steps=steps,
        # Lightning warns when a run is shorter than its logging interval; the module logs the last step anyway.
        log_every_n_steps=min(int(cfg.trainer.log_every_n_steps), steps),
        logger=logger if logger is not None else False,
        callbacks=callbacks,
        enable_progress_bar=any(isinstance(c, ProgressBar) for c in callbacks),
    )
    if logger is not None:
        logger.log_hyperparams(OmegaConf.to_container(cfg, resolve=True))
    started, cpu_started = time.perf_counter(), time.process_time()
    # Each epoch's batches are made on the training device at once: no host-to-device copy per step.
    counter = LabelCounter(data.label_names)
    batches = CountingBatches(
        ContinuousBatches(data, steps, device=trainer.strategy.root_device),
        counter,
        label_activity(regularizers, schedule, data.label_names, steps),
    )
    trainer.fit(module, train_dataloaders=batches)
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    trainer.save_checkpoint(out_dir / CHECKPOINT_FILE, weights_only=True)
    history = module.history.numpy()
    columns = module.history_columns
    write_losses_csv(out_dir / LOSSES_FILE, history, columns, schedule)
    run_wide = {
        TRAIN_SECONDS: seconds,
        TRAIN_CPU_SECONDS: cpu_seconds,
        FIRST_STEP_TIME: module.first_step_time,
        TRAIN_DEVICE: str(trainer.strategy.root_device),
        **dispatch(cfg.reproducible),
    }
    members = summarize_losses(history, columns, schedule)
    for summary, diverged in zip(members, module.diverged.tolist()):
        summary[DIVERGED] = int(diverged)
    if validation is not None:
        for summary, validated in zip(members, validation.metrics(len(members))):
            summary.update(validated)
    if data.label_names:
        for summary, counts in zip(members, counter.metrics()):
            summary.update(counts)
    return members, run_wide


def cli():
    """`python -m excolor.train`: compose and check the config first (one line and exit 2 for any bad
    input, Hydra's composition errors included, before an output directory exists), then run Hydra."""
    from excolor.config import checked_main
    from excolor.validation import check_train_entry

    return checked_main(main, "train", check_train_entry)


if __name__ == "__main__":
    cli()
