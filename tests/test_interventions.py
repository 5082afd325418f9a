"""Tests for excolor.interventions; expected values worked out by hand."""

import math

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from excolor.errors import ConfigError
from excolor.interventions import (
    BezierMapper,
    BoundedFalloff,
    LinearMapper,
    Repulsion,
    Suppression,
    capture,
    check_dim,
    intervene,
)

V = torch.tensor([1.0, 0.0, 0.0, 0.0], dtype=torch.float64)


def at_angle(deg: float) -> torch.Tensor:
    """Unit vector in the (e0, e1) plane at `deg` degrees from V."""
    r = math.radians(deg)
    z = torch.tensor([[math.cos(r), math.sin(r), 0.0, 0.0]], dtype=torch.float64)
    return torch.where(z.abs() < 1e-15, torch.zeros_like(z), z)  # exact 0 at 90°, 180°


def random_unit(n: int = 2000, seed: int = 0) -> torch.Tensor:
    z = torch.randn(n, 4, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    return z / z.norm(dim=1, keepdim=True)


# --- falloff and mappers ---------------------------------------------------


def test_bounded_falloff_by_hand():
    f = BoundedFalloff(a=0.5, b=0.8, power=2)
    y = f(torch.tensor([0.75, 0.4, 0.5, 1.0], dtype=torch.float64))
    # 0.8·((0.75−0.5)/0.5)² = 0.8·0.25 = 0.2; below/at the knee 0; at 1 → b.
    torch.testing.assert_close(y, torch.tensor([0.2, 0.0, 0.0, 0.8], dtype=torch.float64))


def test_linear_mapper_by_hand():
    m = LinearMapper(a=0.2, b=0.6)
    y = m(torch.tensor([0.6, 0.1, 1.0], dtype=torch.float64))
    # 0.2 + 0.4/0.8·0.4 = 0.4; identity below a; 1 → b.
    torch.testing.assert_close(y, torch.tensor([0.4, 0.1, 0.6], dtype=torch.float64))


@pytest.mark.parametrize("a,b", [(0.0, 0.5), (0.3, 0.7), (0.5, 0.9)])
def test_bezier_mapper_shape(a, b):
    m = BezierMapper(a=a, b=b)
    x = torch.linspace(0, 1, 20001, dtype=torch.float64)
    y = m(x)
    ends = m(torch.tensor([a, 1.0], dtype=torch.float64))
    torch.testing.assert_close(ends, torch.tensor([a, b], dtype=torch.float64))
    assert torch.all(y[1:] - y[:-1] >= 0), "not monotone"
    below = x <= a
    assert torch.equal(y[below], x[below])
    assert torch.all(y <= x + 1e-12)  # never moves a similarity upwards
    h = 1e-3
    near_a = (
        m(torch.tensor([a + 2 * h], dtype=torch.float64)) - m(torch.tensor([a + h], dtype=torch.float64))
    ) / h
    near_1 = (
        m(torch.tensor([1.0], dtype=torch.float64)) - m(torch.tensor([1.0 - h], dtype=torch.float64))
    ) / h
    assert near_a.item() == pytest.approx(1.0, abs=0.05)
    assert near_1.item() == pytest.approx(0.0, abs=0.05)


def test_bezier_mapper_default_and_midpoint():
    m = BezierMapper()
    assert (m.a, m.b) == (0.0, 0.5)
    # Curve at t = 1/2: x = (P0 + 3P1 + 3P2 + P3)/8 with c = 1/√2.
    c = 1 / math.sqrt(2)
    px, py = [0, 0.5 * c, 1 - 0.5 * c, 1], [0, 0.5 * c, 0.5, 0.5]
    xm = (px[0] + 3 * px[1] + 3 * px[2] + px[3]) / 8
    ym = (py[0] + 3 * py[1] + 3 * py[2] + py[3]) / 8
    assert m(torch.tensor([xm], dtype=torch.float64)).item() == pytest.approx(ym, abs=1e-5)


# --- suppression -----------------------------------------------------------


def test_suppression_removes_concept_itself():
    s = Suppression([1, 0, 0, 0], BoundedFalloff(0, 1, 1))
    out = s(V[None])
    torch.testing.assert_close(out, torch.zeros(1, 4, dtype=torch.float64))


@pytest.mark.parametrize("deg", [90.0, 120.0, 180.0])
def test_suppression_leaves_far_vectors_exactly(deg):
    s = Suppression([1, 0, 0, 0], BoundedFalloff(0, 1, 1))
    z = at_angle(deg)
    assert torch.equal(s(z), z)


def test_suppression_at_60_degrees_by_hand():
    s = Suppression([2, 0, 0, 0], BoundedFalloff(0, 1, 2))  # concept normalised
    z = at_angle(60)
    # d = 0.5, g = 0.5² = 0.25, z' = z − 0.25·0.5·v
    expected = z - 0.125 * V
    torch.testing.assert_close(s(z), expected)


def test_suppression_batched_matches_rows():
    s = Suppression([1, 1, 0, 0], BoundedFalloff(0.2, 0.9, 1.5))
    z = random_unit(50)
    rows = torch.cat([s(z[i : i + 1]) for i in range(len(z))])
    torch.testing.assert_close(s(z), rows)


# --- repulsion -------------------------------------------------------------


def test_repulsion_unit_norm_and_keeps_far_vectors():
    r = Repulsion([1, 0, 0, 0])
    z = random_unit()
    out = r(z)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(len(z), dtype=torch.float64))
    far = z @ V <= 0
    assert far.any() and torch.equal(out[far], z[far])
    near = ~far
    assert torch.all(out[near] @ V <= z[near] @ V + 1e-12)  # moved away, not towards


