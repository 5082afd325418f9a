"""Every Hydra config group option composes and resolves; the experiments compose as documented."""

from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.hydra_config import HydraConfig
from omegaconf import OmegaConf

import excolor.config  # registers the excolor_conf resolver

CONF = excolor.config.CONF_DIR
VERSION_BASE = excolor.config.VERSION_BASE
# Every group dir of conf/, except `sweep` (a symlink to sweeps/, work in progress: not checked here)
# and hydra/ (hydra's own groups, e.g. the SLURM launcher, which needs its plugin).
EXPECTED_GROUPS = [
    "data",
    "model",
    "regularizers",
    "schedule",
    "trainer",
    "logger",
    "callbacks",
    "intervention",
    "experiment",
]
GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name not in ("sweep", "hydra"))
OPTIONS = [(group, path.stem) for group in GROUPS for path in sorted((CONF / group).glob("*.yaml"))]


def test_every_group_has_options():
    assert set(EXPECTED_GROUPS) <= set(GROUPS)
    for group in GROUPS:
        assert any(g == group for g, _ in OPTIONS), group
    # the defaults named in train.yaml exist
    for group, option in [
        ("data", "hsv_cube"),
        ("model", "linear"),
        ("regularizers", "ex2.3"),
        ("schedule", "ex2.3"),
        ("trainer", "auto"),
        ("logger", "wandb"),
        ("callbacks", "default"),
        ("intervention", "default"),
    ]:
        assert (group, option) in OPTIONS


def compose_resolved(overrides, tmp_path) -> dict:
    """Compose train.yaml as the entry point would and resolve everything, `${hydra:...}` included."""
    with initialize_config_dir(config_dir=str(CONF), **VERSION_BASE):
        cfg = compose(
            "train",
            overrides=[*overrides, f"hydra.runtime.output_dir={tmp_path}", "hydra.job.num=0"],
            return_hydra_config=True,
        )
    HydraConfig.instance().set_config(cfg)
    try:
        resolved = OmegaConf.to_container(cfg, resolve=True)
        # no mandatory value (???) left outside the hydra node (hydra's own help texts are ??? by design)
        for key in cfg:
            if key != "hydra" and OmegaConf.is_config(cfg[key]):
                OmegaConf.to_container(cfg[key], resolve=True, throw_on_missing=True)
    finally:
        HydraConfig.instance().cfg = None
    return resolved


@pytest.mark.parametrize("group, option", OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_option_composes_and_resolves(group, option, tmp_path):
    cfg = compose_resolved([f"{group}={option}"], tmp_path)
    assert cfg["hydra"]["runtime"]["output_dir"] == str(tmp_path)
    # the pieces the entry point instantiates are there and point at real things
    assert Path(cfg["schedule"]["path"]).is_file()
    assert cfg["schedule"]["_target_"] == "excolor.schedule.load_schedule"
    assert cfg["model"]["_target_"] == "excolor.model.ColorAutoencoder"
    assert cfg["data"]["_target_"] in ("excolor.data.ColorBatches", "excolor.lattice.LatticeBatches")
    assert cfg["data"]["seed"] == cfg["seed"]
    assert cfg["trainer"]["_target_"] == "lightning.pytorch.Trainer"
    for reg in (cfg["regularizers"] or {}).values():
        assert reg["_target_"].startswith("excolor.regularizers.")
    if "anchor" in (cfg["regularizers"] or {}):
        assert cfg["regularizers"]["anchor"]["point"] == cfg["concept"]
    for item in (cfg["intervention"] or {}).values():
        assert item["concept"] == cfg["concept"]
    if cfg.get("logger"):
        assert cfg["logger"].get("save_dir") in (None, str(tmp_path))


def test_default_composition(tmp_path):
    cfg = compose_resolved([], tmp_path)
    assert cfg["model"] == {
        "_target_": "excolor.model.ColorAutoencoder",
        "hidden": 16,
        "bottleneck": 4,
        "normalize": True,
        "output": "linear",
    }
    assert sorted(cfg["regularizers"]) == ["anchor", "planar", "separate", "unit"]
    assert (
        cfg["regularizers"]["separate"]["power"] == 100 and cfg["regularizers"]["separate"]["shift"] is True
    )
    assert cfg["schedule"]["path"] == str(CONF / "schedule" / "ex-2.3-dopesheet.csv")
    assert cfg["concept"] == [1.0, 0.0, 0.0, 0.0]
    assert sorted(cfg["intervention"]) == ["repulsion", "suppression"]
    assert cfg["intervention"]["suppression"]["falloff"] == {
        "_target_": "excolor.interventions.BoundedFalloff",
        "a": 0.0,
        "b": 1.0,
        "power": 2.0,
    }
    assert cfg["intervention"]["repulsion"]["mapper"]["b"] == 0.5
    assert cfg["logger"]["save_dir"] == str(tmp_path)


def test_experiment_ex22(tmp_path):
    cfg = compose_resolved(["experiment=ex2.2"], tmp_path)
    assert cfg["model"]["output"] == "sigmoid"
    assert cfg["model"]["normalize"] is False
    assert cfg["tag"] == "ex2.2"
    assert cfg["schedule"]["path"] == str(CONF / "schedule" / "ex-2.2-dopesheet.csv")
    regs = cfg["regularizers"]
    assert sorted(regs) == ["anchor", "planar", "separate", "unit", "unit_vibrant"]
    assert regs["unit_vibrant"]["_target_"] == "excolor.regularizers.Unitarity"
    assert regs["unit_vibrant"]["label_affinities"] == {"vibrant": 1.0}
    assert regs["separate"]["power"] == 10 and regs["separate"]["shift"] is False


def test_experiment_ex23_is_the_default(tmp_path):
    default = compose_resolved([], tmp_path)
    ex23 = compose_resolved(["experiment=ex2.3"], tmp_path)
    for key in ("model", "regularizers", "schedule", "data"):
        assert default[key] == ex23[key]


@pytest.mark.parametrize(
    "override, path, value",
    [
        ("regularizers.unit.weight=0.3", ("regularizers", "unit", "weight"), 0.3),
        ("model.normalize=false", ("model", "normalize"), False),
        ("seed=5", ("data", "seed"), 5),
        ("concept=[0,1,0,0]", ("regularizers", "anchor", "point"), [0, 1, 0, 0]),
        ("intervention.suppression.falloff.a=0.25", ("intervention", "suppression", "falloff", "a"), 0.25),
    ],
)
def test_overrides_land(override, path, value, tmp_path):
    cfg = compose_resolved([override], tmp_path)
    node = cfg
    for key in path:
        node = node[key]
    assert node == value


def test_experiment_with_override(tmp_path):
    cfg = compose_resolved(["experiment=ex2.2", "regularizers.unit.weight=0.3"], tmp_path)
    assert cfg["regularizers"]["unit"]["weight"] == 0.3
    assert cfg["regularizers"]["unit_vibrant"]["weight"] == 1.0


def test_cache_dir_follows_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("EXCOLOR_CACHE_DIR", str(tmp_path / "c"))
    assert compose_resolved([], tmp_path)["cache"]["dir"] == str(tmp_path / "c")
