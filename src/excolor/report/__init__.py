"""Report for a Hydra multirun sweep (and/or its Optuna study): tables, verdicts, plots.

Usage::

    python -m excolor.report multirun/h2                   # writes multirun/h2/report.md
    python -m excolor.report multirun/h2 --out /tmp/rep    # write elsewhere
    python -m excolor.report sqlite:///optuna.db --study h4 [--out DIR]   # an Optuna study only
    python -m excolor.report multirun/h1/optuna.journal [--out DIR]        # (a journal file too)
    python -m excolor.report.results_table multirun/h2     # the README's over-seeds table of h2
    python -m excolor.report.simulate                      # null false-positive rates of the verdicts

Input: a sweep dir as Hydra writes it (``multirun.yaml`` and one run dir per trial, each *ok*,
*failed* or *incomplete*, read through `excolor.run_record`); what the report compares is set by the
optional ``report:`` node of the sweep config (arms, metrics, hypotheses, dose), described with its
defaults in `excolor.report.spec`.

The data flow is one line, a module each:

- `sweep`: the sweep dir → trials (`Trial`) and their members (`Member`, the samples), via
  `excolor.run_record.read_run`;
- `spec`: the ``report:`` node → `Spec` (arms, metrics, `Hypothesis` list, dose key);
- `analysis`: trials + spec → the typed `result.SweepResult`: trial and member counts, training
  compute in total and per arm, metric summaries per arm over members, per hypothesis a verdict per
  metric (`stats.verdict`, the seed as the unit and paired by seed where treatment and control share
  seeds (`pairing`), diverged members as their side's worst values and their rates compared
  (`divergence`), exact rank tests with ties (`exact`), TOST for an equivalence hypothesis, one Holm
  family per hypothesis over its metrics and dose rows (`family`), combined with
  `stats.combine_outcomes`; the rule, `stats.VERDICT_RULE`, is printed in the report), with
  ``report.dose`` the dose response (`dose`), with ``report.factorial`` the main effects and two-way
  interactions (`factorial`), then the failed and incomplete trials;
- `optuna_study`: if ``hydra.sweeper.storage`` and ``hydra.sweeper.study_name`` are set, the study →
  `result.StudyResult` (storage lookup, trial counts by state, top-5 trials or Pareto front, objective
  names). A relative storage path is resolved against the sweep dir; a missing or unreadable study is
  an error;
- `markdown`, `figures` (`format` spells every number) and `build`: the outputs.

Outputs (into the sweep dir, or ``--out``): ``report.md``, ``summary.json`` (the same numbers,
machine-readable; NaN -> null), ``metrics.png`` (box + jittered points per arm over members for each
metric, log y for MSE-like metrics), ``dose.png`` (with ``report.dose``: median and IQR band per arm
vs the dose) and ``optuna.png``. They are written all or none: into a temporary dir inside the output
dir, then each renamed into place (report.md last), so a report that fails leaves the previous one as
it was.

Exit codes: 0 ok, 2 bad input (one line on stderr).
"""

from excolor.report.build import build_optuna_report, build_report, write_report_safely
from excolor.report.cli import main
from excolor.report.errors import ReportError

__all__ = ["ReportError", "build_optuna_report", "build_report", "main", "write_report_safely"]
