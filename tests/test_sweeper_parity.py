"""The resumable sweeper where it meets Hydra's Optuna sweeper (issue 19), beyond upstream's own tests
(`test_upstream_optuna_sweeper`): range bounds against hand-worked values, a sampler never proposing a
value outside the range the user wrote, huge ranges in constant memory, the trusted-target check of
``custom_search_space`` and the sampler, and what a sweep leaves behind: fixed parameters as user
attributes, ``optimization_results.yaml``, the study's metric names."""

from __future__ import annotations

import contextlib
import time
import tracemalloc
from pathlib import Path
from unittest.mock import patch

import optuna
import pytest
from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import RangeSweep
from hydra.errors import InstantiationException
from hydra.test_utils.test_utils import TSweepRunner
from hydra.utils import execution_whitelist
from omegaconf import OmegaConf
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from excolor.errors import ConfigError
from hydra_plugins.excolor_sweeper._results import RESULTS_FILE, objective_names
from hydra_plugins.excolor_sweeper._search_space import MAX_CHOICES, distribution
from hydra_plugins.excolor_sweeper._trust import build_custom_search_space, build_sampler, check_sweeper


def parse(expression: str):
    return distribution(OverridesParser.create().parse_override(f"key={expression}"))


def hydra_values(expression: str) -> list:
    return list(OverridesParser.create().parse_override(f"key={expression}").sweep_iterator())


# --------------------------------------------------------------------------- ranges, by hand


@pytest.mark.parametrize(
    "expression, expected",
    [
        # count = ⌈(5 − 0) / 1.5⌉ = 4 values 0, 1.5, 3, 4.5: multiples of 2^-1, (0 + 4.5)·2 = 9 ≤ 2^53
        ("range(0,5,1.5)", FloatDistribution(0.0, 4.5, step=1.5)),
        # cast to int: 0, 1, 3, 4 — not a grid, so exactly those values (issue 19, item 1)
        ("int(range(0,5,1.5))", CategoricalDistribution([0, 1, 3, 4])),
        # a descending int range keeps its order: 3, 2, 1 → [1, 3] (item 4)
        ("range(3,0,-1)", IntDistribution(1, 3)),
        # count = ⌈(10 − 1) / 4⌉ = 3: 1, 5, 9
        ("range(1,10,4)", IntDistribution(1, 9, step=4)),
        # count = ⌈(−1 − 10) / −3⌉ = 4: 10, 7, 4, 1 → [1, 10] step 3
        ("range(10,-1,-3)", IntDistribution(1, 10, step=3)),
        # 0.1 is not a binary fraction: the two values as Hydra gives them
        ("range(0.1,1,0.5)", CategoricalDistribution([0.1, 0.6])),
        # 2^53 is the largest grid value that still passes: (0 + 2^53)·1 ≤ 2^53
        (f"range(0.0,{2**53 + 1},1.0)", FloatDistribution(0.0, float(2**53), step=1.0)),
    ],
)
def test_range_bounds_by_hand(expression, expected):
    assert parse(expression) == expected


def test_a_grid_past_2_to_the_53_is_no_float_grid():
    """(0 + (2^53 + 1))·1 > 2^53: Optuna's float grid could not hit 2^53 + 1, so no FloatDistribution, and
    2^53 + 2 values are too many for a categorical: refused before a single value is listed."""
    with (
        patch.object(RangeSweep, "__iter__", side_effect=AssertionError("enumerated")),
        pytest.raises(ValueError, match=rf"9007199254740994 values are too many .*\(at most {MAX_CHOICES}\)"),
    ):
        parse(f"range(0.0,{2**53 + 2},1.0)")


def test_range_0_1_with_a_zero_float_step_is_a_value_error():
    """Issue 19, item 7: upstream raises ValueError (Hydra's own range would raise HydraException)."""
    with pytest.raises(ValueError, match="nonzero step"):
        parse("range(0,1,0.0)")


