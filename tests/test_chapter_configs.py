"""The chapter's component options wired together (spec m2-family §14 table): each experiment's data,
regularizer set and dopesheet build with one another — labels bound, widths checked, every scheduled
column driving a term — and one re-run trains end to end as a population."""

import logging

import pytest
from hydra.utils import instantiate
from omegaconf import OmegaConf

import excolor.config
from excolor.regularizers import (
    Anchor,
    AngularAnchor,
    AntiAnchor,
    AntiSubspace,
    AxisAlignedSubspace,
    Separate,
    Unitarity,
)
from excolor.regularizers.build import build_regularizers

CONF = excolor.config.CONF_DIR
# experiment: (data option, K, {term: (class, layer, labels)}) per spec §14
PIPELINE_A = "hsv_cube"
EXPERIMENTS = {
    "2.4": (
        PIPELINE_A,
        4,
        {
            "unit": (Unitarity, "encoder", set()),
            "anchor": (Anchor, "bottleneck", {"red"}),
            "separate": (Separate, "bottleneck", set()),
            "planar": (AxisAlignedSubspace, "bottleneck", {"vibrant"}),
        },
    ),
    "2.5": (
        PIPELINE_A,
        4,
        {
            "unit": (Unitarity, "encoder", set()),
            "anchor": (Anchor, "bottleneck", {"red"}),
            "separate": (Separate, "bottleneck", set()),
        },
    ),
    "2.8": (
        "hsv_cube_desaturated",
        4,
        {
            "unit": (Unitarity, "encoder", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "separate": (Separate, "bottleneck", set()),
            "anti-anchor": (AntiAnchor, "bottleneck", set()),
        },
    ),
    "2.9": (
        "hsv_cube_desaturated",
        5,
        {
            "unit": (Unitarity, "encoder", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "separate": (Separate, "bottleneck", set()),
            "planar-d": (AxisAlignedSubspace, "bottleneck", {"desaturated"}),
            "anti-anchor": (AntiAnchor, "bottleneck", set()),
        },
    ),
    "2.10": (
        "rgb_lattice_10",
        5,
        {
            "separate": (Separate, "bottleneck", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "anti-subspace": (AntiSubspace, "bottleneck", set()),
        },
    ),
    "2.4.1": (
        "rgb_lattice",
        4,
        {
            "separate": (Separate, "bottleneck", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "subspace": (AxisAlignedSubspace, "bottleneck", {"vibrant"}),
        },
    ),
    "2.5.1": (
        "rgb_lattice",
        4,
        {"separate": (Separate, "bottleneck", set()), "anchor": (AngularAnchor, "bottleneck", {"red"})},
    ),
    "2.7.1": (
        "rgb_lattice",
        4,
        {
            "separate": (Separate, "bottleneck", set()),
            "subspace": (AxisAlignedSubspace, "bottleneck", {"vibrant"}),
        },
    ),
    "2.9.1": (
        "rgb_lattice",
        5,
        {
            "separate": (Separate, "bottleneck", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "anti-anchor": (AntiAnchor, "bottleneck", set()),
            "anti-subspace": (AntiSubspace, "bottleneck", set()),
        },
    ),
    "2.10.1": (
        "rgb_lattice",
        5,
        {
            "separate": (Separate, "bottleneck", set()),
            "anchor": (AngularAnchor, "bottleneck", {"red"}),
            "anti-subspace": (AntiSubspace, "bottleneck", set()),
        },
    ),
}
# Labels each re-run's data must provide beyond the default red (the data options' own labels)
EXTRA_LABELS = {
    "2.4.1": {"vibrant": {"alpha": 0.01, "k": 10}},
    "2.7.1": {"vibrant": {"alpha": 0.008, "k": 8}},
}


def load(group, option, **values):
    cfg = OmegaConf.load(CONF / group / f"{option}.yaml")
    return OmegaConf.merge(cfg, OmegaConf.create(values))


@pytest.mark.parametrize("experiment", sorted(EXPERIMENTS))
def test_regularizer_set_builds_with_its_data_and_schedule(experiment, caplog):
    data_option, width, terms = EXPERIMENTS[experiment]
    concept = [1.0] + [0.0] * (width - 1)
    data_cfg = load("data", data_option, seed=0)
    if experiment in EXTRA_LABELS:
        data_cfg.labels = {**data_cfg.labels, **EXTRA_LABELS[experiment]}
    data = instantiate(data_cfg)
    schedule = instantiate(load("schedule", f"ex{experiment}"))
    configs = OmegaConf.merge(
        OmegaConf.create({"concept": concept}), {"r": load("regularizers", f"ex{experiment}")}
    )
    with caplog.at_level(logging.WARNING, logger="excolor.train"):
        built = build_regularizers(configs.r, schedule, data.label_names, width)
    assert set(built) == set(terms)
    for name, (kind, layer, labels) in terms.items():
        term = built[name]
        assert type(term) is kind and term.layer == layer and set(term.label_affinities) == labels, name
        assert term.column in schedule.values, name
    # every scheduled weight drives a term, except 2.9's orphan reg-planar-v (spec §0.2)
    orphans = [r.getMessage() for r in caplog.records]
    assert orphans == (
        ["schedule column 'reg-planar-v' drives no regularizer"] if experiment == "2.9" else []
    )


def test_widths_are_checked():
    data = instantiate(load("data", "rgb_lattice", seed=0))
    schedule = instantiate(load("schedule", "ex2.9.1"))
    configs = OmegaConf.merge(
        OmegaConf.create({"concept": [1.0, 0, 0, 0]}), {"r": load("regularizers", "ex2.9.1")}
    )
    with pytest.raises(Exception, match="bottleneck=5"):
        build_regularizers(configs.r, schedule, data.label_names, 5)
