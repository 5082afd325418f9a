"""The seed's corners (issue 9), each checked against values worked by hand from the seed's rules:

- `separate` zeroes the pairs that `torch.isclose(C, 1)` calls equal (|C − 1| ≤ 1e-8 + 1e-5·1);
- repulsion clamps t to [−1 + ε, 1 − ε] with ε = 1e-8;
- the dopesheet accepts `-F` rows, clamps steps below 0 to 0, rounds fractions half to even
  (Python `round`), and spells curves `minjerk` and `step-end` (also in `name:space:curve`).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from excolor.errors import ConfigError
from excolor.interventions import LinearMapper, Repulsion
from excolor.regularizers import Separate
from excolor.schedule import load_schedule, min_jerk

TINY = 2.0**-100  # a zeroed pair after the shift: ((0 + 1)/2)^100


def pair(gap: float, dtype=torch.float32) -> torch.Tensor:
    """Two unit rows whose cosine is 1 − gap: (1, 0, 0, 0) and (cos θ, sin θ, 0, 0)."""
    theta = math.acos(1 - gap)
    return torch.tensor([[1.0, 0, 0, 0], [math.cos(theta), math.sin(theta), 0, 0]], dtype=dtype)


# --- separate ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("gap", [5e-6, 1e-6, 9.9e-6])
def test_separate_drops_pairs_that_isclose_calls_equal(gap):
    """cos = 1 − gap with 1e-6 ≤ gap < 1.001e-5: isclose(c, 1) holds, so the pair is zeroed (each row:
    self-pair 2^-100 + pair 2^-100). The old rule `c > 1 − 1e-6` kept it: ((2 − gap)/2)^100 ≈ 1."""
    loss = Separate(power=100, shift=True, column="reg-separate").per_sample(pair(gap))
    assert torch.allclose(loss, torch.full((2,), 2 * TINY), rtol=1e-5, atol=0)


def test_separate_keeps_pairs_just_outside_isclose():
    """cos = 1 − 2e-5 > the tolerance 1.001e-5: kept, (1 − 1e-5)^100 = 0.99900 per row."""
    loss = Separate(power=100, shift=True, column="reg-separate").per_sample(pair(2e-5))
    assert loss == pytest.approx([TINY + (1 - 1e-5) ** 100] * 2, rel=1e-4)
    assert pytest.approx(0.999000, abs=1e-6) == (1 - 1e-5) ** 100


def test_separate_without_shift_is_exactly_the_pair_term():
    """p = 10, no shift: zeroed entries contribute 0, a kept pair c^10 (c = 0.6 → 0.6^10 = 0.0060466)."""
    z = torch.tensor([[1.0, 0, 0, 0], [0.6, 0.8, 0, 0], [0.6, 0.8 + 1e-7, 0, 0]])  # rows 1, 2 ≈ duplicates
    loss = Separate(power=10, shift=False, column="reg-separate").per_sample(z)
    assert loss.tolist() == pytest.approx([2 * 0.6**10, 0.6**10, 0.6**10], rel=1e-5)


def test_separate_works_on_a_leading_member_axis():
    """[N, B, K] gives [N, B], each member on its own: member 0 a near-duplicate pair (zeroed),
    member 1 a pair at 2e-5 (kept)."""
    z = torch.stack([pair(5e-6), pair(2e-5)])
    loss = Separate(power=100, shift=True, column="reg-separate").per_sample(z)
    assert loss.shape == (2, 2)
    assert torch.allclose(loss[0], torch.full((2,), 2 * TINY), rtol=1e-5, atol=0)
    assert loss[1].tolist() == pytest.approx([TINY + (1 - 1e-5) ** 100] * 2, rel=1e-4)


# --- repulsion eps ------------------------------------------------------------------------------------


def test_repulsion_eps_is_the_seeds_1e_8():
    """The identity mapper sends v itself to t = 1, clamped to 1 − 1e-8: z' = t v + sqrt(1 − t²) u,
    sqrt(1 − (1 − 1e-8)²) = sqrt(2e-8 − 1e-16) = 1.41421356e-4 (float64, so the clamp is visible)."""
    v = [1.0, 0.0, 0.0, 0.0]
    repulsion = Repulsion(v, mapper=LinearMapper(a=0.0, b=1.0)).double()
    assert repulsion.eps == 1e-8
    out = repulsion(torch.tensor([v], dtype=torch.float64))[0]
    assert out[0].item() == pytest.approx(1 - 1e-8, abs=1e-15)
    assert out[1:].norm().item() == pytest.approx(math.sqrt(2e-8 - 1e-16), rel=1e-6)
    assert out.norm().item() == pytest.approx(1.0, abs=1e-12)


def test_repulsion_eps_stays_finite_in_float32():
    """In float32 1 − 1e-8 rounds to 1: t = 1, sqrt(0) = 0, so z' = v — finite, never NaN."""
    v = [1.0, 0.0, 0.0, 0.0]
    out = Repulsion(v, mapper=LinearMapper(a=0.0, b=1.0))(torch.tensor([v, [-1.0, 0, 0, 0]]))
    assert torch.isfinite(out).all()
    assert out[0].tolist() == [1.0, 0.0, 0.0, 0.0]


