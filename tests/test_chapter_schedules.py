"""The chapter's dopesheets (spec m2-family §2–§13 tables, §1.3 rules, §15.8 "resolved dopesheet steps"):
each CSV under conf/schedule/ resolves to the spec's keyframe steps, run length and keyframe values."""

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

import excolor.config
from excolor.schedule import load_schedule

SCHEDULES = excolor.config.CONF_DIR / "schedule"
ORIGINAL_STEPS = [
    0,
    10,
    100,
    500,
    700,
    1000,
    2800,
    3000,
]  # 2.3's table: +0.1, +0.5, +0.7 of 1000; +0.9 of 2000
RERUN_STEPS = [0, 10, 375, 750, 1125, 1425, 1500]

# experiment: (resolved row steps, {step: {column: value}}) — the spec's resolved tables
SPEC = {
    "2.4": (
        ORIGINAL_STEPS,
        {
            0: {"lr": 1e-8, "reg-separate": 0.01, "reg-anchor": 0.01, "reg-unit": 0.01, "reg-planar": 0.01},
            10: {"lr": 0.01},
            1000: {"lr": 0.1, "reg-separate": 0.01, "reg-anchor": 0.04, "reg-unit": 0.1, "reg-planar": 0.1},
            2800: {"reg-separate": 0, "reg-anchor": 0, "reg-unit": 0, "reg-planar": 0},
            3000: {"lr": 0.05},
        },
    ),
    "2.5": (
        ORIGINAL_STEPS,
        {
            0: {"lr": 1e-8, "reg-separate": 0.01, "reg-anchor": 0.01, "reg-unit": 0.01},
            1000: {"lr": 0.1, "reg-separate": 0.01, "reg-anchor": 0.04, "reg-unit": 0.1},
            2800: {"reg-separate": 0, "reg-anchor": 0, "reg-unit": 0},
            3000: {"lr": 0.05},
        },
    ),
    "2.8": (
        [0, 10, 500, 1000, 2800, 3000],
        {
            0: {
                "lr": 1e-8,
                "reg-separate": 0.01,
                "reg-anchor": 0.02,
                "reg-anti-anchor": 0.01,
                "reg-unit": 0.01,
            },
            1000: {
                "lr": 0.1,
                "reg-separate": 0.01,
                "reg-anchor": 0.05,
                "reg-anti-anchor": 0.1,
                "reg-unit": 0.1,
            },
            2800: {"reg-separate": 0, "reg-anchor": 0, "reg-anti-anchor": 0, "reg-unit": 0},
            3000: {"lr": 0.05},
        },
    ),
    "2.9": (
        [0, 10, 500, 1000, 2800, 3000],
        {
            0: {
                "reg-separate": 0.01,
                "reg-anchor": 0.02,
                "reg-planar-v": 0.01,
                "reg-planar-d": 0.001,
                "reg-anti-anchor": 0.002,
                "reg-unit": 0.01,
            },
            1000: {
                "lr": 0.1,
                "reg-separate": 0.01,
                "reg-anchor": 0.05,
                "reg-planar-v": 0.01,
                "reg-planar-d": 0.01,
                "reg-anti-anchor": 0.01,
                "reg-unit": 0.1,
            },
            2800: {"reg-planar-d": 0, "reg-anti-anchor": 0},
            3000: {"lr": 0.05},
        },
    ),
    "2.10": (
        [0, 10, 375, 750, 1425, 1500],
        {
            0: {"lr": 1e-8, "reg-separate": 0.01, "reg-anchor": 0, "reg-anti-subspace": 0.25},
            10: {"lr": 0.01},
            375: {"reg-anti-subspace": 0.1},
            750: {"lr": 0.1, "reg-separate": 0.01, "reg-anchor": 0.15, "reg-anti-subspace": 0.03},
            1425: {"lr": 0.1, "reg-separate": 0, "reg-anchor": 0, "reg-anti-subspace": 0},
            1500: {"lr": 0.05},
        },
    ),
    "2.4.1": (
        RERUN_STEPS,
        {
            0: {"lr": 1e-8, "separate": 0.01, "anchor": 0.01, "subspace": 0.01},
            10: {"lr": 0.01},
            375: {"subspace": 0.1},
            750: {"lr": 0.1, "separate": 0.01, "anchor": 0.1},
            1125: {"subspace": 0.1},
            1425: {"lr": 0.1, "separate": 0, "anchor": 0, "subspace": 0},
            1500: {"lr": 0.05},
        },
    ),
    "2.5.1": (
        RERUN_STEPS,
        {
            0: {"lr": 1e-8, "separate": 0.015, "anchor": 0.01},
            750: {"lr": 0.1, "separate": 0.015, "anchor": 0.1},
            1425: {"separate": 0, "anchor": 0},
            1500: {"lr": 0.05},
        },
    ),
    "2.7.1": (
        RERUN_STEPS,
        {
            0: {"lr": 1e-8, "separate": 0.01, "subspace": 0.01},
            375: {"subspace": 0.1},
            750: {"lr": 0.1, "separate": 0.01},
            1125: {"subspace": 0.1},
            1425: {"separate": 0, "subspace": 0},
            1500: {"lr": 0.05},
        },
    ),
    "2.9.1": (
        [0, 10, 248, 750, 1425, 1500],
        {
            0: {"lr": 1e-8, "separate": 0.01, "anchor": 0, "anti-anchor": 0, "anti-subspace": 0.25},
            248: {"separate": 0.01, "anchor": 0.1, "anti-anchor": 0.05},
            750: {"lr": 0.1, "separate": 0.001, "anchor": 0.1, "anti-subspace": 0.003},
            1425: {"separate": 0, "anchor": 0, "anti-anchor": 0, "anti-subspace": 0},
            1500: {"lr": 0.05},
        },
    ),
    "2.10.1": (
        [0, 10, 248, 495, 750, 1125, 1425, 1500],
        {
            0: {"lr": 1e-8, "separate": 0.01, "anchor": 0, "anti-subspace": 0.25},
            248: {"separate": 0.01, "anchor": 0.1},
            750: {"lr": 0.1, "separate": 0.001, "anchor": 0.12, "anti-subspace": 0.005},
            1425: {"separate": 0, "anchor": 0, "anti-subspace": 0},
            1500: {"lr": 0.05},
        },
    ),
}
SPEC["2.6"] = SPEC["2.7"] = SPEC["2.4"]  # "identical to 2.4's" (spec §4, §5)


