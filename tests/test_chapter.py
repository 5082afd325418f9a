"""The chapter's evaluation (excolor.chapter) on a model whose errors are known by hand: member m always
outputs the grey (c_m, c_m, c_m), so MSE_m(x) = ⅓ Σ_c (c_m − x_c)²."""

import numpy as np
import pytest
import torch
from torch import nn

from excolor.chapter import CHAPTER_FILE, ChapterEvaluation
from excolor.colors import rgb_cube, rgb_to_hsv, vibrancy
from excolor.cubes import loss_cube
from excolor.errors import ConfigError
from excolor.interventions.axis_suppression import AxisAlignedSuppression
from excolor.plans import Plan
from excolor.scores import VibrancyScore

GREYS = [0.1, 0.5, 0.8]


class Greys(nn.Module):
    """Member m outputs (c_m, c_m, c_m) whatever the input; `bottleneck` is there for the hooks."""

    def __init__(self, greys):
        super().__init__()
        self.greys = torch.tensor(greys)
        self.bottleneck = nn.Identity()
        self.weight = nn.Parameter(torch.zeros(1))
        self.config = {"members": len(greys)}

    def forward(self, x):
        z = self.bottleneck(x)
        return (z * 0)[None] + self.greys.reshape(-1, 1, 1)

    def member(self, index):
        return Greys([float(self.greys[index])])


def by_hand(grey, rgb):
    return ((grey - np.asarray(rgb)) ** 2).mean(-1)


def pearson(a, b):
    a, b = a - a.mean(), b - b.mean()
    return (a * b).sum() / np.sqrt((a * a).sum() * (b * b).sum())


def chapter(**kwargs):
    return ChapterEvaluation(
        variants={"zeroed": Plan(interventions=[AxisAlignedSuppression([0])])},
        score=VibrancyScore(power=1),
        score_variant="baseline",
        posthoc={"baseline": VibrancyScore(power=2, subdivisions=3)},
        **kwargs,
    )


def test_scores_posthoc_and_selection_by_hand(tmp_path):
    lattice = rgb_cube(8)
    feature = vibrancy(rgb_to_hsv(lattice))
    members = [  # val/recon: the middle member is worst; the others trade nothing against each other
        {"val/recon": 1.0},
        {"val/recon": 3.0},
        {"val/recon": 1.0},
    ]
    added, run = chapter(minimise=["val/recon"], maximise=["score"]).evaluate(
        Greys(GREYS), [10, 11, 12], members, tmp_path
    )
    scores = [pearson(by_hand(c, lattice), feature) ** 2 for c in GREYS]
    assert [row["score"] for row in added] == pytest.approx(scores)
    small = rgb_cube(3)
    posthoc = [pearson(by_hand(c, small), vibrancy(rgb_to_hsv(small)) ** 2) for c in GREYS]
    assert [row["posthoc/baseline/r"] for row in added] == pytest.approx(posthoc)
    # member 0 or 2 has the lower val/recon; among those the higher score is the best
    best = 0 if scores[0] > scores[2] else 2
    front = {best} | ({1} if scores[1] > scores[best] else set())
    assert [row["chapter/pareto"] for row in added] == [int(i in front) for i in range(3)]
    assert run["chapter/pareto_size"] == len(front)
    best_overall = max(front, key=lambda i: scores[i])
    assert run["chapter/best_seed"] == 10 + best_overall
    assert run["chapter/best_score"] == pytest.approx(scores[best_overall])
    report = (tmp_path / CHAPTER_FILE).read_text()
    assert f"(seed {10 + best_overall})" in report and "| red |" in report and "Δ zeroed" in report


def test_loss_cube_statistics(tmp_path):
    """plan/<variant>/max_mse and median_mse over the 552,960 loss-cube colours."""
    added, run = ChapterEvaluation(variants={"same": Plan()}, cube=["same"], named_colors=False).evaluate(
        Greys([0.5]), [0], [{}], tmp_path
    )
    error = by_hand(0.5, loss_cube()[1].reshape(-1, 3))
    assert added[0]["plan/same/max_mse"] == pytest.approx(error.max())
    assert added[0]["plan/same/median_mse"] == pytest.approx(np.median(error))
    assert run == {} and "score" not in added[0]


def test_bad_settings():
    with pytest.raises(ConfigError, match="reserved"):
        ChapterEvaluation(variants={"baseline": Plan()})
    with pytest.raises(ConfigError, match="score_variant"):
        ChapterEvaluation(score=VibrancyScore(power=1), score_variant="ablated")
    with pytest.raises(ConfigError, match="cube"):
        ChapterEvaluation(cube=["pruned"])
    with pytest.raises(ConfigError, match="chapter.variants.x"):
        ChapterEvaluation(variants={"x": "ablate"})  # pyright: ignore[reportArgumentType]
    with pytest.raises(ConfigError, match="val/anchor"):
        chapter(minimise=["val/anchor"]).evaluate(Greys([0.5]), [0], [{"val/recon": 1.0}], ".")
