"""The design of the report's comparisons (issue 15): the seed as the unit, divergence as an outcome,
one Holm family per hypothesis, equivalence, the factorial, and null simulations of the whole pipeline."""

import json
import math
import os

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from excolor import report
from excolor.errors import ConfigError
from excolor.report import simulate, stats
from excolor.report.divergence import compare_divergence, fisher_exact, mcnemar_exact
from excolor.report.factorial import contrasts
from excolor.report.pairing import pair_members, seed_median
from excolor.report.spec import parse_spec
from excolor.report.sweep import Member, Trial, diverged_members
from excolor.run_record import Status
from inprocess import run_module
from smoke import SMOKE_CUBE

MSE = "eval/none/median_mse"


def _members(trial_name, seeds, values, grid=None, metric=MSE):
    trial = Trial(trial_name, None, Status.OK, OmegaConf.create({}))
    trial.members = [
        Member(trial, i, seed, dict(grid or {}), {metric: value})
        for i, (seed, value) in enumerate(zip(seeds, values))
    ]
    return trial.members


def test_seed_median_counts_diverged_as_worst():
    assert seed_median([1.0, 2.0, math.nan], "lower") == 2.0  # [1, 2, worst]: the middle is 2
    assert math.isnan(seed_median([1.0, math.nan], "lower"))  # mean of 1 and +inf: worst -> diverged
    assert seed_median([1.0, 2.0, math.nan], "higher") == 1.0  # worst is below both: [worst, 1, 2]
    assert math.isnan(seed_median([3.0, math.inf, -math.inf], "lower"))  # ±inf both diverged, like NaN
    assert seed_median([4.0, 1.0, 3.0, 2.0], "lower") == 2.5


def test_pooled_grid_points_are_one_seed():
    # 4 seeds × 3 grid points per side: pooled, n is 4 seeds (not 12 pairs)
    seeds = [s for s in range(4) for _ in range(3)]
    grid = [{"w": w} for _ in range(4) for w in (0.1, 1.0, 10.0)]
    t = [
        m
        for m, g in zip(_members("t", seeds, [1.0 + 0.1 * i for i in range(12)]), grid)
        if not m.grid.update(g)
    ]
    c = [
        m
        for m, g in zip(_members("c", seeds, [2.0 + 0.1 * i for i in range(12)]), grid)
        if not m.grid.update(g)
    ]
    groups = pair_members(t, c)
    assert groups.paired and len(groups.treatment) == 4 and groups.per_unit == (3, 3)
    t_values, c_values = groups.values(MSE)
    # seed 0: treatment median of 1.0, 1.1, 1.2 = 1.1; control 2.1
    assert t_values[0] == pytest.approx(1.1) and c_values[0] == pytest.approx(2.1)
    verdict = stats.verdict(t_values, c_values, paired=True)
    assert verdict.n_pairs == 4


def test_unpaired_reason_names_the_counts():
    t = _members("t", [0, 1, 5, 6], [1.0, 2.0, 3.0, 4.0])
    c = _members("c", [0, 1, 7, 8], [1.0, 2.0, 3.0, 4.0])
    groups = pair_members(t, c)
    assert not groups.paired and groups.why_unpaired == "only 2 shared seeds; pairing needs 3"
    assert pair_members(t[:1], c[:1]).why_unpaired == "only 1 shared seed; pairing needs 3"
    assert pair_members(t[2:], c[2:]).why_unpaired == "no shared seeds"


def test_divergence_tests_by_hand():
    assert mcnemar_exact(5, 0) == pytest.approx(2 * 0.5**5)  # 0.0625
    assert mcnemar_exact(0, 0) == 1.0
    assert fisher_exact(3, 3, 0, 3) == pytest.approx(2 / math.comb(6, 3))  # 0.1
    # paired: seeds 0-5, treatment seeds 0, 1, 2 diverged (one NaN, one +inf, one -inf), control none
    t = _members("t", range(6), [math.nan, math.inf, -math.inf, 1.0, 1.0, 1.0])
    c = _members("c", range(6), [1.0] * 6)
    divergence = compare_divergence(pair_members(t, c), [MSE])
    assert (divergence.members_t, divergence.members_c, divergence.seeds_t, divergence.test) == (
        3,
        0,
        3,
        "McNemar exact",
    )
    assert divergence.p == pytest.approx(2 * 0.5**3)


def test_factorial_contrasts_by_hand():
    # k = 2, one seed: y(−,−) = 0, y(+,−) = 2, y(−,+) = 1, y(+,+) = 5 (cells in itertools.product order)
    codes = np.array([(-1, -1), (-1, 1), (1, -1), (1, 1)], dtype=float)
    y = np.array([[0.0, 1.0, 2.0, 5.0]])
    found = contrasts(codes, y)
    assert found[(0,)] == pytest.approx([3.0]) and found[(1,)] == pytest.approx([2.0])
    assert found[(0, 1)] == pytest.approx([2.0])  # (5 − 1) − (2 − 0)