def load(experiment):
    return instantiate(OmegaConf.load(SCHEDULES / f"ex{experiment}.yaml"))


@pytest.mark.parametrize("experiment", sorted(SPEC))
def test_resolves_to_the_spec_table(experiment):
    steps, keys = SPEC[experiment]
    schedule = load(experiment)
    assert schedule.steps == steps
    assert len(schedule) == steps[-1] + 1 == (3001 if steps[-1] == 3000 else 1501)
    for step, values in keys.items():
        for column, value in values.items():
            assert schedule[column][step] == pytest.approx(value, abs=1e-15), (experiment, step, column)


def test_copies_match():
    """2.6 and 2.7 reuse 2.4's table verbatim (and 2.4's values are 2.3's)."""
    text = (SCHEDULES / "ex-2.4-dopesheet.csv").read_text()
    assert (
        (SCHEDULES / "ex-2.6-dopesheet.csv").read_text()
        == text
        == (SCHEDULES / "ex-2.7-dopesheet.csv").read_text()
    )
    assert load_schedule(str(SCHEDULES / "ex-2.3-dopesheet.csv")).values.keys() == load("2.4").values.keys()


def test_anchor_zero_only_at_step_zero_in_2_9_1_and_2_10_1():
    """Spec §13: the anchor weight is 0 only at step 0, so labels count on steps 1–1424 in both re-runs."""
    for experiment in ("2.9.1", "2.10.1"):
        anchor = load(experiment)["anchor"]
        assert anchor[0] == 0 and (anchor[1:1425] > 0).all() and (anchor[1425:] == 0).all()


def test_fractions_round_half_to_even():
    """+0.33 between 0 and 750 is round(247.5) = 248; +0.66 is 495; +0.5 between 750 and 1500 is 1125."""
    assert 248 in load("2.9.1").steps and {248, 495, 1125} <= set(load("2.10.1").steps)
