"""Pareto front and best member (spec m2-family §1.9, §15.7), on tables worked by hand."""

import math

import pytest

from excolor.selection import best_member, pareto_front

# minimise val_recon and val_anchor, maximise score
ROWS = [
    {"val_recon": 1.0, "val_anchor": 1.0, "score": 0.90},  # 0: dominated by 3 (equal costs, lower score)
    {"val_recon": 2.0, "val_anchor": 2.0, "score": 0.80},  # 1: dominated by 0 and 3
    {"val_recon": 0.5, "val_anchor": 3.0, "score": 0.70},  # 2: best recon: on the front
    {"val_recon": 1.0, "val_anchor": 1.0, "score": 0.95},  # 3: on the front, top score
    {"val_recon": 3.0, "val_anchor": 0.1, "score": 0.10},  # 4: best anchor: on the front
]
MIN, MAX = ["val_recon", "val_anchor"], ["score"]


def test_front_by_hand():
    assert pareto_front(ROWS, MIN, MAX) == [2, 3, 4]
    assert best_member(ROWS, pareto_front(ROWS, MIN, MAX)) == 3
    # score alone: only the top; recon alone: only row 2
    assert pareto_front(ROWS, [], MAX) == [3]
    assert pareto_front(ROWS, ["val_recon"], []) == [2]


def test_ties_stay_together():
    twins = [{"a": 1.0, "s": 0.5}, {"a": 1.0, "s": 0.5}, {"a": 2.0, "s": 0.5}]
    assert pareto_front(twins, ["a"], ["s"]) == [0, 1]
    assert best_member(twins, [0, 1], score="s") == 0


def test_nan_members_take_no_part():
    rows = [*ROWS, {"val_recon": math.nan, "val_anchor": 0.0, "score": 1.0}]
    assert pareto_front(rows, MIN, MAX) == [2, 3, 4]


def test_bad_input():
    with pytest.raises(ValueError):
        pareto_front(ROWS, [], [])
    with pytest.raises(KeyError, match="val_subspace"):
        pareto_front(ROWS, ["val_subspace"], MAX)
    with pytest.raises(ValueError):
        best_member(ROWS, [])
