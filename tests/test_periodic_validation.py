"""Validation during training (excolor.periodic_validation): when it runs, and val/recon and val/<term>
against values worked out by hand on the 351-colour set."""

import math

import pytest
import torch

from excolor.errors import ConfigError
from excolor.lattice import ValidationSet
from excolor.periodic_validation import PeriodicValidation
from excolor.regularizers import AngularAnchor, AxisAlignedSubspace, Separate

RED_B = {"red": {"alpha": 0.08, "k": 8}}
THETA = 0.6  # the angle of pure red's latent from e0


class FakeModel(torch.nn.Module):
    """A population of `size` whose reconstruction is x + offset (member m: offset (m + 1)/10) and
    whose latent is e0 everywhere except pure red's, at angle THETA from e0."""

    def __init__(self, size: int):
        super().__init__()
        self.size = size
        self.weight = torch.nn.Parameter(torch.zeros(1))
        self.modes: list[bool] = []

    def forward_with_latents(self, x):
        self.modes.append(self.training)
        offset = (torch.arange(self.size, dtype=x.dtype) + 1).reshape(-1, 1, 1) / 10
        y = (x + offset) if self.size > 1 else x + 0.1
        z = torch.zeros(*x.shape[:-1], 2)
        z[..., 0] = 1.0
        red = (x[..., 0] == 1) & (x[..., 1] == 0) & (x[..., 2] == 0)
        z[red] = torch.tensor([math.cos(THETA), math.sin(THETA)])
        return y, {"bottleneck": z, "encoder": z}


def terms():
    return {
        "anchor": AngularAnchor(
            point=[1.0, 0.0],
            column="anchor",
            label_affinities={"red": 1.0},
            layer="bottleneck",
            phase="train+validate",
        ),
        "subspace": AxisAlignedSubspace(
            dims=[0],
            column="subspace",
            label_affinities={"vibrant": 1.0},
            layer="bottleneck",
            phase="train+validate",
        ),
        "separate": Separate(column="separate", layer="bottleneck"),
    }


def test_runs_every_tenth_of_the_run():
    validation = PeriodicValidation(ValidationSet(labels=RED_B), {}, ["red"], 1501)
    assert validation.every == 150
    due = [step for step in range(1501) if validation.due(step)]
    assert due == [149 + 150 * k for k in range(10)]  # global steps 150 … 1,500


@pytest.mark.parametrize("size", [1, 3])
def test_val_recon_and_terms_by_hand(size):
    """val/recon = (offset)² (every colour and channel off by the offset); val/anchor: only pure red
    is labelled and it sits in the last batch of 31, so (31/351)(1 − cos THETA); the subspace term's
    vibrant label is not validated and a train-only term never is."""
    regularizers = terms()
    for term in regularizers.values():
        term.bind_labels(["red", "vibrant"])
    validation = PeriodicValidation(ValidationSet(labels=RED_B), regularizers, ["red", "vibrant"], 100)
    assert list(validation.terms) == ["anchor"]
    model = FakeModel(size).train()
    validation(model)
    assert model.modes == [False] and model.training  # evaluated in eval mode, then back to training
    rows = validation.metrics(size)
    offsets = [0.1] if size == 1 else [(m + 1) / 10 for m in range(size)]
    assert [row["val/recon"] for row in rows] == pytest.approx([o * o for o in offsets])
    expected = 31 / 351 * (1 - math.cos(THETA))
    assert [row["val/anchor"] for row in rows] == pytest.approx([expected] * size, rel=1e-5)
    assert all(set(row) == {"val/recon", "val/anchor"} for row in rows)


def test_phase_is_checked():
    with pytest.raises(ConfigError, match="phase='validate'"):
        Separate(column="separate", phase="validate")
    assert not Separate(column="separate").validates


def test_validation_stands_over_the_evaluation_cube():
    """A run that validated keeps its val/recon (the validation set's) over evaluation's (the 8³ cube's);
    one that did not keeps evaluation's."""
    from excolor.run_record import merge_member

    validated = merge_member({"train/recon": 1.0, "val/recon": 2.0, "val/anchor": 3.0}, {"val/recon": 5.0})
    assert validated == {"train/recon": 1.0, "val/recon": 2.0, "val/anchor": 3.0}
    assert list(validated) == ["train/recon", "val/recon", "val/anchor"]
    assert merge_member({"train/recon": 1.0}, {"val/recon": 5.0}) == {"train/recon": 1.0, "val/recon": 5.0}
