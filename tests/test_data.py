"""The training data (spec "Data"): the 3,600-color HSV cube, sampling ∝ w(s, v), Bernoulli labels.

Rates are checked against the spec's formulas computed independently here (colorsys for HSV),
with tolerances derived from the binomial standard deviation.
"""

import colorsys
import math

import numpy as np
import pytest
import torch
from omegaconf import OmegaConf
from scipy import stats

import excolor.config
from excolor.data import ColorBatches
from excolor.errors import ConfigError

DATA_CONF = excolor.config.CONF_DIR / "data" / "hsv_cube.yaml"


def real_config(seed=0, **overrides) -> dict:
    """conf/data/hsv_cube.yaml as constructor kwargs (the project's real label settings)."""
    cfg = OmegaConf.load(DATA_CONF)
    cfg.seed = seed
    kwargs = OmegaConf.to_container(cfg, resolve=True)
    kwargs.pop("_target_")
    kwargs.update(overrides)
    return kwargs


def make(seed=0, **overrides) -> ColorBatches:
    return ColorBatches(**real_config(seed, **overrides))


def grid_sv():
    """(s, v) of every grid point, in the data's order [H, S, V] flattened (36 × 10 × 10)."""
    h, s, v = np.meshgrid(np.arange(36) / 36, np.linspace(0, 1, 10), np.linspace(0, 1, 10), indexing="ij")
    return h.ravel(), s.ravel(), v.ravel()


def spec_weight(s, v):
    # w(s, v) = (1 - v)/(n_s n_h) + (1 - s) v / n_h + s v, with n_h = 36, n_s = 10
    return (1 - v) / 360 + (1 - s) * v / 36 + s * v


def test_real_config_is_the_spec():
    cfg = real_config()
    assert (cfg["n_hues"], cfg["n_saturations"], cfg["n_values"], cfg["batch_size"]) == (36, 10, 10, 64)
    assert cfg["labels"] == {
        "red": {"alpha": 0.5, "k": 10},
        "vibrant": {"alpha": 0.5, "k": 100},
    }


def test_colors_are_the_hsv_cube():
    data = make()
    assert len(data.colors) == 3600  # 36 hues × 10 saturations × 10 values
    h, s, v = grid_sv()
    expected = np.array([colorsys.hsv_to_rgb(*c) for c in zip(h, s, v)])
    # same set of colors (compare sorted rows, whatever the internal order)
    got = data.colors.numpy().astype(float)
    order = lambda a: a[np.lexsort(np.round(a, 5).T)]  # noqa: E731
    np.testing.assert_allclose(order(got), order(expected), atol=1e-6)


def test_epoch_shape_and_labels():
    data = make()
    assert len(data) == 57  # ceil(3600 / 64)
    assert data.label_names == ["red", "vibrant"]
    batches = list(data)
    assert len(batches) == 57
    sizes = [len(x) for x, _ in batches]
    assert sizes[:56] == [64] * 56
    assert sizes[-1] == 16  # 3600 - 56 * 64 = 3600 - 3584
    assert sum(sizes) == 3600
    for x, labels in batches:
        assert x.shape[1] == 3 and x.dtype == torch.float32
        assert labels.shape == (len(x), 2)
        assert set(labels.unique().tolist()) <= {0.0, 1.0}
        assert x.min() >= 0 and x.max() <= 1


def test_batch_size_divides_evenly():
    data = make(batch_size=100)
    assert len(data) == 36
    assert [len(x) for x, _ in data] == [100] * 36


def test_no_labels():
    data = make(labels=None)
    assert data.label_names == []
    x, labels = next(iter(data))
    assert labels.shape == (64, 0)


def test_same_seed_same_batches_and_different_seed_differs():
    a, b, c = make(seed=7), make(seed=7), make(seed=8)
    for _ in range(2):  # two epochs: the generator state carries on identically
        for (xa, la), (xb, lb) in zip(a, b):
            assert torch.equal(xa, xb) and torch.equal(la, lb)
    xa, _ = next(iter(make(seed=7)))
    xc, _ = next(iter(c))
    assert not torch.equal(xa, xc)


