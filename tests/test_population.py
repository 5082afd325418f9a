"""Population training: members, the stacked model, per-member data, exactness against single
models, the run outputs (members.csv, metrics.json medians, load_model(member=i)) and bad configs."""

from __future__ import annotations

import json
import logging
import os

import lightning as L
import numpy as np
import pytest
import torch
from omegaconf import OmegaConf

from excolor.bench import train_plain
from excolor.config import CONF_DIR
from excolor.data import ColorBatches, ContinuousBatches
from excolor.errors import CheckpointError, ConfigError
from excolor.evaluation import Evaluator
from excolor.interventions import Suppression
from excolor.model import ColorAutoencoder
from excolor.module import AutoencoderModule
from excolor.population import LR_SCALE, Population
from excolor.population_model import PopulationAutoencoder
from excolor.regularizers import Anchor, Planarity, Separate, Unitarity
from excolor.run_record import read_members, summarize_members
from excolor.schedule import load_schedule
from inprocess import run_cases, run_module
from smoke import SMOKE_CUBE

MODEL = OmegaConf.load(CONF_DIR / "model" / "linear.yaml")  # the shipped Ex 2.3 model


def data_config(seed: int = 0):
    config = OmegaConf.load(CONF_DIR / "data" / "hsv_cube.yaml")
    config.seed = seed
    return config


def ex23_regularizers() -> dict:
    return {
        "unit": Unitarity(column="reg-unit"),
        "anchor": Anchor(point=[1, 0, 0, 0], column="reg-anchor", label_affinities={"red": 1.0}),
        "separate": Separate(power=100, shift=True, column="reg-separate"),
        "planar": Planarity(column="reg-planar", label_affinities={"vibrant": 1.0}),
    }


# ----------------------------------------------------------------------------- members


def test_members_are_grid_points_times_seeds_grid_major():
    population = Population(
        size=2, grid={"regularizers.unit.weight": [0.1, 1.0], "regularizers.anchor.weight": [3.0]}, seed=5
    )
    assert len(population) == 4
    assert population.seeds == [5, 6, 5, 6]
    assert population.values("regularizers.unit.weight") == [0.1, 0.1, 1.0, 1.0]
    assert population.values("regularizers.anchor.weight") == [3.0] * 4
    assert population.values("regularizers.planar.weight") is None
    assert [m.index for m in population.members] == [0, 1, 2, 3]


def test_a_population_of_one_is_the_seed_alone():
    population = Population(seed=7)
    assert len(population) == 1 and population.seeds == [7] and population.grid == {}


@pytest.mark.parametrize(
    ("size", "grid", "text"),
    [
        (0, None, "population.size=0"),
        (-3, None, "population.size=-3"),
        (True, None, "population.size=True"),
        (2.5, None, "population.size=2.5"),
        (1, {"model.hidden": [8, 16]}, "not a per-member scalar"),
        (1, {"data.batch_size": [8, 16]}, "allowed: lr_scale, regularizers.<name>.weight"),
        (1, {"data.labels.red.colour": [8]}, "not a per-member scalar"),
        (1, {"regularizers.separate.power": [True]}, "finite number"),
        (1, {"lr": [0.01]}, "allowed: lr_scale, regularizers.<name>.weight"),
        (1, {"lr_scale": [1.0, 0.0]}, "finite number > 0"),
        (1, {"lr_scale": [-2.0]}, "finite number > 0"),
        (1, {"regularizers.unit.weight": []}, "non-empty list"),
        (1, {"regularizers.unit.weight": 0.3}, "non-empty list"),
        (1, {"regularizers.unit.weight": [1, float("inf")]}, "finite number"),
        (1, {"regularizers.unit.weight": [-1.0]}, "finite number ≥ 0"),
        (1, {"regularizers.unit.weight": ["a"]}, "finite number"),
    ],
)
def test_bad_population_configs_name_the_key(size, grid, text):
    with pytest.raises(ConfigError, match="population") as error:
        Population(size=size, grid=grid)
    assert text in str(error.value)


