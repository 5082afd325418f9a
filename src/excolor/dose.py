"""Dose–response: metrics against a grid key (``report.dose``), per arm, with per-dose effects.

For every value x of the dose key (a grid key such as ``regularizers.unit.weight``; a config
key works too when each trial sits at one value):

- **bands**: for each *series* (the arm keys other than the dose key, e.g. ``normalize=true`` and
  ``normalize=false``) and each report metric, the median and the IQR (25th–75th percentile)
  over the members at x;
- **effects**: for each hypothesis that does not select on the dose key and each of its metrics,
  treatment vs control among the members at x, paired by seed where they share seeds
  (`excolor.pairing`), effect and BCa CI and p as in `excolor.stats.verdict`; the p-values of
  one (hypothesis, metric) are **Holm-adjusted across the dose values**, and each dose is
  better / worse / no significant difference by `excolor.stats.decide` on the adjusted p.

The x axis is logarithmic when the values are positive and log-spaced (`is_log_spaced`).
"""

from __future__ import annotations

import numpy as np

from excolor import stats
from excolor.pairing import matches, pair_members
from excolor.report_format import MISSING, fmt_estimate, fmt_num, fmt_p, fmt_value, md_row, md_rule
from excolor.sweep_results import Member, Spec

BETTER, WORSE, NO_DIFFERENCE = "better", "worse", "no significant difference"


def is_log_spaced(values: list[float]) -> bool:
    """Positive and either spanning ≥ 100× or with equal steps in log (within 10%) and not in linear."""
    x = np.sort(np.asarray(values, dtype=float))
    if x.size < 2 or x[0] <= 0:
        return False
    if x[-1] / x[0] >= 100:
        return True
    if x.size < 3:
        return False
    log_steps, steps = np.diff(np.log(x)), np.diff(x)
    equal_in_log = np.ptp(log_steps) <= 0.1 * np.mean(log_steps)
    equal_in_linear = np.ptp(steps) <= 0.1 * np.mean(steps)
    return bool(equal_in_log and not equal_in_linear)


def _dose_of(member: Member, key: str) -> float | None:
    """The member's value of the dose key as a float (None if absent or not a number)."""
    v = member.value(key)
    return float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else None


def _series_label(member: Member, keys: list[str]) -> str:
    return ", ".join(f"{k.split('.')[-1]}={fmt_value(member.value(k))}" for k in keys) or "all"


def _band(members: list[Member], metric: str) -> dict:
    """n, median, q25, q75 of the members' metric."""
    summary = stats.summarize([v for v in (m.number(metric) for m in members) if v is not None])
    return {k: summary[k] for k in ("n", "median", "q25", "q75")}


def _direction(outcome: str) -> str:
    return {stats.SUPPORTED: BETTER, stats.NOT_SUPPORTED: WORSE}.get(outcome, NO_DIFFERENCE)


def _effect_rows(h, metric: str, better: str, doses: list[float], at: dict[float, list[Member]]) -> list[dict]:
    """One row per dose: treatment vs control at that dose, Holm-adjusted across the doses."""
    rows = []
    for x in doses:
        treatment = [m for m in at[x] if matches(m, h.treatment)]
        control = [m for m in at[x] if matches(m, h.control)]
        groups = pair_members(treatment, control, ignore=set(h.treatment) | set(h.control))
        v = stats.verdict(*groups.values(metric), better=better, paired=groups.paired)
        rows.append({"x": x, **v.to_dict(), "n_unmatched": groups.n_unmatched,
                     "treatment": _band(treatment, metric), "control": _band(control, metric)})
    for row, p_adjusted in zip(rows, stats.holm([r["p"] for r in rows])):
        row["p_holm"] = p_adjusted
        row["outcome"] = stats.decide(row["lo"], row["hi"], p_adjusted, row["null"], better,
                                      row["n_t"] >= stats.MIN_N and row["n_c"] >= stats.MIN_N)
        row["direction"] = _direction(row["outcome"])
    return rows


def analyse_dose(members: list[Member], spec: Spec) -> dict:
    """The dose analysis of the ok members (module docstring); ``error`` says why there is none."""
    key = spec.dose
    dosed = [(m, x) for m in members if (x := _dose_of(m, key)) is not None]
    if not dosed:
        return {"key": key, "error": f"no member has a numeric value of {key}"}
    doses = sorted({x for _, x in dosed})
    at = {x: [m for m, mx in dosed if mx == x] for x in doses}
    series_keys = [k for k in spec.arms if k != key]
    series = list(dict.fromkeys(_series_label(m, series_keys) for m, _ in dosed))
    bands = {metric: {s: [_band([m for m in at[x] if _series_label(m, series_keys) == s], metric) | {"x": x}
                          for x in doses] for s in series}
             for metric in spec.metrics}
    effects = [{"hypothesis": h.name, "metric": metric, "better": better,
                "treatment": h.treatment, "control": h.control,
                "rows": _effect_rows(h, metric, better, doses, at)}
               for h in spec.hypotheses if key not in h.treatment and key not in h.control
               for metric, better in h.metrics.items()]
    return {"key": key, "values": doses, "log_x": is_log_spaced(doses), "series_keys": series_keys,
            "series": series, "bands": bands, "effects": effects}


