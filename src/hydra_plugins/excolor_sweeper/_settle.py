"""Settling a stale trial (left RUNNING by a killed sweep process) from what its directory holds.

The sweeper tells Optuna a batch's results only when the whole batch has returned, so a killed
process may leave trials RUNNING whose jobs had finished:

- ``metrics.json`` there: the trial finished; it is recorded COMPLETE with the objectives read from
  it (the names from the trial's own ``.hydra/config.yaml``, key ``objective``);
- ``failure.json`` there: the trial really failed; it is recorded FAIL (user attribute ``failure``:
  the error type) and, like any failed trial, never runs again;
- neither: it was interrupted; it is recorded FAIL with user attribute ``interrupted`` and its slot
  runs again.

Only public Optuna API is used: ``study.tell`` with the trial number, and the storage's
``set_trial_user_attr`` on a storage object the sweeper opened itself.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import optuna
from omegaconf import OmegaConf
from optuna.trial import TrialState

log = logging.getLogger(__name__)

INTERRUPTED, FAILURE = "interrupted", "failure"


def finished(trial: optuna.trial.FrozenTrial) -> bool:
    """COMPLETE, or FAIL from a real error: a trial that is kept and never run again."""
    return trial.state == TrialState.COMPLETE or (trial.state == TrialState.FAIL and not trial.user_attrs.get(INTERRUPTED))


def settle(study: optuna.Study, storage: Any, trial: optuna.trial.FrozenTrial, trial_dir: Path) -> str:
    """Record a stale RUNNING trial as its directory says; returns ``complete``, ``failed`` or
    ``interrupted`` (or ``gone`` if another process settled it first)."""
    metrics_file, failure_file = trial_dir / "metrics.json", trial_dir / "failure.json"
    try:
        if metrics_file.is_file():
            values = _objectives(trial_dir, json.loads(metrics_file.read_text()))
            study.tell(trial.number, values)
            log.info("trial %d finished before its sweep was killed: recorded from %s", trial.number, metrics_file)
            return "complete"
        if failure_file.is_file():
            _set_user_attr(study, storage, trial.number, FAILURE, _failure_type(failure_file))
            study.tell(trial.number, state=TrialState.FAIL)
            log.info("trial %d failed before its sweep was killed (%s): kept as FAIL", trial.number, failure_file)
            return "failed"
        _set_user_attr(study, storage, trial.number, INTERRUPTED, True)
        study.tell(trial.number, state=TrialState.FAIL)
    except (RuntimeError, ValueError) as error:
        if _state(study, trial.number) != TrialState.RUNNING:
            return "gone"  # another sweep process settled it meanwhile
        raise error
    log.warning("trial %d was interrupted; its slot runs again", trial.number)
    return "interrupted"


def _objectives(trial_dir: Path, metrics: dict) -> list[float]:
    names = OmegaConf.load(trial_dir / ".hydra" / "config.yaml").objective
    names = [names] if isinstance(names, str) else list(names)
    return [float(metrics[name]) for name in names]


def _failure_type(failure_file: Path) -> str:
    try:
        return str(json.loads(failure_file.read_text()).get("type", "error"))
    except (ValueError, AttributeError):
        return "error"


def _set_user_attr(study: optuna.Study, storage: Any, number: int, key: str, value: Any) -> None:
    study_id = storage.get_study_id_from_name(study.study_name)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    storage.set_trial_user_attr(trial_id, key, value)


def _state(study: optuna.Study, number: int) -> TrialState:
    return next(t.state for t in study.get_trials(deepcopy=False) if t.number == number)
