"""Settling a stale trial (left RUNNING by a killed sweep process) from what its directory holds.

The sweeper tells Optuna a batch's results only when the whole batch has returned, so a killed
process may leave trials RUNNING whose jobs had finished:

- *ok* (`excolor.run_record`): the trial finished; it is recorded COMPLETE with its objectives
  (`RunRecord.objectives`: the trial config's ``objective`` read from its metrics);
- *failed*: the trial really failed; it is recorded FAIL (user attribute ``failure``: the error
  type) and, like any failed trial, never runs again;
- *incomplete*: it was interrupted; it is recorded FAIL with user attribute ``interrupted`` and its
  slot runs again.

Only public Optuna API is used: ``study.tell`` with the trial number, and the storage's
``set_trial_user_attr`` on a storage object the sweeper opened itself.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import TrialState

from excolor.run_record import Status, read_run

log = logging.getLogger(__name__)

INTERRUPTED, FAILURE = "interrupted", "failure"


def finished(trial: optuna.trial.FrozenTrial) -> bool:
    """COMPLETE, or FAIL from a real error: a trial that is kept and never run again."""
    return trial.state == TrialState.COMPLETE or (
        trial.state == TrialState.FAIL and not trial.user_attrs.get(INTERRUPTED)
    )


def settle(study: optuna.Study, storage: Any, trial: optuna.trial.FrozenTrial, trial_dir: Path) -> str:
    """Record a stale RUNNING trial as its directory says (read through `excolor.run_record`); returns
    ``complete``, ``failed`` or ``interrupted`` (or ``gone`` if another process settled it first)."""
    record = read_run(trial_dir)
    values = None
    if record.status == Status.OK:
        try:
            values = record.objectives()
        except ValueError as error:  # metrics without the objective (or NaN): the trial failed
            record.status, record.error, record.error_type = Status.FAILED, str(error), type(error).__name__
    try:
        if values is not None:
            study.tell(trial.number, values)
            log.info(
                "trial %d finished before its sweep was killed: recorded from %s", trial.number, trial_dir
            )
            return "complete"
        if record.status == Status.FAILED:
            _set_user_attr(study, storage, trial.number, FAILURE, record.error_type or "error")
            study.tell(trial.number, state=TrialState.FAIL)
            log.info(
                "trial %d failed before its sweep was killed (%s: %s): kept as FAIL",
                trial.number,
                trial_dir,
                record.error,
            )
            return "failed"
        _set_user_attr(study, storage, trial.number, INTERRUPTED, True)
        study.tell(trial.number, state=TrialState.FAIL)
    except (RuntimeError, ValueError) as error:
        if _state(study, trial.number) != TrialState.RUNNING:
            return "gone"  # another sweep process settled it meanwhile
        raise error
    log.warning("trial %d was interrupted; its slot runs again", trial.number)
    return "interrupted"


def _set_user_attr(study: optuna.Study, storage: Any, number: int, key: str, value: Any) -> None:
    study_id = storage.get_study_id_from_name(study.study_name)
    trial_id = storage.get_trial_id_from_study_id_trial_number(study_id, number)
    storage.set_trial_user_attr(trial_id, key, value)


def _state(study: optuna.Study, number: int) -> TrialState:
    return next(t.state for t in study.get_trials(deepcopy=False) if t.number == number)
