"""Text formatting shared by the sweep report: numbers, config values, durations, markdown, JSON.

All report text goes through these helpers so that a value is spelled the same way in every
table, verdict line and plot label; a missing value is always `MISSING` (an em dash).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MISSING = "—"


def fmt_value(v: Any) -> str:
    """A config value as YAML would spell it (true, null, 0.001, linear)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def fmt_num(x: Any, digits: int = 3) -> str:
    """3 significant digits: 2.1e-05, 0.31, 1.23e+03; NaN/None -> '—'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return MISSING if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def _significant(x: float, digits: int) -> str:
    """x with ``digits`` significant digits, trailing zeros kept (1.00, 0.100, 2.10e-05)."""
    if not math.isfinite(x):
        return fmt_num(x)
    text = f"{x:#.{digits}g}"
    mantissa, e, exponent = text.partition("e")
    return mantissa.rstrip(".") + e + exponent


def fmt_estimate(point: float, lo: float, hi: float, digits: int = 3, max_digits: int = 8) -> tuple[str, str, str]:
    """A point estimate and its CI bounds as text: at least ``digits`` significant digits, more
    (up to ``max_digits``) until every bound that differs from the point is printed differently
    from it (differs: beyond a relative 1e-9, i.e. not float rounding), so 1.047 [1.02, 1.44] never
    reads "1 [1, 1.4]" and 1.0004 [1.0001, 1.2] never reads "1.00 [1.00, 1.20]"."""
    values = [point, lo, hi]
    if any(x is None or not math.isfinite(x) for x in values):
        return fmt_num(point), fmt_num(lo), fmt_num(hi)
    differs = [not math.isclose(x, point, rel_tol=1e-9, abs_tol=0.0) for x in values]
    for d in range(digits, max_digits + 1):
        texts = [_significant(x, d) for x in values]
        if all(texts[i] != texts[0] for i in (1, 2) if differs[i]):
            break
    return texts[0], texts[1], texts[2]


def fmt_p(p: float | None) -> str:
    """A p-value with 2 significant digits (0.0079, 3.1e-05, 1); NaN/None -> '—'."""
    return fmt_num(p, 2)


def fmt_steps(x: float | None) -> str:
    """Step counts in full with thousands separators: 20,001."""
    return MISSING if x is None or not math.isfinite(x) else f"{x:,.0f}"


def fmt_seconds(s: float | None) -> str:
    """A duration with a unit chosen for readability: 42 s, 3.5 min, 2.1 h; None/NaN -> '—'."""
    if s is None or not math.isfinite(s):
        return MISSING
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"


def md_row(cells: list[str]) -> str:
    """One markdown table row; pipes in cells are escaped and newlines flattened."""
    return "| " + " | ".join(c.replace("|", "\\|").replace("\n", " ") for c in cells) + " |"


def md_rule(n_columns: int, label_column: bool = True) -> str:
    """The header rule of a markdown table: numbers right-aligned, a first label column left-aligned."""
    return ("|---|" + "---:|" * (n_columns - 1)) if label_column else "|" + "---:|" * n_columns


def json_safe(o: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> python."""
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    return o
