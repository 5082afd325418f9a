"""What a run prints: each message once, no adverts, no deprecation noise, config-chosen code trusted
only from our own packages.

- `quiet_libraries()`: Lightning gives its `lightning` logger a console handler of its own *and*
  lets records propagate to the root logger (Hydra's console and `train.log`), so every INFO line
  printed twice: its own handler goes, Hydra's logging prints each line once. Lightning's "💡 Tip"
  adverts are dropped, and so is the `LeafSpec` deprecation warning that Lightning's own pytree
  helper triggers on torch ≥ 2.10 (not our call; nothing for a user to act on). So is Lightning's
  "The `srun` command is available on your system but is not used" hint on any host with SLURM's
  `srun` on PATH: a run is one process in Lightning's own environment (`conf/trainer/auto.yaml`'s
  `plugins`), never a multi-process SLURM launch that `srun` would have to start.
- `trusted_targets(packages)`: Hydra 1.4 warns on every `instantiate` without an execution whitelist
  (and Hydra 1.5 will refuse). The whitelist is `TRUSTED_PACKAGES` (in code) plus the packages the
  config's top-level `trusted_packages` names (`trusted_packages(cfg)`): `_target_`s in them are built.
- `check_trusted(cfg)`: before any work, every `_target_` in the config (the `hydra` node included:
  there Hydra's own plugins, `HYDRA_PACKAGES`, are trusted too), the sweeper's `custom_search_space`
  and every `…_target_` in its search space must lie in a trusted package *and* resolve, the way Hydra will (`excolor.targets.resolve`), to an object defined in a
  trusted package: `excolor.config.os.system` names excolor but is `os.system`, and is refused. Any
  other target stops the run with one line naming `trusted_packages`.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from excolor.errors import ConfigError

# Packages whose code a config may name in `_target_` without asking: excolor's own and what its configs
# build from Lightning and torch.optim. A config adds packages of its own with the top-level key
# `trusted_packages` (TRUSTED_KEY).
# lightning.fabric.plugins.environments: conf/trainer/auto.yaml's LightningEnvironment (no SLURM requeue).
TRUSTED_PACKAGES = ("excolor", "lightning.pytorch", "lightning.fabric.plugins.environments", "torch.optim")
# What Hydra itself builds from the `hydra` node's `_target_`s, trusted there only: its core and plugin
# launchers and sweepers (Hydra imports every `hydra_plugins` module at start-up anyway) and Optuna's
# samplers. The sweeper's `custom_search_space` and search space are the run's code: TRUSTED_PACKAGES.
HYDRA_PACKAGES = ("hydra._internal.core_plugins", "hydra_plugins", "optuna.samplers")
TRUSTED_KEY = "trusted_packages"
ADVERT = "💡 Tip:"
LEAFSPEC_DEPRECATION = r"`isinstance\(treespec, LeafSpec\)` is deprecated"
SRUN_HINT = r"The `srun` command is available on your system but is not used"


class _DropAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(ADVERT)


def quiet_libraries() -> None:
    """Call right after something imported Lightning, whose import adds the console handler removed
    here (idempotent): see the module docstring."""
    lightning_logger = logging.getLogger("lightning")
    for handler in list(lightning_logger.handlers):
        if isinstance(handler, logging.StreamHandler) and not isinstance(handler, logging.FileHandler):
            lightning_logger.removeHandler(handler)
    if not lightning_logger.hasHandlers():  # no Hydra logging (a plain script): keep one console handler
        lightning_logger.addHandler(logging.StreamHandler())
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _DropAdverts) for f in rank_zero.filters):
        rank_zero.addFilter(_DropAdverts())
    warnings.filterwarnings("ignore", message=LEAFSPEC_DEPRECATION)
    warnings.filterwarnings("ignore", message=SRUN_HINT)


def whitelist(packages: Iterable[str]) -> list[str]:
    """Hydra's execution-whitelist patterns for `packages` (`pkg.*`: anything in the package)."""
    return [f"{package}.*" for package in packages]


TRUSTED_TARGETS = tuple(whitelist(TRUSTED_PACKAGES))  # the built-in list as Hydra's patterns


def trusted_targets(packages: Iterable[str] = TRUSTED_PACKAGES):
    """A context in which `hydra.utils.instantiate` builds only targets in `packages` (Hydra ≥ 1.4;
    nothing on older Hydra, which has no whitelist)."""
    try:
        from hydra.utils import execution_whitelist
    except ImportError:
        return contextlib.nullcontext()
    return execution_whitelist(whitelist(packages))


def trusted_packages(cfg: Any) -> tuple[str, ...]:
    """`TRUSTED_PACKAGES` plus the config's `trusted_packages` (a list of package names such as
    `mylab` or `mylab.regularizers`); ConfigError naming the key for anything else."""
    extra = cfg.get(TRUSTED_KEY) if isinstance(cfg, Mapping) or hasattr(cfg, "get") else None
    if extra is None:
        return TRUSTED_PACKAGES
    if isinstance(extra, str) or not isinstance(extra, Sequence):
        raise ConfigError(f"{TRUSTED_KEY}={extra!r} must be a list of package names, e.g. [mylab]")
    for name in extra:
        if not isinstance(name, str) or not all(part.isidentifier() for part in name.split(".")):
            raise ConfigError(
                f"{TRUSTED_KEY}: {name!r} is not a package name (a dotted name such as mylab or mylab.regularizers)"
            )
    return tuple(dict.fromkeys([*TRUSTED_PACKAGES, *extra]))


