"""The Optuna study behind a sweep: locating its storage and loading it into a `StudyResult`.

A sweep's study is named by ``hydra.sweeper.storage`` and ``hydra.sweeper.study_name``; the
storage forms are those of `excolor.study_storage` (a journal file path, ``sqlite:///…``, a database
URL), and a relative file path is resolved against the sweep dir only (the cwd for a storage given
on the command line), so the report reads the sweep's own study. A missing or unreadable study is a
`ReportError`. The summary holds the trial counts by state and the top-5 trials (single objective)
or the Pareto front (multi-objective); its report section is `excolor.report.markdown.optuna_markdown`,
its param-vs-objective plot `excolor.report.figures.plot_optuna`. A study's reference trials
(``hydra.sweeper.enqueue_trials``) are compared with the other trials (`excolor.report.reference`;
paired by seed from the sweep dir's trial dirs when it is given). Objective names come
from the app config key ``objective`` (a string or list, matching the number of
directions), else ``value`` / ``objective_<i>``.

``optuna`` is imported only when a study is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from excolor.report.errors import ReportError
from excolor.report.reference import compare_references
from excolor.report.result import BestTrial, StudyResult
from excolor.study_storage import open_storage, resolve_storage, storage_file


def completed(trials: list) -> list:
    """The trials in state COMPLETE that have objective values."""
    return [trial for trial in trials if trial.state.name == "COMPLETE" and trial.values is not None]


def open_study_storage(storage: str, sweep_dir: Path | None) -> tuple[str, Any]:
    """The resolved storage spec and an open storage object; a missing study file or one Optuna
    cannot read is a `ReportError` (a database server is opened as it is)."""
    resolved = resolve_storage(str(storage), sweep_dir)
    path = storage_file(resolved)
    if path is not None and not path.is_file():
        raise ReportError(f"optuna storage not found: {path} (from {storage})")
    try:
        opened = open_storage(resolved, attempts=1)
        opened.get_all_studies()  # reads the whole journal / the schema: a corrupt file fails here
    except Exception as error:  # noqa: BLE001 - JSON, SQLAlchemy and Optuna errors alike: one line
        raise ReportError(
            f"cannot read optuna storage {resolved}: {type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else ''}"
        ) from None
    return resolved, opened


def load_optuna(
    storage: str, study_name: str | None, objective_names: Any = None, sweep_dir: Path | None = None
) -> tuple[StudyResult, list]:
    """The study's summary (counts, params, objectives, best trials) and its (Optuna) trials.

    ``study_name`` None means the storage's only study.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, opened = open_study_storage(storage, sweep_dir)
    if study_name is None:
        names = [summary.study_name for summary in optuna.get_all_study_summaries(opened)]
        if len(names) != 1:
            raise ReportError(f"storage {storage} holds {len(names)} studies {names}; name one with --study")
        study_name = names[0]
    try:
        study = optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        names = [summary.study_name for summary in optuna.get_all_study_summaries(opened)]
        raise ReportError(f"no study {study_name!r} in {storage} (studies: {names})") from None
    directions = [direction.name.lower() for direction in study.directions]
    if isinstance(objective_names, str):
        objective_names = [objective_names]
    if isinstance(objective_names, list) and len(objective_names) == len(directions):
        objectives = [str(name) for name in objective_names]
    else:
        objectives = (
            ["value"] if len(directions) == 1 else [f"objective_{index}" for index in range(len(directions))]
        )
    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {"COMPLETE": 0, "FAIL": 0, "RUNNING": 0}
    for trial in trials:
        counts[trial.state.name] = counts.get(trial.state.name, 0) + 1
    params = sorted(
        {param for trial in trials for param in trial.params}
    )  # by name: storages differ in their order
    sign = 1 if directions[0] == "minimize" else -1  # best first by the first objective
    if len(directions) == 1:
        best = sorted(completed(trials), key=lambda trial: sign * trial.values[0])[:5]
        label = "top 5"
    else:
        best = sorted(study.best_trials, key=lambda trial: sign * trial.values[0])
        label = "Pareto front"
    summary = StudyResult(
        study=study_name,
        storage=str(storage),
        storage_resolved=url,
        directions=directions,
        objectives=objectives,
        counts=counts,
        params=params,
        best_label=label,
        best_numbers=[trial.number for trial in best],
        best=[BestTrial(trial.number, dict(trial.params), list(trial.values)) for trial in best],
        references=compare_references(trials, objectives, directions, sweep_dir),
    )
    return summary, trials
