"""Regularizers (spec "Regularizers"): each per-sample formula and the batch reduction, by hand."""

import math

import pytest
import torch

from excolor.errors import ConfigError
from excolor.regularizers import Anchor, Planarity, Separate, Unitarity

LABELS = ["red", "vibrant"]
S = 1 / math.sqrt(2)  # cos 45°


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def no_labels(n):
    return torch.zeros(n, 2, dtype=torch.float64)


def bound(reg):
    reg.bind_labels(LABELS)
    reg.affinity = reg.affinity.double()
    return reg


# --- unitarity: (‖z‖ - 1)² ---


def test_unitarity_by_hand():
    reg = bound(Unitarity(column="reg-unit"))
    # ‖(3, 4)‖ = 5 -> (5 - 1)² = 16; ‖(0, 1)‖ = 1 -> 0; ‖(3, 0)‖ = 3 -> 4
    z = t([[3.0, 4.0], [0.0, 1.0], [3.0, 0.0]])
    assert reg.per_sample(z).tolist() == pytest.approx([16.0, 0.0, 4.0])
    assert reg(t([[3.0, 4.0]]), no_labels(1)).item() == pytest.approx(16.0)
    # no label affinities: the batch mean (16 + 0 + 4)/3
    assert reg(z, no_labels(3)).item() == pytest.approx(20 / 3)
    # zero vector: (0 - 1)² = 1
    assert reg(t([[0.0, 0.0, 0.0, 0.0]]), no_labels(1)).item() == pytest.approx(1.0)


def test_unitarity_mean_ignores_labels_without_affinities():
    reg = bound(Unitarity(column="reg-unit"))
    z = t([[3.0, 4.0], [0.0, 1.0], [3.0, 0.0]])
    labels = t([[1, 0], [0, 1], [1, 1]])
    assert reg(z, labels).item() == pytest.approx(20 / 3)


# --- anchor: ‖z - a‖², a = (1, 0, 0, 0) ---


def test_anchor_by_hand():
    reg = bound(Anchor(column="reg-anchor", point=[1, 0, 0, 0]))
    reg.point = reg.point.double()
    z = t([[1, 0, 0, 0], [0, 1, 0, 0], [2, 2, 0, 1]])
    # 0; (0-1)² + 1² = 2; (2-1)² + 2² + 0 + 1² = 6
    assert reg.per_sample(z).tolist() == pytest.approx([0.0, 2.0, 6.0])
    assert reg(z, no_labels(3)).item() == pytest.approx(8 / 3)


def test_anchor_with_red_affinity():
    reg = bound(Anchor(column="reg-anchor", point=[1, 0, 0, 0], label_affinities={"red": 1.0}))
    reg.point = reg.point.double()
    z = t([[1, 0, 0, 0], [0, 1, 0, 0], [2, 2, 0, 1]])
    labels = t([[0, 1], [1, 0], [1, 1]])  # red on rows 1 and 2 -> w = (0, 1, 1)
    # (0*0 + 1*2 + 1*6) / (2 + 1e-8) = 4
    assert reg(z, labels).item() == pytest.approx(4.0)


def test_anchor_width_check():
    Anchor(column="reg-anchor", point=[1, 0, 0, 0]).check_width(4)
    with pytest.raises(ConfigError) as info:
        Anchor(column="reg-anchor", point=[1, 0, 0]).check_width(4)
    assert "point" in str(info.value) and "4" in str(info.value)
    with pytest.raises(ConfigError):
        Anchor(column="reg-anchor", point=[1])


# --- planarity: Σ_{d ∉ {0,1}} z_d² ---


def test_planarity_by_hand():
    reg = bound(Planarity(column="reg-planar"))
    z = t([[1, 2, 3, 4], [5, 6, 0, 0], [0, 0, -1, 0.5]])
    # 3² + 4² = 25; 0; 1 + 0.25 = 1.25
    assert reg.per_sample(z).tolist() == pytest.approx([25.0, 0.0, 1.25])
    assert reg(z, no_labels(3)).item() == pytest.approx(26.25 / 3)


def test_planarity_with_vibrant_affinity():
    reg = bound(Planarity(column="reg-planar", label_affinities={"vibrant": 1.0}))
    z = t([[1, 2, 3, 4], [5, 6, 0, 0], [0, 0, -1, 0.5]])
    labels = t([[1, 1], [0, 1], [1, 0]])  # vibrant on rows 0, 1 -> (25 + 0)/2
    assert reg(z, labels).item() == pytest.approx(12.5)