def _trial_dir(path, config, overrides, members_rows=None, failure=None):
    (path / ".hydra").mkdir(parents=True)
    (path / ".hydra" / "config.yaml").write_text(yaml.safe_dump(config))
    (path / ".hydra" / "overrides.yaml").write_text(yaml.safe_dump(overrides))
    if failure:
        (path / "failure.json").write_text(json.dumps(failure))
        return
    columns = list(members_rows[0])
    (path / "members.csv").write_text(
        "\n".join(
            [",".join(columns)]
            + [
                ",".join(repr(row[c]) if isinstance(row[c], float) else str(row[c]) for c in columns)
                for row in members_rows
            ]
        )
        + "\n"
    )
    metrics = {
        MSE: float(np.nanmedian([row[MSE] for row in members_rows])),
        "population/size": len(members_rows),
        "train/seconds": 1.0,
        "seed": 0,
    }
    (path / "metrics.json").write_text(json.dumps(metrics))


def _config(output, seed=0, size=6):
    return {
        "seed": seed,
        "model": {"output": output},
        "regularizers": {"unit": {"weight": 1.0}},
        "population": {"size": size, "grid": None},
    }


def test_a_diverged_trial_is_an_outcome_of_its_arm(tmp_path):
    """Singles as trials: control seeds 0–5 all ok; treatment seeds 0–5, two of them failed with
    TrainingDiverged. They count as diverged members (the worst values), paired by seed."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    node = {
        "arms": ["model.output"],
        "metrics": [MSE],
        "hypotheses": [
            {
                "name": "H",
                "treatment": {"model.output": "linear"},
                "control": {"model.output": "sigmoid"},
                "metrics": {MSE: "lower"},
            }
        ],
    }
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"report": node}))
    num = 0
    for output, factor in (("linear", 0.5), ("sigmoid", 1.0)):
        for seed in range(6):
            rows = [{"member": 0, "seed": seed, MSE: factor * (1 + seed) * 1e-5}]
            failure = (
                {"type": "TrainingDiverged", "error": "training diverged: loss is nan at step 3"}
                if output == "linear" and seed in (4, 5)
                else None
            )
            _trial_dir(
                sweep / str(num), _config(output, seed, 1), [f"model={output}", f"seed={seed}"], rows, failure
            )
            num += 1
    md = report.build_report(sweep).read_text()
    summary = json.loads((sweep / "summary.json").read_text())
    hypothesis = summary["hypotheses"][0]
    verdict = hypothesis["metrics"][0]
    assert hypothesis["paired"] and verdict["n_pairs"] == 6 and verdict["n_diverged_t"] == 2
    # ratios 0.5 on seeds 0–3 and +inf on 4, 5: median 0.5, no longer a "better" verdict on 4 pairs
    assert verdict["effect"] == pytest.approx(0.5) and verdict["outcome"] == "inconclusive"
    assert hypothesis["divergence"]["seeds_t"] == 2 and hypothesis["divergence"]["test"] == "McNemar exact"
    assert "diverged: 2 of 6 members (2 of 6 seeds) vs 0 of 6 (0 of 6 seeds), McNemar exact p = 0.5" in md
    # the arm table counts them as members with a non-finite value
    assert "(n=4, 2 non-finite)" in md


def test_diverged_members_of_a_failed_population():
    config = OmegaConf.create(
        {"seed": 10, "population": {"size": 2, "grid": {"regularizers.unit.weight": [0.1, 1.0]}}}
    )
    trial = Trial("0", None, Status.FAILED, config, error_type="TrainingDiverged")
    members = diverged_members(trial)
    assert sorted((m.seed, m.grid["regularizers.unit.weight"]) for m in members) == [
        (10, 0.1),
        (10, 1.0),
        (11, 0.1),
        (11, 1.0),
    ]
    assert math.isnan(members[0].number(MSE)) and members[0].number("train/seconds") is None
    assert diverged_members(Trial("1", None, Status.FAILED, config, error_type="RuntimeError")) == []


def test_a_config_group_key_reads_as_its_option():
    trial = Trial(
        "0",
        None,
        Status.OK,
        OmegaConf.create({"regularizers": {"unit": {"weight": 1.0}}}),
        overrides=["regularizers=ex2.2", "model.normalize=false"],
    )
    assert trial.value("regularizers") == "ex2.2"
    assert trial.value("regularizers.unit.weight") == 1.0


@pytest.mark.parametrize(
    "node, needle",
    [
        (
            {
                "hypotheses": [
                    {
                        "treatment": {"a": 1},
                        "control": {"a": 2},
                        "metrics": {MSE: "lower"},
                        "equivalence": 1.5,
                    }
                ]
            },
            "equivalence",
        ),
        ({"factorial": {"factors": {"a": [1, 2]}, "metrics": {MSE: "log"}}}, "at least two factors"),
        ({"factorial": {"factors": {"a": [1, 2], "b": [1]}, "metrics": {MSE: "log"}}}, "two distinct levels"),
        (
            {"factorial": {"factors": {"a": [1, 2], "b": [1, 2]}, "metrics": {MSE: "sqrt"}}},
            "'log' or 'linear'",
        ),
    ],
)
def test_bad_spec_nodes(node, needle):
    with pytest.raises(ConfigError, match=needle):
        parse_spec(OmegaConf.create({"report": node}), [])


def test_equivalence_hypothesis_in_a_report(tmp_path):
    """population_check-like: members within ±3 % of their single runs, margin ±10 %: equivalent."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    node = {
        "arms": ["population.size"],
        "metrics": [MSE],
        "hypotheses": [
            {
                "name": "same",
                "treatment": {"population.size": 12},
                "control": {"population.size": 1},
                "equivalence": 0.1,
                "metrics": {MSE: "lower"},
            }
        ],
    }
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"report": node}))
    wobble = [1.0 + 0.03 * math.sin(seed) for seed in range(12)]
    for seed in range(12):
        _trial_dir(
            sweep / str(seed),
            _config("linear", seed, 1),
            [f"seed={seed}"],
            [{"member": 0, "seed": seed, MSE: (1 + seed) * 1e-5}],
        )
    _trial_dir(
        sweep / "12",
        _config("linear", 0, 12),
        ["population.size=12"],
        [{"member": s, "seed": s, MSE: (1 + s) * 1e-5 * wobble[s]} for s in range(12)],
    )
    md = report.build_report(sweep).read_text()
    hypothesis = json.loads((sweep / "summary.json").read_text())["hypotheses"][0]
    # 12 pairs: every log ratio inside (log 0.9, log 1.1) -> each one-sided exact p = 1/2^12
    assert hypothesis["metrics"][0]["p"] == pytest.approx(1 / 4096)
    assert hypothesis["outcome"] == "equivalent"
    assert (
        "**same**: equivalent within ±10 % — " in md
        and "[90% BCa CI" in md
        and "TOST Wilcoxon signed-rank" in md
    )


