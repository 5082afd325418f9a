"""The chapter's experiment presets (conf/experiment/ex2.*): each composes and passes the run checks
with the spec's pieces (§14), the structure checks of spec §15.8 hold (label counts, run length,
validations, 351 validation colours), and a short run of each writes its metrics."""

import functools
import json
from pathlib import Path

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

import excolor.config
from excolor.data import ContinuousBatches
from excolor.lattice import val_check_interval
from excolor.validation import check_run_config
from inprocess import run_module
from smoke import SMOKE_CUBE

CONF = excolor.config.CONF_DIR
ROOT = Path(__file__).resolve().parents[1]
# experiment: (data option, regularizer set, schedule length, chapter option, scoring variant)
EXPERIMENTS = {
    "ex2.4": ("hsv_cube", "ex2.4", 3001, None, None),
    "ex2.5": ("hsv_cube", "ex2.5", 3001, None, None),
    "ex2.6": ("hsv_cube", "ex2.4", 3001, "ablate_prune_0", None),
    "ex2.7": ("hsv_cube", "ex2.4", 3001, "ablate_01", None),
    "ex2.8": ("hsv_cube_desaturated", "ex2.8", 3001, "ablate_0", None),
    "ex2.4.1": ("rgb_lattice_red_vibrant", "ex2.4.1", 1501, "ex2.4.1", "suppression"),
    "ex2.5.1": ("rgb_lattice", "ex2.5.1", 1501, "ex2.5.1", "suppression"),
    "ex2.7.1": ("rgb_lattice_vibrant", "ex2.7.1", 1501, "ex2.7.1", "ablated"),
    "ex2.9": ("hsv_cube_desaturated", "ex2.9", 3001, "ablate_0", None),
    "ex2.10": ("rgb_lattice_10", "ex2.10", 1501, "ablate_0", None),
    "ex2.9.1": ("rgb_lattice", "ex2.9.1", 1501, "ex2.9.1", "ablated"),
    "ex2.10.1": ("rgb_lattice", "ex2.10.1", 1501, "ex2.10.1", "ablated"),
}
# Ex 2.9 and 2.10 and their re-runs: K = 5 and two nonlinearities per side (spec §7, §8, §12, §13).
TWO_LAYER = ("ex2.9", "ex2.10", "ex2.9.1", "ex2.10.1")
# Spec §1.5 / §15.8: the mean label probability over the 8³ lattice, and the count it predicts over the
# steps where the label's regularizer has a non-zero weight (1,425 of 1,501 in the re-runs), 64 a step.
LABEL_MEANS = {
    "ex2.4.1": {"red": (8.99e-4, 82.0), "vibrant": (1.19e-3, 108.5)},
    "ex2.5.1": {"red": (8.99e-4, 82.0)},
    "ex2.7.1": {"vibrant": (1.10e-3, 100.1)},
}


def composed(experiment, *overrides):
    with initialize_config_dir(config_dir=str(CONF), **excolor.config.VERSION_BASE):
        return compose("train", overrides=[f"experiment={experiment}", "logger=none", *overrides])


@functools.cache
def composed_options(group: str) -> tuple[tuple[str, object], ...]:
    """Each option of `group` with the node a composition choosing it holds (composed once per module)."""
    found = []
    for path in sorted((CONF / group).glob("*.yaml")):
        with initialize_config_dir(config_dir=str(CONF), **excolor.config.VERSION_BASE):
            other = compose("train", overrides=[f"{group}={path.stem}"])
        found.append((path.stem, OmegaConf.to_container(other[group], resolve=False)))
    return tuple(found)


def option(cfg, group):
    """The option of `group` a composed config holds, by comparing it with each option's composed node."""
    node = OmegaConf.to_container(cfg[group], resolve=False)
    return next((stem for stem, other in composed_options(group) if other == node), None)


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_experiment_composes_and_validates(experiment):
    data, regularizers, length, chapter, score_variant = EXPERIMENTS[experiment]
    cfg = composed(experiment)
    checked = check_run_config(cfg)
    width, layers = (5, 2) if experiment in TWO_LAYER else (4, 1)
    assert cfg.tag == experiment and cfg.model.bottleneck == width and len(cfg.concept) == width
    assert cfg.model.get("nonlinear_layers", 1) == layers
    assert len(checked["schedule"]) == length and checked["steps"] == length
    assert Path(cfg.schedule.path).name == f"ex-{experiment.removeprefix('ex')}-dopesheet.csv"
    assert option(cfg, "data") == data and option(cfg, "regularizers") == regularizers
    assert (option(cfg, "chapter") if chapter else cfg.get("chapter")) == chapter
    if score_variant is not None:
        assert cfg.chapter.score_variant == score_variant and checked["objective"] == ["score"]