@pytest.mark.parametrize("exponent", [3, 12])
def test_a_huge_range_is_parsed_without_listing_it(exponent):
    """``range(0, 10**12)`` costs what ``range(0, 10**3)`` costs: no value is listed, memory is constant."""
    parser = OverridesParser.create()
    override = parser.parse_override(f"key=range(0,{10**exponent})")
    tracemalloc.start()
    started = time.perf_counter()
    with patch.object(RangeSweep, "__iter__", side_effect=AssertionError("enumerated")):
        result = distribution(override)
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"range(0,10**{exponent}): {seconds * 1e3:.3f} ms, peak {peak} bytes")
    assert result == IntDistribution(0, 10**exponent - 1)
    assert peak < 64 * 1024


@pytest.mark.parametrize(
    "expression",
    [
        "int(range(0,5,1.5))",
        "range(0,1,0.1)",
        "range(-5.5,5.5,0.5)",
        "range(3,0,-1)",
        "range(1,0,-0.3)",
        "range(0,8,3)",
        "float(range(1,3))",
    ],
)
@pytest.mark.parametrize("sampler", ["random", "tpe"])
def test_a_sampler_proposes_only_the_values_the_user_wrote(expression, sampler):
    allowed = set(hydra_values(expression))
    dist = parse(expression)
    make = {"random": optuna.samplers.RandomSampler, "tpe": optuna.samplers.TPESampler}[sampler]
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=make(seed=0))
    for _ in range(60):
        trial = study.ask({"key": dist})
        value = trial.params["key"]
        assert value in allowed and str(value) in {str(v) for v in allowed}, (
            expression,
            value,
            sorted(allowed),
        )
        study.tell(trial, float(value))


# --------------------------------------------------------------------------- trusted targets


@pytest.mark.parametrize(
    "target",
    [
        "shutil.rmtree",
        "os.system",
        "builtins.eval",
        "hydra_plugins.hydra_optuna_sweeper._impl.create_params_from_overrides",
    ],
)
def test_an_untrusted_custom_search_space_is_refused(target):
    with pytest.raises(ConfigError, match=r"hydra.sweeper.custom_search_space=.* is not a trusted target"):
        build_custom_search_space(target)
    with pytest.raises(InstantiationException), execution_whitelist([]):
        build_custom_search_space(target)


def test_a_trusted_custom_search_space_is_built_as_a_partial():
    extender = build_custom_search_space("excolor.console.quiet_libraries")
    from excolor.console import quiet_libraries

    assert extender.func is quiet_libraries
    assert build_custom_search_space(None) is None and build_custom_search_space("") is None


def test_an_untrusted_sampler_target_is_refused_before_it_is_built():
    with (
        patch("os.system") as system,
        pytest.raises(ConfigError, match=r"sampler.crossover._target_='os.system'"),
    ):
        build_sampler(
            OmegaConf.create(
                {
                    "_target_": "optuna.samplers.NSGAIISampler",
                    "crossover": {"_target_": "os.system", "command": "true"},
                }
            )
        )
    system.assert_not_called()
    with pytest.raises(ConfigError, match=r"hydra.sweeper.sampler._target_='shutil.rmtree'"):
        build_sampler(OmegaConf.create({"_target_": "shutil.rmtree", "path": "/nonexistent"}))
    assert isinstance(
        build_sampler(OmegaConf.create({"_target_": "optuna.samplers.RandomSampler"})),
        optuna.samplers.RandomSampler,
    )


def test_the_entry_point_refuses_an_untrusted_custom_search_space_before_hydra_runs():
    from excolor.config import compose_config
    from excolor.validation import check_train_entry

    cfg = compose_config("train", ["sweep=h1", "hydra.sweeper.custom_search_space=shutil.rmtree"])
    with pytest.raises(ConfigError, match="custom_search_space='shutil.rmtree' is not a trusted target"):
        check_train_entry(cfg, multirun=True)
    check_sweeper(compose_config("train", ["sweep=h1"]).hydra.sweeper)  # the shipped sweep passes


# --------------------------------------------------------------------------- what a sweep leaves


def test_objective_names_come_from_the_objective_key():
    assert objective_names(OmegaConf.create({"objective": ["a/b", "c"]}), 2) == ["a/b", "c"]
    assert objective_names(OmegaConf.create({"objective": "a"}), 1) == ["a"]
    assert objective_names(OmegaConf.create({"objective": ["a"]}), 2) is None  # one name per direction
    assert objective_names(OmegaConf.create({}), 1) is None