def test_factorial_section_in_a_report(tmp_path):
    """A 2 × 2 factorial (output × normalize) over 6 seeds with known effects on log MSE."""
    sweep = tmp_path / "sweep"
    sweep.mkdir()
    node = {
        "arms": ["model.output", "model.normalize"],
        "metrics": [MSE],
        "factorial": {
            "factors": {"model.output": ["sigmoid", "linear"], "model.normalize": [False, True]},
            "metrics": {MSE: "log"},
        },
    }
    (sweep / "multirun.yaml").write_text(yaml.safe_dump({"report": node}, sort_keys=False))
    num = 0
    for output in ("sigmoid", "linear"):
        for normalize in (False, True):
            # log MSE = −10 − 1.0·[linear] + 0.5·[normalize] + 0.2·[both] + seed noise
            rows = [
                {
                    "member": s,
                    "seed": s,
                    MSE: math.exp(
                        -10
                        - (output == "linear")
                        + 0.5 * normalize
                        + 0.2 * (output == "linear" and normalize)
                        + 0.01 * s * s
                    ),
                }
                for s in range(6)
            ]
            config = {**_config(output, 0, 6), "model": {"output": output, "normalize": normalize}}
            _trial_dir(
                sweep / str(num),
                config,
                [f"model={output}", f"model.normalize={str(normalize).lower()}"],
                rows,
            )
            num += 1
    md = report.build_report(sweep).read_text()
    factorial = json.loads((sweep / "summary.json").read_text())["factorial"]
    effects = {effect["term"]: effect for effect in factorial["effects"]}
    # main output: mean over normalize of (linear − sigmoid) = (−1 + (−1 + 0.2)) / 2 = −0.9; normalize: 0.5 + 0.1;
    # interaction: 0.2. Every seed has the same contrasts (the seed noise cancels): a single-point CI
    assert effects["output"]["estimate"] == pytest.approx(-0.9)
    assert effects["normalize"]["estimate"] == pytest.approx(0.6)
    assert effects["output × normalize"]["estimate"] == pytest.approx(0.2)
    assert (
        factorial["n_seeds"] == 6
        and effects["output"]["n_seeds"] == 6
        and effects["output"]["family_size"] == 3
    )
    assert (
        "## Factorial effects" in md and "| output | -0.900 [-0.900, -0.900] | 0.407 [0.407, 0.407] |" in md
    )


