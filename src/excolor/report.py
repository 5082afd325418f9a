"""Report for a Hydra multirun sweep (and/or its Optuna study): tables, verdicts, plots.

Usage::

    python -m excolor.report multirun/h2                   # writes multirun/h2/report.md
    python -m excolor.report multirun/h2 --out /tmp/rep    # write elsewhere
    python -m excolor.report sqlite:///optuna.db --study h4 [--out DIR]   # an Optuna study only
    python -m excolor.report multirun/h1/optuna.journal [--out DIR]        # (a journal file too)

Input: a sweep dir as Hydra writes it (``multirun.yaml`` and one subdir per trial, each
*ok*, *failed* or *incomplete*); what the report compares is set by the optional
``report:`` node of the sweep config (arms, metrics, hypotheses). Both are described,
with the defaults, in `excolor.sweep_results`, which loads and parses them.

The samples are population members (a trial's ``members.csv`` rows; a trial without one is a
member). The report gives trial and member counts, training compute in total and per arm, a
metrics table per arm over members and, for each hypothesis, a verdict line per metric
(`excolor.stats.verdict`, paired by seed where treatment and control share seeds, Holm across
the hypothesis' metrics; the rule, `excolor.stats.VERDICT_RULE`, is printed in the report;
several metrics are combined with `excolor.stats.combine_outcomes`), with ``report.dose`` a
dose–response section (`excolor.dose`), then the failed and incomplete trials. The numbers are
computed in `excolor.sweep_analysis`.

Optuna: if ``hydra.sweeper.storage`` and ``hydra.sweeper.study_name`` are set, the study is
loaded and the report adds a section on it (`excolor.optuna_study`: storage lookup, trial
counts by state, top-5 trials or Pareto front, objective names). A relative storage path is
resolved against the sweep dir; a missing or unreadable study is an error.

Outputs (into the sweep dir, or ``--out``): ``report.md``, ``summary.json`` (the same
numbers, machine-readable; NaN -> null), ``metrics.png`` (box + jittered points per arm over
members for each metric, log y for MSE-like metrics), ``dose.png`` (with ``report.dose``: median
and IQR band per arm vs the dose) and ``optuna.png`` (`excolor.report_plots`). They are written
all or none: into a temporary dir inside the output dir, then each renamed into place (report.md
last), so a report that fails leaves the previous one as it was.

Exit codes: 0 ok, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from excolor import stats
from excolor.errors import ConfigError
from excolor.optuna_study import load_optuna, optuna_markdown
from excolor.dose import dose_markdown
from excolor.report_format import (fmt_estimate, fmt_num, fmt_p, fmt_seconds, fmt_steps, fmt_value, json_safe,
                                   md_row, md_rule)
from excolor.report_plots import plot_dose, plot_metrics, plot_optuna
from excolor.sweep_analysis import analyse
from excolor.sweep_results import FAILED, INCOMPLETE, OK, ReportError, load_sweep, parse_spec, select_value

__all__ = ["ReportError", "build_optuna_report", "build_report", "fmt_num", "main", "write_report_safely"]


def _sel_label(selector: dict[str, Any]) -> str:
    """linear (string values) or normalize=true (other values); several keys joined by ','."""
    return ",".join(fmt_value(v) if isinstance(v, str) else f"{k.split('.')[-1]}={fmt_value(v)}"
                    for k, v in selector.items())


_EFFECT_NAMES = {(True, "ratio"): "median of per-seed ratios", (True, "difference"): "median of per-seed differences",
                 (False, "ratio"): "ratio of medians", (False, "difference"): "difference of medians"}


def _sample_size(metric: dict, n_unmatched: int, why_unpaired: str = "") -> str:
    """n = 64 pairs (and members left out for want of a partner), or n = 10 vs 12 (unpaired: why)."""
    if not metric["paired"]:
        why = f"; unpaired: {why_unpaired}" if why_unpaired else ""
        return f"n = {metric['n_t']} vs {metric['n_c']}{why}"
    unmatched = f"; {n_unmatched} members without a partner left out" if n_unmatched else ""
    return f"n = {metric['n_pairs']} pairs{unmatched}"


def verdict_line(h: dict) -> str:
    """One hypothesis (as analysed) in one markdown line: outcome, then per metric the effect, its
    CI, the test's p (Holm-adjusted too with several metrics) and n."""
    treatment, control = _sel_label(h["treatment"]), _sel_label(h["control"])
    several = len(h["metrics"]) > 1
    parts = []
    for metric in h["metrics"]:
        op = "/" if metric["measure"] == "ratio" else " − "
        point, lo, hi = fmt_estimate(metric["effect"], metric["lo"], metric["hi"])
        ci_name = "BCa CI" if metric["ci_method"] in ("BCa", "degenerate") else f"{metric['ci_method']} CI"
        s = (f"{metric['metric']} {treatment}{op}{control}: {_EFFECT_NAMES[metric['paired'], metric['measure']]} "
             f"{point} [95% {ci_name} {lo}, {hi}], {metric['test']} p = {fmt_p(metric['p'])}")
        if several:
            s += f", Holm p = {fmt_p(metric['p_holm'])}"
        s += f" ({_sample_size(metric, h.get('n_unmatched', 0), h.get('why_unpaired', ''))})"
        if several:
            s += f" → {metric['better']} is better: {metric['outcome']}"
        parts.append(s)
    claim = f" ({h['claim']})" if h["claim"] else ""
    return f"**{h['name']}**{claim}: {h['outcome']} — " + "; ".join(parts)