# --- dopesheet ----------------------------------------------------------------------------------------


def write(tmp_path, text):
    path = tmp_path / "s.csv"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "rows, steps",
    [
        # -F: F of the way back from the next absolute row: 10 − 0.25 × 10 = 7.5 → round → 8 (half to even)
        ("0,1\n-0.25,2\n10,3\n", [0, 8, 10]),
        ("0,1\n-0.5,2\n10,3\n", [0, 5, 10]),
        ("0,1\n-0.3,2\n10,3\n", [0, 7, 10]),
        # +F rounds half to even: 0 + 0.5 × 5 = 2.5 → 2, 0 + 0.5 × 7 = 3.5 → 4, 0.5 × 9 = 4.5 → 4
        ("0,1\n+0.5,2\n5,3\n", [0, 2, 5]),
        ("0,1\n+0.5,2\n7,3\n", [0, 4, 7]),
        ("0,1\n+0.5,2\n9,3\n", [0, 4, 9]),
        ("0,1\n+.5,2\n9,3\n", [0, 4, 9]),
        # -F: 9 − 0.5 × 9 = 4.5 → 4
        ("0,1\n-0.5,2\n9,3\n", [0, 4, 9]),
        # a step that resolves below 0 is clamped to 0: 3 − 5 = −2 → 0
        ("-5,1\n3,2\n", [0, 3]),
        ("-5,1\n3,2\n+1,3\n", [0, 3, 4]),
    ],
)
def test_seed_step_syntax(tmp_path, rows, steps):
    schedule = load_schedule(write(tmp_path, "STEP,lr\n" + rows))
    assert schedule.steps == steps
    assert len(schedule) == steps[-1] + 1


def test_clamped_step_that_collides_is_one_line_error(tmp_path):
    """0 and (3 − 5 → 0) are the same step: refused, naming the row."""
    path = write(tmp_path, "STEP,lr\n0,1\n-5,2\n3,3\n")
    with pytest.raises(
        ConfigError, match=r"line 3 STEP '-5' resolves to 0: not after the previous row's step 0"
    ):
        load_schedule(path)


@pytest.mark.parametrize("text", ["+1.0", "-1.5", "+0", "-0.", "+1e-1"])
def test_bad_fractions_are_refused(tmp_path, text):
    with pytest.raises(ConfigError, match="STEP"):
        load_schedule(write(tmp_path, f"STEP,lr\n0,1\n{text},2\n10,3\n"))


@pytest.mark.parametrize(
    "header, curve",
    [
        ("w::minjerk", min_jerk),
        ("w:linear:minjerk", min_jerk),
        ("w", min_jerk),
        ("w:linear", min_jerk),
        ("w::step-end", lambda tau: (np.asarray(tau) >= 1).astype(float)),
        ("w:linear:step-end", lambda tau: (np.asarray(tau) >= 1).astype(float)),
        ("w:linear:linear", lambda tau: np.asarray(tau, dtype=float)),
    ],
)
def test_seed_curve_names(tmp_path, header, curve):
    """Keyframes (0, 2) and (10, 7): y(t) = 2 + 5 · curve(t/10)."""
    schedule = load_schedule(write(tmp_path, f"STEP,lr,{header}\n0,1,2\n10,1,7\n"))
    expected = 2 + 5 * curve(np.arange(11) / 10)
    np.testing.assert_allclose(schedule["w"], expected, rtol=0, atol=1e-12)


def test_step_end_holds_then_jumps(tmp_path):
    schedule = load_schedule(write(tmp_path, "STEP,lr,w::step-end\n0,1,2\n4,1,7\n"))
    assert schedule["w"].tolist() == [2, 2, 2, 2, 7]


def test_log_space_with_seed_curve(tmp_path):
    """lr:log:minjerk from 1e-4 to 1e-2 over 10 steps: log y follows min jerk, so at t = 5 (τ = ½,
    min_jerk = ½) y = sqrt(1e-4 · 1e-2) = 1e-3; lr:log:step-end holds 1e-4 until t = 10."""
    schedule = load_schedule(
        write(tmp_path, "STEP,lr:log:minjerk,w:log:step-end\n0,1e-4,1e-4\n10,1e-2,1e-2\n")
    )
    assert schedule["lr"][5] == pytest.approx(1e-3, rel=1e-12)
    assert schedule["w"][9] == pytest.approx(1e-4, rel=1e-12) and schedule["w"][10] == 1e-2


@pytest.mark.parametrize(
    "header, match",
    [
        ("w:cubic:minjerk", "unknown space 'cubic'"),
        ("w:log:bounce", "unknown curve 'bounce'"),
        ("w:a:b:c", "expected 'name'"),
        (":log", "expected 'name'"),
    ],
)
def test_bad_headers_are_one_line_errors(tmp_path, header, match):
    with pytest.raises(ConfigError, match=match) as error:
        load_schedule(write(tmp_path, f"STEP,lr,{header}\n0,1,2\n10,1,7\n"))
    assert "\n" not in str(error.value)
