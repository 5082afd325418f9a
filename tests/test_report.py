import json
import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from excolor import report, run_record
from excolor.report.analysis import analyse
from excolor.report.format import fmt_num
from excolor.report.result import (
    ArmResult,
    Band,
    DoseEffect,
    DoseRow,
    HypothesisResult,
    MetricSummary,
    MetricVerdict,
    SweepResult,
)
from excolor.report.spec import parse_spec
from excolor.report.stats import Verdict
from excolor.report.sweep import load_sweep

# hand-chosen per-arm values (5 seeds each)
LINEAR_MSE = [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]
SIGMOID_MSE = [1e-3, 2e-3, 3e-3, 4e-3, 5e-3]
SCORE = [0.5, 0.6, 0.7, 0.8, 0.9]  # identical for every arm

REPORT_NODE = {
    "arms": ["model.output"],
    "metrics": ["eval/none/median_mse", "eval/suppression/score"],
    "hypotheses": [
        {
            "name": "H2",
            "claim": "dropping the output sigmoid improves reconstruction",
            "treatment": {"model.output": "linear"},
            "control": {"model.output": "sigmoid"},
            "metrics": {"eval/none/median_mse": "lower"},
        },
        {
            "name": "H3",
            "claim": "tanh is no different from sigmoid",
            "treatment": {"model.output": "tanh"},
            "control": {"model.output": "sigmoid"},
            "metrics": {"eval/none/median_mse": "lower"},
        },
        {
            "name": "H1",
            "claim": "linear output is better overall",
            "treatment": {"model.output": "linear"},
            "control": {"model.output": "sigmoid"},
            "metrics": {"eval/none/median_mse": "lower", "eval/suppression/score": "higher"},
        },
    ],
}


def _trial(sweep: Path, num: int, output: str, seed: int, metrics=None, failure=None):
    d = sweep / str(num)
    (d / ".hydra").mkdir(parents=True)
    cfg = {"seed": seed, "model": {"output": output, "normalize": True}, "train": {"steps": 100}}
    (d / ".hydra" / "config.yaml").write_text(yaml.safe_dump(cfg))
    (d / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump([f"model.output={output}", f"seed={seed}"]))
    if metrics is not None:
        (d / "metrics.json").write_text(json.dumps(metrics))
    if failure is not None:
        (d / "failure.json").write_text(json.dumps(failure))


def make_sweep(sweep: Path, report_node=REPORT_NODE, sweeper=None, objective=None) -> Path:
    sweep.mkdir(parents=True, exist_ok=True)
    mr = {
        "hydra": {
            "sweeper": sweeper or {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"},
            "sweep": {"dir": "multirun/${now:%Y-%m-%d}"},
        },
        "model": {"output": "sigmoid"},
        "seed": 0,
    }
    if report_node is not None:
        mr["report"] = report_node
    if objective is not None:
        mr["objective"] = objective
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(mr))
    num = 0
    for output, mse in (("linear", LINEAR_MSE), ("sigmoid", SIGMOID_MSE), ("tanh", SIGMOID_MSE)):
        for seed, (m, s) in enumerate(zip(mse, SCORE)):
            _trial(
                sweep,
                num,
                output,
                seed,
                metrics={
                    "train/seconds": 10.0 + seed,
                    "train/steps": 100,
                    "seed": seed,
                    "val/recon": m,
                    "eval/none/median_mse": m,
                    "eval/suppression/score": s,
                },
            )
            num += 1
    _trial(sweep, num, "linear", 5, failure={"error": "loss is NaN at step 17", "type": "FloatingPointError"})
    _trial(sweep, num + 1, "sigmoid", 5)  # incomplete: killed while running
    return sweep


def _arm(summary, name):
    return next(a for a in summary["arms"] if a["arm"] == name)


