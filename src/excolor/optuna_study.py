"""The Optuna study behind a sweep: locating its storage, loading it, and its report section.

A sweep's study is named by ``hydra.sweeper.storage`` and ``hydra.sweeper.study_name``; the
storage forms are those of `excolor.study_storage` (a journal file path, ``sqlite:///…``, a database
URL), and a relative file path is resolved against the sweep dir only (the cwd for a storage given
on the command line), so the report reads the sweep's own study. A missing or unreadable study is a
`ReportError`. The section gives the trial
counts by state, the top-5 trials (single objective) or the Pareto front (multi-objective);
the param-vs-objective plot is `excolor.report_plots.plot_optuna`. Objective names come
from the app config key ``objective`` (a string or list, matching the number of
directions), else ``value`` / ``objective_<i>``.

``optuna`` is imported only when a study is loaded.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from excolor.report_format import MISSING, fmt_num, fmt_value, md_row, md_rule
from excolor.study_storage import open_storage, resolve_storage, storage_file
from excolor.sweep_results import ReportError


def completed(trials: list) -> list:
    """The trials in state COMPLETE that have objective values."""
    return [t for t in trials if t.state.name == "COMPLETE" and t.values is not None]


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
        raise ReportError(f"cannot read optuna storage {resolved}: {type(error).__name__}: "
                          f"{str(error).splitlines()[0] if str(error) else ''}") from None
    return resolved, opened


def load_optuna(storage: str, study_name: str | None, objective_names: Any = None,
                sweep_dir: Path | None = None) -> tuple[dict, list]:
    """The study's summary (JSON-ready: counts, params, objectives, best trials) and its trials.

    ``study_name`` None means the storage's only study.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url, opened = open_study_storage(storage, sweep_dir)
    if study_name is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        if len(names) != 1:
            raise ReportError(f"storage {storage} holds {len(names)} studies {names}; name one with --study")
        study_name = names[0]
    try:
        study = optuna.load_study(study_name=study_name, storage=opened)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(opened)]
        raise ReportError(f"no study {study_name!r} in {storage} (studies: {names})") from None
    directions = [d.name.lower() for d in study.directions]
    if isinstance(objective_names, str):
        objective_names = [objective_names]
    if isinstance(objective_names, list) and len(objective_names) == len(directions):
        objectives = [str(o) for o in objective_names]
    else:
        objectives = ["value"] if len(directions) == 1 else [f"objective_{i}" for i in range(len(directions))]
    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {"COMPLETE": 0, "FAIL": 0, "RUNNING": 0}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    params = sorted({p for t in trials for p in t.params})  # by name: storages differ in their order
    sign = 1 if directions[0] == "minimize" else -1  # best first by the first objective
    if len(directions) == 1:
        best = sorted(completed(trials), key=lambda t: sign * t.values[0])[:5]
        label = "top 5"
    else:
        best = sorted(study.best_trials, key=lambda t: sign * t.values[0])
        label = "Pareto front"
    info = {
        "study": study_name, "storage": str(storage), "storage_resolved": url, "directions": directions, "objectives": objectives,
        "counts": counts, "params": params, "best_label": label,
        "best_numbers": [t.number for t in best],
        "best": [{"number": t.number, "params": dict(t.params), "values": list(t.values)} for t in best],
    }
    return info, trials


def _param_cell(v: Any) -> str:
    return fmt_num(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else fmt_value(v)


def _shown_path(location: str) -> str:
    """A file under the working directory relative to it (reports get committed: no machine's paths)."""
    try:
        return str(Path(location).resolve().relative_to(Path.cwd().resolve()))
    except (ValueError, OSError):
        return location


def optuna_markdown(info: dict, png: Path | None) -> list[str]:
    """The report section for a study summary from `load_optuna` (``png``: its plot, if any)."""
    lines = [f"## Optuna study `{info['study']}`", ""]
    where = f"`{info['storage']}`"
    if info["storage"] != info["storage_resolved"]:
        where += f" (found at `{_shown_path(info['storage_resolved'])}`)"
    lines.append(f"Storage {where}; objectives: "
                 + ", ".join(f"{o} ({d})" for o, d in zip(info["objectives"], info["directions"])) + ".")
    lines.append("Trials by state: " + ", ".join(f"{k} {v}" for k, v in info["counts"].items()) + ".")
    lines.append("")
    if info["best_label"] == "Pareto front":
        lines.append(f"### Pareto front ({len(info['best'])} trials)")
    else:
        lines.append(f"### Top {len(info['best'])} trials by {info['objectives'][0]} ({info['directions'][0]})")
    lines.append("")
    if info["best"]:
        head = ["trial"] + info["params"] + info["objectives"]
        lines += [md_row(head), md_rule(len(head), label_column=False)]
        for b in info["best"]:
            cells = [str(b["number"])]
            cells += [_param_cell(b["params"].get(p, MISSING)) for p in info["params"]]
            cells += [fmt_num(v) for v in b["values"]]
            lines.append(md_row(cells))
    else:
        lines.append("No completed trials.")
    lines.append("")
    if png is not None:
        lines += [f"![params vs objectives]({png.name})", ""]
    return lines
