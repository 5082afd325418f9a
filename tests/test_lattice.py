"""The RGB-lattice pipeline (spec m2-family §1.4 Pipeline C, §15.2, §15.8 structure checks)."""

import numpy as np
import pytest
import torch
from hydra.utils import instantiate
from omegaconf import OmegaConf

import excolor.config
from excolor.data import ContinuousBatches, PopulationBatches
from excolor.errors import ConfigError
from excolor.labels import LabelCounter
from excolor.lattice import LatticeBatches, ValidationSet, cell_centres, lattice, val_check_interval
from excolor.metrics import LABELS_TOTAL

CONF = excolor.config.CONF_DIR / "data" / "rgb_lattice.yaml"
RED_B = {"red": {"alpha": 0.08, "k": 8}}


def from_conf(seed=0):
    cfg = OmegaConf.load(CONF)
    cfg.seed = seed
    return instantiate(cfg)


def test_training_lattice():
    rgb = lattice(8)
    assert rgb.shape == (512, 3)
    assert sorted(set(rgb[:, 0].tolist())) == pytest.approx([k / 7 for k in range(8)])
    assert {tuple(c) for c in lattice(2).tolist()} <= {tuple(c) for c in rgb.tolist()}  # corners included


def test_validation_colours():
    rgb = cell_centres(8)
    assert rgb.shape == (351, 3)
    # centres linspace(1/16, 15/16, 7): 1/16, 1/16 + 7/48, …; then the 8 corners last
    assert sorted(set(rgb[:343, 0].tolist())) == pytest.approx([1 / 16 + k * 7 / 48 for k in range(7)])
    assert rgb[343:].tolist() == lattice(2).tolist()
    assert len({tuple(c) for c in rgb.tolist()}) == 351


def test_conf_builds_the_rerun_pipeline():
    data = from_conf()
    assert isinstance(data, LatticeBatches)
    assert len(data) == 8 and data.label_names == ["red"]
    batches = list(data)
    assert [len(x) for x, _ in batches] == [64] * 8
    val = data.validation
    assert len(val.colors) == 351 and val.batch_sizes() == [64] * 5 + [31]
    # exact labels: only pure red, which sits among the corners in the last batch
    assert val.labels.sum() == 1 and val.colors[val.labels[:, 0] == 1].tolist() == [[1.0, 0.0, 0.0]]
    assert val.labels[320:, 0].sum() == 1


def test_uniform_sampling_and_label_rates():
    data = LatticeBatches(labels={"red": {"alpha": 1.0, "k": 1}}, seed=3)
    colors, labels = zip(*(data.draw_epoch() for _ in range(200)))
    colors, labels = torch.cat(colors), torch.cat(labels)
    index = (colors * 7).round().long() @ torch.tensor([64, 8, 1])
    counts = torch.bincount(index, minlength=512).double()
    # 102,400 uniform draws over 512 cells: each expects 200 (sd √(200 · 511/512) ≈ 14.1)
    assert counts.min() > 200 - 6 * 14.1 and counts.max() < 200 + 6 * 14.1
    # label rate = mean redness of what was drawn (p = ρ), within 5 binomial sd
    rho = (colors[:, 0] * (1 - colors[:, 1] / 2 - colors[:, 2] / 2)).double()
    sd = torch.sqrt((rho * (1 - rho)).sum())
    assert abs(labels[:, 0].double().sum() - rho.sum()) < 5 * sd


def test_same_seed_same_stream_and_population_stacking():
    a, b = LatticeBatches(labels=RED_B, seed=5), LatticeBatches(labels=RED_B, seed=5)
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
    streams = [LatticeBatches(labels=RED_B, seed=s) for s in (5, 6)]
    alone = list(LatticeBatches(labels=RED_B, seed=6))
    stacked = list(PopulationBatches(streams, [0, 1, 1]))
    assert stacked[0][0].shape == (3, 64, 3)
    for (x, y), (x1, y1) in zip(stacked, alone):
        assert torch.equal(x[2], x1) and torch.equal(y[1], y1)