def _overrides(trial: dict) -> str:
    return " ".join(trial["overrides"]) or "(no overrides)"


def sweep_markdown(sweep_dir: Path, res: dict, metrics_png: Path | None, dose_png: Path | None = None) -> list[str]:
    """The report's lines for an analysed sweep (`excolor.sweep_analysis.analyse`), Optuna aside."""
    c = res["counts"]
    md = [f"# Sweep report: `{sweep_dir}`", ""]
    md.append(f"- Trials: {c['total']} — ok {c[OK]}, failed {c[FAILED]}, incomplete {c[INCOMPLETE]}")
    md.append(f"- Samples: {c['members']} population members of the ok trials (a trial without "
              f"members.csv is one member)")
    comp = res["compute"]
    line = (f"- Training compute: {fmt_seconds(comp['train_seconds'])} total "
            f"(sum of `train/seconds` over {comp['n_timed']} ok trials; failed/incomplete not counted)")
    if res["has_steps"]:
        line += f"; mean steps per trial {fmt_steps(comp['mean_steps'])}"
    md.append(line)
    how = "from report.arms" if res["arm_keys_declared"] else "default: the overrides that vary"
    keys = ", ".join(f"`{k}`" for k in res["arm_keys"]) or "nothing (one arm, `all`)"
    md.append(f"- Arms by: {keys} ({how})")
    md.append("")

    md += ["## Compute per arm", "",
           "Trials ok / failed / incomplete that feed the arm; train time is each trial's `train/seconds` "
           "shared by its members in the arm.", ""]
    head = ["arm", "ok", "failed", "incomplete", "members", "train time", "per member"]
    if res["has_steps"]:
        head.append("mean steps")
    md += [md_row(head), md_rule(len(head))]
    for a in res["arms"]:
        ac = a["compute"]
        row = [a["arm"], str(a["n_ok"]), str(a["n_failed"]), str(a["n_incomplete"]), str(a["n_members"]),
               fmt_seconds(ac["train_seconds"]), fmt_seconds(ac["seconds_per_member"])]
        if res["has_steps"]:
            row.append(fmt_steps(ac["mean_steps"]))
        md.append(md_row(row))
    md.append("")

    md += ["## Metrics per arm", ""]
    if res["metric_names"]:
        head = ["arm", "n"]
        for m in res["metric_names"]:
            head += [f"{m} mean ± sd", f"{m} median"]
        md += [md_row(head), md_rule(len(head))]
        for a in res["arms"]:
            row = [a["arm"], str(a["n_members"])]
            for m in res["metric_names"]:
                s = a["metrics"][m]
                cell = f"{fmt_num(s['mean'])} ± {fmt_num(s['sd'])}"
                if s["n"] != a["n_members"]:
                    cell += f" (n={s['n']}" + (f", {s['n_nonfinite']} non-finite" if s["n_nonfinite"] else "") + ")"
                row += [cell, fmt_num(s["median"])]
            md.append(md_row(row))
        md.append("")
    else:
        md += ["No metrics.", ""]
    if metrics_png is not None:
        md += [f"![metrics per arm]({metrics_png.name})", ""]

    if res["hypotheses"]:
        md += ["## Hypotheses", ""]
        md += [f"- {verdict_line(h)}" for h in res["hypotheses"]]
        md += ["", f"Rule: {stats.VERDICT_RULE}", ""]

    if res.get("dose"):
        md += dose_markdown(res["dose"], dose_png.name if dose_png is not None else None)

    if res["failed"]:
        md += ["## Failed trials", ""]
        md += [f"- `{f['trial']}/` `{_overrides(f)}`: {f['type']}: {f['error']}" for f in res["failed"]]
        md.append("")
    if res["incomplete"]:
        md += ["## Incomplete trials (no metrics.json or failure.json)", ""]
        md += [f"- `{f['trial']}/` `{_overrides(f)}`" for f in res["incomplete"]]
        md.append("")
    return md


