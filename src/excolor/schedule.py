"""Dopesheet schedules: a CSV of keyframes resolved once into per-step values.

A dopesheet has columns ``STEP, PHASE, ACTION`` and one column per scheduled
quantity (``lr`` and one per regularizer). A non-empty cell is a keyframe.

``STEP`` is absolute (``1000``) or relative to the nearest *absolute* rows
``a`` (previous) and ``b`` (next): ``+N`` is ``a + N``, ``-N`` is ``b - N``,
``+F`` (``0 < F < 1``) is ``round(a + F * (b - a))`` and ``-F`` is
``round(b - F * (b - a))``, with Python's ``round`` (half to even: ``+0.5``
between 0 and 5 is step 2, between 0 and 7 step 4). A step that resolves
below 0 is clamped to 0. The run lasts ``last step + 1`` steps. These are the
seed's dopesheet rules (``mini.temporal.dopesheet``).

Between two keyframes ``(t0, y0)``, ``(t1, y1)`` of one quantity,
``y = y0 + (y1 - y0) * curve(tau)`` with ``tau = (t - t0) / (t1 - t0)``; the
default curve is minimum jerk. A column header ``name[:space][:curve]`` (the
seed's form, e.g. ``lr:log:minjerk``, ``z::step-end``) or
``name[:log][::curve]`` names the quantity ``name``; space ``log``
interpolates ``log y`` instead of ``y`` (all keyframes must be > 0), space
``linear`` (the default) ``y``; the curve is ``min_jerk``/``minjerk``
(default), ``linear``, or ``step``/``step-end`` (hold ``y0``, jump to ``y1``
at ``t1``). Before the first keyframe and after the last, a quantity holds its
value.
The ACTION column is not interpreted here.
"""

from __future__ import annotations

import csv
import os
import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from excolor.errors import ConfigError

KEY = "schedule.path"
RESERVED = ("STEP", "PHASE", "ACTION")


def min_jerk(tau: np.ndarray) -> np.ndarray:
    """Minimum-jerk rest-to-rest curve ``10τ³ − 15τ⁴ + 6τ⁵`` on ``τ ∈ [0, 1]``."""
    tau = np.asarray(tau, dtype=np.float64)
    return tau**3 * (10.0 - 15.0 * tau + 6.0 * tau**2)


def linear(tau: np.ndarray) -> np.ndarray:
    """Linear curve ``τ``."""
    return np.asarray(tau, dtype=np.float64)


def step(tau: np.ndarray) -> np.ndarray:
    """Step curve: 0 (hold ``y0``) for ``τ < 1``, 1 (jump to ``y1``) at ``τ = 1``."""
    return (np.asarray(tau, dtype=np.float64) >= 1.0).astype(np.float64)


CURVES: dict[str, Callable[[np.ndarray], np.ndarray]] = {"min_jerk": min_jerk, "linear": linear, "step": step}
# The seed's spellings of the same curves.
CURVE_ALIASES = {"minjerk": "min_jerk", "step-end": "step"}
SPACES = ("linear", "log")


@dataclass(frozen=True)
class Schedule:
    """A resolved dopesheet: ``values[name][step]`` for every step of the run."""

    values: dict[str, np.ndarray]  # quantity name -> read-only float64 array, one value per step
    steps: list[int]  # resolved STEP of each row, strictly increasing
    phases: list[tuple[int, str]]  # (start step, phase name) for each non-empty PHASE cell
    path: str

    def __len__(self) -> int:
        """Number of steps in the run: last keyframe row step + 1."""
        return self.steps[-1] + 1

    def __getitem__(self, name: str) -> np.ndarray:
        return self.values[name]

    @property
    def names(self) -> list[str]:
        """All quantity names (``lr`` included), in column order, suffixes stripped."""
        return list(self.values)

    def unreached(self, steps: int) -> dict:
        """What a run of only `steps` steps never gets to: `keyframes`, the row steps at or after
        `steps`; `phases`, the phases starting there; `peaks`, for each scheduled weight (not `lr`)
        whose largest value comes later, (its largest value in the run, its largest in the schedule)."""
        peaks = {
            name: (float(values[:steps].max()), float(values.max()))
            for name, values in self.values.items()
            if name != "lr" and values.max() > values[:steps].max() * (1 + 1e-9)
        }
        return {
            "keyframes": [step for step in self.steps if step >= steps],
            "phases": [name for start, name in self.phases if start >= steps],
            "peaks": peaks,
        }


def _fail(path: str, msg: str) -> ConfigError:
    return ConfigError(f"{KEY}={path}: {msg}")


def _parse_header(path: str, header: str) -> tuple[str, bool, str]:
    """``name[:space][:curve]`` or ``name[:log][::curve]`` -> (name, log, curve name)."""
    parts = header.split(":")
    if len(parts) == 4 and parts[2] == "":  # name:log::curve
        parts = [parts[0], parts[1], parts[3]]
    if len(parts) > 3 or not parts[0]:
        raise _fail(
            path, f"column {header!r}: expected 'name', 'name:space', 'name::curve' or 'name:space:curve'"
        )
    name, space, curve = (parts + ["", ""])[:3]
    if space and space not in SPACES:
        raise _fail(path, f"column {header!r}: unknown space {space!r} (expected one of {list(SPACES)})")
    curve = CURVE_ALIASES.get(curve, curve or "min_jerk")
    if curve not in CURVES:
        known = sorted([*CURVES, *CURVE_ALIASES])
        raise _fail(path, f"column {header!r}: unknown curve {parts[2]!r} (expected one of {known})")
    return name, space == "log", curve


