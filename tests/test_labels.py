"""Labels (spec m2-family §1.5, §15.3): probabilities worked by hand from p = α · source^k, exact
validation labels, Bernoulli draws, and the label counters."""

import numpy as np
import pytest
import torch

from excolor.errors import ConfigError
from excolor.labels import (
    Desaturated,
    LabelCounter,
    Red,
    Vibrant,
    build_labels,
    draw_labels,
)
from excolor.lattice import cell_centres, lattice
from excolor.metrics import LABELS_TOTAL, label_count_name

RED, ORANGE, MAGENTA = (1.0, 0.0, 0.0), (1.0, 0.5, 0.0), (1.0, 0.0, 1.0)
GREY, PINKISH, DARK_RED = (0.5, 0.5, 0.5), (1.0, 0.5, 0.5), (0.5, 0.0, 0.0)


def p(label, *colors):
    return label.probability(np.array(colors)).tolist()


def test_red_by_hand():
    # ρ = r (1 − g/2 − b/2): red 1, orange 1·(1 − ¼) = ¾, magenta 1·(1 − ½) = ½, grey ½·(1 − ½) = ¼
    assert Red().source(np.array([RED, ORANGE, MAGENTA, GREY])).tolist() == pytest.approx(
        [1, 0.75, 0.5, 0.25]
    )
    # re-runs (0.08, 8): red 0.08; orange 0.08 · 0.75⁸ = 0.08 · 0.1001129150390625; magenta 0.08/256
    assert p(Red(0.08, 8), RED, ORANGE, MAGENTA) == pytest.approx([0.08, 0.008009033203125, 3.125e-4])
    # originals (0.5, 10): orange 0.5 · 0.75¹⁰ = 0.5 · 0.056313514709472656 (spec: ≈ 0.028)
    assert p(Red(0.5, 10), RED, ORANGE) == pytest.approx([0.5, 0.028156757354736328])


def test_vibrant_by_hand():
    # ν = S·V: red 1; dark red S = 1, V = ½ → ½; (1, ½, ½) S = ½, V = 1 → ½; grey S = 0 → 0; black 0
    colors = np.array([RED, DARK_RED, PINKISH, GREY, (0, 0, 0)])
    assert Vibrant().source(colors).tolist() == pytest.approx([1, 0.5, 0.5, 0, 0])
    # 2.4.1 (0.01, 10): 0.01 · 2⁻¹⁰ = 9.765625e-6; 2.7.1 (0.008, 8): 0.008/256 = 3.125e-5
    assert p(Vibrant(0.01, 10), RED, DARK_RED) == pytest.approx([0.01, 9.765625e-6])
    assert p(Vibrant(0.008, 8), PINKISH, GREY) == pytest.approx([3.125e-5, 0.0])


def test_desaturated_by_hand():
    # (1 − ν)^k: grey 1 → α; (1, ½, ½) (½)^10 = 1/1024; red 0
    assert p(Desaturated(0.5, 10), GREY, PINKISH, RED) == pytest.approx([0.5, 0.5 / 1024, 0.0])
    assert p(Desaturated(1.0, 10), (0, 0, 0)) == pytest.approx([1.0])


def test_exact_labels():
    # ρ = 1 only at (1, 0, 0), on the training lattice and on the validation set alike
    for rgb in (lattice(8), cell_centres(8)):
        red = Red(0.08, 8).exact(rgb)
        assert red.sum() == 1 and rgb[red == 1].tolist() == [[1.0, 0.0, 0.0]]
    # S·V = 1 needs max 1 and min 0: on the validation set only the 6 primary/secondary corners
    rgb = cell_centres(8)
    vibrant = Vibrant(0.008, 8).exact(rgb)
    corners = {tuple(c) for c in rgb[vibrant == 1].tolist()}
    assert corners == {(1, 0, 0), (1, 1, 0), (0, 1, 0), (0, 1, 1), (0, 0, 1), (1, 0, 1)}


def test_lattice_means_match_the_spec():
    """Spec §1.5: mean over the 512-lattice of 0.08ρ⁸ = 8.99e-4, 0.01ν¹⁰ = 1.19e-3, 0.008ν⁸ = 1.10e-3;
    × 64 × 1425 anchor-active steps ≈ 82.0 red labels per run."""
    rgb = lattice(8)
    red = Red(0.08, 8).probability(rgb).mean()
    assert red == pytest.approx(8.99e-4, rel=1e-3)
    assert red * 64 * 1425 == pytest.approx(82.0, abs=0.05)
    assert Vibrant(0.01, 10).probability(rgb).mean() == pytest.approx(1.19e-3, rel=3e-3)
    assert Vibrant(0.008, 8).probability(rgb).mean() == pytest.approx(1.10e-3, rel=3e-3)


def test_build_labels_and_bad_settings():
    labels = build_labels({"red": {"alpha": 0.08, "k": 8}, "vibrant": {"alpha": 0.01, "k": 10}})
    assert [type(v) for v in labels.values()] == [Red, Vibrant]
    assert (labels["red"].alpha, labels["red"].k) == (0.08, 8)
    for bad, key in [
        ({"blue": {}}, "unknown label"),
        ({"red": {"alpha": 2}}, "alpha"),
        ({"red": {"k": -1}}, "k="),
        ({"red": {"scale": 0.5}}, "unknown key"),
    ]:
        with pytest.raises(ConfigError, match=key):
            build_labels(bad)