def test_repulsion_concept_goes_to_60_degrees():
    r = Repulsion([1, 0, 0, 0])
    out = r(V[None])
    assert out.norm().item() == pytest.approx(1.0, abs=1e-9)
    angle = math.degrees(math.acos((out[0] @ V).item()))
    assert angle == pytest.approx(60.0, abs=1e-6)


def test_repulsion_rotates_in_plane_of_z_and_v():
    r = Repulsion([1, 0, 0, 0], LinearMapper(0.0, 0.5))
    out = r(at_angle(60))  # d = 0.5 → t = 0.25, stays in the (e0, e1) plane
    expected = torch.tensor([[0.25, math.sqrt(1 - 0.0625), 0, 0]], dtype=torch.float64)
    torch.testing.assert_close(out, expected)


def test_repulsion_float32_near_parallel_still_unit():
    r = Repulsion([1, 0, 0, 0])
    z = torch.tensor([[1.0, 1e-7, 0, 0], [1.0, 1e-4, 1e-4, 0]], dtype=torch.float32)
    z = z / z.norm(dim=1, keepdim=True)
    out = r(z)
    torch.testing.assert_close(out.norm(dim=1), torch.ones(2), atol=1e-5, rtol=0)


# --- validation ------------------------------------------------------------


@pytest.mark.parametrize(
    "build,needle",
    [
        (lambda: BoundedFalloff(a=1.2), "a=1.2"),
        (lambda: BoundedFalloff(a=-0.1), "a=-0.1"),
        (lambda: BoundedFalloff(power=-1), "power=-1"),
        (lambda: BoundedFalloff(b=1.5), "b=1.5"),
        (lambda: LinearMapper(a=1.0, b=1.0), "a=1.0"),
        (lambda: LinearMapper(a=0.5, b=0.5), "b=0.5"),
        (lambda: BezierMapper(a=0.6, b=0.3), "b=0.3"),
        (lambda: BezierMapper(a=0.2, b=1.2), "b=1.2"),
        (lambda: Suppression([0, 0, 0, 0]), "concept"),
        (lambda: Suppression([float("nan"), 1, 0, 0]), "concept"),
        (lambda: Repulsion([0.0, 0.0, 0.0, 0.0]), "concept"),
        (lambda: Suppression([1, 0, 0], dim=4), "concept has length 3"),
        (lambda: Repulsion(["red", 0, 0, 0]), "concept"),
    ],
)
def test_invalid_parameters_raise_config_error(build, needle):
    with pytest.raises(ConfigError, match=None) as info:
        build()
    assert needle in str(info.value)
    assert "\n" not in str(info.value)


