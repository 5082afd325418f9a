"""The chapter's regularizer terms (spec m2-family §1.6, §15.4), each against values worked by hand:
angular anchor, hemispherical anti-anchor, axis-aligned subspace (keep set), anti-subspace (penalised
set); the label-weighted reduction Σ w ℓ / (Σ w + 1e-8) with w = clip(Σ α y, 0, 1); populations."""

import math

import pytest
import torch

from excolor.errors import ConfigError
from excolor.regularizers import AngularAnchor, AntiAnchor, AntiSubspace, AxisAlignedSubspace

LABELS = ["red", "vibrant"]
E0 = [1.0, 0.0, 0.0, 0.0]


def t(rows):
    return torch.tensor(rows, dtype=torch.float64)


def bound(reg):
    reg.bind_labels(LABELS)
    reg.affinity = reg.affinity.double()
    return reg


def no_labels(*shape):
    return torch.zeros(*shape, 2, dtype=torch.float64)


# --- angular anchor: 1 − cos(z, a) ---
ANGULAR_Z = [[1, 0, 0, 0], [0, 1, 0, 0], [-2, 0, 0, 0], [3, 4, 0, 0], [6, 8, 0, 0], [1, 1, 0, 0]]
# cos = 1, 0, −1, 3/5, 3/5, 1/√2  →  loss 0, 1, 2, 0.4, 0.4, 1 − 1/√2
ANGULAR_LOSS = [0.0, 1.0, 2.0, 0.4, 0.4, 1 - 1 / math.sqrt(2)]


def test_angular_anchor_by_hand():
    reg = bound(AngularAnchor(column="anchor", point=E0))
    assert reg.per_sample(t(ANGULAR_Z)).tolist() == pytest.approx(ANGULAR_LOSS, abs=1e-7)
    # the anchor's own length does not matter either: a = (5, 0, 0, 0) gives the same
    long = bound(AngularAnchor(column="anchor", point=[5, 0, 0, 0]))
    assert long.per_sample(t(ANGULAR_Z)).tolist() == pytest.approx(ANGULAR_LOSS, abs=1e-7)
    # the ε = 1e-8 keeps z = 0 finite: cos = 0 → loss 1
    assert reg.per_sample(t([[0, 0, 0, 0]])).tolist() == [1.0]


def test_angular_anchor_label_weighted():
    reg = bound(AngularAnchor(column="anchor", point=E0, label_affinities={"red": 1.0}))
    labels = t([[1, 0], [0, 0], [1, 1], [1, 0], [0, 1], [0, 0]])  # red on rows 0, 2, 3
    # (0 + 2 + 0.4) / (3 + 1e-8)
    assert reg(t(ANGULAR_Z), labels).item() == pytest.approx(2.4 / 3, abs=1e-7)
    # no red sample in the batch: 0 / (0 + 1e-8) = 0
    assert reg(t(ANGULAR_Z), no_labels(6)).item() == 0.0


def test_angular_anchor_width_check():
    AngularAnchor(column="anchor", point=[1, 0, 0, 0, 0]).check_width(5)
    with pytest.raises(ConfigError, match="point"):
        AngularAnchor(column="anchor", point=E0).check_width(5)


# --- hemispherical anti-anchor: max(0, cos(z, −a)) ---


def test_anti_anchor_by_hand():
    reg = bound(AntiAnchor(column="anti-anchor", point=E0))
    z = t([[1, 0, 0, 0], [-1, 0, 0, 0], [-3, 4, 0, 0], [0, 1, 0, 0], [3, -4, 0, 0], [-1, -1, 0, 0]])
    # −ẑ0 = −1, 1, 3/5, 0, −3/5, 1/√2, clipped at 0
    expected = [0.0, 1.0, 0.6, 0.0, 0.0, 1 / math.sqrt(2)]
    assert reg.per_sample(z).tolist() == pytest.approx(expected, abs=1e-7)
    # no labels: the batch mean
    assert reg(z, no_labels(6)).item() == pytest.approx(sum(expected) / 6, abs=1e-7)
    # opposite=false repels from the point itself: max(0, ẑ0)
    toward = bound(AntiAnchor(column="anti-anchor", point=E0, opposite=False))
    assert toward.per_sample(z).tolist() == pytest.approx([1.0, 0.0, 0.0, 0.0, 0.6, 0.0], abs=1e-7)