@pytest.mark.parametrize(
    ("key", "text"),
    [
        ("regularizers.nope.weight", "no regularizer 'nope' (configured: unit, anchor, separate, planar)"),
        ("regularizers.nope.power", "no regularizer 'nope'"),
        ("regularizers.separate.strength", "no such setting in regularizers.separate"),
        ("regularizers.separate._target_", "it is 'excolor.regularizers.Separate', not a number"),
        ("regularizers.planar.plane", "it is [0, 1], not a number"),
        ("regularizers.anchor.label_affinities.vibrant", "no such setting in regularizers.anchor"),
        ("data.labels.desaturated.alpha", "no label 'desaturated' in data.labels (configured: red, vibrant)"),
    ],
)
def test_grid_keys_must_name_a_number_the_config_holds(key, text):
    """Checked against the composed config (excolor.validation runs it before any work)."""
    from excolor.config import compose_config

    cfg = OmegaConf.to_container(compose_config("train", []), resolve=False)
    assert isinstance(cfg, dict)
    with pytest.raises(ConfigError) as error:
        Population(grid={key: [1.0]}).check_config(cfg)
    assert str(error.value).startswith(f"population.grid.{key}: {text}")


def test_grid_keys_of_settings_and_labels_pass_the_config_check():
    from excolor.config import compose_config

    cfg = OmegaConf.to_container(compose_config("train", []), resolve=False)
    assert isinstance(cfg, dict)
    keys = (
        "regularizers.separate.weight",
        "regularizers.separate.power",
        "regularizers.anchor.label_affinities.red",
        "data.labels.red.alpha",
        "data.labels.vibrant.k",
    )
    Population(grid={key: [1.0] for key in keys}).check_config(cfg)


# ----------------------------------------------------------------------------- stacked model


def test_members_start_as_the_single_models_of_their_seeds():
    population = Population(size=3, seed=10)
    model = population.build_model(MODEL)
    for index, seed in enumerate(population.seeds):
        torch.manual_seed(seed)
        single = ColorAutoencoder()
        member = model.member(index)
        for expected, got in zip(single.state_dict().values(), member.state_dict().values()):
            assert torch.equal(expected, got)


def test_stacked_forward_equals_each_members_forward():
    torch.manual_seed(0)
    singles = [ColorAutoencoder(output=output) for output in ("sigmoid", "sigmoid", "sigmoid")]
    stacked = PopulationAutoencoder.from_members(singles).eval()
    x = torch.rand(50, 3)
    y = stacked(x)  # [B, 3] is broadcast to every member
    assert y.shape == (3, 50, 3)
    for index, single in enumerate(singles):
        torch.testing.assert_close(y[index], single.eval()(x), rtol=1e-6, atol=1e-6)
    xs = torch.rand(3, 20, 3)
    ys, latents = stacked.forward_with_latents(xs)
    assert latents["bottleneck"].shape == (3, 20, 4)
    torch.testing.assert_close(latents["bottleneck"].norm(dim=-1), torch.ones(3, 20))
    for index, single in enumerate(singles):
        torch.testing.assert_close(ys[index], single(xs[index]), rtol=1e-6, atol=1e-6)


def test_a_population_of_one_computes_bit_for_bit_what_its_model_does():
    torch.manual_seed(1)
    single = ColorAutoencoder()
    stacked = PopulationAutoencoder.from_members([single]).train()
    x = torch.rand(64, 3)
    y_single, latents_single = single.train().forward_with_latents(x)
    y_stacked, latents_stacked = stacked.forward_with_latents(x)
    assert torch.equal(y_single, y_stacked) and torch.equal(
        latents_single["encoder"], latents_stacked["encoder"]
    )


def test_members_must_share_an_architecture():
    with pytest.raises(ValueError, match="one architecture"):
        PopulationAutoencoder.from_members([ColorAutoencoder(hidden=8), ColorAutoencoder(hidden=16)])


def test_member_index_out_of_range():
    with pytest.raises(IndexError):
        PopulationAutoencoder(2).member(2)


# ----------------------------------------------------------------------------- data and terms


