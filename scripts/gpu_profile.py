#!/usr/bin/env python3
"""Where a population's training step spends its time: a short Lightning fit of the default composition
(Ex 2.3) with `population.size=N` on a device, built as `python -m excolor.train` builds it.

    python scripts/gpu_profile.py --device cuda --population 1024 --steps 300 --out profile.json

Three phases of one fit: `warmup` steps (not measured), `steps` steps timed by the wall clock (the device
synchronised at both ends: ms_per_step), then `steps // 3` steps under torch.profiler: the ops with
the most self CPU time, and per step the host syncs (cudaStreamSynchronize / cudaDeviceSynchronize /
cudaEventSynchronize calls, `aten::_local_scalar_dense`, `aten::nonzero`) and copies between host and
device (`Memcpy HtoD` / `DtoH` activities). Used by scripts/gpu-check.sh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

SYNC_CALLS = (
    "cudaStreamSynchronize",
    "cudaDeviceSynchronize",
    "cudaEventSynchronize",
    "aten::_local_scalar_dense",
    "aten::nonzero",
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cuda")
    parser.add_argument("--population", type=int, default=1024)
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    if args.population < 1 or args.steps < 3 or args.warmup < 1:
        parser.error("--population ≥ 1, --steps ≥ 3, --warmup ≥ 1")

    import lightning as L
    import torch
    from hydra import compose, initialize_config_dir
    from hydra.utils import instantiate

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.console import quiet_libraries, trusted_targets
    from excolor.data import ContinuousBatches
    from excolor.module import AutoencoderModule
    from excolor.regularizers.build import build_regularizers

    if args.device == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device here")
    quiet_libraries()
    torch.set_num_threads(1)
    profiled = max(1, args.steps // 3)
    total = args.warmup + args.steps + profiled
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose(
            "train", overrides=[f"population.size={args.population}", "logger=none", "callbacks=none"]
        )
    with trusted_targets():
        schedule = instantiate(cfg.schedule)
        population = instantiate(cfg.population)
        model = population.build_model(cfg.model)
        data = population.build_data(cfg.data)
        regularizers = build_regularizers(cfg.regularizers, schedule, data.label_names, model.width)
        population.bind_regularizers(regularizers)
    if total > len(schedule):
        parser.error(f"--warmup + --steps + steps/3 = {total} exceeds the schedule's {len(schedule)} steps")

    def sync() -> None:
        if args.device == "cuda":
            torch.cuda.synchronize()

    marks: dict[str, float] = {}
    activities = [torch.profiler.ProfilerActivity.CPU]
    if args.device == "cuda":
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    profiler = torch.profiler.profile(activities=activities)

    class Phases(L.Callback):
        def on_train_batch_start(self, trainer, module, batch, batch_idx) -> None:
            if batch_idx == args.warmup:
                sync()
                marks["timed"] = time.perf_counter()
            elif batch_idx == args.warmup + args.steps:
                sync()
                marks["timed_end"] = time.perf_counter()
                profiler.__enter__()

        def on_train_end(self, trainer, module) -> None:
            sync()
            profiler.__exit__(None, None, None)

    module = AutoencoderModule(
        model, regularizers, schedule, total, log_every_n_steps=int(cfg.trainer.log_every_n_steps)
    )
    trainer = L.Trainer(
        accelerator="gpu" if args.device == "cuda" else "cpu",
        devices=1,
        max_steps=total,
        logger=False,
        callbacks=[Phases()],
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
        num_sanity_val_steps=0,
        log_every_n_steps=int(cfg.trainer.log_every_n_steps),
    )
    trainer.fit(module, train_dataloaders=ContinuousBatches(data, total, device=trainer.strategy.root_device))

    events = profiler.key_averages()

    def device_ms(event) -> float:
        value = getattr(event, "self_device_time_total", None)
        if value is None:
            value = getattr(event, "self_cuda_time_total", 0.0)
        return value / 1000

    by_name = {event.key: event for event in events}
    syncs = sum(by_name[name].count for name in SYNC_CALLS if name in by_name)
    h2d = sum(event.count for event in events if "Memcpy HtoD" in event.key)
    d2h = sum(event.count for event in events if "Memcpy DtoH" in event.key)
    top = sorted(events, key=lambda e: e.self_cpu_time_total, reverse=True)[:25]
    result = {
        "device": args.device,
        "population": args.population,
        "steps": args.steps,
        "profiled_steps": profiled,
        "ms_per_step": 1000 * (marks["timed_end"] - marks["timed"]) / args.steps,
        "syncs_per_step": syncs / profiled,
        "sync_calls": {name: by_name[name].count for name in SYNC_CALLS if name in by_name},
        "h2d_per_step": h2d / profiled,
        "d2h_per_step": d2h / profiled,
        "launches_per_step": sum(
            e.count for e in events if e.key in ("cudaLaunchKernel", "cuLaunchKernel", "cudaLaunchKernelExC")
        )
        / profiled,
        "top": [
            {
                "name": e.key,
                "calls": e.count,
                "self_cpu_ms": e.self_cpu_time_total / 1000,
                "self_cuda_ms": device_ms(e),
            }
            for e in top
        ],
    }
    print(json.dumps({k: v for k, v in result.items() if k != "top"}, indent=2))
    print(events.table(sort_by="self_cpu_time_total", row_limit=25))
    if args.out:
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
