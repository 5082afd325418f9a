"""Trained checkpoints cached by a hash of everything that shapes training.

The key covers the resolved model, data, regularizers and schedule configs, the schedule file's
contents, the seed, the number of steps, the device type, and the source code of the modules that
train. An entry is a directory holding model.ckpt, losses.csv and train_metrics.json, moved into
place with one rename, so a killed process never leaves a half-written entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

PACKAGE_DIR = Path(__file__).resolve().parent
TRAINING_SOURCES = ["colors.py", "data.py", "model.py", "schedule.py", "module.py", "losses.py", "regularizers"]
RUN_FILES = ("model.ckpt", "losses.csv")  # copied between a run dir and an entry
METRICS_FILE = "train_metrics.json"


def code_version() -> str:
    """SHA-256 over the source files that define training."""
    digest = hashlib.sha256()
    for name in TRAINING_SOURCES:
        path = PACKAGE_DIR / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            digest.update(file.name.encode() + file.read_bytes())
    return digest.hexdigest()


def training_key(cfg: DictConfig, steps: int, device: str) -> str:
    """Hash of what determines the trained weights (not evaluation, logging or interventions)."""
    parts = {name: OmegaConf.to_container(cfg[name], resolve=True) for name in ("model", "data", "regularizers", "schedule")}
    schedule_file = Path(cfg.schedule.path)
    parts["schedule_file"] = hashlib.sha256(schedule_file.read_bytes()).hexdigest()
    parts.update(seed=int(cfg.seed), steps=int(steps), device=device, code=code_version())
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class CheckpointCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def lookup(self, key: str) -> Path | None:
        entry = self.root / key
        return entry if all((entry / f).is_file() for f in (*RUN_FILES, METRICS_FILE)) else None

    def store(self, key: str, run_dir: Path, train_metrics: dict) -> Path:
        """Copy a run's training outputs into the cache (atomically)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        for name in RUN_FILES:
            shutil.copy2(run_dir / name, staging / name)
        (staging / METRICS_FILE).write_text(json.dumps(train_metrics, indent=2, sort_keys=True))
        try:
            os.rename(staging, self.root / key)
        except OSError:  # another process stored the same key first: theirs is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
        return self.root / key

    def restore(self, entry: Path, run_dir: Path) -> dict:
        """Copy a cached entry into a run dir; returns its training metrics."""
        for name in RUN_FILES:
            shutil.copy2(entry / name, run_dir / name)
        return json.loads((entry / METRICS_FILE).read_text())
