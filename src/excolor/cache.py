"""Trained checkpoints cached by a hash of everything that shapes training.

The key (`training_key`) is a SHA-256 over

- the whole resolved config except the keys that only evaluation, logging or bookkeeping read
  (`NOT_TRAINING`): so the model, data, regularizers, schedule and trainer groups (precision,
  accelerator, devices, max_steps, …), the seed, the thread count, the concept and any key added
  later (a `population` group, say) are all in it without being listed here;
- the schedule file's contents, the number of steps and the device type;
- the source of every `excolor` module that training imports, found by walking the `import`
  statements (top-level and function-level) from `excolor.train` and from every `_target_` in the
  config (`training_modules`), plus the torch, lightning and numpy versions.

An entry is a directory holding model.ckpt, losses.csv and train_metrics.json, moved into place
with one rename, so a killed process never leaves a half-written entry. An entry that cannot be read
(a missing file, bad JSON, a checkpoint the weights-only loader refuses) is logged with its path,
evicted, and the run trains afresh.
"""

from __future__ import annotations

import ast
import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Set as AbstractSet
from importlib import metadata
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from excolor.run_record import CHECKPOINT_FILE, TRAINING_FILES, write_json

log = logging.getLogger("excolor.cache")

PACKAGE = "excolor"
PACKAGE_DIR = Path(__file__).resolve().parent
SRC_DIR = PACKAGE_DIR.parent
TRAINING_ROOT = "excolor.train"
# Top-level config keys that never shape the trained weights (callbacks: the progress bar): everything else is part of the key.
NOT_TRAINING = frozenset({"intervention", "evaluation", "objective", "logger", "callbacks", "cache", "tag", "report"})
LIBRARIES = ("torch", "lightning", "numpy")
ENTRY_METRICS_FILE = "train_metrics.json"


def _read_source(path: Path) -> bytes:
    """A module's source bytes (one function, so a test can stand in a changed source)."""
    return path.read_bytes()


def module_file(name: str) -> Path | None:
    """The source file of module `name` of this package (`a/b.py` or `a/b/__init__.py`), or None."""
    if name != PACKAGE and not name.startswith(PACKAGE + "."):
        return None
    base = SRC_DIR.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str, source: bytes, is_package: bool) -> set[str]:
    """Every module an `import` statement anywhere in `source` may load (with its parents, since
    importing `a.b.c` runs `a` and `a.b`; `from m import x` adds `m.x` in case x is a submodule)."""
    found: set[str] = set()
    package = name if is_package else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against this module's package
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            found.add(module)
            found.update(f"{module}.{alias.name}" for alias in node.names)
    with_parents = set()
    for module in found:
        parts = module.split(".")
        with_parents.update(".".join(parts[:i]) for i in range(1, len(parts) + 1))
    return with_parents


def config_targets(cfg) -> set[str]:
    """The module part of every `_target_` in `cfg` (`excolor.regularizers.Separate` → its parents)."""
    targets: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("_target_"), str):
                parts = node["_target_"].split(".")
                targets.update(".".join(parts[:i]) for i in range(1, len(parts)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cfg)
    return targets


def training_modules(roots: set[str]) -> dict[str, Path]:
    """name → file of every package module reachable from `roots` through import statements,
    sorted by name (so the hash does not depend on the order of discovery)."""
    seen: dict[str, Path] = {}
    todo = sorted(roots)
    while todo:
        name = todo.pop()
        file = module_file(name)
        if name in seen or file is None:
            continue
        seen[name] = file
        todo.extend(sorted(_imports(name, _read_source(file), file.name == "__init__.py") - set(seen)))
    return dict(sorted(seen.items()))


def code_version(extra_roots: AbstractSet[str] = frozenset()) -> str:
    """SHA-256 over the source of every module that training imports (module name + bytes)."""
    digest = hashlib.sha256()
    for name, file in training_modules({TRAINING_ROOT, *extra_roots}).items():
        source = _read_source(file)
        digest.update(f"{name}\0{len(source)}\0".encode() + source)
    return digest.hexdigest()


def library_versions() -> dict[str, str]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    return versions


def training_config(cfg: DictConfig) -> dict:
    """The resolved config minus the keys that only evaluation, logging or bookkeeping read."""
    # Node by node: resolving the skipped keys could need a Hydra run (logger.save_dir does).
    config = {}
    for key in sorted(cfg):
        if key not in NOT_TRAINING:
            value = cfg[key]
            config[key] = OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value
    return config


def training_key(cfg: DictConfig, steps: int, device: str) -> str:
    """Hash of what determines the trained weights (not evaluation, logging or interventions)."""
    config = training_config(cfg)
    parts = {"config": config, "steps": int(steps), "device": device, "libraries": library_versions()}
    schedule_file = Path(cfg.schedule.path)
    parts["schedule_file"] = hashlib.sha256(schedule_file.read_bytes()).hexdigest()
    parts["code"] = code_version(config_targets(config))
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:20]


class CheckpointCache:
    def __init__(self, root: str | Path):
        self.root = Path(root)

    def lookup(self, key: str) -> Path | None:
        """The entry for `key` if there is a readable one. A broken entry (a file missing, bad JSON,
        a checkpoint the weights-only loader refuses) is logged with its path and evicted."""
        entry = self.root / key
        if not entry.exists():
            return None
        problem = self._problem(entry)
        if problem is None:
            return entry
        log.warning("cache entry %s is broken (%s): evicting it and training afresh", entry, problem)
        self.evict(entry)
        return None

    @staticmethod
    def _problem(entry: Path) -> str | None:
        """Why `entry` cannot be used, or None if it can."""
        from excolor.checkpoint import read_checkpoint
        from excolor.errors import CheckpointError

        for name in (*TRAINING_FILES, ENTRY_METRICS_FILE):
            if not (entry / name).is_file():
                return f"no {name}"
        try:
            metrics = json.loads((entry / ENTRY_METRICS_FILE).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
            return f"{ENTRY_METRICS_FILE}: {error}"
        if not isinstance(metrics, dict):
            return f"{ENTRY_METRICS_FILE} is not a JSON object"
        try:
            read_checkpoint(entry / CHECKPOINT_FILE)
        except CheckpointError as error:
            return str(error)
        return None

    @staticmethod
    def evict(entry: Path) -> None:
        # Rename first, then delete: a concurrent lookup never sees a half-deleted entry.
        doomed = entry.with_name(f".evicted-{entry.name}-{os.getpid()}")
        try:
            os.rename(entry, doomed)
        except OSError:
            return  # another process evicted (or replaced) it first
        shutil.rmtree(doomed, ignore_errors=True)

    def store(self, key: str, run_dir: Path, train_metrics: dict) -> Path:
        """Copy a run's training outputs into the cache (atomically)."""
        self.root.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=self.root))
        for name in TRAINING_FILES:
            shutil.copy2(run_dir / name, staging / name)
        write_json(staging / ENTRY_METRICS_FILE, train_metrics)
        try:
            os.rename(staging, self.root / key)
        except OSError:  # another process stored the same key first: theirs is as good as ours
            shutil.rmtree(staging, ignore_errors=True)
        return self.root / key

    def restore(self, entry: Path, run_dir: Path) -> dict:
        """Copy a cached entry into a run dir; returns its training metrics."""
        for name in TRAINING_FILES:
            shutil.copy2(entry / name, run_dir / name)
        return json.loads((entry / ENTRY_METRICS_FILE).read_text())
