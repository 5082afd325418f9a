"""The 17 named colours and their table (spec m2-family §1.8 "Named-17", §1.9, §15.6.7).

12 hues at s = v = 1 (0°, 30°, …, 330°: red, orange, yellow, lime, green, teal, cyan, azure, blue,
purple, magenta, pink) and 5 greys (v = 0, ¼, ½, ¾, 1: black, dark gray, gray, light gray, white).
The table holds, per colour, the baseline MSE, each variant's MSE and its delta = variant − baseline.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from excolor.colors import hsv_to_rgb

HUES = (
    "red",
    "orange",
    "yellow",
    "lime",
    "green",
    "teal",
    "cyan",
    "azure",
    "blue",
    "purple",
    "magenta",
    "pink",
)
GREYS = ("black", "dark gray", "gray", "light gray", "white")
NAMES = HUES + GREYS
BASELINE = "baseline"
DELTA = "-delta"  # suffix of a variant's delta column


def named_colors() -> tuple[tuple[str, ...], np.ndarray]:
    """The names and their RGB [17, 3]: hue k·30° at s = v = 1, then greys v = k/4."""
    hues = hsv_to_rgb(np.arange(12) / 12, np.ones(12), np.ones(12))
    greys = np.repeat(np.linspace(0, 1, 5)[:, None], 3, axis=1)
    return NAMES, np.concatenate([hues, greys])


def named_color_table(
    baseline: np.ndarray, variants: Mapping[str, np.ndarray]
) -> list[dict[str, float | str]]:
    """One row per named colour: {name, baseline, <variant>, <variant>-delta, …} with
    delta = variant MSE − baseline MSE; each array holds the 17 colours' MSE in `NAMES` order."""
    columns = {BASELINE: np.asarray(baseline, float).ravel()}
    columns.update({name: np.asarray(values, float).ravel() for name, values in variants.items()})
    for name, values in columns.items():
        if values.shape != (len(NAMES),):
            raise ValueError(f"{name}: {values.size} values for {len(NAMES)} named colours")
    rows: list[dict[str, float | str]] = []
    for i, colour in enumerate(NAMES):
        row: dict[str, float | str] = {"name": colour, BASELINE: float(columns[BASELINE][i])}
        for name in variants:
            row[name] = float(columns[name][i])
            row[name + DELTA] = float(columns[name][i] - columns[BASELINE][i])
        rows.append(row)
    return rows


def format_table(rows: list[dict[str, float | str]], digits: int = 9) -> str:
    """A Markdown table of the baseline and the deltas (upstream's LaTeX form: values to `digits` dp)."""
    deltas = [key for key in rows[0] if key.endswith(DELTA)]
    header = ["colour", BASELINE, *(f"Δ {key[: -len(DELTA)]}" for key in deltas)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in rows:
        cells = [
            str(row["name"]),
            f"{row[BASELINE]:.{digits}f}",
            *(f"{row[key]:+.{digits}f}" for key in deltas),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)
