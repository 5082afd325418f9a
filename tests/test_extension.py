"""The declared extension points and the worked example of README "Extending excolor": an outside
package, examples/extension/mylab, with one regularizer and one intervention, run in a population
sweep with its term in losses.csv and its metrics in the report; editing a constant in it retrains."""

from __future__ import annotations

import csv
import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

import warm
from excolor.cache import training_key
from excolor.config import CONF_DIR, VERSION_BASE
from excolor.errors import ConfigError
from excolor.extension import Falloff, Intervention, Mapper, Regularizer, StackableModel
from excolor.interventions import BezierMapper, BoundedFalloff, Repulsion, Suppression
from excolor.population_model import PopulationAutoencoder
from inprocess import Completed, run_module
from smoke import SMOKE_CUBE

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "extension"
# The README's command, less its output places (the test adds its own).
OVERRIDES = [
    "trusted_packages=[mylab]",
    "+regularizers.sparse={_target_: mylab.Sparsity, column: reg-sparse, weight: 0.01}",
    "+intervention.reflect={_target_: mylab.Reflection, concept: ${concept}}",
    "intervention=none",
    "population.size=2",
    "trainer.max_steps=100",
    "logger=none",
    SMOKE_CUBE,
]


@pytest.fixture
def mylab(tmp_path, monkeypatch):
    """A copy of the example package on sys.path (so a test may edit it)."""
    root = tmp_path / "lab"
    shutil.copytree(EXAMPLE / "mylab", root / "mylab")
    monkeypatch.syspath_prepend(str(root))
    yield root
    for name in [n for n in sys.modules if n == "mylab" or n.startswith("mylab.")]:
        del sys.modules[name]


# --- the extension points ---------------------------------------------------------------------------


def test_builtin_components_are_declared_extension_points():
    assert isinstance(Suppression([1.0, 0, 0, 0]), Intervention)
    assert isinstance(Repulsion([1.0, 0, 0, 0]), Intervention)
    assert isinstance(BoundedFalloff(), Falloff) and isinstance(BezierMapper(), Mapper)
    assert isinstance(PopulationAutoencoder(2), StackableModel)


def test_an_incomplete_extension_cannot_be_built():
    class NoFormula(Regularizer):
        pass

    with pytest.raises(TypeError, match="per_sample"):
        NoFormula(column="c")

    class NoForward(Intervention):
        pass

    with pytest.raises(TypeError, match="forward"):
        NoForward()


def test_parts_of_the_wrong_kind_are_refused():
    with pytest.raises(ConfigError, match="falloff=BezierMapper is not a Falloff"):
        Suppression([1.0, 0, 0, 0], falloff=BezierMapper())
    with pytest.raises(ConfigError, match="mapper=BoundedFalloff is not a Mapper"):
        Repulsion([1.0, 0, 0, 0], mapper=BoundedFalloff())


def test_a_target_of_the_wrong_kind_is_refused_in_one_line():
    from excolor.regularizers.build import build_regularizers
    from excolor.schedule import load_schedule

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=["+regularizers.x={_target_: excolor.interventions.BezierMapper}"])
    schedule = load_schedule(cfg.schedule.path)
    with pytest.raises(
        ConfigError, match=r"^regularizers.x: excolor.interventions.mappers.BezierMapper is not a Regularizer"
    ):
        build_regularizers(cfg.regularizers, schedule, ["red", "vibrant"], 4)


# --- the example's formulas, against hand-worked values --------------------------------------------


def test_sparsity_is_the_l1_norm_of_each_row(mylab):
    from mylab import Sparsity

    term = Sparsity(column="reg-sparse")
    z = torch.tensor([[0.6, -0.8, 0.0, 0.0], [0.5, 0.5, -0.5, 0.5]])
    torch.testing.assert_close(term.per_sample(z), torch.tensor([1.4, 2.0]))
    torch.testing.assert_close(term(z, torch.zeros(2, 2)), torch.tensor(1.7))  # batch mean


def test_reflection_mirrors_the_concept_side(mylab):
    from mylab import Reflection

    reflect = Reflection([2.0, 0.0, 0.0, 0.0])  # v = (1, 0, 0, 0)
    z = torch.tensor([[0.6, 0.8, 0.0, 0.0], [-0.6, 0.0, 0.8, 0.0], [1.0, 0.0, 0.0, 0.0]])
    expected = torch.tensor([[-0.6, 0.8, 0.0, 0.0], [-0.6, 0.0, 0.8, 0.0], [-1.0, 0.0, 0.0, 0.0]])
    torch.testing.assert_close(reflect(z), expected)
    assert reflect.dim == 4 and reflect.cones() == [([1.0, 0.0, 0.0, 0.0], math.pi / 2, "dashed")]


def test_editing_a_constant_of_the_example_changes_the_cache_key(mylab):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=OVERRIDES)
    before = training_key(cfg, 100, "cpu")
    source = mylab / "mylab" / "sparsity.py"
    source.write_text(source.read_text().replace("SCALE = 1.0", "SCALE = 2.0"))
    assert training_key(cfg, 100, "cpu") != before


# --- the README command, end to end ---------------------------------------------------------------------


