"""One Holm family per hypothesis: every test the hypothesis makes is adjusted together.

A hypothesis' family is its pooled verdicts (one per metric) and, with ``report.dose``, every row of
its dose tables (every dose of every metric): m = k + k·d tests for k metrics and d doses (the
h1_dose sweep: 2 + 2 · 13 = 28). Holm (`excolor.report.stats.holm`) runs over the family's p-values,
each verdict is decided again on its adjusted p, and the report prints the family and its size beside
every adjusted p. The divergence-rate test (`excolor.report.divergence`) is outside the family.
"""

from __future__ import annotations

from excolor.report import stats
from excolor.report.dose import direction
from excolor.report.result import DoseResult, DoseRow, HypothesisResult, MetricVerdict, NoDose


def family_members(
    hypothesis: HypothesisResult, dose: DoseResult | NoDose | None
) -> list[MetricVerdict | DoseRow]:
    """The hypothesis' tests: its metric verdicts, then its dose rows (table by table)."""
    rows: list[MetricVerdict | DoseRow] = list(hypothesis.metrics)
    if isinstance(dose, DoseResult):
        rows += [
            row for effect in dose.effects if effect.hypothesis == hypothesis.name for row in effect.rows
        ]
    return rows


def adjust_families(
    hypotheses: list[HypothesisResult], dose: DoseResult | NoDose | None, alpha: float = 0.05
) -> None:
    """Holm over each hypothesis' family (module docstring); sets p_holm, outcome, family and its size in
    place, each dose row's direction and each hypothesis' combined outcome."""
    for hypothesis in hypotheses:
        tests = family_members(hypothesis, dose)
        adjusted = stats.holm([test.verdict.p for test in tests])
        for test, p_adjusted in zip(tests, adjusted):
            test.verdict = test.verdict.adjusted(p_adjusted, hypothesis.name, len(tests), alpha)
            if isinstance(test, DoseRow):
                test.direction = direction(test.verdict.outcome)
        hypothesis.outcome = stats.combine_outcomes(metric.verdict.outcome for metric in hypothesis.metrics)
