"""Counter-based draws (excolor.counter_draws) and the device-side data stream built on them, plus the
exactness of the step's device-side values (term weights, Planarity's index) against the old formulas."""

from __future__ import annotations

import pytest
import torch
from omegaconf import OmegaConf

from excolor.config import CONF_DIR
from excolor.counter_draws import (
    MASK32,
    _mul32,
    fmix32,
    fmix32_int,
    member_key,
    uniforms,
)
from excolor.data import ContinuousBatches, DeviceDraws
from excolor.module import AutoencoderModule
from excolor.population import Population
from excolor.regularizers import Planarity, Unitarity
from excolor.schedule import load_schedule

EDGE = [0, 1, 2, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xDEADBEEF, MASK32]


def test_mul32_is_the_product_mod_2_32_without_overflow():
    x = torch.tensor(EDGE)
    for constant in (0x85EBCA6B, 0xC2B2AE35, 1, MASK32):
        assert _mul32(x, constant).tolist() == [(v * constant) % 2**32 for v in EDGE]


def test_fmix32_by_hand_and_against_the_integer_formula():
    # x = 1: x ^= x >> 16 → 1; x·0x85EBCA6B = 0x85EBCA6B; x ^= x >> 13 → 0x85EBCA6B ^ 0x42F5E = 0x85EFE535;
    # x·0xC2B2AE35 mod 2³² and x ^= x >> 16 finish it.
    stage = 0x85EFE535 * 0xC2B2AE35 % 2**32
    assert fmix32_int(1) == stage ^ (stage >> 16)
    assert fmix32_int(0) == 0  # the finaliser fixes 0: why counters are xor-ed with GOLDEN first
    generator = torch.Generator().manual_seed(0)
    values = EDGE + torch.randint(0, 2**32, (1000,), generator=generator, dtype=torch.long).tolist()
    assert fmix32(torch.tensor(values)).tolist() == [fmix32_int(v) for v in values]


def test_uniforms_are_keyed_per_member_and_uniform():
    keys = torch.tensor([member_key(seed) for seed in (0, 1, 2**40 + 7)])
    u = uniforms(keys, torch.arange(100_000))
    assert u.shape == (3, 100_000) and u.dtype == torch.float32
    assert u.min() >= 0 and u.max() < 1
    # each row alone is the same as in a bigger batch (no dependence on N or position)
    assert torch.equal(uniforms(keys[1:2], torch.arange(100_000))[0], u[1])
    # mean 1/2, variance 1/12 within ~5 standard errors; rows differ; 24-bit grid
    assert torch.allclose(
        u.double().mean(1),
        torch.full((3,), 0.5, dtype=torch.float64),
        atol=5 * (1 / 12) ** 0.5 / 100_000**0.5,
    )
    assert torch.allclose(u.double().var(1), torch.full((3,), 1 / 12, dtype=torch.float64), rtol=0.02)
    assert not torch.equal(u[0], u[1]) and torch.equal(u * 2**24, (u * 2**24).floor())
    assert member_key(5) != member_key(5, stream=1) and member_key(5) == member_key(5 + 2**64)


def data_config(seed: int = 0):
    config = OmegaConf.load(CONF_DIR / "data" / "hsv_cube.yaml")
    config.seed = seed
    return config


def test_device_draws_follow_the_weights_and_label_probabilities():
    """Drawn on the CPU here (the same ops run on any device): colors ∝ w(s, v), zero-weight colors
    never, labels at their probability; member m's epoch depends on its seed only."""
    data = Population(size=4, seed=0).build_data(data_config())
    stream = data.streams[0]
    draws = DeviceDraws(stream, [0, 1, 2, 3], torch.device("cpu"))
    n = len(stream.colors)
    counts = torch.zeros(n, dtype=torch.float64)
    hits, expected = torch.zeros(2, dtype=torch.float64), torch.zeros(2, dtype=torch.float64)
    for _ in range(10):
        index, labels = draws.draw_indices()
        assert index.shape == (4, n) and labels.shape == (4, n, 2)
        index = index.reshape(-1)
        counts += torch.bincount(index, minlength=n)
        hits += labels.reshape(-1, 2).sum(0).double()
        expected += stream.label_probability[index].sum(0).double()
    p = stream.weights / stream.weights.sum()
    assert counts[p == 0].sum() == 0
    total = counts.sum()
    chi2 = (((counts - total * p) ** 2) / (total * p).clamp_min(1e-12))[p > 0].sum()
    dof = int((p > 0).sum()) - 1
    assert chi2 < dof + 6 * (2 * dof) ** 0.5, (chi2, dof)
    assert torch.allclose(hits, expected, rtol=0.05)
    # the same seeds in another population (other size, other order): the same epochs
    alone = DeviceDraws(stream, [2, 0], torch.device("cpu"))
    first = DeviceDraws(stream, [0, 1, 2, 3], torch.device("cpu")).draw_epoch()
    colors, labels = alone.draw_epoch()
    assert colors.shape == (2, n, 3) and labels.shape == (2, n, 2)
    assert torch.equal(colors[0], first[0][2]) and torch.equal(colors[1], first[0][0])
    assert torch.equal(labels[0], first[1][2])
    # the next epoch is new
    assert not torch.equal(alone.draw_epoch()[0][0], colors[0])