def test_check_dim_and_concept_types():
    s = Suppression((3.0, 4.0, 0.0))  # tuple, normalised to (0.6, 0.8, 0)
    torch.testing.assert_close(s.concept, torch.tensor([0.6, 0.8, 0.0]))
    assert s.dim == 3
    check_dim(s, 3)
    with pytest.raises(ConfigError, match="concept has length 3 but the bottleneck has 4 dims"):
        check_dim(s, 4)
    r = Repulsion(torch.tensor([0.0, 0.0, 0.0, 5.0]), dim=4)
    assert r.dim == 4
    with pytest.raises(ConfigError, match="LinearMapper is not an Intervention"):
        check_dim(LinearMapper(), 4)  # a mapper is no intervention (excolor.extension declares both)


def test_hydra_instantiate_nested():
    instantiate = pytest.importorskip("hydra.utils").instantiate
    omegaconf = pytest.importorskip("omegaconf")
    cfg = omegaconf.OmegaConf.create(
        {
            "_target_": "excolor.interventions.Suppression",
            "concept": [1, 0, 0, 0],
            "falloff": {"_target_": "excolor.interventions.BoundedFalloff", "a": 0, "b": 1, "power": 2},
        }
    )
    s = instantiate(cfg)
    assert isinstance(s, Suppression) and isinstance(s.falloff, BoundedFalloff)
    torch.testing.assert_close(s(at_angle(60).float()), (at_angle(60) - 0.125 * V).float())


def test_state_dict_has_buffers():
    keys = set(Repulsion([1, 0, 0, 0]).state_dict())
    assert {"concept", "orthogonal", "mapper.xs", "mapper.ys"} <= keys


# --- hooks -----------------------------------------------------------------


class Normalize(nn.Module):
    def forward(self, x):
        return x / x.norm(dim=-1, keepdim=True)


class TinyModel(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.encoder = nn.Identity()
        self.bottleneck = Normalize()
        self.decoder = nn.Linear(4, 3)

    def forward(self, x):
        return self.decoder(self.bottleneck(self.encoder(x)))


def test_intervene_changes_output_and_restores():
    model = TinyModel().eval()
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1)).abs()
    with torch.no_grad():
        before = model(x)
        with intervene(model, "bottleneck", [Suppression([1, 0, 0, 0], BoundedFalloff(0, 1, 1))]):
            during = model(x)
        after = model(x)
    assert not torch.allclose(during, before)
    assert torch.equal(after, before)
    assert not model.bottleneck._forward_hooks


def test_intervene_removes_hook_on_exception():
    model = TinyModel()
    with pytest.raises(RuntimeError, match="boom"), intervene(model, "bottleneck", [Repulsion([1, 0, 0, 0])]):
        raise RuntimeError("boom")
    assert not model.bottleneck._forward_hooks


def test_intervene_empty_adds_no_hook():
    model = TinyModel()
    with intervene(model, "bottleneck", []):
        assert not model.bottleneck._forward_hooks


def test_interventions_compose_in_order():
    model = TinyModel().eval()
    x = torch.randn(64, 4, generator=torch.Generator().manual_seed(1)).abs()
    first = Repulsion([1, 0, 0, 0], LinearMapper(0.0, 0.5))
    second = Suppression([1, 1, 0, 0], BoundedFalloff(0, 1, 1))
    with torch.no_grad():
        z = model.bottleneck(model.encoder(x))
        manual = model.decoder(second(first(z)))
        swapped = model.decoder(first(second(z)))
        with intervene(model, "bottleneck", [first, second]):
            hooked = model(x)
    torch.testing.assert_close(hooked, manual)
    assert (hooked - swapped).abs().max() > 1e-2  # order matters


def test_capture_records_post_intervention_latents():
    model = TinyModel().eval()
    x = torch.randn(16, 4, generator=torch.Generator().manual_seed(2))
    sup = Suppression([1, 0, 0, 0], BoundedFalloff(0, 1, 1))
    with torch.no_grad():
        z = model.bottleneck(model.encoder(x))
        with capture(model, "bottleneck") as plain:
            model(x)
        latents: list = []
        with intervene(model, "bottleneck", [sup], capture=latents):
            model(x)
    assert len(plain) == 1 and torch.equal(plain[0], z)
    assert len(latents) == 1
    torch.testing.assert_close(latents[0], sup(z))
    assert not model.bottleneck._forward_hooks