def test_simulated_false_positive_rates_quick():
    """The whole pipeline on null data (`excolor.report.simulate`): a small, fixed-seed version that tells
    0.05 from 0.10 for the two cheap scenarios (400 datasets: the limit 0.05 + 2 SE is 0.072)."""
    design = simulate.Design(seeds=16, doses=5)
    for name in ("pooled", "divergence"):
        rate = simulate.false_positive_rate(name, 400, design, seed=1, n_boot=99)
        assert rate <= simulate.limit(400), (name, rate)


@pytest.mark.slow
def test_simulated_family_rate():
    """A dose hypothesis' whole family (pooled verdicts + every dose of both metrics) on null data."""
    rate = simulate.false_positive_rate("family", 400, simulate.Design(seeds=16, doses=5), seed=1, n_boot=99)
    assert rate <= simulate.limit(400)


@pytest.mark.slow
def test_h1_factors_end_to_end(tmp_path):
    """The h1_factors sweep, tiny (50 steps, 3 seeds per cell), through the real entry point: all 16 cells
    compose and train, and the report has the factorial table (4 main effects and 6 interactions on each of
    two metrics) and H1 on the two corners, paired by seed."""
    sweep = tmp_path / "sweep"
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache"), "WANDB_MODE": "disabled"}
    done = run_module(
        "excolor.train",
        "-m",
        "sweep=h1_factors",
        "trainer.max_steps=50",
        "population.size=3",
        SMOKE_CUBE,
        "trainer.accelerator=cpu",
        f"hydra.sweep.dir={sweep}",
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads((sweep / "summary.json").read_text())
    assert summary["counts"]["ok"] == 16 and summary["counts"]["members"] == 48
    factorial = summary["factorial"]
    assert (factorial["n_cells"], factorial["n_seeds"]) == (16, 3)
    terms = {(effect["metric"], effect["term"]) for effect in factorial["effects"]}
    assert len(terms) == 20 and ("eval/none/median_mse", "output × schedule") in terms
    assert all(effect["family_size"] == 20 and effect["n_seeds"] == 3 for effect in factorial["effects"])
    hypothesis = summary["hypotheses"][0]
    assert hypothesis["paired"] and hypothesis["metrics"][0]["n_pairs"] == 3
    assert (
        hypothesis["treatment_trials"] != hypothesis["control_trials"]
        and len(hypothesis["treatment_trials"]) == 1
    )
    md = (sweep / "report.md").read_text()
    assert "## Factorial effects" in md and "| output × normalize |" in md


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
@pytest.mark.parametrize("normalize", ["false", "true"])
@pytest.mark.parametrize("regularizers", ["ex2.2", "ex2.3"])
@pytest.mark.parametrize("schedule", ["ex2.2", "ex2.3"])
def test_every_h1_factors_cell_composes(output, normalize, regularizers, schedule):
    """Each of the 16 cells is the composition its four factor levels say, with the sweep's settings."""
    from hydra import compose, initialize_config_dir

    import excolor.config  # noqa: F401 - registers the excolor_conf resolver
    from excolor.config import CONF_DIR, VERSION_BASE

    overrides = [
        "sweep=h1_factors",
        f"model={output}",
        f"model.normalize={normalize}",
        f"regularizers={regularizers}",
        f"schedule={schedule}",
    ]
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=overrides)
    assert cfg.model.output == output and cfg.model.normalize == (normalize == "true")
    assert ("unit_vibrant" in cfg.regularizers) == (regularizers == "ex2.2")
    assert cfg.regularizers.separate.power == (10 if regularizers == "ex2.2" else 100)
    assert cfg.schedule.path.endswith(f"ex-{schedule[2:]}-dopesheet.csv")
    assert cfg.population.size == 32 and list(cfg.report.factorial.factors) == [
        "model.output",
        "model.normalize",
        "regularizers",
        "schedule",
    ]


def test_simulate_refuses_bad_input(capsys):
    with pytest.raises(SystemExit) as exit_info:
        simulate.main(["--seeds", "2"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.strip() == (
        "excolor: error: simulate: need --datasets ≥ 1, --seeds ≥ 3, --doses ≥ 1 and --n-boot ≥ 10"
    )


def test_a_side_of_several_keys_names_each_key():
    from excolor.report.format import selector_label

    assert selector_label({"model.output": "linear"}) == "linear"
    assert selector_label({"model.normalize": True}) == "normalize=true"
    assert (
        selector_label({"model.output": "linear", "regularizers": "ex2.3", "schedule": "ex2.3"})
        == "output=linear,regularizers=ex2.3,schedule=ex2.3"
    )