def _resolve_steps(path: str, texts: list[str], lines: list[int]) -> list[int]:
    """Resolve STEP cells; relative rows use the nearest absolute rows only."""
    absolute = [int(t) if re.fullmatch(r"\d+", t) else None for t in texts]
    steps = []
    for i, (text, line) in enumerate(zip(texts, lines)):
        if absolute[i] is not None:
            steps.append(absolute[i])
            continue
        prev = next((a for a in reversed(absolute[:i]) if a is not None), None)
        nxt = next((a for a in absolute[i + 1 :] if a is not None), None)
        where = f"line {line} STEP {text!r}"
        if re.fullmatch(r"[+-]\d+", text):
            anchor = prev if text[0] == "+" else nxt
            if anchor is None:
                side = "before" if text[0] == "+" else "after"
                raise _fail(path, f"{where}: no absolute STEP row {side} it")
            steps.append(anchor + int(text))
            continue
        frac = float(text[1:]) if re.fullmatch(r"[+-](\d*\.\d+)", text) else None
        if frac is None or not 0.0 < frac < 1.0:
            raise _fail(path, f"{where}: expected an integer, '+N', '-N', or '+F'/'-F' with 0 < F < 1")
        if prev is None or nxt is None:
            raise _fail(path, f"{where}: a fraction needs absolute STEP rows before and after it")
        # Python's round (half to even), as the seed does: +0.5 between 0 and 5 is step 2.
        steps.append(
            round(prev + frac * (nxt - prev)) if text[0] == "+" else round(nxt - frac * (nxt - prev))
        )
    steps = [max(0, s) for s in steps]  # the seed clamps a step that resolves below 0 to 0
    for i, (s, text, line) in enumerate(zip(steps, texts, lines)):
        if i and s <= steps[i - 1]:
            raise _fail(
                path,
                f"line {line} STEP {text!r} resolves to {s}: not after the previous row's step "
                f"{steps[i - 1]} (steps must strictly increase)",
            )
    return steps


def _interpolate(keys: list[tuple[int, float]], n: int, log: bool, curve: str) -> np.ndarray:
    """Per-step values for keyframes ``keys`` (sorted by step) over ``n`` steps."""
    f = CURVES[curve]
    ys = [np.log(y) if log else y for _, y in keys]
    out = np.empty(n, dtype=np.float64)
    out[: keys[0][0]] = ys[0]
    for (t0, _), (t1, _), y0, y1 in zip(keys, keys[1:], ys, ys[1:]):
        tau = (np.arange(t0, t1 + 1) - t0) / (t1 - t0)
        out[t0 : t1 + 1] = y0 + (y1 - y0) * f(tau)
    out[keys[-1][0] :] = ys[-1]
    if log:
        out = np.exp(out)
    for t, y in keys:  # keyframes exactly, without exp(log(y)) round-off
        out[t] = y
    out.flags.writeable = False
    return out


def load_schedule(path: str | os.PathLike) -> Schedule:
    """Parse, resolve and validate the dopesheet at ``path``; raise ConfigError on bad input.

    Hydra: ``{_target_: excolor.schedule.load_schedule, path: ...}``.
    A quantity column without any keyframe is dropped with a warning.
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise _fail(path, "schedule file not found")
    try:
        with open(path, newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            rows = [(reader.line_num, [c.strip() for c in r]) for r in reader]
    except (csv.Error, UnicodeDecodeError) as e:
        raise _fail(path, f"unreadable CSV: {e}") from None
    rows = [(ln, r) for ln, r in rows if any(r)]
    header = rows[0][1] if rows else []
    if "STEP" not in header:
        raise _fail(path, f"no STEP column (header: {','.join(header)!r})")
    rows = rows[1:]
    if not rows:
        raise _fail(path, "no keyframe rows")
    col = {h: i for i, h in enumerate(header)}
    cell = lambda r, i: r[i] if i < len(r) else ""  # noqa: E731
    lines = [ln for ln, _ in rows]
    steps = _resolve_steps(path, [cell(r, col["STEP"]) for _, r in rows], lines)
    n = steps[-1] + 1
    phases = [
        (s, cell(r, col["PHASE"]))
        for s, (_, r) in zip(steps, rows)
        if "PHASE" in col and cell(r, col["PHASE"])
    ]

    values: dict[str, np.ndarray] = {}
    seen: set[str] = set()
    for i, h in enumerate(header):
        if h in RESERVED:
            continue
        name, log, curve = _parse_header(path, h)
        if name in seen:
            raise _fail(path, f"column {h!r}: quantity {name!r} appears twice")
        seen.add(name)
        keys = []
        for s, (ln, r) in zip(steps, rows):
            text = cell(r, i)
            if not text:
                continue
            try:
                y = float(text)
            except ValueError:
                y = float("nan")
            if not np.isfinite(y):
                raise _fail(path, f"line {ln} column {h!r}: {text!r} is not a finite number")
            if log and y <= 0:
                raise _fail(path, f"line {ln} column {h!r}: {text!r} must be > 0 for log interpolation")
            keys.append((s, y))
        if not keys:
            warnings.warn(f"{KEY}={path}: column {h!r} has no keyframe; dropped", stacklevel=2)
            continue
        values[name] = _interpolate(keys, n, log, curve)
    if "lr" not in values:
        raise _fail(path, "no 'lr' column with a keyframe")
    return Schedule(values=values, steps=steps, phases=phases, path=path)