def test_each_members_batches_are_its_own_seeds_stream():
    population = Population(size=3, grid={"regularizers.unit.weight": [1.0, 2.0]}, seed=4)
    stacked = population.build_data(data_config())
    alone = {
        seed: ContinuousBatches(ColorBatches(seed=seed, labels=dict(data_config().labels)), 120)
        for seed in (4, 5, 6)
    }
    streams = {seed: iter(batches) for seed, batches in alone.items()}
    for step, (x, labels) in enumerate(ContinuousBatches(stacked, 120)):
        assert x.shape[0] == 6 and labels.shape[0] == 6
        expected = {seed: next(streams[seed]) for seed in alone}
        for member, seed in enumerate(population.seeds):
            assert torch.equal(x[member], expected[seed][0]), (step, member)
            assert torch.equal(labels[member], expected[seed][1]), (step, member)


@pytest.mark.parametrize("name", ["unit", "anchor", "separate", "planar"])
def test_terms_reduce_per_member_never_across(name):
    regularizer = ex23_regularizers()[name]
    regularizer.bind_labels(["red", "vibrant"])
    torch.manual_seed(2)
    z = torch.randn(3, 64, 4)
    labels = (torch.rand(3, 64, 2) < 0.5).float()
    stacked = regularizer(z, labels)
    assert stacked.shape == (3,)
    for member in range(3):
        torch.testing.assert_close(stacked[member], regularizer(z[member], labels[member]), rtol=1e-6, atol=0)


def test_member_variants_compute_each_members_term_with_its_own_settings():
    """A grid over a setting: member m's term is that of the regularizer built with m's value, on m's rows."""
    from excolor.population import with_settings

    config = OmegaConf.create(
        {
            "_target_": "excolor.regularizers.Separate",
            "column": "s",
            "power": 100,
            "label_affinities": {"red": 1.0},
        }
    )
    settings = [{"power": 50.0}, {"power": 100.0}, {"label_affinities.red": 0.0}, {"power": 50.0}]
    regularizer = with_settings(config, {})
    distinct = [{"power": 50.0}, {"power": 100.0}, {"label_affinities.red": 0.0}]
    variants = [with_settings(config, values) for values in distinct]
    for variant in (regularizer, *variants):
        variant.bind_labels(["red", "vibrant"])
    regularizer.set_member_variants(variants, [distinct.index(values) for values in settings])
    assert [v.power for v in variants] == [50.0, 100.0, 100.0]
    torch.manual_seed(5)
    z = torch.randn(4, 32, 4)
    labels = (torch.rand(4, 32, 2) < 0.5).float()
    stacked = regularizer(z, labels)
    for member, values in enumerate(settings):
        alone = with_settings(config, values)
        alone.bind_labels(["red", "vibrant"])
        torch.testing.assert_close(stacked[member], alone(z[member], labels[member]), rtol=1e-6, atol=0)
    assert regularizer.member_affinities(4) == [{"red": 1.0}, {"red": 1.0}, {"red": 0.0}, {"red": 1.0}]


# ----------------------------------------------------------------------------- training


def lightning_fit(module: AutoencoderModule, data, steps: int) -> AutoencoderModule:
    """A plain Lightning fit of `module` on `data` for `steps` steps (no logger, no callbacks)."""
    trainer = L.Trainer(
        max_steps=steps,
        accelerator="cpu",
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=ContinuousBatches(data, steps))
    return module


def train_population(population: Population, steps: int) -> PopulationAutoencoder:
    return fit_population(population, steps).model


def fit_population(
    population: Population, steps: int, log_every_n_steps: int = 50, lr_factor: float = 1.0
) -> AutoencoderModule:
    """The module after a plain Lightning fit of `population` on Ex 2.3 (no logger, no callbacks), with
    the grid's lr_scale per member and the schedule's lr × `lr_factor` (torch's Adam at that lr)."""
    torch.set_num_threads(1)
    schedule = load_schedule(str(CONF_DIR / "schedule" / "ex-2.3-dopesheet.csv"))
    model = population.build_model(MODEL)
    data = population.build_data(data_config())
    regularizers = ex23_regularizers()
    for regularizer in regularizers.values():
        regularizer.bind_labels(data.label_names)
    population.bind_regularizers(regularizers)
    module = AutoencoderModule(
        model,
        regularizers,
        schedule,
        steps,
        log_every_n_steps=log_every_n_steps,
        lr_scales=population.values(LR_SCALE),
    )
    module.learning_rates = [lr * lr_factor for lr in module.learning_rates]
    return lightning_fit(module, data, steps)