@contextlib.contextmanager
def _staged(out_dir: Path):
    """A temporary dir inside ``out_dir`` to write the report's files into; when the block ends
    without an error, each file is renamed into ``out_dir`` (report.md last). Removed either way."""
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".report-", dir=out_dir))
    try:
        yield staging
        for f in sorted(staging.iterdir(), key=lambda f: f.name == "report.md"):
            os.replace(f, out_dir / f.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write(out_dir: Path, md: list[str], summary: dict) -> Path:
    (out_dir / "summary.json").write_text(json.dumps(json_safe(summary), indent=2, default=str) + "\n")
    report = out_dir / "report.md"
    report.write_text("\n".join(md).rstrip() + "\n")
    return report


def build_report(sweep_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write report.md, summary.json and PNGs for a sweep dir; return the report.md path."""
    sweep_dir = Path(sweep_dir)
    out = Path(out_dir) if out_dir is not None else sweep_dir
    cfg, trials = load_sweep(sweep_dir)
    res = analyse(trials, parse_spec(cfg, trials))
    with _staged(out) as staging:
        _write_sweep_report(sweep_dir, cfg, res, staging)
    return out / "report.md"


def _write_sweep_report(sweep_dir: Path, cfg: Any, res: dict, out: Path) -> None:
    """build_report's files, written into ``out``; an unreadable Optuna study raises `ReportError`."""
    dose_png = plot_dose(res["dose"], out / "dose.png") if res.get("dose") else None
    md = sweep_markdown(sweep_dir, res, plot_metrics(res, out / "metrics.png"), dose_png)

    summary = {"sweep_dir": str(sweep_dir), **res}
    for a in summary["arms"]:
        for s in a["metrics"].values():
            s.pop("values", None)  # per-member values: in the figure, not the summary
    storage = select_value(cfg, "hydra.sweeper.storage")
    study_name = select_value(cfg, "hydra.sweeper.study_name")
    if storage and study_name:
        info, otrials = load_optuna(storage, study_name, select_value(cfg, "objective"), sweep_dir)
        md += optuna_markdown(info, plot_optuna(info, otrials, out / "optuna.png"))
        summary["optuna"] = info
    _write(out, md, summary)


def build_optuna_report(storage: str, study: str | None = None, out_dir: str | Path | None = None) -> Path:
    """Report for an Optuna study given by storage URL; written to out_dir (default cwd)."""
    out = Path(out_dir) if out_dir is not None else Path.cwd()
    info, trials = load_optuna(storage, study)
    with _staged(out) as staging:
        png = plot_optuna(info, trials, staging / "optuna.png")
        md = [f"# Optuna study report: `{info['study']}`", ""] + optuna_markdown(info, png)
        _write(staging, md, {"optuna": info})
    return out / "report.md"


def write_report_safely(sweep_dir: str | Path) -> Path | None:
    """Build the report at the end of a sweep; a reporting problem is logged, never raised (it must
    not hide the sweep's own outcome)."""
    import logging

    try:
        path = build_report(sweep_dir)
    except Exception as error:  # noqa: BLE001 - reporting is best effort at this point
        logging.getLogger(__name__).warning("could not write the report for %s: %s", sweep_dir, error)
        return None
    logging.getLogger(__name__).info("report: %s", path)
    return path


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the module docstring); returns the exit code."""
    ap = argparse.ArgumentParser(prog="python -m excolor.report",
                                 description="Write report.md, summary.json and plots for a Hydra "
                                             "multirun sweep dir or an Optuna storage URL.")
    ap.add_argument("source", help="sweep dir (with multirun.yaml and trial subdirs), a journal file, or an optuna "
                                   "storage URL such as sqlite:///optuna.db")
    ap.add_argument("--study", help="study name (storage URL only; default: the only study)")
    ap.add_argument("--out", help="output dir (default: the sweep dir, or the cwd for a storage URL)")
    args = ap.parse_args(argv)
    try:
        if "://" in args.source or Path(args.source).is_file():
            path = build_optuna_report(args.source, args.study, args.out)
        else:
            if args.study:
                raise ReportError("--study only applies to a storage URL")
            path = build_report(args.source, args.out)
    except (ReportError, ConfigError) as e:
        print(f"excolor: error: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