@pytest.mark.parametrize(("a", "b"), [(0.0, 0.5), (0.1, 0.5), (0.3, 0.9), (0.95, 0.99), (0.0, 1.0)])
def test_bezier_bucket_lookup_is_searchsorted_exactly(a, b):
    """The bucketed table position equals torch.searchsorted on every table value, its float32 neighbours,
    every bucket edge and its neighbours, and random points; so the mapper's output is unchanged."""
    m = BezierMapper(a=a, b=b)
    xs = m.xs.float()
    edges = (a + torch.arange(m.BUCKETS + 1, dtype=torch.float64) / m._scale).float()
    points = [xs, edges]
    for values in (xs, edges):
        up, down = values, values
        for _ in range(3):
            up, down = torch.nextafter(up, torch.tensor(2.0)), torch.nextafter(down, torch.tensor(-1.0))
            points += [up, down]
    q = torch.cat([*points, torch.rand(200_000), torch.tensor([0.0, 1.0, a])]).clamp(a, 1.0)
    assert torch.equal(m._position(xs, q), torch.searchsorted(xs, q))
    x = torch.cat([q, torch.rand(1000) * 1.4 - 0.2])
    i = torch.searchsorted(xs, x.clamp(a, 1.0).contiguous()).clamp(1, len(xs) - 1)
    w = (x.clamp(a, 1.0) - xs[i - 1]) / (xs[i] - xs[i - 1]).clamp_min(torch.finfo(x.dtype).tiny)
    ys = m.ys.float()
    expected = torch.where(x > a, ys[i - 1] + w.clamp(0.0, 1.0) * (ys[i] - ys[i - 1]), x)
    assert torch.equal(m(x), expected)


def row_wise_repulsion(repulsion: Repulsion, z: torch.Tensor) -> torch.Tensor:
    """The module docstring's formula, step by step on rows [..., K] (how `forward` computed it before it
    laid the components out one after another)."""
    v, w = repulsion.concept, repulsion.orthogonal
    d = (z @ v).clamp(0.0, 1.0)
    t = repulsion.mapper(d).clamp(-1.0 + repulsion.eps, 1.0 - repulsion.eps).unsqueeze(-1)
    perp = z - d.unsqueeze(-1) * v
    perp = perp - (perp @ v).unsqueeze(-1) * v
    norm = perp.norm(dim=-1, keepdim=True)
    tiny = torch.finfo(z.dtype).eps
    u = torch.where(norm > tiny, perp / norm.clamp_min(tiny), w)
    out = t * v + (1.0 - t * t).sqrt() * u
    return torch.where((d > 0).unsqueeze(-1), out, z)


@pytest.mark.parametrize("shape", [(4,), (9, 4), (3, 300, 4), (2, 40, 5)])
@pytest.mark.parametrize("mapper", [BezierMapper(0.0, 0.5), BezierMapper(0.2, 0.9), LinearMapper(0.1, 0.6)])
def test_repulsion_equals_the_row_wise_formula_bit_for_bit(shape, mapper):
    """Laid out by component, every value is the same operation on the same operands: the rewritten
    latents are the row-wise formula's exactly (rows on the concept, rows behind it and NaN rows
    included), contiguous, in the input's shape."""
    torch.manual_seed(len(shape))
    width = shape[-1]
    z = F.normalize(torch.randn(shape), dim=-1)
    concept = [0.6, 0.8] + [0.0] * (width - 2)
    if z.dim() > 1:
        rows = z.view(-1, width)
        rows[0] = torch.tensor(concept)  # on the concept: z⊥ = 0, the fallback direction
        rows[1] = -rows[0]
        rows[2] = float("nan")
    repulsion = Repulsion(concept, mapper)
    got, want = repulsion(z), row_wise_repulsion(repulsion, z)
    assert got.shape == z.shape and got.is_contiguous()
    torch.testing.assert_close(got, want, rtol=0, atol=0, equal_nan=True)