def test_planarity_width_check():
    Planarity(column="reg-planar").check_width(2)
    with pytest.raises(ConfigError):
        Planarity(column="reg-planar", plane=[0, 4]).check_width(4)
    with pytest.raises(ConfigError):
        Planarity(column="reg-planar", plane=[1, 1])


# --- separate ---
# Batch a = (1, 0), b = (3, 0) (a duplicate direction of a), c = (1, 1).
# Unit rows: a = b = (1, 0), c = (s, s) with s = 1/√2.
# C = Z Zᵀ = [[1, 1, s], [1, 1, s], [s, s, 1]]; zero the ≈1 entries -> [[0, 0, s], [0, 0, s], [s, s, 0]].
SEP_Z = [[1.0, 0.0], [3.0, 0.0], [1.0, 1.0]]


@pytest.mark.parametrize(
    "power, expected",
    [
        (1, [S, S, 2 * S]),  # row sums of the zeroed C
        (2, [0.5, 0.5, 1.0]),  # s² = 1/2
    ],
)
def test_separate_without_shift(power, expected):
    reg = bound(Separate(column="reg-separate", power=power, shift=False))
    assert reg.per_sample(t(SEP_Z)).tolist() == pytest.approx(expected)
    assert reg(t(SEP_Z), no_labels(3)).item() == pytest.approx(sum(expected) / 3)


# With shift, C ← (C + 1)/2 after zeroing: zeroed entries -> 1/2, s -> (1 + s)/2 = m ≈ 0.853553.
M = (1 + S) / 2


@pytest.mark.parametrize(
    "power, expected",
    [
        (1, [0.5 + 0.5 + M, 0.5 + 0.5 + M, 2 * M + 0.5]),  # ≈ 1.853553, 1.853553, 2.207107
        (2, [0.25 + 0.25 + M**2, 0.25 + 0.25 + M**2, 2 * M**2 + 0.25]),  # m² = (1.5 + √2)/4 ≈ 0.728553
    ],
)
def test_separate_with_shift(power, expected):
    assert pytest.approx((1.5 + math.sqrt(2)) / 4) == M**2
    reg = bound(Separate(column="reg-separate", power=power, shift=True))
    assert reg.per_sample(t(SEP_Z)).tolist() == pytest.approx(expected)
    assert reg(t(SEP_Z), no_labels(3)).item() == pytest.approx(sum(expected) / 3)


def test_separate_is_scale_invariant():
    reg = bound(Separate(column="reg-separate", power=2, shift=False))
    z = t(SEP_Z)
    assert reg.per_sample(5 * z).tolist() == pytest.approx(reg.per_sample(z).tolist())


def test_separate_p100_sanity():
    reg = bound(Separate(column="reg-separate", power=100, shift=True))
    # orthonormal rows: C = I -> zeroed -> 0 -> shifted 1/2 everywhere; 4 * 0.5^100 ≈ 3e-30
    eye = torch.eye(4, dtype=torch.float64)
    assert reg(eye, no_labels(4)).item() == pytest.approx(4 * 0.5**100, rel=1e-6)
    # antipodal pair: C_01 = -1 -> shifted 0; only the zeroed diagonal (1/2)^100 remains
    assert reg(t([[1, 0], [-1, 0]]), no_labels(2)).item() == pytest.approx(0.5**100, rel=1e-6)
    # near-parallel pair with cos = 0.99: ((1 + 0.99)/2)^100 = 0.995^100 ≈ 0.6058, + 0.5^100
    z = t([[1.0, 0.0], [0.99, math.sqrt(1 - 0.99**2)]])
    assert reg.per_sample(z).tolist() == pytest.approx([0.995**100] * 2, rel=1e-6)
    assert pytest.approx(0.6058, abs=1e-4) == 0.995**100
    # duplicates only: everything zeroed -> shifted 1/2 -> 3 * 0.5^100 per row, ≈ 0
    assert reg(t([[2.0, 0.0]] * 3), no_labels(3)).item() == pytest.approx(3 * 0.5**100, rel=1e-6)
    # gradients are finite in float32 on a random batch
    z = torch.randn(64, 4, requires_grad=True)
    loss = Separate(column="reg-separate")(z, torch.zeros(64, 0))
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(z.grad).all()