@contextlib.contextmanager
def run_sweep(hydra_sweep_runner: TSweepRunner, tmp: Path, task, *overrides: str):
    """Run a sweep of Hydra's test app in-process; yields its study and its sweep dir (removed after)."""
    storage = f"sqlite:///{tmp / 'study.db'}"
    sweep = hydra_sweep_runner(
        calling_file=None,
        calling_module="hydra.test_utils.a_module",
        task_function=task,
        config_path="configs",
        config_name="compose.yaml",
        temp_dir=tmp / "sweep",
        overrides=[
            "hydra/sweeper=excolor_optuna",
            "hydra/launcher=basic",
            f"hydra.sweeper.storage={storage}",
            "hydra.sweeper.study_name=s",
            *overrides,
        ],
    )
    with sweep:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        yield optuna.load_study(study_name="s", storage=storage), tmp / "sweep"


def test_a_two_objective_sweep_names_its_objectives_and_writes_the_pareto_front(hydra_sweep_runner, tmp_path):
    with run_sweep(
        hydra_sweep_runner,
        tmp_path,
        lambda cfg: (float(cfg.foo), -float(cfg.foo)),
        "hydra.sweeper.direction=[minimize,maximize]",
        "hydra.sweeper.n_trials=4",
        "+objective=[eval/none/median_mse,eval/suppression/score]",
        "foo=range(1,5)",
        "bar=7",
    ) as (study, sweep_dir):
        results = OmegaConf.to_container(OmegaConf.load(sweep_dir / RESULTS_FILE))
    assert study.metric_names == ["eval/none/median_mse", "eval/suppression/score"]
    trials = study.get_trials()
    assert len(trials) == 4 and all(t.user_attrs["bar"] == "7" and "bar" not in t.params for t in trials)
    front = sorted((s["params"]["foo"], s["values"]) for s in results["solutions"])
    assert results["name"] == "optuna"
    assert front == sorted((t.params["foo"], t.values) for t in study.best_trials)


def test_a_one_objective_sweep_writes_its_best_trial(hydra_sweep_runner, tmp_path):
    with run_sweep(
        hydra_sweep_runner,
        tmp_path,
        lambda cfg: (float(cfg.foo) - 2) ** 2,
        "hydra.sweeper.n_trials=3",
        "foo=choice(1,2,3,4)",
    ) as (study, sweep_dir):
        results = OmegaConf.to_container(OmegaConf.load(sweep_dir / RESULTS_FILE))
    assert study.metric_names is None  # no objective key: nothing to name
    assert results == {
        "name": "optuna",
        "best_params": study.best_trial.params,
        "best_value": study.best_value,
    }


def test_a_custom_parameter_that_is_also_fixed_stops_the_sweep(hydra_sweep_runner, tmp_path, monkeypatch):
    """Upstream's overlap check: ``custom_search_space`` suggesting a fixed parameter is an error, before
    any trial runs (the extender is swapped in behind the trusted-target check, which passes its name)."""
    from hydra_plugins.excolor_sweeper import _impl

    calls = []
    monkeypatch.setattr(
        _impl,
        "build_custom_search_space",
        lambda target, packages: (lambda cfg, trial: trial.suggest_int("bar", 0, 1)) if target else None,
    )
    with (
        pytest.raises(ValueError, match="fixed parameters: bar"),
        run_sweep(
            hydra_sweep_runner,
            tmp_path,
            calls.append,
            "hydra.sweeper.n_trials=2",
            "bar=7",
            "hydra.sweeper.custom_search_space=excolor.console.quiet_libraries",
        ),
    ):
        pass
    assert calls == []


def test_a_bad_range_stops_the_sweep_with_one_line_before_anything_is_written(tmp_path):
    """Upstream's example app with ``x=range(0,1,0.0)``: exit 2, one line, no sweep dir."""
    import subprocess
    import sys

    app = Path(__file__).parent / "upstream_optuna" / "example" / "sphere.py"
    done = subprocess.run(
        [sys.executable, str(app), "--multirun", f"hydra.sweep.dir={tmp_path / 'sweep'}", "x=range(0,1,0.0)"],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == "excolor: error: x=range(0,1,0.0): a range needs a nonzero step"
    assert not (tmp_path / "sweep").exists()
