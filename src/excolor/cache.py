"""Trained checkpoints cached by a hash of everything that shapes training.

The key (`training_key`) is a SHA-256 over

- the whole resolved config except the keys that only evaluation, logging or bookkeeping read
  (`NOT_TRAINING`): so the model, data, regularizers, schedule and trainer groups (precision,
  accelerator, devices, max_steps, …), the seed, the thread count, the concept and any key added
  later (a `population` group, say) are all in it without being listed here;
- the schedule file's contents, the number of steps and the device type;
- the source of every module that training runs, whatever package it is in (`training_code`): found
  by walking the `import` statements (top-level and function-level) from `excolor.train` and from
  the module that defines each `_target_` in the config (resolved as Hydra will, `excolor.targets`:
  `mylab.Spread` re-exported by `mylab/__init__.py` leads to `mylab/spread.py`), through every module
  that is not part of Python's standard library or installed into site-packages — so editing a
  constant in an outside package on PYTHONPATH retrains. Installed code is keyed by version instead:
  the torch, lightning and numpy versions, and that of every distribution a target resolves into.

An entry is a directory holding model.ckpt, losses.csv and train_metrics.json, moved into place
with one rename, so a killed process never leaves a half-written entry. An entry that cannot be read
(a missing file, bad JSON, a checkpoint the weights-only loader refuses) is logged with its path,
evicted, and the run trains afresh.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import site
import sys
import sysconfig
import tempfile
from collections.abc import Set
from importlib import metadata
from pathlib import Path

from omegaconf import DictConfig, OmegaConf

from excolor import targets
from excolor.run_record import CHECKPOINT_FILE, TRAINING_FILES, write_json

log = logging.getLogger("excolor.cache")

PACKAGE = "excolor"
TRAINING_ROOT = "excolor.train"
# Top-level config keys that never shape the trained weights (callbacks: the progress bar): everything else is part of the key.
NOT_TRAINING = frozenset(
    {"intervention", "evaluation", "objective", "logger", "callbacks", "cache", "tag", "report"}
)
LIBRARIES = ("torch", "lightning", "numpy")
ENTRY_METRICS_FILE = "train_metrics.json"


def _read_source(path: Path) -> bytes:
    """A module's source bytes (one function, so a test can stand in a changed source)."""
    return path.read_bytes()


def module_file(name: str) -> Path | None:
    """The source file of module `name` (`a/b.py` or `a/b/__init__.py`), or None."""
    return targets.module_file(name)


@functools.lru_cache(maxsize=4096)
def _imports(name: str, source: bytes, is_package: bool) -> frozenset[str]:
    """Every module an `import` statement anywhere in `source` may load (with its parents, since
    importing `a.b.c` runs `a` and `a.b`; `from m import x` adds `m.x` in case x is a submodule).
    Kept per (name, source): each trial of a sweep hashes the same files, and parsing them is most of the
    key's cost (~0.1–0.2 s a trial); a changed source is another key."""
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
    return frozenset(with_parents)


def config_targets(cfg) -> set[str]:
    """The modules every `_target_` in `cfg` runs: the module that defines the object it resolves to,
    and each module its path passes through (`excolor.regularizers.Separate` →
    `excolor.regularizers.separate`, `excolor.regularizers`, `excolor`)."""
    found: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("_target_"), str):
                path = node["_target_"]
                parts = path.split(".")
                found.update(".".join(parts[:i]) for i in range(1, len(parts)))
                with contextlib.suppress(
                    Exception
                ):  # unresolvable: validation refused it; instantiate says why
                    found.add(targets.resolve(path).module)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(cfg)
    return found


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[Path, ...]:
    """Where installed distributions and the standard library live."""
    dirs = {
        *site.getsitepackages(),
        site.getusersitepackages(),
        *(sysconfig.get_paths()[key] for key in ("purelib", "platlib", "stdlib", "platstdlib")),
    }
    return tuple(Path(d).resolve() for d in dirs if d)


def is_installed(file: Path) -> bool:
    """`file` belongs to the standard library or an installed distribution (not a checkout, not a
    directory on PYTHONPATH)."""
    file = file.resolve()
    return any(file.is_relative_to(directory) for directory in _library_dirs())


@functools.cache
def _installed_package(top: str) -> bool:
    """Top-level package `top` lies wholly in site-packages or the standard library (or is no package
    with a Python source at all); a namespace package with any part elsewhere does not."""
    spec = targets.module_spec(top)
    if spec is None:
        return True
    places = list(spec.submodule_search_locations or []) or ([spec.origin] if spec.origin else [])
    places = [place for place in places if place not in ("built-in", "frozen", "namespace")]
    return all(is_installed(Path(place)) for place in places)


def distribution_versions(module: str) -> dict[str, str]:
    """`{distribution: version}` of the installed distribution(s) providing `module`."""
    return dict(_package_versions(module.split(".")[0]))


@functools.cache
def _package_versions(top: str) -> tuple[tuple[str, str], ...]:
    if top in sys.stdlib_module_names:
        return ()
    try:
        return ((top, metadata.version(top)),)
    except metadata.PackageNotFoundError:
        names = metadata.packages_distributions().get(top, [])  # slower: only for an odd package name
        return tuple((name, metadata.version(name)) for name in sorted(set(names)))


def training_code(roots: set[str]) -> tuple[dict[str, Path], dict[str, str]]:
    """(name → file of every source module reachable from `roots` through import statements, sorted by
    name; {distribution: version} of the installed code `roots` name). The walk enters every module
    with a Python source outside the standard library and site-packages (excolor's own always)."""
    seen: dict[str, Path] = {}
    versions: dict[str, str] = {}
    todo = sorted(roots)
    root_set = set(roots)
    while todo:
        name = todo.pop()
        top = name.split(".")[0]
        if name in seen or top in sys.stdlib_module_names:
            continue
        if top != PACKAGE and _installed_package(top):  # decided once per package: no per-module lookups
            if name in root_set:
                versions.update(distribution_versions(name))
            continue
        file = module_file(name)
        if file is None:
            continue
        if top != PACKAGE and is_installed(file):
            if name in root_set:
                versions.update(distribution_versions(name))
            continue
        seen[name] = file
        todo.extend(sorted(_imports(name, _read_source(file), file.name == "__init__.py") - set(seen)))
    return dict(sorted(seen.items())), dict(sorted(versions.items()))


def code_version(extra_roots: Set[str] = frozenset()) -> str:
    """SHA-256 over the source of every module that training runs (module name + bytes) and the
    versions of the installed code the targets resolve into."""
    digest = hashlib.sha256()
    modules, versions = training_code({TRAINING_ROOT, *extra_roots})
    for name, file in modules.items():
        source = _read_source(file)
        digest.update(f"{name}\0{len(source)}\0".encode() + source)
    digest.update(json.dumps(versions, sort_keys=True).encode())
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