def run_train(
    argv: list[str], cwd: Path, pythonpath: Path, fresh: bool = False
) -> Completed | subprocess.CompletedProcess:
    """`python -m excolor.train argv…` with `pythonpath` first on PYTHONPATH, a process of its own started
    warm (tests/warm.py: the outside package is imported fresh in it), or with `fresh` a new interpreter
    (for a run refused before torch is imported: cheaper than starting the warm server)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(pythonpath), os.environ.get("PYTHONPATH", "")]),
        "WANDB_MODE": "disabled",
    }
    env.pop("HYDRA_FULL_ERROR", None)
    if fresh:
        command = [sys.executable, "-m", "excolor.train", *argv]
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    return warm.run("excolor.train", *argv, cwd=cwd, env=env, timeout=900)


def test_an_outside_target_needs_trusted_packages(tmp_path):
    untrusted = [o for o in OVERRIDES if not o.startswith("trusted_packages")]
    done = run_train(
        ["-m", *untrusted, "regularizers.sparse.weight=0.001,0.01", f"hydra.sweep.dir={tmp_path / 'sweep'}"],
        tmp_path,
        EXAMPLE,
        fresh=True,
    )
    lines = done.stderr.strip().splitlines()
    assert done.returncode == 2 and len(lines) == 1, done.stderr[-2000:]
    assert "regularizers.sparse._target_='mylab.Sparsity' is not a trusted target" in lines[0]
    assert "trusted_packages" in lines[0]
    assert not any(tmp_path.iterdir())  # nothing written


@pytest.mark.slow
def test_the_example_runs_in_a_population_sweep_and_retrains_when_edited(tmp_path, mylab):
    cache = f"cache.dir={tmp_path / 'cache'}"
    sweep = tmp_path / "sweep"
    done = run_train(
        [
            "-m",
            *OVERRIDES,
            "regularizers.sparse.weight=0.001,0.01",
            "+hydra/sweep_common=default",
            f"hydra.sweep.dir={sweep}",
            cache,
        ],
        tmp_path,
        mylab,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for trial in ("0", "1"):
        with open(sweep / trial / "losses.csv") as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == 100 and all(
            float(row["sparse"]) > 0 for row in rows
        )  # the outside term, every step
        with open(sweep / trial / "members.csv") as handle:
            members = list(csv.DictReader(handle))
        assert len(members) == 2 and all(float(m["eval/reflect/focus"]) >= 0 for m in members)
    report = (sweep / "report.md").read_text()
    assert "train/sparse" in report and "eval/reflect/score" in report

    single = [*OVERRIDES, "evaluation.plots=false", cache]
    done = run_train([*single, f"hydra.run.dir={tmp_path / 'same'}"], tmp_path, mylab)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (
        json.loads((tmp_path / "same" / "metrics.json").read_text())["train/cached"] == 1
    )  # the sweep's model
    source = mylab / "mylab" / "sparsity.py"
    source.write_text(source.read_text().replace("SCALE = 1.0", "SCALE = 2.0"))
    done = run_train([*single, f"hydra.run.dir={tmp_path / 'edited'}"], tmp_path, mylab)
    assert done.returncode == 0, done.stderr[-3000:]
    metrics = json.loads((tmp_path / "edited" / "metrics.json").read_text())
    assert metrics["train/cached"] == 0 and metrics["train/steps"] == 100
    assert OmegaConf.load(tmp_path / "edited" / ".hydra" / "config.yaml").trusted_packages == ["mylab"]


def test_a_custom_search_space_from_a_trusted_package_extends_the_trials(mylab, tmp_path):
    """`hydra.sweeper.custom_search_space` in one of the app's `trusted_packages` is built and adds its
    parameter to every trial; without `trusted_packages` it is refused in one line before any trial."""
    space = "hydra.sweeper.custom_search_space=mylab.search.anchor_near_unit"
    common = [
        "-m",
        "sweep=h1",
        space,
        "hydra.sweeper.n_trials=1",
        "hydra.sweeper.n_jobs=1",
        "trainer.max_steps=5",
        "population.size=1",
    ]
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache"), "WANDB_MODE": "disabled"}
    refused = run_module(
        "excolor.train", *common, f"hydra.sweep.dir={tmp_path / 'refused'}", env=env, cwd=tmp_path
    )
    lines = refused.stderr.strip().splitlines()
    assert refused.returncode == 2 and len(lines) == 1, refused.stderr[-2000:]
    assert "custom_search_space='mylab.search.anchor_near_unit' is not a trusted target" in lines[0]
    assert not (tmp_path / "refused").exists()
    sweep = tmp_path / "sweep"
    done = run_module(
        "excolor.train",
        *common,
        "trusted_packages=[mylab]",
        f"hydra.sweep.dir={sweep}",
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    overrides = OmegaConf.load(sweep / "0" / ".hydra" / "overrides.yaml")
    unit = next(float(o.split("=")[1]) for o in overrides if o.startswith("regularizers.unit.weight="))
    anchor = next(float(o.split("=")[1]) for o in overrides if o.startswith("regularizers.anchor.weight="))
    assert unit / 2 <= anchor <= unit * 2