def test_a_population_of_one_trains_exactly_as_the_single_model():
    trained = train_population(Population(seed=3), 60).member(0)
    plain, _ = train_plain(60, seed=3)
    for expected, got in zip(plain.state_dict().values(), trained.state_dict().values()):
        assert torch.equal(expected, got)


@pytest.mark.slow
def test_each_member_trains_as_its_single_model_up_to_rounding():
    population = Population(size=2, grid={"regularizers.unit.weight": [0.5, 2.0]}, seed=0)
    stacked = train_population(population, 60)
    for member in population.members:
        plain, _ = train_plain(
            60, member.seed, (f"regularizers.unit.weight={member.values['regularizers.unit.weight']}",)
        )
        for expected, got in zip(
            plain.state_dict().values(), stacked.member(member.index).state_dict().values()
        ):
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)


def test_members_with_different_weights_end_differently():
    population = Population(size=1, grid={"regularizers.unit.weight": [0.0, 50.0]})
    stacked = train_population(population, 60)
    first, second = (stacked.member(i).encoder[0].weight for i in (0, 1))
    assert not torch.allclose(first, second, atol=1e-4)


# ----------------------------------------------------------------------------- evaluation


@pytest.mark.slow
def test_population_evaluation_equals_each_member_alone():
    torch.manual_seed(0)
    singles = [ColorAutoencoder() for _ in range(3)]
    stacked = PopulationAutoencoder.from_members(singles)
    suppression = [Suppression([1, 0, 0, 0])]
    together, errors = Evaluator(stacked).metrics("suppression", suppression)
    assert errors.shape == (3, 552_960) and len(together) == 3
    for index, single in enumerate(singles):
        (alone,), error = Evaluator(single).metrics("suppression", suppression)
        np.testing.assert_allclose(errors[index], error[0], rtol=1e-5, atol=1e-7)
        for key, value in alone.items():
            assert together[index][key] == pytest.approx(value, rel=1e-4, abs=1e-9), key


def test_summarize_members_takes_medians():
    members = [{"a": 1.0, "b": 5.0}, {"a": 3.0, "b": float("nan")}, {"a": 2.0, "b": 7.0}]
    assert summarize_members(members) == {"a": 2.0, "b": 6.0}


# ----------------------------------------------------------------------------- the entry point


def run_train(tmp_path, name, *overrides):
    run_dir = tmp_path / name
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(tmp_path / "cache"), "WANDB_MODE": "disabled"}
    done = run_module(
        "excolor.train",
        "logger=none",
        "callbacks=none",
        "evaluation.plots=false",
        SMOKE_CUBE,
        f"hydra.run.dir={run_dir}",
        *overrides,
        env=env,
        cwd=tmp_path,
    )
    return done, run_dir


@pytest.mark.slow
def test_population_run_writes_members_medians_and_member_checkpoints(tmp_path):
    import excolor

    overrides = (
        "population.size=2",
        "population.grid={regularizers.unit.weight:[0.1,10]}",
        "trainer.max_steps=40",
        "cache.enabled=false",
    )
    done, run_dir = run_train(tmp_path, "grid", *overrides)
    assert done.returncode == 0, done.stderr[-3000:]
    members = read_members(run_dir)
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert [m["seed"] for m in members] == [0, 1, 0, 1]
    assert [m["regularizers.unit.weight"] for m in members] == [0.1, 0.1, 10.0, 10.0]
    assert metrics["population/size"] == 4 and metrics["seed"] == 0
    for key in ("eval/none/median_mse", "eval/suppression/score", "train/recon", "val/recon"):
        assert metrics[key] == pytest.approx(float(np.median([m[key] for m in members])), rel=1e-12), key
    population = excolor.checkpoint.load_population(run_dir)
    assert population.size == 4
    member = excolor.load_model(run_dir, member=3)
    assert isinstance(member, ColorAutoencoder)
    assert torch.equal(member.encoder[0].weight, population.member(3).encoder[0].weight)

    again, run_dir_again = run_train(tmp_path, "again", *overrides)  # same config and seed: same members
    assert again.returncode == 0, again.stderr[-3000:]
    assert (run_dir / "members.csv").read_text() == (run_dir_again / "members.csv").read_text()