def test_epochs_differ():
    data = make()
    (x1, _), (x2, _) = next(iter(data)), next(iter(data))
    assert not torch.equal(x1, x2)


EPOCHS = 300


@pytest.fixture(scope="module")
def index_draws():
    """EPOCHS epochs, with the colors replaced by their grid index so each sample's grid point is known."""
    data = make(seed=123)
    data.colors = torch.arange(len(data.colors), dtype=torch.float64).unsqueeze(1)
    index, labels = [], []
    for _ in range(EPOCHS):
        for x, y in data:
            index.append(x[:, 0].long())
            labels.append(y)
    return torch.cat(index).numpy(), torch.cat(labels).numpy()


@pytest.fixture(scope="module")
def grid():
    """Per grid index: (s, v, weight) computed from the data's own colors with colorsys."""
    rgb = make().colors.numpy().astype(float)
    hsv = np.array([colorsys.rgb_to_hsv(*c) for c in rgb])
    return rgb, hsv


def test_sampling_frequency_black_vs_vibrant(index_draws, grid):
    index, _ = index_draws
    counts = np.bincount(index, minlength=3600)
    _, hsv = grid
    s, v = hsv[:, 1], hsv[:, 2]
    black = v < 1e-6  # 360 grid points (36 hues × 10 saturations at v = 0), w = 1/360 each
    vibrant = (s > 1 - 1e-6) & (v > 1 - 1e-6)  # 36 grid points, w = 1 each
    white = (s < 1e-6) & (v > 1 - 1e-6)  # 36 grid points, w = 1/36 each
    assert black.sum() == 360 and vibrant.sum() == 36 and white.sum() == 36
    n_black, n_vibrant, n_white = counts[black].sum(), counts[vibrant].sum(), counts[white].sum()
    # per grid point: w(vibrant)/w(black) = 1/(1/360) = 360, w(vibrant)/w(white) = 36
    ratio = (n_vibrant / 36) / (n_black / 360)
    rel_sd = math.sqrt(1 / n_black + 1 / n_vibrant)  # Poisson counts
    assert ratio == pytest.approx(360, rel=5 * rel_sd)
    ratio_white = (n_vibrant / 36) / (n_white / 36)
    assert ratio_white == pytest.approx(36, rel=5 * math.sqrt(1 / n_white + 1 / n_vibrant))


def test_sampling_frequency_chi_square(index_draws, grid):
    # counts summed over hue per (s, v) cell (100 cells; the smallest expects ~EPOCHS*3600/930*36/360 ≈ 116)
    index, _ = index_draws
    counts = np.bincount(index, minlength=3600).reshape(36, 10, 10).sum(0).ravel()
    _, s, v = grid_sv()
    w = spec_weight(s, v).reshape(36, 10, 10).sum(0).ravel()
    expected = w / w.sum() * len(index)
    assert len(index) == EPOCHS * 3600
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(1 - 1e-6, df=len(w) - 1), chi2


def test_sampling_within_a_cell_is_uniform_over_hues(index_draws):
    # the weight does not depend on the hue: the 36 hues of the vibrant cell (s = v = 1) share ~equally
    index, _ = index_draws
    counts = np.bincount(index, minlength=3600).reshape(36, 10, 10)[:, -1, -1]
    expected = counts.mean()
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < stats.chi2.ppf(1 - 1e-6, df=35)


def expected_label_probability(rgb, hsv):
    """Spec: p(red) = 0.5 * redness^10, redness = r (1 - g/2 - b/2); p(vibrant) = 0.5 * (s v)^100."""
    red = 0.5 * (rgb[:, 0] * (1 - rgb[:, 1] / 2 - rgb[:, 2] / 2)) ** 10
    vib = 0.5 * (hsv[:, 1] * hsv[:, 2]) ** 100
    return np.stack([red, vib], -1)


