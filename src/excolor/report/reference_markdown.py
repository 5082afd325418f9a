"""The report's lines for a study's reference trials (`excolor.report.reference`): the trial cell
that marks a reference in the Pareto table, and per reference a table of the trials that beat it
with the sentences that answer "does a trial beat the reference?", each naming the table rows that
support it. Absence of a better trial is said as such, never as "no difference" (that would need an
equivalence test).
"""

from __future__ import annotations

from excolor.report import stats
from excolor.report.format import fmt_estimate, fmt_num, fmt_p, md_row, md_rule
from excolor.report.reference import tests_better
from excolor.report.result import ReferenceResult, ReferenceRow, StudyResult

MARK = "◆"  # the reference's mark in tables; the figures draw it as a black diamond too
OUTCOME_WORDS = {stats.SUPPORTED: "better", stats.NOT_SUPPORTED: "worse", stats.INCONCLUSIVE: "inconclusive"}


def reference_cell(number: int, study: StudyResult) -> str:
    """A trial table's first cell: the number, and the reference mark and label for a reference."""
    for reference in study.references:
        if reference.number == number:
            return f"{number} {MARK} {reference.label}"
    return str(number)


def _trials(numbers: list[int]) -> str:
    """ "trials 3, 5" / "trial 3" (rows of the table that follows or precedes)."""
    return ("trial " if len(numbers) == 1 else "trials ") + ", ".join(str(n) for n in numbers)


def _verdict_cell(row: ReferenceRow, j: int) -> str:
    """Per-seed ratio (or difference) trial vs reference, its CI, Holm p and the outcome."""
    found = row.verdicts[j] if j < len(row.verdicts) else None
    if found is None:
        return "—"
    point, lo, hi = fmt_estimate(found.effect, found.lo, found.hi)
    return f"{point} [{lo}, {hi}], p = {fmt_p(found.p_holm)} → {OUTCOME_WORDS[found.outcome]}"


def reference_markdown(reference: ReferenceResult, study: StudyResult) -> list[str]:
    """The section for one reference trial (see the module docstring)."""
    objectives, directions, params = study.objectives, study.directions, study.params
    values = ", ".join(f"{name} {fmt_num(value)}" for name, value in zip(objectives, reference.values))
    lines = [
        f"### Against the reference: trial {reference.number} {MARK} {reference.label}",
        "",
        f"Trial {reference.number} is the reference `{reference.label}` (enqueued: "
        + ", ".join(f"{key} = {fmt_num(value)}" for key, value in reference.params.items())
        + f"; {values}), a trial of the same study. The table lists each of the "
        f"{reference.n_compared} other complete trials that beats it on at least one objective (its value "
        "is better: ✓) or that the paired test finds better; *dominates*: better on at least one objective "
        "and no worse on any. "
        + (
            "*vs reference*: the trial against the reference paired by seed, median of per-seed ratios "
            "(differences where a value is ≤ 0) with its 95% BCa CI, Wilcoxon signed-rank p Holm-adjusted "
            f"over all {reference.n_tests} tests (every compared trial × objective, shown or not), → better "
            "(adjusted p < 0.05 and the whole CI on the better side of the null), worse (the same, on the "
            "worse side) or inconclusive."
            if reference.n_tests
            else "*vs reference*: — (no members that share seeds with the reference's: nothing to pair)."
        ),
        "",
    ]
    rows = reference.rows
    if rows:
        head = ["trial", *params]
        for name, direction in zip(objectives, directions):
            head += [f"{name} ({direction})", "vs reference"]
        head.append("dominates")
        lines += [md_row(head), md_rule(len(head))]
        lines.append(
            md_row(
                [reference_cell(reference.number, study)]
                + [fmt_num(reference.params.get(p)) for p in params]
                + [cell for value in reference.values for cell in (fmt_num(value), "(reference)")]
                + ["—"]
            )
        )
        for row in rows:
            cells = [str(row.number)] + [fmt_num(row.params.get(p)) for p in params]
            for j, value in enumerate(row.values):
                cells += [fmt_num(value) + (" ✓" if row.beats[j] else ""), _verdict_cell(row, j)]
            cells.append("yes" if row.dominates else "no")
            lines.append(md_row(cells))
        lines.append("")
    lines += _answer(reference, objectives)
    return lines


def _answer(reference: ReferenceResult, objectives: list[str]) -> list[str]:
    """The sentences: which trials dominate the reference, which beat it per objective, and which of
    those the paired test supports; each names its rows."""
    rows, label = reference.rows, reference.label
    if not rows:
        return [
            f"No other trial beats `{label}` on any objective in this study "
            f"({reference.n_compared} trials); that is not a finding of equivalence.",
            "",
        ]
    lines = []
    dominating = [row.number for row in rows if row.dominates]
    both = [row.number for row in rows if all(tests_better(row, j) for j in range(len(objectives)))]
    if dominating:
        lines.append(
            f"- Dominates `{label}` on the trials' values: {_trials(dominating)} (rows with *dominates* yes)."
        )
    else:
        lines.append(f"- No trial dominates `{label}` on the trials' values (no row with *dominates* yes).")
    tested = reference.n_tests > 0
    if tested:
        lines.append(
            f"- Better on every objective by the paired test: {_trials(both)} (rows with → better in every "
            "*vs reference*)."
            if both
            else "- Better on every objective by the paired test: none (no row is → better in every "
            "*vs reference* column); not a finding of equivalence."
        )
    for j, name in enumerate(objectives):
        beating = [row.number for row in rows if row.beats[j]]
        supported = [row.number for row in rows if tests_better(row, j)]
        line = f"- {name}: {len(beating)} of {reference.n_compared} trials beat it (✓)"
        if tested:
            line += "; by the paired test " + (
                f"better: {_trials(supported)}."
                if supported
                else "none is better (no → better in its column)."
            )
        lines.append(line if tested else line + ".")
    return [*lines, ""]