def test_report_numbers_and_verdicts(tmp_path):
    sweep = make_sweep(tmp_path / "sweep")
    path = report.build_report(sweep)
    assert path == sweep / "report.md"
    md = path.read_text()
    s = json.loads((sweep / "summary.json").read_text())

    assert s["counts"] == {"ok": 15, "failed": 1, "incomplete": 1, "total": 17, "members": 15}
    # compute: each arm 10+11+12+13+14 = 60 s; total 180 s
    assert s["compute"]["train_seconds"] == pytest.approx(180.0)
    lin = _arm(s, "output=linear")
    assert lin["compute"]["train_seconds"] == pytest.approx(60.0)
    assert lin["compute"]["mean_steps"] == pytest.approx(100.0)
    assert (lin["n_ok"], lin["n_failed"], lin["n_incomplete"]) == (5, 1, 0)
    assert _arm(s, "output=sigmoid")["n_incomplete"] == 1
    m = lin["metrics"]["eval/none/median_mse"]
    assert m["n"] == 5
    assert m["mean"] == pytest.approx(3e-4)
    # deviations (-2,-1,0,1,2)e-4 -> sum of squares 10e-8; sd = sqrt(10e-8 / 4)
    assert m["sd"] == pytest.approx(math.sqrt(10e-8 / 4))
    assert m["median"] == pytest.approx(3e-4)
    sig = _arm(s, "output=sigmoid")["metrics"]["eval/none/median_mse"]
    assert sig["mean"] == pytest.approx(3e-3) and sig["median"] == pytest.approx(3e-3)
    sc = lin["metrics"]["eval/suppression/score"]
    assert sc["mean"] == pytest.approx(0.7) and sc["sd"] == pytest.approx(math.sqrt(0.1 / 4))

    # Changed with populations: both arms hold seeds 0-4 (old runs: one member each), so H2 is paired
    # by seed. Every per-seed ratio is 0.1 (CI [0.1, 0.1]); all five log ratios are negative, so the
    # Wilcoxon p is 2/2^5 = 0.0625, the smallest five pairs can give -> inconclusive (it was
    # supported on an unpaired Mann–Whitney p = 2/252).
    hyp = {h["name"]: h for h in s["hypotheses"]}
    h2 = hyp["H2"]["metrics"][0]
    assert hyp["H2"]["paired"] and h2["paired"] and h2["test"] == "Wilcoxon signed-rank"
    assert h2["effect"] == pytest.approx(0.1) and (h2["lo"], h2["hi"]) == pytest.approx((0.1, 0.1))
    assert h2["p"] == pytest.approx(2 / 32) and h2["p_holm"] == pytest.approx(2 / 32)
    assert (h2["n_t"], h2["n_c"], h2["n_pairs"]) == (5, 5, 5)
    assert hyp["H2"]["outcome"] == "inconclusive"
    assert hyp["H3"]["outcome"] == "inconclusive"
    assert hyp["H1"]["outcome"] == "inconclusive"
    # Holm over H1's two metrics: sorted p 0.0625 (x 2) and 1 -> 0.125, 1
    assert [p["p_holm"] for p in hyp["H1"]["metrics"]] == pytest.approx([0.125, 1.0])

    # a CI that collapses to a point is said to be one (never evidence); a lone metric has no Holm p
    assert (
        "**H2** (dropping the output sigmoid improves reconstruction): inconclusive — "
        "eval/none/median_mse linear/sigmoid: median of per-seed ratios 0.100 [95% CI: a single point, 0.100; "
        "no evidence either way], Wilcoxon signed-rank p = 0.062 (n = 5 seeds, paired); "
        "diverged: 0 of 5 vs 0 of 5 members" in md
    )
    assert "Holm p = 0.12 (family H1: 2 tests) (n = 5 seeds, paired) → lower is better: inconclusive" in md
    assert "**H3** (tanh is no different from sigmoid): inconclusive" in md
    assert "Rule:" in md and md.count("Rule:") == 1
    # header, tables, formatting
    assert "ok 15, failed 1, incomplete 1" in md
    assert "3 min total" in md
    assert "| output=linear | 5 | 0.0003 ± 0.000158 | 0.0003 |" in md
    # failed and incomplete trials listed
    assert "`15/` `model.output=linear seed=5`: FloatingPointError: loss is NaN at step 17" in md
    assert "`16/`" in md
    assert (sweep / "metrics.png").stat().st_size > 1000
    assert "![metrics per arm](metrics.png)" in md
    assert "Optuna" not in md


def test_fmt_num():
    assert fmt_num(2.1e-05) == "2.1e-05"
    assert fmt_num(0.31234) == "0.312"
    assert fmt_num(float("nan")) == "—"


def test_fmt_estimate_keeps_the_story():
    from excolor.report.format import fmt_estimate

    assert fmt_estimate(1.047, 1.02, 1.44) == ("1.05", "1.02", "1.44")  # was "1 [1, 1.4]" at 2 digits
    # 3 digits would print the lower bound as the point: add digits until it differs
    assert fmt_estimate(1.0004, 1.0001, 1.2) == ("1.0004", "1.0001", "1.2000")
    assert fmt_estimate(0.1, 0.1, 0.1) == ("0.100", "0.100", "0.100")  # equal bounds stay equal
    assert fmt_estimate(0.1, 0.1 + 1e-17, 0.1) == (
        "0.100",
        "0.100",
        "0.100",
    )  # float rounding is not a difference
    assert fmt_estimate(2.81e-5, 2.3e-5, 3.5e-5) == ("2.81e-05", "2.30e-05", "3.50e-05")
    assert fmt_estimate(100.0, 95.0, 130.0) == ("100", "95.0", "130")
    assert fmt_estimate(float("nan"), 1.0, 2.0)[0] == "—"


