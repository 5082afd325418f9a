"""Evaluation: targeting score, focus, per-color error, and re-evaluating a saved run."""

import json
import os

import numpy as np
import pytest
import torch

from excolor.evaluation import Evaluator, focus_metrics, loss_cube, per_color_error, targeting_scores
from excolor.model import ColorAutoencoder
from inprocess import run_module


def targeting_score(error: np.ndarray, similarity: np.ndarray) -> float:
    """`targeting_scores` of one member (one row)."""
    return float(targeting_scores(np.asarray(error, float).reshape(1, -1), similarity)[0])


def test_targeting_score_is_one_when_error_equals_similarity_squared():
    similarity = np.linspace(0, 1, 50)
    assert targeting_score(similarity**2, similarity) == pytest.approx(1.0)
    # any positive affine map of sim² correlates perfectly too
    assert targeting_score(3 * similarity**2 + 0.1, similarity) == pytest.approx(1.0)


def test_targeting_score_near_zero_for_error_independent_of_color():
    rng = np.random.default_rng(0)
    similarity = rng.uniform(0, 1, 512)
    error = rng.uniform(0, 1, 512)
    assert targeting_score(error, similarity) < 0.02


def test_targeting_score_is_zero_not_nan_for_constant_error():
    assert targeting_score(np.full(10, 0.3), np.linspace(0, 1, 10)) == 0.0


def test_targeting_score_by_hand():
    # error (0, 1, 0) against sim² (0, 1, 1): means 1/3, 2/3; deviations (-1/3, 2/3, -1/3), (-2/3, 1/3, 1/3)
    # cov ∝ 2/9 - ... = (2/9 + 2/9 - 1/9) = 3/9; var_e ∝ 6/9, var_s ∝ 6/9 → r = (3/9)/(6/9) = 0.5, r² = 0.25
    assert targeting_score(np.array([0.0, 1.0, 0.0]), np.array([0.0, 1.0, 1.0])) == pytest.approx(0.25)


def test_focus_by_hand():
    metrics = {
        "eval/none/red_mean_mse": 0.01,
        "eval/none/other_mean_mse": 0.001,
        "eval/x/red_mean_mse": 0.31,
        "eval/x/other_mean_mse": 0.101,
        "eval/x/score": 0.8,
    }
    # excess red 0.3, excess other 0.1 → collateral 0.25, focus 0.8 · 0.75 = 0.6
    result = focus_metrics(metrics, "x")
    assert result["eval/x/collateral"] == pytest.approx(0.25)
    assert result["eval/x/focus"] == pytest.approx(0.6)


def test_loss_cube_shape():
    hsv, rgb = loss_cube()
    assert hsv.shape == (240, 48, 48, 3) and rgb.reshape(-1, 3).shape[0] == 552_960


def test_a_smaller_loss_cube_keeps_its_corners():
    """[24, 12, 12]: hues k/24, saturations and values linspace(0, 1, 12); pure red (0, 1, 1) and black are in it."""
    hsv, rgb = loss_cube((24, 12, 12))
    assert hsv.shape == rgb.shape == (24, 12, 12, 3)
    assert hsv[1, 0, 0, 0] == 1 / 24 and hsv[0, 1, 0, 1] == 1 / 11 and hsv[0, 0, -1, 2] == 1.0
    np.testing.assert_array_equal(rgb[0, -1, -1], [1.0, 0.0, 0.0])
    np.testing.assert_array_equal(rgb[5, 3, 0], [0.0, 0.0, 0.0])


