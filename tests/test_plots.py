"""Tests for excolor.plots: each figure is written as a valid PNG, and bad input is refused."""

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from matplotlib.colors import hsv_to_rgb
from matplotlib.image import imread

from excolor.plots import plot_color_slices, plot_error_by_color, plot_latent_spheres
from excolor.plots.latent_spheres import _cone_circle, _split_front_back

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _check_png(path, min_w=300, min_h=150):
    assert path.exists()
    assert path.read_bytes()[:8] == PNG_MAGIC
    size = path.stat().st_size
    assert 2_000 < size < 300_000, size
    img = imread(path)
    h, w = img.shape[:2]
    assert w >= min_w and h >= min_h, img.shape
    assert img.shape[2] in (3, 4)
    return img


# ---------------------------------------------------------------------------------------------
# fixtures: small synthetic data


@pytest.fixture
def display_cube():
    rng = np.random.default_rng(0)
    hues = np.arange(24) / 24
    sats = np.linspace(0, 1, 4)
    vals = np.linspace(0, 1, 8)
    s, v, h = np.meshgrid(sats, vals, hues, indexing="ij")
    true = hsv_to_rgb(np.stack([h, s, v], axis=-1))  # [S, V, H, 3]
    recon = np.clip(true + rng.normal(0, 0.03, true.shape), 0, 1)
    return true, recon, hues, sats, vals


@pytest.fixture
def loss_cube():
    rng = np.random.default_rng(1)
    hues = np.arange(24) / 24  # smaller than the real 240 x 48 x 48 cube, same layout
    sats = np.linspace(0, 1, 12)
    vals = np.linspace(0, 1, 12)
    mse = rng.random((24, 12, 12)) * 1e-3
    return mse, hues, sats, vals


@pytest.fixture
def latents():
    rng = np.random.default_rng(2)
    lat = rng.normal(size=(500, 4))
    lat /= np.linalg.norm(lat, axis=1, keepdims=True)
    true = rng.random((500, 3))
    recon = np.clip(true + rng.normal(0, 0.05, true.shape), 0, 1)
    return lat, recon, true


# ---------------------------------------------------------------------------------------------
# 1. color slices


def test_color_slices_writes_png(tmp_path, display_cube):
    true, recon, h, s, v = display_cube
    out = plot_color_slices(true, recon, h, s, v, "slices", tmp_path / "sub" / "slices.png")
    assert out == tmp_path / "sub" / "slices.png"
    img = _check_png(out, min_w=1000)
    assert img.shape[1] > 3 * img.shape[0]  # four panels side by side


def test_color_slices_shows_true_red_inside_recon(tmp_path, display_cube):
    # recon all green, true pure red at (s=1, v=1, h=0): both colors appear in the picture
    true, _, h, s, v = display_cube
    recon = np.zeros_like(true)
    recon[..., 1] = 1.0
    img = _check_png(plot_color_slices(true, recon, h, s, v, "t", tmp_path / "a.png"))
    rgb = img[..., :3]
    is_red = (rgb[..., 0] > 0.95) & (rgb[..., 1] < 0.05) & (rgb[..., 2] < 0.05)
    is_green = (rgb[..., 1] > 0.95) & (rgb[..., 0] < 0.05) & (rgb[..., 2] < 0.05)
    assert is_red.sum() > 10
    assert is_green.sum() > 10 * is_red.sum()  # outer squares are much larger than inner