def test_is_log_spaced():
    from excolor.report.dose import is_log_spaced

    assert is_log_spaced([0.01, 0.1, 1, 10, 100])
    assert is_log_spaced(list(np.logspace(-1, 1, 12)))  # 100x span, equal log steps
    assert is_log_spaced([1, 2, 4, 8])
    assert not is_log_spaced([1, 2, 3, 4])
    assert not is_log_spaced([0, 1, 10, 100])
    assert not is_log_spaced([1, 3])


def test_default_arms_from_overrides(tmp_path):
    sweep = make_sweep(tmp_path / "sweep", report_node=None)
    out = report.build_report(sweep, out_dir=tmp_path / "out")
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["arm_keys"] == ["model.output"]  # seed excluded
    assert {a["arm"] for a in s["arms"]} == {"output=linear", "output=sigmoid", "output=tanh"}
    assert "eval/none/median_mse" in s["metric_names"] and "seed" not in s["metric_names"]
    assert out == tmp_path / "out" / "report.md" and not (sweep / "report.md").exists()


def test_bad_report_node(tmp_path, capsys):
    node = {
        "hypotheses": [
            {"name": "H9", "treatment": {"a": 1}, "control": {"a": 2}, "metrics": {"m": "smaller"}}
        ]
    }
    sweep = make_sweep(tmp_path / "sweep", report_node=node)
    assert report.main([str(sweep)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "smaller" in err and "H9" in err


def test_cli_bad_path(tmp_path, capsys):
    assert report.main([str(tmp_path / "nope")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no such sweep dir" in err
    assert report.main(["sqlite:///" + str(tmp_path / "missing.db")]) == 2
    assert not (tmp_path / "missing.db").exists()


def _make_study(db: Path, name: str):
    optuna = pytest.importorskip("optuna")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        directions=["minimize", "minimize"],
        storage=f"sqlite:///{db}",
        study_name=name,
        sampler=optuna.samplers.RandomSampler(seed=0),
    )

    def objective(t):
        x = t.suggest_float("x", 1e-3, 1, log=True)
        k = t.suggest_int("k", 1, 4)
        return x * k, (1 - x) ** 2 + 0.01 * k

    study.optimize(objective, n_trials=6)
    return study


@pytest.mark.slow
def test_optuna_pareto(tmp_path, monkeypatch):
    sweep = tmp_path / "multirun" / "h4"
    sweep.mkdir(parents=True)
    study = _make_study(sweep / "optuna.db", "h4")
    make_sweep(
        sweep,
        sweeper={"storage": "sqlite:///optuna.db", "study_name": "h4", "direction": ["minimize", "minimize"]},
        objective=["val/recon", "eval/none/max_mse"],
    )
    monkeypatch.chdir(tmp_path)  # relative sqlite path is not relative to cwd -> resolved via sweep dir
    md = report.build_report(sweep).read_text()
    s = json.loads((sweep / "summary.json").read_text())
    assert "## Optuna study `h4`" in md
    assert "### Pareto front" in md
    assert "| trial | k | x | val/recon | eval/none/max_mse |" in md
    assert "COMPLETE 6, FAIL 0, RUNNING 0" in md
    assert "![params vs objectives](optuna.png)" in md
    assert sorted(s["optuna"]["best_numbers"]) == sorted(t.number for t in study.best_trials)
    assert (sweep / "optuna.png").stat().st_size > 1000


@pytest.mark.slow
def test_optuna_storage_url_cli(tmp_path, capsys):
    _make_study(tmp_path / "o.db", "h5")
    url = f"sqlite:///{tmp_path / 'o.db'}"
    assert report.main([url, "--study", "h5", "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "Pareto front" in md and (tmp_path / "rep" / "optuna.png").exists()
    assert report.main([url, "--study", "nope", "--out", str(tmp_path / "rep2")]) == 2
    assert "no study 'nope'" in capsys.readouterr().err


# --------------------------------------------------------------------------- populations


def _population_trial(
    sweep: Path,
    num: int,
    config: dict,
    overrides: list[str],
    rows: list[dict],
    seconds: float = 8.0,
    members_text: str | None = None,
) -> Path:
    """A population run dir: config, overrides, members.csv (rows, or raw text) and metrics.json
    holding each metric's median over the members, `population/size` and `train/seconds`."""
    d = sweep / str(num)
    (d / ".hydra").mkdir(parents=True)
    (d / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (d / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    columns = list(rows[0])
    if members_text is None:
        lines = [",".join(columns)] + [
            ",".join(repr(float(r[c])) if isinstance(r[c], float) else str(r[c]) for c in columns)
            for r in rows
        ]
        members_text = "\n".join(lines) + "\n"
    (d / "members.csv").write_text(members_text)
    metrics = {c: float(np.median([r[c] for r in rows])) for c in columns if "/" in c}
    metrics.update({"population/size": len(rows), "train/seconds": seconds, "train/steps": 100, "seed": 0})
    (d / "metrics.json").write_text(json.dumps(metrics))
    return d


def _multirun(sweep: Path, report_node: dict) -> None:
    sweep.mkdir(parents=True, exist_ok=True)
    (sweep / "multirun.yaml").write_text(
        yaml.safe_dump({"hydra": {"sweep": {"dir": str(sweep)}}, "report": report_node})
    )


def _config(output="linear", normalize=True, size=8, grid=None):
    population = {"size": size, "grid": grid or {}}
    return {
        "seed": 0,
        "model": {"output": output, "normalize": normalize},
        "regularizers": {"unit": {"weight": 1.0}},
        "population": population,
    }


SEEDS8 = list(range(8))


def _h2_population_sweep(sweep: Path, report_node: dict, linear_seeds=SEEDS8) -> Path:
    """linear vs sigmoid populations: linear MSE = (1 + seed) e-5, sigmoid = 3x that (+ a seed-odd
    wobble), score 0.8 vs 0.7 + seed/100."""
    _multirun(sweep, report_node)
    linear = [
        {
            "member": i,
            "seed": s,
            "eval/none/median_mse": (1 + s) * 1e-5,
            "eval/suppression/score": 0.8 + s / 100,
        }
        for i, s in enumerate(linear_seeds)
    ]
    sigmoid = [
        {
            "member": i,
            "seed": s,
            "eval/none/median_mse": (1 + s) * 3e-5 * (1.1 if s % 2 else 0.9),
            "eval/suppression/score": 0.7 + s / 100,
        }
        for i, s in enumerate(SEEDS8)
    ]
    _population_trial(sweep, 0, _config("linear"), ["model=linear", "population.size=8"], linear)
    _population_trial(sweep, 1, _config("sigmoid"), ["model=sigmoid", "population.size=8"], sigmoid)
    return sweep


H2_NODE = {
    "arms": ["model.output"],
    "metrics": ["eval/none/median_mse", "eval/suppression/score"],
    "hypotheses": [
        {
            "name": "H2",
            "treatment": {"model.output": "linear"},
            "control": {"model.output": "sigmoid"},
            "metrics": {"eval/none/median_mse": "lower", "eval/suppression/score": "higher"},
        }
    ],
}


def test_members_are_the_samples(tmp_path):
    sweep = _h2_population_sweep(tmp_path / "sweep", H2_NODE)
    md = report.build_report(sweep).read_text()
    s = json.loads((sweep / "summary.json").read_text())
    assert s["counts"] == {"ok": 2, "failed": 0, "incomplete": 0, "total": 2, "members": 16}
    lin = _arm(s, "output=linear")
    assert (lin["n_ok"], lin["n_members"]) == (1, 8)
    mse = lin["metrics"]["eval/none/median_mse"]
    # members' MSE (1..8)e-5: mean 4.5e-5, median 4.5e-5, quartiles at positions 1.75 and 5.25 -> 2.75e-5, 6.25e-5
    assert mse["n"] == 8 and mse["mean"] == pytest.approx(4.5e-5) and mse["median"] == pytest.approx(4.5e-5)
    assert (mse["q25"], mse["q75"]) == pytest.approx((2.75e-5, 6.25e-5))
    assert lin["compute"]["train_seconds"] == pytest.approx(8.0)
    assert lin["compute"]["seconds_per_member"] == pytest.approx(1.0)
    assert "| output=linear | 1 | 0 | 0 | 8 | 8 s | 1 s | 100 |" in md
    assert "| output=linear | 8 | 4.5e-05 ± 2.45e-05 | 4.5e-05 |" in md
    assert "- Samples: 16 population members" in md
    assert (sweep / "metrics.png").stat().st_size > 1000


def test_paired_verdict_with_holm(tmp_path):
    s_dir = _h2_population_sweep(tmp_path / "sweep", H2_NODE)
    md = report.build_report(s_dir).read_text()
    h2 = json.loads((s_dir / "summary.json").read_text())["hypotheses"][0]
    mse, score = h2["metrics"]
    assert h2["paired"] and h2["n_unmatched"] == 0
    # per-seed ratios 1/(3 * 0.9) = 0.370 (even seeds) and 1/(3 * 1.1) = 0.303 (odd): median of the
    # eight = (0.303 + 0.370)/2 = 0.337; every log ratio < 0 -> Wilcoxon p = 2/2^8 = 2/256
    assert mse["effect"] == pytest.approx((1 / 3.3 + 1 / 2.7) / 2)
    assert mse["p"] == pytest.approx(2 / 256) and (mse["n_pairs"], mse["n_t"]) == (8, 8)
    assert 1 / 3.3 - 1e-12 <= mse["lo"] < mse["effect"] < mse["hi"] <= 1 / 2.7 + 1e-12
    # score: per-seed ratios (0.8 + s/100)/(0.7 + s/100), all > 1 -> p = 2/256 as well;
    # Holm over the two metrics: both 2 * 2/256 = 0.0156 < 0.05
    assert score["p"] == pytest.approx(2 / 256)
    assert [mse["p_holm"], score["p_holm"]] == pytest.approx([4 / 256, 4 / 256])
    assert h2["outcome"] == "supported" and mse["outcome"] == score["outcome"] == "supported"
    assert "median of per-seed ratios 0.337 [95% BCa CI 0.303, 0.37" in md
    assert (
        "Wilcoxon signed-rank p = 0.0078, Holm p = 0.016 (family H2: 2 tests) (n = 8 seeds, paired) "
        "→ lower is better: supported"
    ) in md


def test_unpaired_when_seeds_differ(tmp_path):
    sweep = _h2_population_sweep(tmp_path / "sweep", H2_NODE, linear_seeds=list(range(100, 108)))
    md = report.build_report(sweep).read_text()
    assert "ratio of medians" in md and "(n = 8 vs 8 seeds; unpaired: no shared seeds)" in md
    h2 = json.loads((sweep / "summary.json").read_text())["hypotheses"][0]
    mse = h2["metrics"][0]
    assert not h2["paired"] and h2["why_unpaired"] == "no shared seeds"
    assert mse["test"] == "Mann–Whitney" and (mse["n_t"], mse["n_c"]) == (8, 8)
    # linear (101..108)e-5 all above every sigmoid value (<= 26.4e-5) -> fully separated: p = 2/C(16, 8)
    assert mse["p"] == pytest.approx(2 / math.comb(16, 8))
    assert mse["outcome"] == "not supported"


WEIGHTS = [0.01, 0.1, 1.0, 10.0, 100.0]
SEEDS10 = list(range(10))


def _normalize_factor(weight: float, seed: int) -> float:
    """normalize=true vs false: half the error at weights <= 0.1, double at 100 (each × (1 + seed/1000), so the
    per-seed ratios are not all one number), ±1% (by seed parity) between."""
    if weight <= 0.1:
        return 0.5 * (1 + seed / 1000)
    if weight >= 100:
        return 2.0 * (1 + seed / 1000)
    return 1.01 if seed % 2 else 0.99


def _dose_sweep(sweep: Path, report_node: dict) -> Path:
    """h1_dose-like: normalize=true/false, each a population over WEIGHTS x SEEDS10."""
    _multirun(sweep, report_node)
    grid = {"regularizers.unit.weight": WEIGHTS}
    for num, normalize in enumerate((True, False)):
        rows = []
        for weight in WEIGHTS:
            for seed in SEEDS10:
                base = (1 + seed / 10) * 1e-5 * (1 + math.log10(weight) ** 2)
                mse = base * (_normalize_factor(weight, seed) if normalize else 1.0)
                rows.append(
                    {
                        "member": len(rows),
                        "seed": seed,
                        "regularizers.unit.weight": weight,
                        "eval/none/median_mse": mse,
                        "eval/suppression/score": 0.8 - 0.01 * seed,
                    }
                )
        _population_trial(
            sweep,
            num,
            _config(normalize=normalize, size=10, grid=grid),
            [f"model.normalize={str(normalize).lower()}", "population.size=10"],
            rows,
            seconds=50.0,
        )
    return sweep


DOSE_NODE = {
    "arms": ["model.normalize"],
    "metrics": ["eval/none/median_mse", "eval/suppression/score"],
    "dose": "regularizers.unit.weight",
    "hypotheses": [
        {
            "name": "H1",
            "treatment": {"model.normalize": True},
            "control": {"model.normalize": False},
            "metrics": {"eval/none/median_mse": "lower"},
        }
    ],
}


def test_grid_key_arm(tmp_path):
    node = {
        "arms": ["regularizers.unit.weight"],
        "metrics": ["eval/none/median_mse"],
        "hypotheses": [
            {
                "name": "pooled",
                "treatment": {"regularizers.unit.weight": 0.1},
                "control": {"regularizers.unit.weight": 1.0},
                "metrics": {"eval/none/median_mse": "lower"},
            },
            {
                "name": "normalized",
                "treatment": {"regularizers.unit.weight": 0.1, "model.normalize": True},
                "control": {"regularizers.unit.weight": 1.0, "model.normalize": True},
                "metrics": {"eval/none/median_mse": "lower"},
            },
        ],
    }
    sweep = _dose_sweep(tmp_path / "sweep", node)
    failed = sweep / "2"  # a failed grid run counts as failed in every arm its grid points would feed
    (failed / ".hydra").mkdir(parents=True)
    (failed / ".hydra" / "config.yaml").write_text(
        yaml.safe_dump(_config(size=10, grid={"regularizers.unit.weight": [0.1, 1.0]}))
    )
    (failed / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(["model.hidden=32"]))
    (failed / "failure.json").write_text(json.dumps({"error": "boom", "type": "RuntimeError"}))
    md = report.build_report(sweep).read_text()
    s = json.loads((sweep / "summary.json").read_text())
    assert [a["arm"] for a in s["arms"]] == [f"weight={w}" for w in WEIGHTS]
    assert [a["n_failed"] for a in s["arms"]] == [0, 1, 1, 0, 0]
    arm = _arm(s, "weight=0.1")
    # each weight: 10 seeds from each of the two trials; each trial's 50 s shared over its 5 weights
    assert (arm["n_ok"], arm["n_members"]) == (2, 20) and arm["trials"] == ["0", "1", "2"]
    assert arm["compute"]["train_seconds"] == pytest.approx(20.0)
    assert arm["values"] == {"regularizers.unit.weight": 0.1}
    hyp = {h["name"]: h for h in s["hypotheses"]}
    # pooled over normalize: each seed twice per side -> each side's two members of a seed summarised by
    # their median (the mean of two), then paired by seed: n = 10 seeds, not 20 + 20 members.
    # treatment (w=0.1): b·2·0.5·(1 + s/1000) and b·2; control (w=1): b·(1.01 or 0.99) and b → b·1.005 or b·0.995
    pooled = hyp["pooled"]
    assert pooled["paired"] and pooled["metrics"][0]["n_pairs"] == 10 and pooled["members_per_seed"] == [2, 2]
    assert pooled["n_unmatched"] == 0
    # (treatment: b·2·0.5·(1 + s/1000) and b·2, so b·(3 + s/1000)/2)
    expected = np.median([(3 + s / 1000) / 2 / (1.005 if s % 2 else 0.995) for s in SEEDS10])
    assert pooled["metrics"][0]["effect"] == pytest.approx(expected)
    assert (
        "n = 10 seeds, paired; each side's members of one seed summarised by their median, up to 2 and 2 per seed"
        in md
    )
    # normalize=true only: paired by seed across the two weights; ratio 0.5 (1 + s/1000) · 2 / (1.01 or 0.99)
    normalized = hyp["normalized"]["metrics"][0]
    assert hyp["normalized"]["paired"] and normalized["n_pairs"] == 10
    expected = np.median([(1 + s / 1000) / (1.01 if s % 2 else 0.99) for s in SEEDS10])
    assert normalized["effect"] == pytest.approx(expected)
    assert "| weight=0.1 | 20 |" in md


@pytest.mark.slow
def test_dose_table_and_figure(tmp_path):
    sweep = _dose_sweep(tmp_path / "sweep", DOSE_NODE)
    md = report.build_report(sweep).read_text()
    dose = json.loads((sweep / "summary.json").read_text())["dose"]
    assert (
        dose["values"] == WEIGHTS
        and dose["log_x"]
        and dose["series"] == ["normalize=true", "normalize=false"]
    )
    band = dose["bands"]["eval/none/median_mse"]["normalize=false"][0]
    # weight 0.01: (1 + s/10) e-5 * (1 + 4) over s = 0..9 -> median (1.45) * 5e-5
    assert band["x"] == 0.01 and band["n"] == 10 and band["median"] == pytest.approx(1.45 * 5e-5)
    rows = dose["effects"][0]["rows"]
    assert [r["direction"] for r in rows] == [
        "better",
        "better",
        "no significant difference",
        "no significant difference",
        "worse",
    ]
    # at 0.01 the pairs' ratios are 0.5 (1 + s/1000), s = 0..9: median 0.5 · 1.0045; all below 1 -> Wilcoxon
    # p = 2/2^10. One Holm family for H1: its pooled verdict and the 5 doses (6 tests); the three
    # significant rows tie at 2/1024 -> 6 · 2/1024 for each
    assert rows[0]["effect"] == pytest.approx(0.5 * 1.0045) and rows[0]["n_pairs"] == 10
    assert rows[0]["p"] == pytest.approx(2 / 1024) and rows[0]["p_holm"] == pytest.approx(6 * 2 / 1024)
    assert rows[0]["family"] == "H1" and rows[0]["family_size"] == 6
    assert rows[4]["effect"] == pytest.approx(2 * 1.0045)
    assert (
        "normalize=true vs normalize=false on eval/none/median_mse (lower is better): better at 0.01, 0.1; "
        "worse at 100; no significant difference at the other 2 of 5 values."
    ) in md
    assert "## Dose response: `regularizers.unit.weight`" in md
    # normalize=false at 0.01: 5e-5 * (1.0, 1.1, ..., 1.9): quartiles at positions 2.25 and 6.75 ->
    # 5e-5 * 1.225 = 6.125e-5 and 5e-5 * 1.675 = 8.375e-5
    assert (
        "| 7.25e-05 [6.12e-05, 8.38e-05] | 0.502 [0.501, 0.503] | Wilcoxon | 0.002 | 0.012 | 10 paired | 0 vs 0 "
        "| better |" in md
    )
    assert "Holm p (family H1: 6 tests)" in md
    assert "![dose response](dose.png)" in md
    assert (sweep / "dose.png").stat().st_size > 5000


def test_dose_without_hypotheses_tabulates_bands(tmp_path):
    node = {**DOSE_NODE, "hypotheses": []}
    sweep = _dose_sweep(tmp_path / "sweep", node)
    md = report.build_report(sweep).read_text()
    assert "### eval/suppression/score" in md and "| weight | normalize=true | normalize=false |" in md


def test_bad_dose_key(tmp_path, capsys):
    sweep = _dose_sweep(tmp_path / "sweep", {**DOSE_NODE, "dose": ["a", "b"]})
    assert report.main([str(sweep)]) == 2
    assert "report.dose" in capsys.readouterr().err
    sweep2 = _dose_sweep(tmp_path / "sweep2", {**DOSE_NODE, "dose": "regularizers.nope.weight"})
    md = report.build_report(sweep2).read_text()
    assert "No dose response: no member has a numeric value of regularizers.nope.weight." in md


@pytest.mark.parametrize(
    "text, reason",
    [
        ("seed,eval/none/median_mse\n0,1e-5\n", "not a members table"),
        ("member,seed,eval/none/median_mse\n", "not a members table"),
        ("member,seed,eval/none/median_mse\n0,0,1e-5\n1,1\n", "line 3: 2 cells for 3 columns"),
        ("member,seed,eval/none/median_mse\n0,0,abc\n1,1,2e-5\n", "'abc' is not a number"),
        ("member,seed,eval/none/median_mse\n0,0.5,1e-5\n1,1,2e-5\n", "member and seed must be integers"),
        ("member,seed,eval/none/median_mse\n0,0,1e-5\n", "1 rows but metrics.json says population/size = 2"),
    ],
)
def test_unreadable_members_csv_fails_the_trial(tmp_path, text, reason):
    sweep = tmp_path / "sweep"
    _multirun(sweep, {"arms": ["model.output"], "metrics": ["eval/none/median_mse"]})
    rows = [
        {"member": 0, "seed": 0, "eval/none/median_mse": 1e-5},
        {"member": 1, "seed": 1, "eval/none/median_mse": 2e-5},
    ]
    _population_trial(sweep, 0, _config("linear", size=2), ["model=linear"], rows)
    _population_trial(sweep, 1, _config("sigmoid", size=2), ["model=sigmoid"], rows, members_text=text)
    md = report.build_report(sweep).read_text()
    s = json.loads((sweep / "summary.json").read_text())
    assert s["counts"]["failed"] == 1 and s["counts"]["members"] == 2
    failure = s["failed"][0]
    assert failure["trial"] == "1" and failure["type"] == "BadMembers"
    assert failure["error"].startswith("unreadable members.csv: ") and reason in failure["error"]
    assert "`1/` `model=sigmoid`: BadMembers: unreadable members.csv" in md


def test_where_sentence_groups_neighbouring_doses():
    from excolor.report.markdown import where_sentence

    directions = ["better"] * 4 + ["no significant difference", "better", "worse", "worse"]
    verdict, band = Verdict(1.0, 1.0, 1.0, 1.0, 1.0, 3, 3, "inconclusive"), Band(3, 1.0, 1.0, 1.0)
    effect = DoseEffect(
        hypothesis="H",
        metric="m",
        better="lower",
        treatment={"model.normalize": True},
        control={"model.normalize": False},
        rows=[
            DoseRow(dose, verdict, 0, band, band, direction)
            for dose, direction in zip([1, 2, 3, 4, 5, 6, 7, 8], directions)
        ],
    )
    assert where_sentence(effect) == (
        "normalize=true vs normalize=false on m (lower is better): better at 1–4 "
        "(4 values), 6; worse at 7, 8; no significant difference at the other 1 of 8 values."
    )


# --------------------------------------------------------------------------- the typed result and the contract


def test_analyse_returns_a_typed_result(tmp_path):
    sweep = _h2_population_sweep(tmp_path / "sweep", H2_NODE)
    config, trials = load_sweep(sweep)
    result = analyse(trials, parse_spec(config, trials))
    assert isinstance(result, SweepResult)
    assert (result.counts.ok, result.counts.failed, result.counts.members) == (2, 0, 16)
    linear = result.arms[0]
    assert isinstance(linear, ArmResult) and linear.label == "output=linear" and linear.n_members == 8
    mse = linear.metrics["eval/none/median_mse"]
    assert isinstance(mse, MetricSummary) and mse.n == 8 and mse.median == pytest.approx(4.5e-5)
    assert mse.values == pytest.approx([(1 + seed) * 1e-5 for seed in SEEDS8])  # per member, for the figure
    assert linear.compute.seconds_per_member == pytest.approx(1.0)
    hypothesis = result.hypotheses[0]
    assert (
        isinstance(hypothesis, HypothesisResult) and hypothesis.paired and hypothesis.outcome == "supported"
    )
    first = hypothesis.metrics[0]
    assert isinstance(first, MetricVerdict) and first.metric == "eval/none/median_mse"
    assert isinstance(first.verdict, Verdict) and first.verdict.p == pytest.approx(2 / 256)
    assert result.dose is None and result.failed == [] and result.incomplete == []


def test_summary_json_is_the_typed_result(tmp_path):
    """summary.json: the result's fields under their summary keys, verdicts flat, no per-member values."""
    sweep = _h2_population_sweep(tmp_path / "sweep", H2_NODE)
    report.build_report(sweep)
    summary = json.loads((sweep / "summary.json").read_text())
    assert list(summary) == [
        "sweep_dir",
        "counts",
        "arm_keys",
        "arm_keys_declared",
        "metric_names",
        "compute",
        "has_steps",
        "arms",
        "hypotheses",
        "dose",
        "failed",
        "incomplete",
        "factorial",
    ]
    arm = summary["arms"][0]
    assert arm["arm"] == "output=linear" and "label" not in arm
    assert list(arm["metrics"]["eval/none/median_mse"]) == [
        "n",
        "n_nonfinite",
        "mean",
        "sd",
        "median",
        "q25",
        "q75",
    ]
    verdict = summary["hypotheses"][0]["metrics"][0]
    assert list(verdict)[:3] == ["metric", "effect", "lo"] and "verdict" not in verdict


def _contract_run(run: Path, output: str, member_metrics: list[dict], rows: int | None = None) -> None:
    """A run dir written as training writes it, through `excolor.run_record`; ``rows``: how many
    members members.csv holds (default all of them)."""
    (run / run_record.CONFIG_FILE).parent.mkdir(parents=True)
    (run / run_record.CONFIG_FILE).write_text(yaml.safe_dump(_config(output, size=len(member_metrics))))
    (run / run_record.OVERRIDES_FILE).write_text(yaml.safe_dump([f"model={output}"]))
    member_rows = [
        {"member": index, "seed": index, **metrics} for index, metrics in enumerate(member_metrics)
    ]
    run_record.write_members(run, member_rows[:rows])
    run_record.write_metrics(
        run, run_record.run_metrics(member_metrics, {run_record.TRAIN_SECONDS: 8.0}, seed=0)
    )


def test_the_report_reads_runs_through_run_record(tmp_path):
    sweep = tmp_path / "sweep"
    _multirun(sweep, {"arms": ["model.output"], "metrics": ["eval/none/median_mse"]})
    linear = [{"eval/none/median_mse": (1 + seed) * 1e-5} for seed in range(4)]
    sigmoid = [{"eval/none/median_mse": (1 + seed) * 3e-5} for seed in range(4)]
    _contract_run(sweep / "0", "linear", linear)
    _contract_run(sweep / "1", "sigmoid", sigmoid)
    _contract_run(sweep / "2", "sigmoid", sigmoid, rows=3)  # members.csv disagrees with population/size
    md = report.build_report(sweep).read_text()
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["counts"] == {"ok": 2, "failed": 1, "incomplete": 0, "total": 3, "members": 8}
    linear_arm = _arm(summary, "output=linear")
    # members (1..4)e-5: median 2.5e-5; the run's 8 s shared by its 4 members
    assert linear_arm["metrics"]["eval/none/median_mse"]["median"] == pytest.approx(2.5e-5)
    assert linear_arm["compute"]["seconds_per_member"] == pytest.approx(2.0)
    assert (
        _arm(summary, "output=sigmoid")["n_members"] == 4 and _arm(summary, "output=sigmoid")["n_failed"] == 1
    )
    failure = summary["failed"][0]
    assert (failure["trial"], failure["type"]) == ("2", "BadMembers")
    assert "3 rows but metrics.json says population/size = 4" in failure["error"]
    assert "`2/` `model=sigmoid`: BadMembers: unreadable members.csv: " in md and "population/size = 4" in md


def test_the_report_spells_no_run_dir_file_name():
    """The run dir's files are the contract's (`excolor.run_record`): no string in the report's code
    (docstrings aside) names one."""
    import ast

    names = (
        run_record.METRICS_FILE,
        run_record.MEMBERS_FILE,
        run_record.FAILURE_FILE,
        run_record.CONFIG_FILE,
        run_record.OVERRIDES_FILE,
        run_record.CHECKPOINT_FILE,
        run_record.LOSSES_FILE,
        ".hydra",
    )
    sources = sorted(Path(report.__file__).parent.glob("*.py"))
    assert len(sources) > 10
    for source in sources:
        tree = ast.parse(source.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef))
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings:
                assert not any(name in node.value for name in names), (
                    f"{source.name}:{node.lineno}: {node.value!r}"
                )
