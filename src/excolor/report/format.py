"""Text formatting shared by the sweep report: numbers, config values, labels, durations, markdown, JSON.

All report text goes through these helpers so that a value is spelled the same way in every
table, verdict line and plot label; a missing value is always `MISSING` (an em dash).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

MISSING = "—"


def fmt_value(value: Any) -> str:
    """A config value as YAML would spell it (true, null, 0.001, linear)."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def short_key(key: str) -> str:
    """A config path's last component: ``regularizers.unit.weight`` → ``weight``."""
    return key.split(".")[-1]


def values_label(values: dict[str, Any]) -> str:
    """``output=linear, weight=0.1`` (last path component = value); ``all`` without keys.
    An arm's, a dose series' and a dose marker's label."""
    return ", ".join(f"{short_key(key)}={fmt_value(value)}" for key, value in values.items()) or "all"


def selector_label(selector: dict[str, Any]) -> str:
    """A hypothesis side in a verdict line: ``linear`` (one key with a string value) or
    ``normalize=true`` (any other value); several keys each as ``key=value``, joined by ','
    (``output=linear,regularizers=ex2.3,schedule=ex2.3``: two values alike stay told apart)."""
    return ",".join(
        fmt_value(value)
        if isinstance(value, str) and len(selector) == 1
        else f"{short_key(key)}={fmt_value(value)}"
        for key, value in selector.items()
    )


def fmt_num(number: Any, digits: int = 3) -> str:
    """3 significant digits: 2.1e-05, 0.31, 1.23e+03; NaN/None -> '—'."""
    if number is None or (isinstance(number, float) and not math.isfinite(number)):
        return MISSING if number is None or math.isnan(number) else ("inf" if number > 0 else "-inf")
    return f"{number:.{digits}g}"


def _significant(number: float, digits: int) -> str:
    """``number`` with ``digits`` significant digits, trailing zeros kept (1.00, 0.100, 2.10e-05)."""
    if not math.isfinite(number):
        return fmt_num(number)
    text = f"{number:#.{digits}g}"
    mantissa, e, exponent = text.partition("e")
    return mantissa.rstrip(".") + e + exponent


def fmt_estimate(
    point: float, lo: float, hi: float, digits: int = 3, max_digits: int = 8
) -> tuple[str, str, str]:
    """A point estimate and its CI bounds as text: at least ``digits`` significant digits, more
    (up to ``max_digits``) until every bound that differs from the point is printed differently
    from it (differs: beyond a relative 1e-9, i.e. not float rounding), so 1.047 [1.02, 1.44] never
    reads "1 [1, 1.4]" and 1.0004 [1.0001, 1.2] never reads "1.00 [1.00, 1.20]"."""
    values = [point, lo, hi]
    if any(value is None or not math.isfinite(value) for value in values):
        return fmt_num(point), fmt_num(lo), fmt_num(hi)
    differs = [not math.isclose(value, point, rel_tol=1e-9, abs_tol=0.0) for value in values]
    texts = [_significant(value, digits) for value in values]
    for shown_digits in range(digits + 1, max_digits + 1):
        if all(texts[bound] != texts[0] for bound in (1, 2) if differs[bound]):
            break
        texts = [_significant(value, shown_digits) for value in values]
    return texts[0], texts[1], texts[2]


def fmt_p(p: float | None) -> str:
    """A p-value with 2 significant digits (0.0079, 3.1e-05, 1); NaN/None -> '—'."""
    return fmt_num(p, 2)


def fmt_steps(steps: float | None) -> str:
    """Step counts in full with thousands separators: 20,001."""
    return MISSING if steps is None or not math.isfinite(steps) else f"{steps:,.0f}"


def fmt_seconds(seconds: float | None) -> str:
    """A duration with a unit chosen for readability: 42 s, 3.5 min, 2.1 h; None/NaN -> '—'."""
    if seconds is None or not math.isfinite(seconds):
        return MISSING
    if seconds < 120:
        return f"{seconds:.3g} s"
    if seconds < 7200:
        return f"{seconds / 60:.3g} min"
    return f"{seconds / 3600:.3g} h"


def md_row(cells: list[str]) -> str:
    """One markdown table row; pipes in cells are escaped and newlines flattened."""
    return "| " + " | ".join(cell.replace("|", "\\|").replace("\n", " ") for cell in cells) + " |"


def md_rule(n_columns: int, label_column: bool = True) -> str:
    """The header rule of a markdown table: numbers right-aligned, a first label column left-aligned."""
    return ("|---|" + "---:|" * (n_columns - 1)) if label_column else "|" + "---:|" * n_columns


def json_safe(data: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> python."""
    if isinstance(data, dict):
        return {str(key): json_safe(value) for key, value in data.items()}
    if isinstance(data, (list, tuple)):
        return [json_safe(value) for value in data]
    if isinstance(data, (np.floating, float)):
        return float(data) if math.isfinite(data) else None
    if isinstance(data, np.integer):
        return int(data)
    return data