BAD_POPULATIONS = {  # override -> what its one error line says
    "population.size=0": "population.size=0",
    "population.grid={model.hidden:[8,16]}": "not a per-member scalar",
    "population.grid={regularizers.unit.weight:[]}": "non-empty list",
    "population.grid={regularizers.nope.weight:[1]}": "no regularizer 'nope'",
    "population.grid={regularizers.separate.strength:[1,2]}": "no such setting in regularizers.separate",
    "population.grid={regularizers.separate.power:[0,100]}": "regularizers.separate.power=0.0 must be > 0",
    "population.grid={data.labels.red.alpha:[0.5,2]}": "data.labels.red: Red: alpha=2.0 must be in [0, 1]",
    "evaluation.member=3": "evaluation.member=3",
}


@pytest.fixture(scope="module")
def bad_population_runs(tmp_path_factory) -> tuple:
    """Every bad override through `python -m excolor.train`'s `__main__`, all in this interpreter
    (`inprocess.run_module`: a case costs a config composition, not ~4 s of imports)."""
    root = tmp_path_factory.mktemp("bad_populations")
    common = ["logger=none", "callbacks=none", "evaluation.plots=false", "trainer.max_steps=5"]
    cases = {
        override: ("excolor.train", [*common, override, f"hydra.run.dir={root / str(index)}"])
        for index, override in enumerate(BAD_POPULATIONS)
    }
    env = {**os.environ, "EXCOLOR_CACHE_DIR": str(root / "cache"), "WANDB_MODE": "disabled"}
    env.pop("HYDRA_FULL_ERROR", None)
    return root, run_cases(cases, env=env, cwd=root)  # in this process: a case costs a composition


@pytest.mark.slow
@pytest.mark.parametrize("override", list(BAD_POPULATIONS))
def test_bad_population_input_is_one_line_and_no_output(bad_population_runs, override):
    root, results = bad_population_runs
    result = results[override]
    assert result["returncode"] == 2, result["stderr"][-2000:]
    errors = [line for line in result["stderr"].splitlines() if line.startswith("excolor: error:")]
    assert len(errors) == 1 and BAD_POPULATIONS[override] in errors[0], result["stderr"][-2000:]
    assert "Traceback" not in result["stderr"]
    run_dir = root / str(list(BAD_POPULATIONS).index(override))
    assert not (run_dir / "model.ckpt").exists() and not (run_dir / "metrics.json").exists()


def test_history_is_compacted_at_logged_steps_and_loses_nothing(caplog):
    """The per-step rows are stacked into one chunk at every logged step (few long-lived tensors: no
    heap growth); the history is still every step, in order, and a diverged member is found at its step."""
    module = fit_population(Population(size=2, seed=0), 25, log_every_n_steps=10)
    # logged steps 0, 10, 20 and the last, 24: chunks of 1, 10, 10 and 4 rows
    assert [len(chunk) for chunk in module._chunks] == [1, 10, 10, 4] and module._rows == []
    history = module.history
    assert history.shape == (25, len(module.history_columns), 2) and torch.isfinite(history[:, :2]).all()
    # a member whose loss turns NaN at step 31 (rows not yet compacted) is reported at that step
    module._rows = [(torch.tensor([1.0, float("nan") if step == 31 else 1.0]),) for step in range(25, 35)]
    module._chunked_steps = 25
    with caplog.at_level(logging.WARNING, logger="excolor.module"):
        module._check_finite()
    assert module.diverged.tolist() == [False, True]
    assert "the loss of member 1 is nan at step 31; the other members go on" in caplog.text


