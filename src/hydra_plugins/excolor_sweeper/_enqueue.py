"""Reference trials: parameter sets the study runs once, beside what the sampler proposes.

``hydra.sweeper.enqueue_trials`` lists them, each ``{params: {<searched key>: <value>, …}, label: …}``
(``label`` is optional; default ``reference``). A reference trial is an ordinary trial of the study
(same seeds, same objectives, counted in ``n_trials``), so it is directly comparable with the
sampled ones; it carries the user attribute ``reference`` = its label, which the report marks.

`ensure_enqueued` runs with the study's lock held, after stale trials are settled and before each
batch is asked for. It enqueues an entry (Optuna's ``study.enqueue_trial``) unless a trial with the
same params is already waiting, running, or finished (`_settle.finished`): so it runs once per
study, however many processes share the study or however often the sweep is resumed, and a
reference trial that was interrupted is queued again (Optuna's own ``skip_if_exists`` would count
the interrupted one as existing and never run it).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import optuna
from omegaconf import OmegaConf
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution
from optuna.trial import FrozenTrial, TrialState

from excolor.study_storage import REFERENCE
from hydra_plugins.excolor_sweeper._settle import finished

log = logging.getLogger(__name__)

KEY = "hydra.sweeper.enqueue_trials"


@dataclass(frozen=True)
class Reference:
    """One entry of ``enqueue_trials``: every searched param's value, and a label."""

    params: dict[str, Any]
    label: str


def references(entries: Any, distributions: Mapping[str, BaseDistribution]) -> list[Reference]:
    """``enqueue_trials`` checked against the search space: each entry names every searched param
    exactly once with a value its distribution contains. Raises ValueError (one line, naming the key)."""
    if OmegaConf.is_config(entries):
        entries = OmegaConf.to_container(entries, resolve=True)
    checked = []
    for index, entry in enumerate(entries or []):
        where = f"{KEY}[{index}]"
        if not isinstance(entry, Mapping) or not isinstance(entry.get("params"), Mapping):
            raise ValueError(f"{where}={entry!r} must be a mapping with params: {{<searched key>: <value>}}")
        unknown = set(entry) - {"params", "label"}
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {sorted(unknown)} (known: params, label)")
        params = dict(entry["params"])
        missing, extra = (
            sorted(distributions.keys() - params.keys()),
            sorted(params.keys() - distributions.keys()),
        )
        if missing or extra:
            raise ValueError(
                f"{where}.params must name every searched param and nothing else "
                f"(missing: {missing}, not searched: {extra})"
            )
        checked.append(
            Reference(
                {
                    key: _value(f"{where}.params.{key}", value, distributions[key])
                    for key, value in params.items()
                },
                str(entry.get("label") or REFERENCE),
            )
        )
    return checked


def _value(where: str, value: Any, distribution: BaseDistribution) -> Any:
    """``value`` as its distribution holds it (an int for a float distribution becomes a float);
    ValueError if the distribution does not contain it."""
    if isinstance(distribution, FloatDistribution) and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if isinstance(value, bool) and not isinstance(distribution, CategoricalDistribution):
        raise ValueError(f"{where}={value!r} must be a number")
    try:
        inside = distribution._contains(distribution.to_internal_repr(value))  # noqa: SLF001 - Optuna's own test
    except (ValueError, TypeError):
        inside = False
    if not inside:
        raise ValueError(f"{where}={value!r} is outside its search space {distribution}")
    return value


def same_params(trial: FrozenTrial, params: Mapping[str, Any]) -> bool:
    """Whether ``trial`` has (or, waiting, will have) exactly ``params`` (floats compared to 1e-12)."""
    held = trial.params if trial.state != TrialState.WAITING else trial.system_attrs.get("fixed_params", {})
    if held.keys() != params.keys():
        return False
    return all(
        math.isclose(float(held[key]), float(value), rel_tol=1e-12)
        if isinstance(value, (int, float))
        and not isinstance(value, bool)
        and isinstance(held[key], (int, float))
        else held[key] == value
        for key, value in params.items()
    )


def present(trial: FrozenTrial) -> bool:
    """Waiting, running or finished: a trial that stands for its params (an interrupted one does not)."""
    return trial.state in (TrialState.WAITING, TrialState.RUNNING) or finished(trial)


def ensure_enqueued(study: optuna.Study, entries: list[Reference]) -> list[Reference]:
    """Enqueue each entry no present trial has the params of (call with the study's lock held);
    returns the entries enqueued now."""
    trials = study.get_trials(deepcopy=False)
    queued = []
    for entry in entries:
        if any(present(trial) and same_params(trial, entry.params) for trial in trials):
            continue
        study.enqueue_trial(entry.params, user_attrs={REFERENCE: entry.label})
        log.info("enqueued the %s trial %s", entry.label, entry.params)
        queued.append(entry)
    return queued
