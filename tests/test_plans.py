"""Evaluation plans and the sweep score under a plan (spec m2-family §1.7, §1.9), and axis-aligned
suppression, checked by hand and against the pieces applied one by one."""

import math

import numpy as np
import pytest
import torch

from excolor.errors import ConfigError
from excolor.interventions import BoundedFalloff, Suppression
from excolor.interventions.axis_suppression import AxisAlignedSuppression
from excolor.model import ColorAutoencoder
from excolor.plans import Plan, score_plan
from excolor.population_model import PopulationAutoencoder
from excolor.scores import SimilarityScore, VibrancyScore, r_squared
from excolor.surgery import ablate

COS_90 = math.cos(math.pi / 2)  # 6.1e-17: upstream's "hard" threshold


def model(seed=0, bottleneck=4):
    torch.manual_seed(seed)
    return ColorAutoencoder(bottleneck=bottleneck)


def test_axis_suppression_by_hand():
    z = torch.tensor([[0.6, 0.8, 0.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
    # zero dims 0, 1 and do not re-normalise: (0, 0, 0, 0) and (0, 0, ½, ½)
    assert AxisAlignedSuppression([0, 1])(z).tolist() == [[0, 0, 0, 0], [0, 0, 0.5, 0.5]]
    assert AxisAlignedSuppression([2])(z[None]).shape == (1, 2, 4)  # leading member axis passes through
    for bad in ([], [0, 0], [-1]):
        with pytest.raises(ConfigError):
            AxisAlignedSuppression(bad)
    with pytest.raises(ConfigError, match="bottleneck"):
        AxisAlignedSuppression([4])(z)


def test_plan_errors_by_hand():
    """MSE(x) = ⅓ Σ (clamp(x̂) − x)²: a decoder that always outputs (1, 1, 1) gives black error 1 and
    red error ⅔ (green and blue off by 1)."""
    m = model()
    with torch.no_grad():
        m.decoder[2].weight.zero_()
        m.decoder[2].bias.fill_(5.0)  # clamped to 1 in eval mode
    errors = Plan().errors(m.train(), np.array([[0, 0, 0], [1, 0, 0], [1, 1, 1]]))
    assert errors.tolist() == [pytest.approx([1.0, 2 / 3, 0.0])]
    assert m.training  # the plan restores the mode


def test_plan_applies_transform_then_interventions():
    m = model().eval()
    colors = np.random.default_rng(0).random((50, 3))
    x = torch.tensor(colors, dtype=torch.float32)
    cut = ablate(m, "bottleneck", [0])
    with torch.no_grad():
        expected = ((cut(x) - x) ** 2).mean(-1).double().numpy()
    assert Plan(transform=lambda m: ablate(m, "bottleneck", [0])).errors(m, colors)[0] == pytest.approx(
        expected
    )
    hard = Suppression(concept=[1, 0, 0, 0], falloff=BoundedFalloff(COS_90, 1.0, 0.0))
    with torch.no_grad():
        z = m.bottleneck(m.encoder(x))
        d = z[:, 0]
        # hard suppression removes the whole positive red component: z' = z − (z·e0) e0 where z·e0 > cos 90°
        z_hard = torch.where((d > COS_90)[:, None], z - d[:, None] * torch.eye(4)[0], z)
        by_hand = ((m.decoder(z_hard).clamp(0, 1) - x) ** 2).mean(-1).double().numpy()
    assert Plan(interventions=[hard]).errors(m, colors)[0] == pytest.approx(by_hand, abs=1e-7)


def test_score_plan_per_member():
    members = [model(seed=s, bottleneck=5) for s in range(3)]
    population = PopulationAutoencoder.from_members(members)
    plan = Plan(transform=lambda m: ablate(m, "bottleneck", [0]))
    score = SimilarityScore(power=3)
    together = score_plan(population, plan, score)
    assert together.shape == (3,)
    for i, member in enumerate(members):
        alone = score_plan(member, plan, score)
        assert alone.shape == (1,) and alone[0] == pytest.approx(together[i], abs=1e-5)
        assert alone[0] == pytest.approx(
            r_squared(plan.errors(member, score.colors)[0], score.feature).item()
        )
    vibrancy = score_plan(
        members[0], Plan(interventions=[AxisAlignedSuppression([0, 1])]), VibrancyScore(2.3)
    )
    assert 0 <= vibrancy[0] <= 1