def test_the_bare_stacked_loop_trains_what_the_framework_does():
    """bench's reference loop for the population fit is the same training: the same members, bit for bit."""
    from excolor.bench import train_plain_population

    population = Population(size=3, seed=0)
    stacked = train_population(population, 40)
    plain, seconds = train_plain_population(3, 40)
    assert seconds > 0
    for expected, got in zip(plain.state_dict().values(), stacked.state_dict().values()):
        assert torch.equal(expected, got)


# ----------------------------------------------------------------------------- generic stacking


class OutsideModel(torch.nn.Module):
    """A model from outside excolor: Linear layers, ReLU and Tanh, a `config` and a `width`."""

    def __init__(self, width: int = 3):
        super().__init__()
        self.config = {"width": width}
        self.width = width
        self.body = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU())
        self.head = torch.nn.Linear(8, width)
        self.squash = torch.nn.Tanh()

    def forward(self, x):
        return self.squash(self.head(self.body(x)))


def test_any_model_of_linear_layers_and_parameter_free_modules_stacks():
    torch.manual_seed(0)
    models = [OutsideModel() for _ in range(3)]
    stacked = PopulationAutoencoder.from_members(models)
    assert type(stacked).__name__ == "StackedOutsideModel" and isinstance(stacked, OutsideModel)
    assert stacked.stacked_paths == ["body.0", "head"] and stacked.size == 3 and stacked.width == 3
    assert list(stacked.state_dict()) == list(models[0].state_dict())  # the same paths
    x = torch.rand(10, 3)
    y = stacked(x)
    for index, model in enumerate(models):
        torch.testing.assert_close(y[index], model(x), rtol=1e-6, atol=1e-6)
        member = stacked.member(index)
        assert type(member) is OutsideModel and torch.equal(member(x), model(x))
    assert type(PopulationAutoencoder.from_members([OutsideModel()])) is type(stacked)  # made once


class WithLayerNorm(OutsideModel):
    def __init__(self, width: int = 3):
        super().__init__(width)
        self.squash = torch.nn.LayerNorm(width)


class WithoutBias(OutsideModel):
    def __init__(self, width: int = 3):
        super().__init__(width)
        self.head = torch.nn.Linear(8, width, bias=False)


@pytest.mark.parametrize(
    ("model", "text"),
    [
        (WithLayerNorm, "model: cannot stack squash (LayerNorm): a population stacks nn.Linear layers and"),
        (WithoutBias, "model: cannot stack head (Linear): a stacked Linear layer needs a bias"),
    ],
)
def test_a_module_that_cannot_be_stacked_is_named(model, text):
    with pytest.raises(ConfigError) as error:
        PopulationAutoencoder.from_members([model(), model()])
    assert text in str(error.value) and "\n" not in str(error.value)


def test_the_two_layer_k5_model_stacks_member_for_member():
    population = Population(size=3, seed=4)
    model = population.build_model(OmegaConf.merge(MODEL, {"bottleneck": 5, "nonlinear_layers": 2}))
    assert model.stacked_paths == [
        "encoder.0",
        "encoder.2",
        "encoder.4",
        "decoder.0",
        "decoder.2",
        "decoder.4",
    ]
    x = torch.rand(3, 40, 3)
    ys, latents = model.forward_with_latents(x)
    assert latents["bottleneck"].shape == (3, 40, 5)
    for member in population.members:
        torch.manual_seed(member.seed)
        single = ColorAutoencoder(bottleneck=5, nonlinear_layers=2)
        y, single_latents = single.forward_with_latents(x[member.index])
        torch.testing.assert_close(ys[member.index], y, rtol=1e-6, atol=1e-6)
        torch.testing.assert_close(latents["bottleneck"][member.index], single_latents["bottleneck"])