def test_draws_are_bernoulli():
    g = torch.Generator().manual_seed(0)
    p = torch.tensor([0.0, 1.0, 0.25]).repeat(40_000, 1)
    y = draw_labels(p, g)
    assert set(y.unique().tolist()) <= {0.0, 1.0}
    assert y[:, 0].sum() == 0 and y[:, 1].sum() == 40_000
    # binomial sd √(n p (1 − p)) = √7500 ≈ 86.6: within 5 sd of 10,000
    assert abs(y[:, 2].sum().item() - 10_000) < 5 * 86.6
    again = draw_labels(p, torch.Generator().manual_seed(0))
    assert torch.equal(y, again)


def test_counter_by_hand():
    counter = LabelCounter(["red", "vibrant"])
    labels = torch.tensor([[1, 0], [1, 1], [0, 1], [0, 0]], dtype=torch.float32)
    counter.update(labels, [True, False])  # red 2, vibrant not counted, any = rows 0, 1 → 2
    counter.update(labels, [True, True])  # red +2, vibrant +2, any = rows 0, 1, 2 → +3
    assert counter.metrics() == [
        {
            label_count_name("red"): 4,
            label_count_name("vibrant"): 2,
            label_count_name("_any"): 5,
            LABELS_TOTAL: 8,
        }
    ]


def test_counter_per_member():
    counter = LabelCounter(["red"])
    labels = torch.tensor([[[1], [1], [0]], [[0], [0], [0]]], dtype=torch.float32)  # [2 members, 3, 1]
    counter.update(labels, [True])
    counter.update(labels, [False])
    assert [m[label_count_name("red")] for m in counter.metrics()] == [2, 0]
    assert [m[LABELS_TOTAL] for m in counter.metrics()] == [6, 6]
    assert LabelCounter(["red"]).metrics()[0][LABELS_TOTAL] == 0


def test_hsv_cube_desaturated_option():
    """conf/data/hsv_cube_desaturated.yaml: the 2.8/2.9 cube's third label is p = 0.5 (1 − s v)^10, the
    same as Desaturated(0.5, 10) on every colour."""
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    import excolor.config

    cfg = OmegaConf.load(excolor.config.CONF_DIR / "data" / "hsv_cube_desaturated.yaml")
    cfg.seed = 0
    data = instantiate(cfg)
    assert data.label_names == ["red", "vibrant", "desaturated"]
    expected = Desaturated(0.5, 10).probability(data.colors.double().numpy())
    assert data.label_probability[:, 2].double().numpy() == pytest.approx(expected, abs=1e-6)
    assert data.label_probability[:, 2].max().item() == pytest.approx(0.5)  # greys: s v = 0


def test_label_activity_and_counting_batches():
    """A label is active at a step when a regularizer reading it has a non-zero scheduled weight × weight
    there; the counting pass-through counts each step's batch under that step's flags."""
    from excolor.labels import CountingBatches, label_activity
    from excolor.regularizers import AngularAnchor, Separate

    class Schedule:
        values = {"anchor": [0.0, 0.5, 0.5], "separate": [1.0, 1.0, 1.0]}
        names = list(values)

        def __len__(self):
            return 3

        def __getitem__(self, name):
            return np.array(self.values[name])

    regularizers = {
        "anchor": AngularAnchor(point=[1.0, 0.0], column="anchor", label_affinities={"red": 1.0}),
        "separate": Separate(column="separate"),
    }
    active = label_activity(regularizers, Schedule(), ["red", "vibrant"], 3)
    assert active.tolist() == [[False, False], [True, False], [True, False]]
    y = torch.tensor([[1.0, 1.0], [1.0, 0.0]])  # every step: two red, one vibrant
    counter = LabelCounter(["red", "vibrant"])
    batches = [(torch.zeros(2, 3), y)] * 3
    assert [x.shape for x, _ in CountingBatches(batches, counter, active)] == [(2, 3)] * 3
    # red counted on steps 1 and 2 only, vibrant never: 4 red, 4 samples with an active label, 6 in all
    assert counter.metrics() == [
        {
            label_count_name("red"): 4,
            label_count_name("vibrant"): 0,
            label_count_name("_any"): 4,
            LABELS_TOTAL: 6,
        }
    ]


def test_label_activity_per_member():
    """A population's flags are per member: member n's weight × the column, and its own affinities. Worked
    by hand: anchor reads red, with member weights (0, 2, 1); separate's members 0 and 1 read nothing,
    member 2's variant reads vibrant (weight 1 throughout)."""
    from excolor.labels import label_activity
    from excolor.regularizers import AngularAnchor, Separate

    class Schedule:
        values = {"anchor": [0.0, 0.5], "separate": [1.0, 1.0]}

        def __len__(self):
            return 2

        def __getitem__(self, name):
            return np.array(self.values[name])

    anchor = AngularAnchor(point=[1.0, 0.0], column="anchor", label_affinities={"red": 1.0})
    anchor.set_member_weights([0.0, 2.0, 1.0])
    separate = Separate(column="separate")
    separate.set_member_weights([1.0, 1.0, 1.0])
    separate.set_member_variants(
        [Separate(column="separate"), Separate(column="separate", label_affinities={"vibrant": 0.5})],
        [0, 0, 1],
    )
    active = label_activity({"anchor": anchor, "separate": separate}, Schedule(), ["red", "vibrant"], 2)
    assert active.tolist() == [
        [[False, False], [False, False], [False, True]],  # step 0: the anchor's column is 0
        [[False, False], [True, False], [True, True]],  # step 1: member 0's anchor weight is 0
    ]
    counter = LabelCounter(["red", "vibrant"])
    counter.update(torch.ones(3, 2, 2), active[1])
    assert [m[label_count_name("red")] for m in counter.metrics()] == [0, 2, 2]
    assert [m[label_count_name("vibrant")] for m in counter.metrics()] == [0, 0, 2]