def test_separate_with_affinity():
    reg = bound(Separate(column="reg-separate", power=1, shift=False, label_affinities={"red": 1.0}))
    labels = t([[0, 0], [0, 0], [1, 0]])  # only c counts: 2s / 1
    assert reg(t(SEP_Z), labels).item() == pytest.approx(2 * S)


def test_separate_bad_power():
    with pytest.raises(ConfigError):
        Separate(column="reg-separate", power=0)


# --- the affinity reduction: Σ w loss / (Σ w + 1e-8), w = clamp(Σ affinity · label, 0, 1) ---

Z3 = [[3.0, 4.0], [0.0, 1.0], [3.0, 0.0]]  # unitarity losses 16, 0, 4


def test_affinity_clamps_sum_over_labels():
    reg = bound(Unitarity(column="reg-unit", label_affinities={"red": 1.0, "vibrant": 1.0}))
    labels = t([[1, 1], [0, 0], [0, 1]])
    # w = clamp((2, 0, 1), 0, 1) = (1, 0, 1) -> (16 + 4)/2 = 10 (unclamped it would be (32 + 4)/3 = 12)
    assert reg(t(Z3), labels).item() == pytest.approx(10.0)


def test_affinity_fractional():
    reg = bound(Unitarity(column="reg-unit", label_affinities={"red": 0.5}))
    labels = t([[1, 0], [0, 1], [1, 1]])
    # w = (0.5, 0, 0.5) -> (8 + 2)/1 = 10
    assert reg(t(Z3), labels).item() == pytest.approx(10.0)
    reg = bound(Unitarity(column="reg-unit", label_affinities={"red": 0.5, "vibrant": 0.25}))
    # w = (0.5, 0.25, 0.5 + 0.25) = (0.5, 0.25, 0.75) -> (0.5*16 + 0.25*0 + 0.75*4)/1.5 = 11/1.5
    assert reg(t(Z3), labels).item() == pytest.approx(11 / 1.5)


def test_affinity_negative_is_clamped_to_zero():
    reg = bound(Unitarity(column="reg-unit", label_affinities={"red": -1.0, "vibrant": 1.0}))
    labels = t([[1, 1], [0, 1], [1, 0]])
    # w = clamp((0, 1, -1), 0, 1) = (0, 1, 0) -> 0/1 = 0
    assert reg(t(Z3), labels).item() == pytest.approx(0.0)


def test_affinity_no_labelled_samples_is_zero():
    reg = bound(Unitarity(column="reg-unit", label_affinities={"vibrant": 1.0}))
    labels = t([[1, 0], [0, 0], [1, 0]])
    z = t(Z3).requires_grad_()
    loss = reg(z, labels)
    # Σ w loss = 0, Σ w = 0 -> 0 / 1e-8 = 0 (finite, no NaN)
    assert loss.item() == pytest.approx(0.0, abs=1e-12)
    loss.backward()
    assert torch.isfinite(z.grad).all()


def test_affinity_vector_follows_label_order():
    reg = Unitarity(column="reg-unit", label_affinities={"vibrant": 0.3})
    reg.bind_labels(["red", "vibrant"])
    assert reg.affinity.tolist() == pytest.approx([0.0, 0.3])
    reg.bind_labels(["vibrant", "red"])
    assert reg.affinity.tolist() == pytest.approx([0.3, 0.0])


def test_unknown_label_affinity():
    reg = Unitarity(column="reg-unit", label_affinities={"blue": 1.0})
    with pytest.raises(ConfigError) as info:
        reg.bind_labels(LABELS)
    assert "blue" in str(info.value)


@pytest.mark.parametrize(
    "cls, kwargs", [(Unitarity, {}), (Anchor, {"point": [1, 0, 0, 0]}), (Planarity, {}), (Separate, {})]
)
def test_negative_weight(cls, kwargs):
    with pytest.raises(ConfigError) as info:
        cls(column="reg-x", weight=-1.0, **kwargs)
    assert "weight=-1" in str(info.value)


def test_bad_layer():
    with pytest.raises(ConfigError):
        Unitarity(column="reg-unit", layer="decoder")


def test_float32_matches_float64():
    reg = Unitarity(column="reg-unit", label_affinities={"red": 1.0})
    reg.bind_labels(LABELS)
    z = torch.tensor(Z3)
    labels = torch.tensor([[1.0, 0.0], [1.0, 0.0], [0.0, 0.0]])
    assert reg(z, labels).item() == pytest.approx(8.0)  # (16 + 0)/2