def test_color_slices_validation(tmp_path, display_cube):
    true, recon, h, s, v = display_cube
    with pytest.raises(ValueError, match=r"recon_rgb must have shape \[S, V, H, 3\]"):
        plot_color_slices(true, recon[:, :, :5], h, s, v, "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match="true_rgb must have 4 dimensions"):
        plot_color_slices(true[0], recon, h, s, v, "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match="true_rgb must have shape"):
        plot_color_slices(true, recon, h[:-1], s, v, "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match="values must be a non-empty 1-D array"):
        plot_color_slices(true, recon, h, s, np.zeros((2, 4)), "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match=r"path must end in \.png"):
        plot_color_slices(true, recon, h, s, v, "t", tmp_path / "a.jpg")
    with pytest.raises(TypeError, match="title must be a str"):
        plot_color_slices(true, recon, h, s, v, None, tmp_path / "a.png")
    assert not (tmp_path / "a.png").exists()


# ---------------------------------------------------------------------------------------------
# 2. error by color


def test_error_by_color_writes_png(tmp_path, loss_cube):
    mse, h, s, v = loss_cube
    out = plot_error_by_color(mse, h, s, v, "error", tmp_path / "error.png")
    img = _check_png(out, min_w=1000)
    assert img.shape[1] > 2.5 * img.shape[0]  # three panels in a row


def test_error_by_color_tolerates_nan_and_zeros(tmp_path, loss_cube):
    mse, h, s, v = loss_cube
    mse = np.zeros_like(mse)
    mse[3, :, :] = np.nan
    _check_png(plot_error_by_color(mse, h, s, v, "zeros", tmp_path / "z.png"), min_w=1000)


def test_error_by_color_validation(tmp_path, loss_cube):
    mse, h, s, v = loss_cube
    with pytest.raises(ValueError, match=r"mse must have shape \[H, S, V\]"):
        plot_error_by_color(mse.transpose(1, 0, 2), h, s, v, "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match="mse must have 3 dimensions"):
        plot_error_by_color(mse[0], h, s, v, "t", tmp_path / "a.png")
    with pytest.raises(ValueError, match="hues must be finite"):
        plot_error_by_color(mse, np.full_like(h, np.nan), s, v, "t", tmp_path / "a.png")
    with pytest.raises(TypeError, match="title must be a str"):
        plot_error_by_color(mse, h, s, v, 3, tmp_path / "a.png")


# ---------------------------------------------------------------------------------------------
# 3. latent spheres


def test_latent_spheres_writes_png(tmp_path, latents):
    lat, recon, true = latents
    e0 = np.array([1.0, 0, 0, 0])
    out = plot_latent_spheres(
        lat,
        recon,
        true,
        "spheres",
        str(tmp_path / "spheres.png"),
        cones=[
            (e0, np.pi / 2, "dashed"),
            (e0, np.arccos(0.5), "solid"),
            (np.array([0, 0, 0, 1.0]), 0.3, "solid"),
        ],  # ~0 in panel 1: skipped
    )
    img = _check_png(out, min_w=900)
    assert img.shape[1] > 2 * img.shape[0]


def test_latent_spheres_custom_dims(tmp_path, latents):
    lat, recon, true = latents
    out = plot_latent_spheres(lat, recon, true, "one", tmp_path / "one.png", dims=[(0, 1, 2)])
    _check_png(out, min_w=300)


def test_latent_spheres_validation(tmp_path, latents):
    lat, recon, true = latents
    p = tmp_path / "a.png"
    with pytest.raises(ValueError, match=r"recon_rgb must have shape \[N, 3\]"):
        plot_latent_spheres(lat, recon[:-1], true, "t", p)
    with pytest.raises(ValueError, match=r"true_rgb must have shape \[N, 3\]"):
        plot_latent_spheres(lat, recon, true[:, :2], "t", p)
    with pytest.raises(ValueError, match="latents must have 2 dimensions"):
        plot_latent_spheres(lat[0], recon, true, "t", p)
    with pytest.raises(ValueError, match="3 distinct latent indices"):
        plot_latent_spheres(lat, recon, true, "t", p, dims=[(0, 1, 4)])
    with pytest.raises(ValueError, match="3 distinct latent indices"):
        plot_latent_spheres(lat, recon, true, "t", p, dims=[(0, 1, 1)])
    with pytest.raises(ValueError, match=r"cones\[0\] concept vector must have shape \(4,\)"):
        plot_latent_spheres(lat, recon, true, "t", p, cones=[(np.ones(3), 1.0, "solid")])
    with pytest.raises(ValueError, match=r"cones\[0\] style must be 'dashed' or 'solid'"):
        plot_latent_spheres(lat, recon, true, "t", p, cones=[(np.ones(4), 1.0, "dotted")])
    with pytest.raises(ValueError, match=r"cones\[0\] must be \(concept_vector"):
        plot_latent_spheres(lat, recon, true, "t", p, cones=[(np.ones(4), 1.0)])
    with pytest.raises(TypeError, match="title must be a str"):
        plot_latent_spheres(lat, recon, true, b"t", p)
    assert not p.exists()


def test_cone_circle_geometry():
    rng = np.random.default_rng(3)
    c = rng.normal(size=3)
    pts = _cone_circle(c, 0.7)
    c = c / np.linalg.norm(c)
    np.testing.assert_allclose(np.linalg.norm(pts, axis=1), 1.0, atol=1e-12)
    np.testing.assert_allclose(pts @ c, np.cos(0.7), atol=1e-12)
    assert _cone_circle(np.zeros(3), 0.7) is None
    # e0 at 90 degrees, viewed with z = e2: the front part is the half with z >= 0
    front, back = _split_front_back(_cone_circle(np.array([1.0, 0, 0]), np.pi / 2))
    assert np.isnan(front[:, 0]).any() and np.isnan(back[:, 0]).any()
    np.testing.assert_allclose(np.nan_to_num(front[:, 0]), 0.0, atol=1e-12)  # x = 0 on circle


@pytest.mark.slow
def test_module_does_not_import_torch():
    code = "import sys, excolor.plots; assert 'torch' not in sys.modules; print('ok')"
    src = str(Path(__file__).resolve().parents[1] / "src")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([src, os.environ.get("PYTHONPATH", "")])}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and "ok" in r.stdout, r.stderr


@pytest.mark.parametrize(
    ("grid_keys", "lines", "title"),
    [
        ([], None, "Population: 8 members, 2 seeds"),
        (["a"], 1, "grid over a"),
        (["a", "b"], 2, "grid over a, b"),
        (["a", "b", "c"], 2, "grid over a, b (pooled over c)"),
    ],
)
def test_population_figure_draws_a_line_per_value_of_a_second_grid_key(tmp_path, grid_keys, lines, title):
    """Members on a 2 × 2 × 1 grid × 2 seeds: the first key is x, the second one line per value."""
    from excolor.plots import population as population_plot

    rows = [
        {"seed": seed, "a": a, "b": b, "c": 1.0, "train/recon": 0.01 * a + b + seed * 1e-3}
        for a in (1.0, 2.0)
        for b in (0.1, 0.2)
        for seed in (0, 1)
    ]
    seen = []

    def record(fig, path):  # what the figure holds, before save clears it
        seen.append((fig._suptitle.get_text(), len(fig.axes[0].get_lines())))
        return original(fig, path)

    original = population_plot.save
    population_plot.save = record
    try:
        path = population_plot.plot_population(rows, grid_keys, tmp_path / "population.png")
    finally:
        population_plot.save = original
    _check_png(path, min_w=200)
    ((suptitle, drawn),) = seen
    assert title in suptitle
    assert lines is None or drawn == lines  # without a grid: a box plot