def test_an_outside_population_round_trips_through_the_checkpoint(tmp_path):
    from excolor.checkpoint import ARCHITECTURE_KEY, MODEL_CONFIG_KEY, architecture_name, load_population

    torch.manual_seed(0)
    stacked = PopulationAutoencoder.from_members([OutsideModel(), OutsideModel()])
    checkpoint = {
        "state_dict": {f"model.{k}": v for k, v in stacked.state_dict().items()},
        MODEL_CONFIG_KEY: dict(stacked.config),
        ARCHITECTURE_KEY: architecture_name(OutsideModel),
    }
    torch.save(checkpoint, tmp_path / "model.ckpt")
    loaded = load_population(tmp_path)
    assert type(loaded) is type(stacked) and loaded.size == 2
    x = torch.rand(6, 3)
    assert torch.equal(loaded(x), stacked(x))
    torch.save({**checkpoint, ARCHITECTURE_KEY: "os:system"}, tmp_path / "model.ckpt")
    with pytest.raises(CheckpointError, match="model class os:system is not a torch module"):
        load_population(tmp_path)


# ----------------------------------------------------------------------------- a learning rate per member


def test_lr_scale_is_a_grid_axis():
    population = Population(size=2, grid={"lr_scale": [0.5, 2], "regularizers.unit.weight": [1.0]}, seed=0)
    assert population.values("lr_scale") == [0.5, 0.5, 2.0, 2.0]
    population.bind_regularizers({"unit": Unitarity(column="reg-unit")})  # lr_scale names no regularizer


def test_members_that_all_have_scale_one_train_exactly_as_today():
    today = fit_population(Population(size=2, seed=0), 30)
    ones = fit_population(Population(size=2, grid={"lr_scale": [1.0]}, seed=0), 30)
    assert isinstance(ones.optimizers().optimizer, torch.optim.Adam)
    for expected, got in zip(today.model.state_dict().values(), ones.model.state_dict().values()):
        assert torch.equal(expected, got)


def test_each_member_trains_with_its_scaled_learning_rate():
    """Member with scale s ≡ its seed's single run on the schedule's lr × s (torch's Adam), to rounding."""
    population = Population(size=1, grid={"lr_scale": [0.5, 4.0]}, seed=2)
    stacked = fit_population(population, 40)
    assert type(stacked.optimizers().optimizer).__name__ == "MemberAdam"
    for member in population.members:
        alone = fit_population(Population(size=1, seed=member.seed), 40, lr_factor=member.values["lr_scale"])
        for expected, got in zip(
            alone.model.member(0).state_dict().values(),
            stacked.model.member(member.index).state_dict().values(),
        ):
            torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-5)
    first, second = (stacked.model.member(i).encoder[0].weight for i in (0, 1))
    assert not torch.allclose(first, second, atol=1e-4)


@pytest.mark.slow
def test_members_with_their_own_settings_and_labels_train_as_their_single_models():
    """A grid over a regularizer setting (separate's power) and a label parameter (red's alpha): each
    member ends as the bare single-model loop with those values ends, up to float rounding."""
    from hydra.utils import instantiate

    from excolor.config import compose_config
    from excolor.console import trusted_targets
    from excolor.regularizers.build import build_regularizers

    steps = 60
    grid = "{regularizers.separate.power:[50,100],data.labels.red.alpha:[0.2,1.0]}"
    cfg = compose_config("train", ["population.size=2", f"population.grid={grid}"])
    torch.set_num_threads(1)
    with trusted_targets():
        schedule = instantiate(cfg.schedule)
        population = instantiate(cfg.population)
        model = population.build_model(cfg.model)
        data = population.build_data(cfg.data)
        regularizers = build_regularizers(
            cfg.regularizers, schedule, data.label_names, model.width, population
        )
    assert len(data.streams) == 4  # 2 seeds × 2 alphas; the powers share streams
    module = AutoencoderModule(model, regularizers, schedule, steps, log_every_n_steps=50)
    lightning_fit(module, data, steps)
    ends = set()
    for member in population.members:
        values = member.values
        plain, _ = train_plain(
            steps,
            member.seed,
            (
                f"regularizers.separate.power={values['regularizers.separate.power']}",
                f"data.labels.red.alpha={values['data.labels.red.alpha']}",
            ),
        )
        got = module.model.member(member.index).state_dict()
        for name, expected in plain.state_dict().items():
            torch.testing.assert_close(got[name], expected, rtol=1e-4, atol=1e-5)
        ends.add(round(float(got["encoder.0.weight"].sum()), 4))
    assert len(ends) == 8  # every member ends somewhere of its own
