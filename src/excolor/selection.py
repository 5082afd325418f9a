"""Selecting members of a seed sweep (spec m2-family §1.9 "Pareto front", "Best-run selection", §15.7).

Member j dominates member i when j is ≤ i on every minimised metric, ≥ i on every maximised metric and
strictly better on at least one. The Pareto set is the members no one dominates; the best member is the
Pareto member with the highest score (a member with the global maximum score whenever score is a
maximised metric: whatever dominates a top-score member also has the top score).
Members with a NaN in any of the metrics take no part (they neither dominate nor are selected).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from excolor.metrics import CHAPTER_SCORE


def _matrix(rows: Sequence[Mapping[str, float]], names: Sequence[str]) -> np.ndarray:
    missing = sorted({name for name in names for row in rows if name not in row})
    if missing:
        raise KeyError(f"metric(s) {missing} missing from some members")
    return np.array([[float(row[name]) for name in names] for row in rows], dtype=float).reshape(
        len(rows), len(names)
    )


def pareto_front(
    rows: Sequence[Mapping[str, float]], minimise: Sequence[str], maximise: Sequence[str]
) -> list[int]:
    """Indices (in order) of the non-dominated rows over the given metrics."""
    if not minimise and not maximise:
        raise ValueError("a Pareto front needs at least one metric to minimise or maximise")
    # Flip maximised metrics so that smaller is better everywhere.
    values = np.concatenate([_matrix(rows, minimise), -_matrix(rows, maximise)], axis=1)
    valid = ~np.isnan(values).any(axis=1)
    v = values[valid]
    no_worse = (v[:, None, :] <= v[None, :, :]).all(-1)  # [j, i]: j ≤ i everywhere
    better = (v[:, None, :] < v[None, :, :]).any(-1)  # [j, i]: j < i somewhere
    dominated = (no_worse & better).any(0)
    return np.flatnonzero(valid)[~dominated].tolist()


def best_member(rows: Sequence[Mapping[str, float]], front: Sequence[int], score: str = CHAPTER_SCORE) -> int:
    """The index of the Pareto member with the highest `score` (the first one on a tie)."""
    if not front:
        raise ValueError("the Pareto set is empty")
    scores = [float(rows[i][score]) for i in front]
    return int(front[int(np.argmax(scores))])