def test_label_rates_match_spec_per_color(index_draws, grid):
    index, labels = index_draws
    rgb, hsv = grid
    p = expected_label_probability(rgb, hsv)[index]  # [N, 2], expectation for each sample
    n = np.bincount(index, minlength=3600)
    for column in range(2):
        hits = np.bincount(index, weights=labels[:, column], minlength=3600)
        expected = np.bincount(index, weights=p[:, column], minlength=3600)
        sd = np.sqrt(np.bincount(index, weights=p[:, column] * (1 - p[:, column]), minlength=3600))
        seen = n > 0
        # each grid point within 6 binomial sd (+1 count of slack for p ≈ 0 points)
        z = np.abs(hits - expected)[seen] / (sd[seen] + 1e-12)
        assert np.all((z < 6) | (np.abs(hits - expected)[seen] < 1)), (column, z.max())
        # and the total over all samples within 5 sd
        assert abs(hits.sum() - expected.sum()) < 5 * math.sqrt((p[:, column] * (1 - p[:, column])).sum())


def rate_at(index_draws, grid, rgb_target, column):
    index, labels = index_draws
    rgb, _ = grid
    point = np.flatnonzero(np.abs(rgb - rgb_target).max(1) < 1e-6)
    assert len(point) == 1  # these colors occur once in the grid
    mask = index == point[0]
    return labels[mask, column].mean(), mask.sum()


def test_pure_red_rates(index_draws, grid):
    # pure red: redness 1 -> p(red) = 0.5 * 1^10 = 0.5; s = v = 1 -> p(vibrant) = 0.5 * 1^100 = 0.5
    for column in (0, 1):
        rate, n = rate_at(index_draws, grid, [1.0, 0.0, 0.0], column)
        assert n > 500  # w = 1: ~EPOCHS * 3600 / 930 ≈ 1160 draws
        assert rate == pytest.approx(0.5, abs=5 * math.sqrt(0.25 / n))


def test_dark_red_rates(index_draws, grid):
    # (8/9, 0, 0) = (h 0, s 1, v 8/9): p(red) = 0.5 (8/9)^10 ≈ 0.1540; p(vibrant) = 0.5 (8/9)^100 ≈ 3.9e-6
    p_red = 0.5 * (8 / 9) ** 10
    rate, n = rate_at(index_draws, grid, [8 / 9, 0.0, 0.0], 0)
    assert rate == pytest.approx(p_red, abs=5 * math.sqrt(p_red * (1 - p_red) / n))
    rate, n = rate_at(index_draws, grid, [8 / 9, 0.0, 0.0], 1)
    assert rate <= 2 / n


def test_never_labelled_colors(index_draws, grid):
    # white: redness 1*(1 - 1/2 - 1/2) = 0 and s*v = 0 -> never labelled; blue (0,0,1): r = 0 -> never red
    index, labels = index_draws
    rgb, _ = grid
    white = np.abs(rgb - 1).max(1) < 1e-6
    assert labels[white[index]].sum() == 0
    blue = np.abs(rgb - [0, 0, 1]).max(1) < 1e-6
    assert labels[blue[index], 0].sum() == 0
    assert labels[blue[index], 1].mean() == pytest.approx(0.5, abs=0.15)


@pytest.mark.parametrize(
    "overrides, key",
    [
        ({"batch_size": 0}, "data.batch_size=0"),
        ({"batch_size": -3}, "data.batch_size=-3"),
        ({"n_hues": 1}, "data.n_hues=1"),
        ({"n_values": 0}, "data.n_values=0"),
        ({"labels": {"blue": {"alpha": 0.5, "k": 1}}}, "data.labels.blue"),
        ({"labels": {"red": {"alpha": 1.5, "k": 1}}}, "data.labels.red"),
        ({"labels": {"red": {"alpha": 0.5, "k": -1}}}, "data.labels.red"),
    ],
)
def test_bad_values_raise_config_error(overrides, key):
    with pytest.raises(ConfigError) as info:
        make(**overrides)
    assert key in str(info.value)
