"""The chapter's targeting metrics (spec m2-family §1.9, §15.6): the sweep score and the post-hoc r.

- HSV similarity to the anchor (red, (h, s, v) = (0, 1, 1)), hemispherical and angular with vibrancy
  weighting: Δh = 360°·min(|h − h_a|, 1 − |h − h_a|), σ_h = max(0, (90 − Δh)/90), r̄ = (s v + s_a v_a)/2,
  sim = (r̄ σ_h + 1 − r̄)(1 − |s − s_a|)(1 − |v − v_a|)   (`excolor.colors.hsv_similarity`).
- Vibrancy: S·V.
- r = Pearson(feature^p, MSE) over every colour of a set, MSE(x) = ⅓ Σ_c (x̂_c − x_c)² in eval mode.
- Sweep score = r² on the 8³ RGB lattice (512 colours) after the plan's transform and interventions:
  sim² with hard suppression (2.4.1, 2.5.1), sim³ with ablate [0] (2.9.1, 2.10.1), vibrancy^2.3 with
  ablate [0, 1] (2.7.1). Where either side is constant, r is undefined and the score is 0.
- Post-hoc r (with its p-value) on the 20³ RGB lattice (8,000 colours).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Protocol

import numpy as np
from scipy import stats

from excolor.colors import hsv_similarity, rgb_cube, rgb_to_hsv, vibrancy
from excolor.errors import ConfigError

RED_HSV = (0.0, 1.0, 1.0)
SCORE_SUBDIVISIONS = 8  # E-score: linspace(0, 1, 8)³


def similarity_feature(rgb: np.ndarray, power: float, anchor_hsv: Sequence[float] = RED_HSV) -> np.ndarray:
    """sim(x, anchor)^p per colour of rgb [..., 3] (see the module doc for sim)."""
    return hsv_similarity(rgb_to_hsv(rgb), np.asarray(anchor_hsv, float)) ** power


def vibrancy_feature(rgb: np.ndarray, power: float) -> np.ndarray:
    """(S·V)^p per colour of rgb [..., 3]."""
    return vibrancy(rgb_to_hsv(rgb)) ** power


def pearson_r(errors: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """r = Σ (e − ē)(f − f̄) / √(Σ (e − ē)² Σ (f − f̄)²) per row of errors [..., n] against feature [n];
    NaN where either side is constant."""
    e = np.asarray(errors, float)
    f = np.asarray(feature, float).ravel()
    de, df = e - e.mean(-1, keepdims=True), f - f.mean()
    constant = (np.ptp(e, axis=-1) == 0) | (np.ptp(f) == 0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r = (de * df).sum(-1) / np.sqrt((de**2).sum(-1) * (df**2).sum())
    return np.where(constant, np.nan, r)


def r_squared(errors: np.ndarray, feature: np.ndarray) -> np.ndarray:
    """The score: r² per row of errors [..., n] (0 where r is undefined)."""
    r = pearson_r(errors, feature)
    return np.where(np.isfinite(r), r * r, 0.0)


def correlation(errors: np.ndarray, feature: np.ndarray) -> tuple[float, float]:
    """The post-hoc print: (r, two-sided p) of one model's errors [n] against
    feature [n] (scipy's pearsonr)."""
    result = stats.pearsonr(np.asarray(feature, float).ravel(), np.asarray(errors, float).ravel())
    return float(result.statistic), float(result.pvalue)  # pyright: ignore[reportAttributeAccessIssue]  # scipy's result class is built at runtime (_make_tuple_bunch); its fields are unknown to inference


class Score(Protocol):
    """A sweep score: the colours it is computed on, feature^p per colour, and r² per member of their
    per-colour errors."""

    colors: np.ndarray
    feature: np.ndarray

    def __call__(self, errors: np.ndarray) -> np.ndarray: ...


class _LatticeScore(ABC):
    """r² of Pearson(feature(x)^p, MSE(x)) over the RGB lattice linspace(0, 1, s)³."""

    def __init__(self, power: float, subdivisions: int = SCORE_SUBDIVISIONS):
        if not float(power) > 0:
            raise ConfigError(f"score power={power} must be > 0")
        if int(subdivisions) < 2:
            raise ConfigError(f"score subdivisions={subdivisions} must be ≥ 2")
        self.power = float(power)
        self.colors = rgb_cube(int(subdivisions))
        self.feature = self.features(self.colors)

    @abstractmethod
    def features(self, rgb: np.ndarray) -> np.ndarray:
        """feature(x)^p per colour of rgb [n, 3]."""

    def __call__(self, errors: np.ndarray) -> np.ndarray:
        """r² per row of errors [..., n_colours] (the colours in `self.colors` order)."""
        errors = np.asarray(errors, float)
        if errors.shape[-1] != len(self.colors):
            raise ValueError(
                f"errors hold {errors.shape[-1]} colours; the score's lattice has {len(self.colors)}"
            )
        return r_squared(errors, self.feature)


class SimilarityScore(_LatticeScore):
    """`ScoreByHSVSimilarity`: r² of Pearson(sim(x, anchor)^p, MSE(x)) on the lattice."""

    def __init__(
        self, power: float, anchor_hsv: Sequence[float] = RED_HSV, subdivisions: int = SCORE_SUBDIVISIONS
    ):
        self.anchor_hsv = tuple(float(x) for x in anchor_hsv)
        if len(self.anchor_hsv) != 3:
            raise ConfigError(f"score anchor_hsv={list(anchor_hsv)} must be (h, s, v)")
        super().__init__(power, subdivisions)

    def features(self, rgb: np.ndarray) -> np.ndarray:
        return similarity_feature(rgb, self.power, self.anchor_hsv)


class VibrancyScore(_LatticeScore):
    """`ScoreByVibrancy`: r² of Pearson((S·V)^p, MSE(x)) on the lattice."""

    def features(self, rgb: np.ndarray) -> np.ndarray:
        return vibrancy_feature(rgb, self.power)