def test_near_one_is_isclose_to_one_exactly_at_the_boundary():
    from excolor.regularizers.separate import near_one

    one, values = torch.tensor(1.0), [torch.tensor(1.0)]
    up, down = one, one
    for _ in range(300):  # every float32 within 300 ulps of 1 on both sides: across the tolerance's edges
        up, down = torch.nextafter(up, torch.tensor(2.0)), torch.nextafter(down, torch.tensor(0.0))
        values += [up, down]
    c = torch.cat(
        [
            torch.stack(values),
            torch.rand(10_000) * 2.2 - 1.1,
            torch.tensor([float("nan"), float("inf"), -1.0, 0.0]),
        ]
    )
    expected = torch.isclose(c, torch.ones_like(c))
    assert torch.equal(near_one(c), expected) and 0 < int(expected.sum()) < 601


def test_separate_and_its_gradient_equal_the_isclose_formula_bit_for_bit():
    from torch.nn import functional as F

    def seed_formula(z):
        unit = F.normalize(z, dim=-1)
        cosine = unit @ unit.transpose(-1, -2)
        cosine = torch.where(torch.isclose(cosine, torch.ones_like(cosine)), torch.zeros_like(cosine), cosine)
        return (((cosine + 1) / 2) ** 100).sum(-1).mean(-1)

    torch.manual_seed(0)
    z = torch.randn(3, 64, 4)
    z[:, 1] = z[:, 0]  # a duplicate sample: its off-diagonal pair is ≈ 1 too
    z1, z2 = z.clone().requires_grad_(), z.clone().requires_grad_()
    got, want = Separate(power=100, shift=True, column="x")(z1, torch.zeros(3, 64, 0)), seed_formula(z2)
    got.sum().backward()
    want.sum().backward()
    assert torch.equal(got, want) and torch.equal(z1.grad, z2.grad)


@pytest.mark.parametrize("shape", [(64, 4), (16, 4), (5, 64, 4), (2, 9, 16)])
@pytest.mark.parametrize("power, shift", [(100.0, True), (3.5, False), (1.0, True)])
def test_separate_takes_the_power_once_per_pair_bit_for_bit(shape, power, shift):
    """`SymmetricPower` (the power on C's upper triangle, mirrored) gives exactly `C ** p` and pow's own
    gradient, for one model ([B, K]) and a population ([N, B, K]), with the upstream gradient varying
    by row (as label weights make it)."""
    from torch.nn import functional as F

    from excolor.regularizers.separate import near_one

    def plain(z):
        unit = F.normalize(z, dim=-1)
        cosine = unit @ unit.transpose(-1, -2)
        cosine = cosine.masked_fill(near_one(cosine), 0.0)
        if shift:
            cosine = (cosine + 1) / 2
        return (cosine**power).sum(-1)

    torch.manual_seed(len(shape))
    z = torch.randn(shape)
    z1, z2 = z.clone().requires_grad_(), z.clone().requires_grad_()
    got, want = Separate(power=power, shift=shift, column="x").per_sample(z1), plain(z2)
    upstream = torch.randn(got.shape)
    (got * upstream).sum().backward()
    (want * upstream).sum().backward()
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)  # bit for bit, NaN where pow's
    torch.testing.assert_close(z1.grad, z2.grad, rtol=0, atol=0, equal_nan=True)


def test_symmetric_power_is_used_exactly_where_the_cosines_are_symmetric(monkeypatch):
    """A batch of 9 × 16 makes the matmul round C_ij and C_ji differently: plain pow there (the result
    above stays bit for bit); a batch of 64 × 4 is symmetric: the power once per pair."""
    from excolor.regularizers import separate

    calls = []
    monkeypatch.setattr(
        separate.SymmetricPower, "apply", lambda *args: calls.append(args) or args[0] ** args[1]
    )
    for shape, expected in [((2, 9, 16), 0), ((2, 64, 4), 1)]:
        calls.clear()
        torch.manual_seed(0)
        Separate(column="x").per_sample(torch.randn(shape))
        assert len(calls) == expected, shape


def test_triangle_indices_by_hand():
    from excolor.regularizers.separate import triangle_indices

    upper, mirror = triangle_indices(3, torch.device("cpu"))
    # upper triangle of a flattened 3×3, row by row: (0,0) (0,1) (0,2) (1,1) (1,2) (2,2)
    assert upper.tolist() == [0, 1, 2, 4, 5, 8]
    assert mirror.tolist() == [0, 1, 2, 1, 3, 4, 2, 4, 5]
