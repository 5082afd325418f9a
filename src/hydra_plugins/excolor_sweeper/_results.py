"""What a sweep's study says about its objectives, for scripts and dashboards that know Hydra's Optuna
sweeper.

- `name_objectives`: the study's metric names (Optuna's ``set_metric_names``) are the names in the task
  config's ``objective`` key, one per direction, so optuna-dashboard labels its axes with them instead of
  "Objective 0", "Objective 1".
- `write_optimization_results`: ``<sweep dir>/optimization_results.yaml`` in the format of Hydra's Optuna
  sweeper: ``name: optuna`` and, for one objective, ``best_params`` and ``best_value`` of the best trial;
  for several, ``solutions``: the Pareto front, each ``{params, values}``. Params are the sampled ones
  (fixed overrides are not params; they are user attributes of each trial).
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf
from optuna.trial import TrialState

log = logging.getLogger(__name__)

RESULTS_FILE = "optimization_results.yaml"
OBJECTIVE_KEY = "objective"  # the task config's key that names the metrics the task returns


def objective_names(config: Any, n_objectives: int) -> list[str] | None:
    """The ``objective`` names of the task config when there is one per objective, else None."""
    try:
        names = OmegaConf.select(config, OBJECTIVE_KEY, default=None, throw_on_resolution_failure=True)
    except Exception:  # noqa: BLE001 - an unresolvable value names nothing; the task will say why
        return None
    if OmegaConf.is_config(names):
        names = OmegaConf.to_container(names, resolve=True)
    names = [names] if isinstance(names, str) else names
    if (
        not isinstance(names, list)
        or len(names) != n_objectives
        or not all(isinstance(n, str) for n in names)
    ):
        return None
    return names


def name_objectives(study: optuna.Study, names: list[str] | None) -> None:
    """Set the study's metric names (once: a resumed study keeps them)."""
    if names is None or study.metric_names == names:
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(names)


def optimization_results(study: optuna.Study) -> dict[str, Any] | None:
    """Hydra's Optuna sweeper's results (see the module docstring); None without a complete trial."""
    if not study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)):
        return None
    if len(study.directions) == 1:
        best = study.best_trial
        return {"name": "optuna", "best_params": dict(best.params), "best_value": best.value}
    return {
        "name": "optuna",
        "solutions": [{"params": dict(t.params), "values": list(t.values)} for t in study.best_trials],
    }


def write_optimization_results(study: optuna.Study, sweep_dir: Path) -> Path | None:
    """Write `RESULTS_FILE` into the sweep dir (nothing without a complete trial); its path or None."""
    results = optimization_results(study)
    if results is None:
        log.info("no complete trial: no %s", RESULTS_FILE)
        return None
    path = sweep_dir / RESULTS_FILE
    tmp = path.with_name(path.name + ".tmp")
    OmegaConf.save(OmegaConf.create(results), tmp)
    tmp.replace(path)
    return path
