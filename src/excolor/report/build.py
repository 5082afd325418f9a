"""Building a report: sweep dir → trials → spec → `SweepResult` → report.md, summary.json and the
figures, written all or none into the output dir (`staged`); likewise for an Optuna study alone.

summary.json holds the same numbers as report.md (`excolor.report.result.to_summary`: the result's
fields, less the per-member values; NaN → null), under ``sweep_dir`` and, with a study, ``optuna``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from excolor.report.analysis import analyse
from excolor.report.chapter import (
    ExperimentRow,
    PairRow,
    chapter_markdown,
    chapter_summary,
    experiment_rows,
    pair_rows,
)
from excolor.report.figures import plot_dose, plot_metrics, plot_optuna
from excolor.report.format import json_safe
from excolor.report.markdown import optuna_markdown, sweep_markdown
from excolor.report.optuna_study import load_optuna
from excolor.report.result import SweepResult, to_summary
from excolor.report.spec import parse_spec
from excolor.report.sweep import load_sweep, select_value

REPORT_FILE, SUMMARY_FILE = "report.md", "summary.json"
METRICS_PNG, DOSE_PNG, OPTUNA_PNG = "metrics.png", "dose.png", "optuna.png"


@contextlib.contextmanager
def staged(out_dir: Path):
    """A temporary dir inside ``out_dir`` to write the report's files into; when the block ends
    without an error, each file is renamed into ``out_dir`` (report.md last). Removed either way."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    try:
        yield staging
        for staged_file in sorted(
            staging.iterdir(), key=lambda path: path.name == REPORT_FILE
        ):  # report.md last
            os.replace(staged_file, out_dir / staged_file.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(out_dir: Path, lines: list[str], summary: dict) -> Path:
    (out_dir / SUMMARY_FILE).write_text(json.dumps(json_safe(summary), indent=2, default=str) + "\n")
    report = out_dir / REPORT_FILE
    report.write_text("\n".join(lines).rstrip() + "\n")
    return report


def build_report(sweep_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write report.md, summary.json and PNGs for a sweep dir; return the report.md path."""
    sweep_dir = Path(sweep_dir)
    out = Path(out_dir) if out_dir is not None else sweep_dir
    config, trials = load_sweep(sweep_dir)
    spec = parse_spec(config, trials)
    result = analyse(trials, spec)
    chapter = None
    if spec.chapter is not None:  # the chapter's re-runs beside upstream's figures
        rows = experiment_rows(trials)
        chapter = (rows, pair_rows(rows, spec.chapter))
    with staged(out) as staging:
        _write_sweep_report(sweep_dir, config, result, staging, chapter)
    return out / REPORT_FILE


def _write_sweep_report(
    sweep_dir: Path,
    config: DictConfig,
    result: SweepResult,
    out: Path,
    chapter: tuple[list[ExperimentRow], list[PairRow]] | None = None,
) -> None:
    """build_report's files, written into ``out``; an unreadable Optuna study raises `ReportError`."""
    dose_png = plot_dose(result.dose, out / DOSE_PNG)
    lines = sweep_markdown(sweep_dir, result, plot_metrics(result, out / METRICS_PNG), dose_png)
    summary: dict[str, Any] = {"sweep_dir": str(sweep_dir), **to_summary(result)}
    if chapter is not None:
        lines += chapter_markdown(*chapter)
        summary["chapter"] = chapter_summary(*chapter)
    storage = select_value(config, "hydra.sweeper.storage")
    study_name = select_value(config, "hydra.sweeper.study_name")
    if storage and study_name:
        study, optuna_trials = load_optuna(storage, study_name, select_value(config, "objective"), sweep_dir)
        lines += optuna_markdown(study, plot_optuna(study, optuna_trials, out / OPTUNA_PNG))
        summary["optuna"] = to_summary(study)
    _write(out, lines, summary)


def build_optuna_report(storage: str, study: str | None = None, out_dir: str | Path | None = None) -> Path:
    """Report for an Optuna study given by storage URL; written to out_dir (default cwd)."""
    out = Path(out_dir) if out_dir is not None else Path.cwd()
    summary, optuna_trials = load_optuna(storage, study)
    with staged(out) as staging:
        png = plot_optuna(summary, optuna_trials, staging / OPTUNA_PNG)
        lines = [f"# Optuna study report: `{summary.study}`", ""] + optuna_markdown(summary, png)
        _write(staging, lines, {"optuna": to_summary(summary)})
    return out / REPORT_FILE


def write_report_safely(sweep_dir: str | Path) -> Path | None:
    """Build the report at the end of a sweep; a reporting problem is logged, never raised (it must
    not hide the sweep's own outcome)."""
    try:
        path = build_report(sweep_dir)
    except Exception as error:  # noqa: BLE001 - reporting is best effort at this point
        logging.getLogger(__name__).warning("could not write the report for %s: %s", sweep_dir, error)
        return None
    logging.getLogger(__name__).info("report: %s", path)
    return path
