"""Dopesheet schedules: expected values are worked out by hand from the spec."""

from pathlib import Path

import numpy as np
import pytest

from excolor.errors import ConfigError
from excolor.schedule import Schedule, linear, load_schedule, min_jerk, step

CONF = Path(__file__).resolve().parents[1] / "conf" / "schedule"


def write(tmp_path, text, name="s.csv"):
    p = tmp_path / name
    p.write_text(text)
    return p


# --- curves -----------------------------------------------------------------


def test_min_jerk_values():
    assert min_jerk(0.0) == 0.0
    assert min_jerk(0.5) == 0.5
    assert min_jerk(1.0) == 1.0
    # 10/64 - 15/256 + 6/1024 = (160 - 60 + 6)/1024
    assert min_jerk(0.25) == pytest.approx(106 / 1024, abs=1e-15)
    assert pytest.approx(10 / 64 - 15 / 256 + 6 / 1024) == 106 / 1024


def test_linear_and_step_curves():
    tau = np.array([0.0, 0.3, 0.999, 1.0])
    np.testing.assert_array_equal(linear(tau), tau)
    np.testing.assert_array_equal(step(tau), [0.0, 0.0, 0.0, 1.0])


# --- the real dopesheets -----------------------------------------------------


def test_ex23_resolves():
    s = load_schedule(CONF / "ex-2.3-dopesheet.csv")
    assert isinstance(s, Schedule)
    assert s.steps == [0, 10, 100, 500, 700, 1000, 2800, 3000]
    assert len(s) == 3001
    assert s.names == ["lr", "reg-separate", "reg-anchor", "reg-unit", "reg-planar"]
    assert s.phases == [(0, "Train")]
    lr = s["lr"]
    assert lr.shape == (3001,) and lr.dtype == np.float64
    assert lr[0] == 1e-8
    assert lr[10] == 0.01
    assert lr[1000] == 0.1
    assert lr[3000] == 0.05
    assert lr[5] == pytest.approx(1e-8 + (0.01 - 1e-8) * 0.5, rel=1e-12)
    assert lr[5] == pytest.approx(1e-8 + (0.01 - 1e-8) * min_jerk(0.5), rel=1e-12)
    unit = s["reg-unit"]
    assert unit[1000] == 0.1
    assert np.all(unit[2800:] == 0.0) and unit[2800:].size == 201
    assert unit[1900] == pytest.approx(0.1 + (0 - 0.1) * 0.5, rel=1e-12)
    assert s["reg-unit"][1900] == pytest.approx(0.05)


def test_ex22_resolves():
    s = load_schedule(CONF / "ex-2.2-dopesheet.csv")
    assert s.steps == [0, 10, 1000, 5000, 7000, 10000, 15000, 20000]
    assert len(s) == 20001
    # reg-polar's first keyframe is at 10000: held before it; reg-unit-v has one keyframe
    assert np.all(s["reg-polar"][:10001] == 6e-3)
    assert np.all(s["reg-polar"][15000:] == 2e-4)
    assert np.all(s["reg-unit-v"] == 0.02)
    assert s["lr"][20000] == 0.005


def test_values_are_read_only():
    s = load_schedule(CONF / "ex-2.3-dopesheet.csv")
    with pytest.raises(ValueError):
        s["lr"][0] = 1.0


def test_hydra_target(tmp_path):
    hydra_utils = pytest.importorskip("hydra.utils")
    s = hydra_utils.instantiate(
        {"_target_": "excolor.schedule.load_schedule", "path": str(CONF / "ex-2.3-dopesheet.csv")}
    )
    assert len(s) == 3001


# --- synthetic dopesheets -----------------------------------------------------