def _refusal(where: str, target: Any, trusted: Sequence[str], reason: str) -> ConfigError:
    return ConfigError(
        f"{where}={target!r} {reason} (trusted_packages: {', '.join(trusted)}; "
        f"add a package of yours with '{TRUSTED_KEY}=[name]')"
    )


def check_target(where: str, target: Any, trusted: Sequence[str]) -> str:
    """One target: its string lies in a trusted package (else nothing is imported), and the object it
    resolves to is defined in one. Returns the defining module."""
    from excolor.targets import resolve, within

    if not isinstance(target, str) or not target:
        raise ConfigError(f"{where}={target!r} must be a dotted path such as excolor.regularizers.Unitarity")
    if not within(target, trusted):
        raise _refusal(where, target, trusted, "is not a trusted target")
    try:
        resolved = resolve(target)
    except Exception as error:  # ImportError, or whatever importing a trusted module raised: one line
        cause = error.__cause__ or error  # Hydra's _locate wraps the import's own error
        reason = (str(cause).splitlines() or [""])[0]
        raise ConfigError(f"{where}={target!r} cannot be found: {type(cause).__name__}: {reason}") from None
    if not within(resolved.module, trusted):
        raise _refusal(
            where, target, trusted, f"is not a trusted target: it is defined in module {resolved.module}"
        )
    return resolved.module


def is_trusted(target: Any, packages: Sequence[str] = TRUSTED_PACKAGES) -> bool:
    """`check_target` as yes or no: `target` lies in `packages` and resolves to an object defined there."""
    try:
        check_target("_target_", target, packages)
    except ConfigError:
        return False
    return True


def config_targets(cfg: Any, overrides: Iterable[str] = ()) -> list[tuple[str, Any]]:
    """(where, target) for every `_target_` in `cfg` (the `hydra` node included), the sweeper's
    `custom_search_space`, each value of a `…_target_` key in the sweeper's `params`, and each value of
    a `…_target_` sweep override in `overrides` (e.g. `model._target_=a.B,c.D`)."""
    from omegaconf import OmegaConf

    raw = OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else cfg
    found: list[tuple[str, Any]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            if "_target_" in node:
                target = node["_target_"]
                key = f"{where}._target_" if where else "_target_"
                if isinstance(target, str) and "${" in target and OmegaConf.is_config(cfg):
                    target = OmegaConf.select(cfg, key, throw_on_resolution_failure=False)
                found.append((key, target))
            for key, value in node.items():
                walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(raw, "")
    sweeper = (raw.get("hydra") or {}).get("sweeper") or {} if isinstance(raw, Mapping) else {}
    if isinstance(sweeper, Mapping):
        if sweeper.get("custom_search_space") is not None:
            found.append(("hydra.sweeper.custom_search_space", sweeper["custom_search_space"]))
        params = sweeper.get("params") or {}
        if isinstance(params, Mapping):
            found += _sweep_targets(
                [f"{key}={value}" for key, value in params.items()], "hydra.sweeper.params."
            )
    found += _sweep_targets(list(overrides), "")
    return found


def _sweep_targets(overrides: list[str], prefix: str) -> list[tuple[str, Any]]:
    """(where, value) for each value an override of a `…_target_` key may take (every choice of a sweep)."""
    relevant = [o for o in overrides if o.split("=", 1)[0].lstrip("+~").endswith("_target_")]
    if not relevant:
        return []
    from hydra.core.override_parser.overrides_parser import OverridesParser

    found: list[tuple[str, Any]] = []
    for override in OverridesParser.create().parse_overrides(relevant):
        if override.is_delete():
            continue
        where = f"{prefix}{override.get_key_element()}"
        if override.is_sweep_override() and not (override.is_choice_sweep() or override.is_range_sweep()):
            raise ConfigError(f"{where}: a target is swept over choice(…) only, not {override.input_line!r}")
        values = (
            list(override.sweep_string_iterator()) if override.is_sweep_override() else [override.value()]
        )
        found += [(where, value) for value in values]
    return found


def check_trusted(cfg: Any, trusted: Sequence[str] | None = None, overrides: Iterable[str] = ()) -> None:
    """Every target `config_targets(cfg, overrides)` finds is trusted (`check_target`), against
    `trusted` (default: `trusted_packages(cfg)`). Raises ConfigError naming the first one that is not.
    Imports nothing for targets whose source settles where they lead (the default configs' all do)."""
    trusted = trusted_packages(cfg) if trusted is None else tuple(trusted)
    for where, target in config_targets(cfg, overrides):
        check_target(where, target, (*trusted, *HYDRA_PACKAGES) if built_by_hydra(where) else trusted)


def built_by_hydra(where: str) -> bool:
    """Whether the target at config key `where` is one Hydra builds itself (a launcher, a sweeper, a
    sampler: a `_target_` under `hydra.`), not the sweeper's custom_search_space or search space."""
    return (
        where.startswith("hydra.")
        and where.endswith("._target_")
        and not where.startswith("hydra.sweeper.params.")
    )
