"""The metric schema (excolor.metrics): every name declared once, with its meaning, and no other
module spelling a metric name in its code."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from excolor import metrics
from excolor.metrics import describe, eval_name, phase_name, train_name

SRC = Path(__file__).resolve().parents[1] / "src"
# A metric name, or a statistic of one, as a string constant (an f-string's literal parts included).
NAME = re.compile(
    r"^(train|eval|val|population|labels|posthoc|plan|chapter)/|(^|/)(max_mse|median_mse|mean_mse|red_mean_mse|other_mean_mse|"
    r"val_recon|collateral|focus|score)$"
)


def test_names_are_built_as_written():
    assert train_name("unit") == "train/unit" == metrics.train_name("unit")
    assert phase_name("Train", "loss") == "train/Train/loss"
    assert eval_name("suppression", metrics.FOCUS) == "eval/suppression/focus"
    assert metrics.VAL_RECON == "val/recon" and metrics.POPULATION_SIZE == "population/size"
    assert set(metrics.RUN_WIDE) <= set(metrics.BOOKKEEPING)


@pytest.mark.parametrize(
    "name, direction, unit, scope",
    [
        ("train/recon", "lower", "MSE", "member"),
        ("train/unit", "lower", "loss", "member"),  # a regularizer's term
        ("train/sparse", "lower", "loss", "member"),  # an outside package's term, too
        ("train/Train/recon", "lower", "MSE", "member"),
        ("train/seconds", None, "s", "run"),  # exact names before the train/<term> pattern
        ("train/steps", None, "steps", "member"),
        ("eval/none/median_mse", "lower", "MSE", "member"),
        ("eval/reflect/score", "higher", "r²", "member"),
        ("eval/suppression/focus", "higher", "fraction", "member"),
        ("eval/seconds", None, "s", "run"),
        ("val/recon", "lower", "MSE", "member"),
        ("population/size", None, "count", "run"),
    ],
)
def test_describe(name, direction, unit, scope):
    entry = describe(name)
    assert entry is not None, name
    assert (entry.direction, entry.unit, entry.scope) == (direction, unit, scope)


@pytest.mark.parametrize("name", ["eval/none", "eval/a/b/score", "train/a/b/c", "bogus", "eval/none/nope"])
def test_unknown_names(name):
    assert describe(name) is None


def test_every_name_a_run_can_write_is_in_the_schema():
    from excolor.validation import expected_metrics

    class Schedule:
        phases = [(0, "Train")]
        values: dict = {}

    names = expected_metrics(
        {"population": {}, "regularizers": {"unit": {"weight": 1.0}}}, Schedule(), 100, ["suppression"]
    )
    assert names and all(describe(name) is not None for name in names), sorted(
        n for n in names if describe(n) is None
    )


def metric_literals(path: Path) -> list[tuple[int, str]]:
    """(line, text) of every string constant in `path`'s code (docstrings left out) naming a metric."""
    tree = ast.parse(path.read_text())
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and NAME.search(node.value)
    ]


def test_no_module_but_the_schema_spells_a_metric_name():
    found = {
        str(path.relative_to(SRC)): hits
        for path in sorted(SRC.rglob("*.py"))
        if path.name != "metrics.py" and (hits := metric_literals(path))
    }
    assert not found, found


def test_a_sweep_direction_must_fit_the_metric():
    from excolor.errors import ConfigError
    from excolor.validation import check_directions

    check_directions(["eval/none/median_mse", "eval/suppression/score"], ["minimize", "maximize"])
    check_directions("eval/none/median_mse", "minimize")
    check_directions(["eval/none/median_mse"], None)  # no Optuna sweeper
    check_directions(["train/device"], ["maximize"])  # bookkeeping: no direction to disagree with
    with pytest.raises(
        ConfigError, match=r"direction\[1\]=minimize but eval/suppression/score is better higher"
    ):
        check_directions(["eval/none/median_mse", "eval/suppression/score"], ["minimize", "minimize"])
    with pytest.raises(ConfigError, match="has 1 entries for the 2 objective"):
        check_directions(["eval/none/median_mse", "eval/suppression/score"], "minimize")


@pytest.mark.parametrize("sweep", ["h1", "falloff"])
def test_shipped_optuna_sweeps_agree_with_the_schema(sweep):
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.validation import check_directions

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=[f"sweep={sweep}"], return_hydra_config=True)
    check_directions(cfg.objective, OmegaConf.select(cfg, "hydra.sweeper.direction"))