def test_a_population_uses_device_draws_only_off_the_cpu():
    data = Population(size=2, seed=0).build_data(data_config())
    colors, _ = data.epoch("cpu")
    generator_colors, _ = Population(size=2, seed=0).build_data(data_config()).streams[0].draw_epoch()
    assert torch.equal(colors[0], generator_colors)  # the CPU: each seed's generator, unchanged
    assert data._device_draws is None
    config = data_config()
    config.device_draws = False
    off = Population(size=2, seed=0).build_data(config)
    assert off.device_draws is False


def test_continuous_batches_on_a_device_are_the_epochs_split():
    data = Population(size=2, seed=3).build_data(data_config(3))
    again = Population(size=2, seed=3).build_data(data_config(3))
    batches = list(ContinuousBatches(data, 60, device="cpu"))
    reference = list(ContinuousBatches(again, 60))
    assert len(batches) == 60 and [b[0].shape[1] for b in batches[55:58]] == [64, 16, 64]
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1]) for a, b in zip(batches, reference))


def test_device_draws_config_must_be_a_bool():
    from excolor.data import ColorBatches
    from excolor.errors import ConfigError

    with pytest.raises(ConfigError, match="data.device_draws=1"):
        ColorBatches(device_draws=1)


# ----------------------------------------------------------------------------- exactness of the step's values


def test_planarity_index_equals_the_boolean_mask_bit_for_bit():
    torch.manual_seed(0)
    for plane, width in (((0, 1), 4), ((2,), 5), ((3, 0), 6)):
        term = Planarity(plane=plane, column="reg-planar")
        term.check_width(width)
        z = torch.randn(3, 64, width, requires_grad=True)
        mask = torch.ones(width, dtype=torch.bool)
        mask[list(plane)] = False
        reference = (z[..., mask] ** 2).sum(-1)
        (grad_reference,) = torch.autograd.grad(reference.sum(), z)
        got = term.per_sample(z)
        (grad,) = torch.autograd.grad(got.sum(), z)
        assert torch.equal(got, reference) and torch.equal(grad, grad_reference)
    # hand-worked: z = (1, 2, 3, 4), plane (0, 1) → 3² + 4² = 25
    assert Planarity(column="c").per_sample(torch.tensor([[1.0, 2.0, 3.0, 4.0]])).tolist() == [25.0]


def test_term_weights_are_the_scheduled_products_bit_for_bit():
    schedule = load_schedule(str(CONF_DIR / "schedule" / "ex-2.3-dopesheet.csv"))
    unit, planar = Unitarity(column="reg-unit"), Planarity(column="reg-planar")
    unit.set_member_weights([0.1, 1.0, 3.0])
    planar.set_member_weights([0.7, 0.7, 0.7])
    population = Population(size=3, seed=0)
    module = AutoencoderModule(
        population.build_model(OmegaConf.create({"_target_": "excolor.model.ColorAutoencoder"})),
        {"unit": unit, "planar": planar},
        schedule,
        3001,
    )
    assert module._term_weights.shape == (3001, 2, 3) and module._term_weights.dtype == torch.float32
    for step in (0, 5, 1000, 2950, 3000):
        for index, (name, term) in enumerate((("unit", unit), ("planar", planar))):
            old = (
                schedule[term.column].tolist()[step] * term.member_weights
            ).float()  # the old step's formula
            assert torch.equal(module._term_weights[step, index], old), (name, step)
    # hand-worked: reg-unit is 0.1 at step 1000, so member 2 (× 3) weighs 0.3 in float32
    assert module._term_weights[1000, 0, 2].item() == torch.tensor(0.1 * 3.0).float().item()
