import json
import math
from pathlib import Path

import pytest
import yaml

from excolor import report

# hand-chosen per-arm values (5 seeds each)
LINEAR_MSE = [1e-4, 2e-4, 3e-4, 4e-4, 5e-4]
SIGMOID_MSE = [1e-3, 2e-3, 3e-3, 4e-3, 5e-3]
SCORE = [0.5, 0.6, 0.7, 0.8, 0.9]  # identical for every arm

REPORT_NODE = {
    "arms": ["model.output"],
    "metrics": ["eval/none/median_mse", "eval/suppression/score"],
    "hypotheses": [
        {"name": "H2", "claim": "dropping the output sigmoid improves reconstruction",
         "treatment": {"model.output": "linear"}, "control": {"model.output": "sigmoid"},
         "metrics": {"eval/none/median_mse": "lower"}},
        {"name": "H3", "claim": "tanh is no different from sigmoid",
         "treatment": {"model.output": "tanh"}, "control": {"model.output": "sigmoid"},
         "metrics": {"eval/none/median_mse": "lower"}},
        {"name": "H1", "claim": "linear output is better overall",
         "treatment": {"model.output": "linear"}, "control": {"model.output": "sigmoid"},
         "metrics": {"eval/none/median_mse": "lower", "eval/suppression/score": "higher"}},
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
    mr = {"hydra": {"sweeper": sweeper or {"_target_": "hydra._internal.core_plugins.basic_sweeper.BasicSweeper"},
                    "sweep": {"dir": "multirun/${now:%Y-%m-%d}"}},
          "model": {"output": "sigmoid"}, "seed": 0}
    if report_node is not None:
        mr["report"] = report_node
    if objective is not None:
        mr["objective"] = objective
    (sweep / "multirun.yaml").write_text(yaml.safe_dump(mr))
    num = 0
    for output, mse in (("linear", LINEAR_MSE), ("sigmoid", SIGMOID_MSE), ("tanh", SIGMOID_MSE)):
        for seed, (m, s) in enumerate(zip(mse, SCORE)):
            _trial(sweep, num, output, seed, metrics={
                "train/seconds": 10.0 + seed, "train/steps": 100, "seed": seed, "val/recon": m,
                "eval/none/median_mse": m, "eval/suppression/score": s})
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

    assert "**H2** (dropping the output sigmoid improves reconstruction): inconclusive — " \
           "eval/none/median_mse linear/sigmoid: median of per-seed ratios 0.100 [95% BCa CI 0.100, 0.100], " \
           "Wilcoxon signed-rank p = 0.062 (n = 5 pairs)" in md
    assert "Holm p = 0.12 (n = 5 pairs) → lower is better: inconclusive" in md
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
    assert report.fmt_num(2.1e-05) == "2.1e-05"
    assert report.fmt_num(0.31234) == "0.312"
    assert report.fmt_num(float("nan")) == "—"


def test_default_arms_from_overrides(tmp_path):
    sweep = make_sweep(tmp_path / "sweep", report_node=None)
    out = report.build_report(sweep, out_dir=tmp_path / "out")
    s = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert s["arm_keys"] == ["model.output"]  # seed excluded
    assert {a["arm"] for a in s["arms"]} == {"output=linear", "output=sigmoid", "output=tanh"}
    assert "eval/none/median_mse" in s["metric_names"] and "seed" not in s["metric_names"]
    assert out == tmp_path / "out" / "report.md" and not (sweep / "report.md").exists()


def test_bad_report_node(tmp_path, capsys):
    node = {"hypotheses": [{"name": "H9", "treatment": {"a": 1}, "control": {"a": 2},
                            "metrics": {"m": "smaller"}}]}
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
    study = optuna.create_study(directions=["minimize", "minimize"], storage=f"sqlite:///{db}",
                                study_name=name, sampler=optuna.samplers.RandomSampler(seed=0))

    def objective(t):
        x = t.suggest_float("x", 1e-3, 1, log=True)
        k = t.suggest_int("k", 1, 4)
        return x * k, (1 - x) ** 2 + 0.01 * k

    study.optimize(objective, n_trials=6)
    return study


def test_optuna_pareto(tmp_path, monkeypatch):
    sweep = tmp_path / "multirun" / "h4"
    sweep.mkdir(parents=True)
    study = _make_study(sweep / "optuna.db", "h4")
    make_sweep(sweep, sweeper={"storage": "sqlite:///optuna.db", "study_name": "h4",
                               "direction": ["minimize", "minimize"]},
               objective=["val/recon", "eval/none/max_mse"])
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


def test_optuna_storage_url_cli(tmp_path, capsys):
    _make_study(tmp_path / "o.db", "h5")
    url = f"sqlite:///{tmp_path / 'o.db'}"
    assert report.main([url, "--study", "h5", "--out", str(tmp_path / "rep")]) == 0
    md = (tmp_path / "rep" / "report.md").read_text()
    assert "Pareto front" in md and (tmp_path / "rep" / "optuna.png").exists()
    assert report.main([url, "--study", "nope", "--out", str(tmp_path / "rep2")]) == 2
    assert "no study 'nope'" in capsys.readouterr().err