def test_minus_n_rows(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr\n0,1\n-10,2\n100,3\n"))
    assert s.steps == [0, 90, 100]
    assert len(s) == 101
    assert s["lr"][90] == 2.0


def test_fraction_rows_round_to_nearest(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr\n0,1\n+0.26,2\n10,3\n"))
    assert s.steps == [0, 3, 10]  # 2.6 -> 3
    s = load_schedule(write(tmp_path, "STEP,lr\n1000,1\n+0.9,2\n3000,3\n"))
    assert s.steps == [1000, 2800, 3000]
    assert s["lr"][2800] == 2.0


def test_relative_rows_use_absolute_rows_only(tmp_path):
    # +60 counts from the absolute row 0, not from the relative row at 50
    s = load_schedule(write(tmp_path, "STEP,lr\n0,1\n+0.5,\n+60,\n100,2\n"))
    assert s.steps == [0, 50, 60, 100]


def test_log_interpolation(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr:log\n0,1e-4\n10,1e-2\n"))
    assert s.names == ["lr"]
    assert s["lr"][5] == pytest.approx(1e-3, rel=1e-12)
    # mj(0.2) = 0.2**3 * (10 - 3 + 0.24) = 0.05792
    assert s["lr"][2] == pytest.approx(1e-4 * 100**0.05792, rel=1e-12)
    assert s["lr"][0] == 1e-4 and s["lr"][10] == 1e-2


def test_log_linear(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr:log::linear\n0,1e-4\n10,1e-2\n"))
    assert s["lr"][5] == pytest.approx(1e-3, rel=1e-12)
    assert s["lr"][2] == pytest.approx(1e-4 * 10**0.4, rel=1e-12)


def test_linear_curve(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr,w::linear\n0,1,0\n10,1,1\n"))
    assert s.names == ["lr", "w"]
    assert s["w"][3] == pytest.approx(0.3, abs=1e-15)
    assert s["w"][7] == pytest.approx(0.7, abs=1e-15)


def test_step_curve(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr::step\n0,1\n10,2\n20,5\n"))
    np.testing.assert_array_equal(s["lr"][:10], np.ones(10))
    np.testing.assert_array_equal(s["lr"][10:20], np.full(10, 2.0))
    assert s["lr"][20] == 5.0


def test_hold_before_first_and_after_last(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,lr,w\n0,1,\n10,,3\n20,,7\n30,2,\n"))
    np.testing.assert_array_equal(s["w"][:11], np.full(11, 3.0))
    np.testing.assert_array_equal(s["w"][20:], np.full(11, 7.0))
    assert s["w"][15] == pytest.approx(5.0)  # 3 + (7 - 3) * mj(0.5)
    assert s["lr"][15] == pytest.approx(1.5)  # midpoint of 0..30


def test_phases_and_at(tmp_path):
    s = load_schedule(write(tmp_path, "STEP,PHASE,ACTION,lr\n0,Warm,,1\n+5,,,\n100,Train,save,2\n"))
    assert s.phases == [(0, "Warm"), (100, "Train")]
    assert s.names == ["lr"] and len(s) == 101 and s["lr"][100] == 2.0


# --- validation ---------------------------------------------------------------


def test_missing_file(tmp_path):
    p = tmp_path / "nope.csv"
    with pytest.raises(ConfigError, match=r"schedule\.path=.*nope\.csv.*not found"):
        load_schedule(p)


@pytest.mark.parametrize(
    "text, match",
    [
        ("lr\n1\n", r"schedule\.path=.*no STEP column"),
        ("STEP,w\n0,1\n", r"schedule\.path=.*no 'lr' column"),
        ("STEP,lr\n0,1\n10,abc\n", r"line 3 column 'lr': 'abc' is not a finite number"),
        ("STEP,lr\n0,1\nten,2\n", r"line 3 STEP 'ten'"),
        ("STEP,lr\n0,1\n+1.5,2\n10,3\n", r"STEP '\+1\.5'"),
        ("STEP,lr\n0,1\n1e3,2\n", r"STEP '1e3'"),
        ("STEP,lr\n+10,1\n100,2\n", r"STEP '\+10': no absolute STEP row before"),
        ("STEP,lr\n0,1\n-10,2\n", r"STEP '-10': no absolute STEP row after"),
        ("STEP,lr\n0,1\n+0.5,2\n", r"STEP '\+0\.5': a fraction needs"),
        ("STEP,lr\n0,1\n+10,2\n+5,3\n", r"STEP '\+5' resolves to 5.*strictly increase"),
        ("STEP,lr\n10,1\n5,2\n", r"STEP '5' resolves to 5"),
        ("STEP,lr:log\n0,1\n10,0\n", r"column 'lr:log': '0' must be > 0"),
        ("STEP,lr::cubic\n0,1\n", r"column 'lr::cubic': unknown curve 'cubic'"),
        ("STEP,lr,lr:log\n0,1,1\n", r"quantity 'lr' appears twice"),
    ],
)
def test_errors(tmp_path, text, match):
    p = write(tmp_path, text)
    with pytest.raises(ConfigError, match=match) as e:
        load_schedule(p)
    assert str(e.value).startswith(f"schedule.path={p}: ")
    assert "\n" not in str(e.value)


def test_empty_column_dropped_with_warning(tmp_path):
    with pytest.warns(UserWarning, match=r"column 'reg-x' has no keyframe"):
        s = load_schedule(write(tmp_path, "STEP,lr,reg-x\n0,1,\n10,2,\n"))
    assert s.names == ["lr"]