def test_n_total_and_expected_red_count():
    """§15.8: labels/n_total = 1501 × 64 = 96,064 exactly; mean labels/n/red over seeds ≈ 82.0 with the
    anchor active on steps 0–1424 (0.08ρ⁸ has lattice mean 8.99e-4; per-run sd ≈ √82 ≈ 9)."""
    totals, reds = [], []
    for seed in range(24):
        counter = LabelCounter(["red"])
        for step, (_, y) in enumerate(ContinuousBatches(LatticeBatches(labels=RED_B, seed=seed), 1501)):
            counter.update(y, [step < 1425])
        metrics = counter.metrics()[0]
        totals.append(metrics[LABELS_TOTAL])
        reds.append(metrics["labels/n/red"])
    assert set(totals) == {96064}
    assert np.mean(reds) == pytest.approx(82.0, abs=4 * 9.06 / np.sqrt(24))


def test_val_check_interval():
    assert val_check_interval(1501) == 150
    assert val_check_interval(3001) == 300
    assert val_check_interval(5) == 1


def test_epoch_mean_weights_by_batch_size():
    """val_<term> = Σ_j B_j v_j / Σ_j B_j; with a label-weighted term only the last batch (31 colours)
    holds pure red, so a term that is 1 − cos(z_red, e0) there gives (31/351)(1 − cos)."""
    val = ValidationSet(labels=RED_B)

    def term(z, y):  # label-weighted mean of z[..., 0] over the labelled rows: Σ y z / (Σ y + 1e-8)
        w = y[..., 0]
        return (w * z[..., 0]).sum(-1) / (w.sum(-1) + 1e-8)

    z = torch.zeros(351, 2, dtype=torch.float64)
    red_row = int(torch.nonzero(val.labels[:, 0]).item())
    z[red_row, 0] = 0.7
    assert val.epoch_mean(term, z).item() == pytest.approx(31 / 351 * 0.7)
    # a population keeps its member axis; an unweighted mean term equals the plain mean
    stacked = torch.stack([z, 2 * z])
    assert val.epoch_mean(term, stacked).tolist() == pytest.approx([31 / 351 * 0.7, 31 / 351 * 1.4])
    values = torch.arange(351, dtype=torch.float64).reshape(351, 1)
    assert val.epoch_mean(lambda z, y: z[..., 0].mean(-1), values).item() == pytest.approx(175.0)
    with pytest.raises(ValueError):
        val.epoch_mean(term, z[:10])


def test_bad_settings():
    for kwargs, key in [
        ({"subdivisions": 1}, "subdivisions"),
        ({"batch_size": 0}, "batch_size"),
        ({"labels": {"green": {}}}, "unknown label"),
        ({"labels": RED_B, "validation_labels": ["vibrant"]}, "validation_labels"),
    ]:
        with pytest.raises(ConfigError, match=key):
            LatticeBatches(**kwargs)


def test_ex_2_10_pipeline():
    """Pipeline B: 1,000 training colours in 16 batches; 64 validation colours in batches of 1, so a
    label-weighted term that is 1 − cos(z_red, e0) on pure red gives (1/64)(1 − cos) (spec §8)."""
    cfg = OmegaConf.load(excolor.config.CONF_DIR / "data" / "rgb_lattice_10.yaml")
    cfg.seed = 0
    data = instantiate(cfg)
    assert len(data.colors) == 1000 and len(data) == 16
    assert [len(x) for x, _ in data][-1] == 1000 - 15 * 64
    val = data.validation
    assert len(val.colors) == 64 and val.batch_sizes() == [1] * 64 and val.labels.sum() == 1
    z = torch.zeros(64, 1, dtype=torch.float64)
    z[val.labels[:, 0] == 1] = 0.3

    def term(z, y):
        return (y[..., 0] * z[..., 0]).sum(-1) / (y[..., 0].sum(-1) + 1e-8)

    assert val.epoch_mean(term, z).item() == pytest.approx(0.3 / 64)
    with pytest.raises(ConfigError, match="validation_at"):
        LatticeBatches(labels=RED_B, validation_at="edges")