def test_the_evaluator_scores_the_configured_loss_cube():
    """Every loss-cube statistic is taken over the colors of the configured cube."""
    torch.manual_seed(0)
    model = ColorAutoencoder().eval()
    cube = (24, 12, 12)
    (metrics,), error = Evaluator(model, cube=cube).metrics("none", [])
    colors = torch.tensor(loss_cube(cube)[1].reshape(-1, 3), dtype=torch.float32)
    with torch.inference_mode():
        expected = per_color_error(model, colors).numpy()
    assert error.shape == (1, 24 * 12 * 12)
    np.testing.assert_allclose(error[0], expected, rtol=1e-6, atol=1e-9)
    assert metrics["eval/none/max_mse"] == pytest.approx(float(expected.max()), rel=1e-6)
    assert metrics["eval/none/mean_mse"] == pytest.approx(float(expected.mean()), rel=1e-5)
    assert metrics["eval/none/median_mse"] == pytest.approx(
        float(np.sort(expected)[(len(expected) - 1) // 2]), rel=1e-6
    )


def test_per_color_error_is_mean_over_channels():
    identity_plus = torch.nn.Identity()
    colors = torch.tensor([[0.0, 0.0, 0.0], [1.0, 0.5, 0.0]])
    assert torch.equal(per_color_error(identity_plus, colors), torch.zeros(2))
    shifted = lambda x: x + torch.tensor([0.3, 0.0, 0.0])  # noqa: E731
    assert per_color_error(shifted, colors) == pytest.approx(torch.full((2,), 0.09 / 3))


def test_evaluator_on_an_identity_like_model_has_no_error():
    class Perfect(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.bottleneck = torch.nn.Identity()
            self.dummy = torch.nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return self.bottleneck(x)

    (metrics,), error = Evaluator(Perfect()).metrics("none", [])
    assert metrics["eval/none/max_mse"] == 0.0 and metrics["eval/none/score"] == 0.0
    assert error.shape == (1, 552_960)


@pytest.mark.slow
def test_reevaluation_reproduces_training_metrics(tmp_path):
    """`excolor.evaluate` on a finished run gives the metrics training wrote; other settings evaluate the
    same model differently, and only what was asked for (the entry points run in this process)."""
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache")}
    run = tmp_path / "run"
    common = ["logger=none", "callbacks=none", "evaluation.plots=false"]
    done = run_module("excolor.train", "trainer.max_steps=60", f"hydra.run.dir={run}", *common, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    trained = json.loads((run / "metrics.json").read_text())
    again_dir = run / "evaluations" / "again"
    done = run_module(
        "excolor.evaluate", f"run={run}", "evaluation.plots=false", f"hydra.run.dir={again_dir}", env=env
    )
    assert done.returncode == 0, done.stderr[-3000:]
    again = json.loads((again_dir / "metrics.json").read_text())
    for key, value in trained.items():
        if (
            key.startswith("eval/") or key == "val/recon"
        ) and key != "eval/seconds":  # eval/seconds: wall clock
            assert again[key] == pytest.approx(value, rel=1e-6), key
    out = run / "evaluations" / "weak"
    done = run_module(
        "excolor.evaluate",
        f"run={run}",
        "intervention=repulsion",
        "intervention.repulsion.mapper.b=0.9",
        "evaluation.plots=false",
        f"hydra.run.dir={out}",
        env=env,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    weak = json.loads((out / "metrics.json").read_text())
    assert "eval/suppression/max_mse" not in weak
    assert weak["eval/none/median_mse"] == pytest.approx(trained["eval/none/median_mse"], rel=1e-6)
    assert weak["eval/repulsion/max_mse"] != trained["eval/repulsion/max_mse"]


@pytest.mark.slow
def test_reevaluation_of_a_missing_or_corrupt_checkpoint_fails_clearly(tmp_path):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text("concept: [1, 0, 0, 0]\n")
    argv = [f"run={run}", f"hydra.run.dir={tmp_path / 'out'}"]
    missing = run_module("excolor.evaluate", *argv)
    assert missing.returncode != 0
    assert "excolor: error: no checkpoint at" in missing.stderr
    (run / "model.ckpt").write_bytes(b"not a checkpoint")
    corrupt = run_module("excolor.evaluate", *argv)
    assert corrupt.returncode != 0
    assert "excolor: error: cannot read checkpoint" in corrupt.stderr
    assert len(corrupt.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "out" / "metrics.json").exists()


def hooked_metrics(model, layer, interventions, evaluator, red):
    """The evaluation as it was before the split path: the whole model per setting, the interventions hooked
    on `layer`, the whole cube in one pass; returns the loss-cube error and each member's metrics."""
    from excolor.evaluation import targeting_scores
    from excolor.interventions import intervene

    with torch.inference_mode(), intervene(model, layer, interventions):
        error = per_color_error(model, evaluator.loss_colors).reshape(-1, len(evaluator.loss_colors))
        val_error = per_color_error(model, evaluator.val_colors).reshape(len(error), -1)
    columns = {
        "max_mse": error.max(-1).values,
        "median_mse": error.median(-1).values,
        "mean_mse": error.mean(-1),
        "red_mean_mse": error[:, red].mean(-1),
        "other_mean_mse": error[:, ~red].mean(-1),
        "val_recon": val_error.mean(-1),
        "score": torch.from_numpy(targeting_scores(val_error.numpy(), evaluator.val_similarity)),
    }
    return error, [{key: float(column[m]) for key, column in columns.items()} for m in range(len(error))]


@pytest.mark.parametrize("layer", ["bottleneck", "encoder"])
@pytest.mark.parametrize("members", [1, 3])
def test_split_evaluation_equals_the_hooked_one_bit_for_bit(layer, members, monkeypatch):
    """The encoder runs once per chunk and every setting's interventions act on its latent: every member's
    per-color error and metrics are exactly those of the whole model run per setting with the interventions
    hooked on the layer (as evaluation did before). On every 7th color of the cube, to keep the test short."""
    from excolor.interventions import BezierMapper, BoundedFalloff, Repulsion, Suppression
    from excolor.model import ColorAutoencoder
    from excolor.population_model import PopulationAutoencoder

    torch.manual_seed(4)
    model = PopulationAutoencoder.from_members([ColorAutoencoder() for _ in range(members)])
    settings = {
        "none": [],
        "suppression": [Suppression([1, 0, 0, 0], BoundedFalloff(0.2, 0.9, 2))],
        "repulsion": [Repulsion([0, 1, 0, 0], BezierMapper(0.1, 0.5))],
        "both": [Suppression([1, 0, 0, 0]), Repulsion([0.5, 0.5, 0, 0])],
    }
    monkeypatch.setattr(Evaluator, "CHUNK", 2**11)
    evaluator = Evaluator(model, layer)
    red = torch.zeros(len(evaluator.loss_colors), dtype=torch.bool)
    red[evaluator.red_index] = True
    evaluator.loss_colors, red = evaluator.loss_colors[::7], red[::7]
    evaluator.red_index, evaluator.other_index = torch.nonzero(red)[:, 0], torch.nonzero(~red)[:, 0]
    assert (
        len(evaluator.loss_colors) // evaluator.chunk >= 38
    )  # the colors really are evaluated in many chunks
    results = evaluator.evaluate(settings)
    for name, interventions in settings.items():
        expected_error, expected = hooked_metrics(model, layer, interventions, evaluator, red)
        members_metrics, error = results[name]
        assert np.array_equal(error, expected_error.numpy()), name
        for got, want in zip(members_metrics, expected):
            assert got == {f"eval/{name}/{key}": value for key, value in want.items()}, name


def test_chunks_are_cache_sized_on_the_cpu_and_launch_sized_elsewhere():
    """On the CPU a chunk holds members × colors ≤ CHUNK (cache); on another device ≤ DEVICE_CHUNK, so
    a population of 1,024 on a GPU is not evaluated 16 colors at a time (kernel launches dominate)."""
    from excolor.model import ColorAutoencoder
    from excolor.population_model import PopulationAutoencoder

    model = PopulationAutoencoder.from_members([ColorAutoencoder() for _ in range(4)])
    assert Evaluator(model).chunk == Evaluator.CHUNK // 4
    assert Evaluator(model.to("meta")).chunk == Evaluator.DEVICE_CHUNK // 4


def test_lower_median_is_torch_medians_value_by_hand():
    """The median metric by selection: the middle value, the lower middle one for an even count (as
    torch.median), NaN for a row with a NaN; equal to torch.median on a loss-cube-sized row."""
    from excolor.evaluation import lower_median

    rows = np.array([[4.0, 1.0, 3.0, 2.0], [5.0, 7.0, 6.0, 8.0], [1.0, np.nan, 0.0, 2.0]], np.float32)
    np.testing.assert_array_equal(lower_median(rows), [2.0, 6.0, np.nan])
    assert lower_median(np.array([[3.0, 1.0, 2.0]], np.float32)).tolist() == [2.0]
    torch.manual_seed(0)
    errors = torch.rand(3, 552_960) ** 4
    np.testing.assert_array_equal(lower_median(errors.numpy()), errors.median(-1).values.numpy())


def test_only_the_colors_an_intervention_changes_are_decoded_again(monkeypatch):
    """With the baseline among the settings, a suppression (which leaves every color at or behind 90° from
    the concept alone) decodes fewer colors than the chunk holds, and its errors are still exactly those
    of decoding every color."""
    from excolor.interventions import Suppression
    from excolor.model import ColorAutoencoder

    torch.manual_seed(1)
    model = ColorAutoencoder().eval()
    monkeypatch.setattr(Evaluator, "CHUNK", 2**12)
    evaluator = Evaluator(model)
    colors = evaluator.loss_colors[::97]
    with torch.no_grad():  # a concept that half the colors' latents face and half turn away from
        latents = model.latent(colors, "bottleneck")
        concept = (latents[0] - latents[-1]).tolist()
    suppression = [Suppression(concept)]
    decoded = []
    reconstruct = model.reconstruct
    monkeypatch.setattr(
        model, "reconstruct", lambda z, layer: decoded.append(z.shape[-2]) or reconstruct(z, layer)
    )
    with torch.inference_mode():
        together = evaluator.errors(colors, {"none": [], "suppression": suppression})
        full_passes = len(decoded)
        alone = evaluator.errors(colors, {"suppression": suppression})  # no baseline: every color decoded
    assert sum(decoded[:full_passes]) < 2 * len(colors)  # the baseline's pass and fewer colors than another
    assert sum(decoded[full_passes:]) == len(colors)
    assert torch.equal(together["suppression"], alone["suppression"])
    assert not torch.equal(together["suppression"], together["none"])