@pytest.mark.parametrize("experiment", sorted(LABEL_MEANS))
def test_rerun_structure(experiment):
    """Spec §15.8: 1,501 × 64 = 96,064 samples; validation every 150 steps (the last after step 1,500)
    on 351 colours in batches 5 × 64 + 31 with the corners last; the expected label counts."""
    cfg = composed(experiment)
    schedule = check_run_config(cfg)["schedule"]
    data = instantiate(cfg.data)
    validation = data.validation
    assert len(validation.colors) == 351 and validation.batch_sizes() == [64] * 5 + [31]
    assert validation.colors[-8:].tolist() == [[r, g, b] for r in (0, 1) for g in (0, 1) for b in (0, 1)]
    assert val_check_interval(len(schedule)) == 150
    samples = sum(len(x) for x, _ in ContinuousBatches(data, len(schedule)))
    assert samples == 96064
    regularizers = instantiate(cfg.regularizers)
    for label, (mean, count) in LABEL_MEANS[experiment].items():
        p = data.label_probability[:, data.label_names.index(label)].double().numpy()
        assert p.mean() == pytest.approx(mean, rel=5e-3)
        readers = [r for r in regularizers.values() if r.label_affinities.get(label)]
        active = np.zeros(len(schedule), bool)
        for reader in readers:
            active |= schedule[reader.column] != 0
        assert active.sum() == 1425
        assert active.sum() * 64 * p.mean() == pytest.approx(count, abs=0.2)
    # the validated labels are exact: pure red only, or the six vibrant corners
    expected = {"red": 1, "vibrant": 6}
    assert {n: int(validation.labels[:, i].sum()) for i, n in enumerate(validation.label_names)} == {
        n: expected[n] for n in validation.label_names
    }


def short_run(tmp_path, experiment: str, *overrides: str):
    """`python -m excolor.train experiment=<experiment> <overrides>` in this process, without logger,
    callbacks or cache, into `tmp_path`."""
    return run_module(
        "excolor.train",
        f"experiment={experiment}",
        *overrides,
        "logger=none",
        "callbacks=none",
        "cache.enabled=false",
        SMOKE_CUBE,
        f"hydra.run.dir={tmp_path}",
        cwd=tmp_path,
    )


@pytest.mark.slow
@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_short_run_writes_its_metrics(experiment, tmp_path):
    """`python -m excolor.train experiment=…` (in this process) for 60 steps, two members: the chapter's
    metrics land in metrics.json and members.csv (the score and the Pareto flag for the re-runs), and
    each regularizer's training term in members.csv."""
    done = short_run(
        tmp_path, experiment, "trainer.max_steps=60", "population.size=2", "evaluation.plots=false"
    )
    assert done.returncode == 0, done.stderr[-2000:]
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    header = (tmp_path / "members.csv").read_text().splitlines()[0].split(",")
    _, regularizers, _, chapter, score_variant = EXPERIMENTS[experiment]
    terms = OmegaConf.load(CONF / "regularizers" / f"{regularizers}.yaml")
    assert {f"train/{term}" for term in terms} <= set(header), header
    if score_variant is not None:
        assert 0 <= metrics["score"] <= 1 and {"score", "chapter/pareto", "val/recon"} <= set(header)
        assert metrics["chapter/best_seed"] in (0, 1) and 1 <= metrics["chapter/pareto_size"] <= 2
        assert "## Named colours" in (tmp_path / "chapter.md").read_text()
    elif chapter is not None:
        assert metrics["plan/ablated/max_mse"] >= metrics["plan/ablated/median_mse"] > 0
    else:
        assert metrics["eval/suppression/max_mse"] > 0 and metrics["eval/repulsion/max_mse"] > 0


@pytest.mark.slow
def test_every_variant_is_drawn_for_the_best_member(tmp_path):
    """With plots on, the chapter draws each variant's figures for the best member: Ex 2.6's baseline,
    ablated and pruned (the pruned model's latent has 3 dimensions: no latent spheres for it)."""
    done = short_run(tmp_path, "ex2.6", "trainer.max_steps=20")
    assert done.returncode == 0, done.stderr[-2000:]
    drawn = {path.name for path in tmp_path.glob("*-plan-*.png")}
    expected = {
        f"{kind}-plan-{variant}.png"
        for kind in ("colors", "error")
        for variant in ("baseline", "ablated", "pruned")
    }
    assert drawn == expected | {"latents-plan-baseline.png", "latents-plan-ablated.png"}
    assert all((tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for name in drawn)
