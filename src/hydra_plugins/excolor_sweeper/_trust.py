"""The targets the sweeper instantiates pass the same trusted-target check as a run's config, before
any trial starts.

- ``hydra.sweeper.custom_search_space`` (a function of the config and the trial) is the run's own code:
  a target in the trusted packages (`excolor.console.TRUSTED_PACKAGES` plus the config's
  ``trusted_packages``, which the sweeper's config reads by interpolation), resolved as Hydra will
  (`excolor.console.check_target`). An app's own execution whitelist does not extend it, and Hydra's
  blacklist cannot be overridden.
- every ``_target_`` in ``hydra.sweeper.sampler`` must be trusted, or one of `SAMPLER_TARGETS`: Optuna's
  samplers and the Optuna sweeper's own sampler factories, which its ``hydra/sweeper/sampler`` configs name.

A refused target is an `UntrustedTarget` (a `ConfigError`, and the InstantiationException code written
for Hydra's Optuna sweeper expects) of one line naming the key; what passes is then instantiated
inside `excolor.console.trusted_targets` (plus `SAMPLER_TARGETS` for the sampler), so Hydra's own
whitelist check agrees. Kept light: `resumable` imports it at Hydra's start-up.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from hydra.errors import InstantiationException
from omegaconf import OmegaConf

from excolor.console import TRUSTED_PACKAGES, TRUSTED_TARGETS, check_target, is_trusted, trusted_targets
from excolor.errors import ConfigError

SAMPLER_TARGETS = ("optuna.samplers.*", "hydra_plugins.hydra_optuna_sweeper.*")
SAMPLER_KEY, CUSTOM_SEARCH_SPACE_KEY = "hydra.sweeper.sampler", "hydra.sweeper.custom_search_space"


class UntrustedTarget(ConfigError, InstantiationException):
    """A target the sweeper would instantiate is not trusted."""


def _matches(target: str, patterns: tuple[str, ...]) -> bool:
    """Hydra's whitelist match: ``pkg.*`` is anything under ``pkg.``, any other pattern exactly itself."""
    return any(target.startswith(p[:-1]) if p.endswith(".*") else target == p for p in patterns)


def _refuse(key: str, target: Any, allowed: tuple[str, ...]) -> UntrustedTarget:
    return UntrustedTarget(f"{key}={target!r} is not a trusted target (allowed: {', '.join(allowed)})")


def check_custom_search_space(target: Any, packages: tuple[str, ...] = TRUSTED_PACKAGES) -> None:
    """ConfigError unless ``custom_search_space`` is None or a target defined in `packages`."""
    if target in (None, ""):
        return
    try:
        check_target(CUSTOM_SEARCH_SPACE_KEY, target, packages)
    except ConfigError as error:
        raise UntrustedTarget(str(error)) from None


def check_sampler(sampler: Any) -> None:
    """ConfigError unless every ``_target_`` in the sampler config is trusted or a `SAMPLER_TARGETS` one."""
    allowed = TRUSTED_TARGETS + SAMPLER_TARGETS

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            target = node.get("_target_")
            trusted = isinstance(target, str) and (is_trusted(target) or _matches(target, SAMPLER_TARGETS))
            if target is not None and not trusted:
                raise _refuse(f"{where}._target_", target, allowed)
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    walk(
        OmegaConf.to_container(sampler, resolve=False) if OmegaConf.is_config(sampler) else sampler,
        SAMPLER_KEY,
    )


def check_sweeper(sweeper: Any, packages: tuple[str, ...] = TRUSTED_PACKAGES) -> None:
    """`check_custom_search_space` (against `packages`) and `check_sampler` on a ``hydra.sweeper`` node
    (any sweeper that has those keys), for an entry point's checks before Hydra starts."""
    if sweeper is None:
        return
    check_custom_search_space(sweeper.get("custom_search_space"), packages)
    if sweeper.get("sampler") is not None:
        check_sampler(sweeper.get("sampler"))


def build_sampler(sampler: Any) -> Any:
    """The checked sampler config instantiated (an Optuna sampler, or a partial one for the grid)."""
    from hydra.utils import instantiate

    check_sampler(sampler)
    with trusted_targets():
        return instantiate(sampler, _execution_whitelist_=SAMPLER_TARGETS)


def build_custom_search_space(
    target: str | None, packages: tuple[str, ...] = TRUSTED_PACKAGES
) -> Callable[..., None] | None:
    """The ``custom_search_space`` checked against `packages`, as a partial function of (config, trial),
    or None."""
    from hydra.utils import instantiate

    check_custom_search_space(target, packages)
    if not target:
        return None
    with trusted_targets(packages):
        return instantiate({"_target_": target, "_partial_": True})