# --- axis-aligned subspace (keep D) and anti-subspace (penalise D) ---


def test_subspace_keep_by_hand():
    z4 = t([[1, 2, 3, 4], [5, 6, 0, 0], [0, 0, -1, 0.5]])
    plane = bound(AxisAlignedSubspace(column="subspace", dims=[0, 1]))
    assert plane.per_sample(z4).tolist() == pytest.approx([25.0, 0.0, 1.25])  # 3² + 4²; 0; 1 + ¼
    z5 = t([[1, 2, 3, 4, 5], [0.5, 0, 1, 1, 1]])
    keep = bound(AxisAlignedSubspace(column="planar-d", dims=[2, 3, 4]))
    assert keep.per_sample(z5).tolist() == pytest.approx([5.0, 0.25])  # 1² + 2²; 0.5²


def test_anti_subspace_by_hand():
    z5 = t([[1, 2, 3, 4, 5], [0.5, 0, 1, 1, 1], [-2, 1, 0, 0, 0]])
    anti = bound(AntiSubspace(column="anti-subspace", dims=[0]))
    assert anti.per_sample(z5).tolist() == pytest.approx([1.0, 0.25, 4.0])
    assert anti(z5, no_labels(3)).item() == pytest.approx(5.25 / 3)
    two = bound(AntiSubspace(column="anti-subspace", dims=[2, 0]))
    assert two.per_sample(z5).tolist() == pytest.approx([10.0, 1.25, 4.0])  # 1 + 9; 0.25 + 1; 4


def test_subspace_settings_checked():
    AntiSubspace(column="a", dims=[0]).check_width(5)
    for bad in ([], [1, 1], [-1]):
        with pytest.raises(ConfigError, match="dims"):
            AntiSubspace(column="a", dims=bad)
    with pytest.raises(ConfigError, match="bottleneck=4"):
        AxisAlignedSubspace(column="a", dims=[2, 3, 4]).check_width(4)


def test_weights_clipped_to_one():
    """w = clip(0.7·red + 0.7·vibrant, 0, 1): both → 1, one → 0.7, none → 0."""
    reg = bound(AntiSubspace(column="a", dims=[0], label_affinities={"red": 0.7, "vibrant": 0.7}))
    z = t([[1, 0], [2, 0], [3, 0]])  # ℓ = 1, 4, 9
    labels = t([[1, 1], [1, 0], [0, 0]])
    # (1·1 + 0.7·4 + 0) / (1.7 + 1e-8)
    assert reg(z, labels).item() == pytest.approx(3.8 / 1.7)


def test_population_keeps_members_apart():
    """Stacked latents [N, B, K] with per-member labels give one value per member, each that member's own."""
    reg = bound(AngularAnchor(column="anchor", point=E0, label_affinities={"red": 1.0}))
    z = t([ANGULAR_Z[:3], ANGULAR_Z[3:]])  # member 0: losses 0, 1, 2; member 1: 0.4, 0.4, 0.2929
    labels = t([[[0, 0], [1, 0], [1, 0]], [[1, 0], [0, 0], [0, 0]]])
    assert reg(z, labels).tolist() == pytest.approx([1.5, 0.4], abs=1e-7)
    for m in range(2):
        assert reg(z[m], labels[m]).item() == pytest.approx(reg(z, labels)[m].item())
    anti = bound(AntiSubspace(column="a", dims=[0]))
    assert anti(z, no_labels(2, 3)).tolist() == pytest.approx([5 / 3, (9 + 36 + 1) / 3])