# --------------------------------------------------------------------------- markdown


def _selector_label(selector: dict) -> str:
    """linear (string values) or normalize=true (other values); several keys joined by ','."""
    return ",".join(fmt_value(v) if isinstance(v, str) else f"{k.split('.')[-1]}={fmt_value(v)}"
                    for k, v in selector.items())


def _band_cell(band: dict) -> str:
    """median [q25, q75] (n)."""
    if not band["n"]:
        return MISSING
    return f"{fmt_num(band['median'])} [{fmt_num(band['q25'])}, {fmt_num(band['q75'])}]"


def _runs(doses: list[float], selected: list[bool]) -> str:
    """The selected doses as runs of neighbours: "0.01–1.52 (7 values), 43.3"."""
    runs, start = [], None
    for i, chosen in enumerate(selected + [False]):
        if chosen and start is None:
            start = i
        elif not chosen and start is not None:
            n = i - start
            runs.append(fmt_num(doses[start]) if n == 1 else
                        f"{fmt_num(doses[start])}, {fmt_num(doses[i - 1])}" if n == 2 else
                        f"{fmt_num(doses[start])}–{fmt_num(doses[i - 1])} ({n} values)")
            start = None
    return ", ".join(runs)


def where_sentence(effect: dict) -> str:
    """Where treatment is better / worse than control after Holm (the dose table's summary)."""
    treatment, control = _selector_label(effect["treatment"]), _selector_label(effect["control"])
    rows = effect["rows"]
    doses = [r["x"] for r in rows]
    better = [r["direction"] == BETTER for r in rows]
    worse = [r["direction"] == WORSE for r in rows]
    parts = []
    if any(better):
        parts.append(f"better at {_runs(doses, better)}")
    if any(worse):
        parts.append(f"worse at {_runs(doses, worse)}")
    rest = len(rows) - sum(better) - sum(worse)
    if rest:
        parts.append(f"no significant difference at the other {rest} of {len(rows)} values" if parts
                     else f"no significant difference at any of the {len(rows)} values")
    return f"{treatment} vs {control} on {effect['metric']} ({effect['better']} is better): " + "; ".join(parts) + "."


def dose_markdown(dose: dict, png_name: str | None) -> list[str]:
    """The report's dose–response section: per (hypothesis, metric) a table over the doses and a
    sentence saying where treatment is better or worse; the figure; or why there is none."""
    key = dose["key"]
    md = [f"## Dose response: `{key}`", ""]
    if dose.get("error"):
        return md + [f"No dose response: {dose['error']}.", ""]
    short = key.split(".")[-1]
    md.append(f"Series: {', '.join(dose['series'])}; {len(dose['values'])} values of `{key}`"
              + (" (log-spaced)" if dose["log_x"] else "") + ". Cells: median [IQR] over members.")
    md.append("")
    for effect in dose["effects"]:
        treatment, control = _selector_label(effect["treatment"]), _selector_label(effect["control"])
        rows = effect["rows"]
        op = "/" if all(r["measure"] == "ratio" for r in rows) else " − "
        md += [f"### {effect['hypothesis']}: {effect['metric']}", "", where_sentence(effect), ""]
        head = [short, f"{treatment}", f"{control}", f"{treatment}{op}{control} [95% CI]", "test", "p",
                "Holm p", "n", "verdict"]
        md += [md_row(head), md_rule(len(head))]
        for r in rows:
            point, lo, hi = fmt_estimate(r["effect"], r["lo"], r["hi"])
            n = f"{r['n_pairs']} pairs" if r["paired"] else f"{r['n_t']} vs {r['n_c']}"
            md.append(md_row([fmt_num(r["x"]), _band_cell(r["treatment"]), _band_cell(r["control"]),
                              f"{point} [{lo}, {hi}]", "Wilcoxon" if r["paired"] else "Mann–Whitney",
                              fmt_p(r["p"]), fmt_p(r["p_holm"]), n, r["direction"]]))
        md.append("")
    if not dose["effects"]:
        for metric, by_series in dose["bands"].items():
            md += [f"### {metric}", ""]
            head = [short] + dose["series"]
            md += [md_row(head), md_rule(len(head))]
            for i, x in enumerate(dose["values"]):
                md.append(md_row([fmt_num(x)] + [_band_cell(by_series[s][i]) for s in dose["series"]]))
            md.append("")
    if png_name:
        md += [f"![dose response]({png_name})", ""]
    md += ["Effects per dose: as in the hypotheses (paired by seed where the arms share seeds), "
           "with the p-values Holm-adjusted across the dose values of each table.", ""]
    return md
