"""ablate / prune around the normalisation (spec m2-family §1.7), by hand and against each other."""

import pytest
import torch

from excolor.errors import ConfigError
from excolor.model import ColorAutoencoder
from excolor.population_model import PopulationAutoencoder
from excolor.surgery import ablate, prune

X = torch.rand(64, 3, generator=torch.Generator().manual_seed(0))


def model(bottleneck=4, seed=0):
    torch.manual_seed(seed)
    return ColorAutoencoder(bottleneck=bottleneck).eval()


def latent(m, x=X):
    return m.bottleneck(m.encoder(x))


def test_ablate_by_hand():
    m = model()
    with torch.no_grad():  # h = b = (3, 4, 0, 0) for every input → z = (0.6, 0.8, 0, 0)
        m.encoder[2].weight.zero_()
        m.encoder[2].bias.copy_(torch.tensor([3.0, 4.0, 0.0, 0.0]))
    assert latent(m)[0].tolist() == pytest.approx([0.6, 0.8, 0, 0])
    cut = ablate(m, "bottleneck", [0])
    # h = (0, 4, 0, 0) → the norm rescales what is left: z = (0, 1, 0, 0) (zeroing z_0 would give (0, 0.8, 0, 0))
    assert latent(cut)[0].tolist() == pytest.approx([0, 1, 0, 0])
    assert cut.encoder[2].bias.tolist() == [0.0, 4.0, 0.0, 0.0]
    assert (cut.decoder[0].weight[:, 0] == 0).all() and torch.equal(cut.decoder[0].bias, m.decoder[0].bias)
    assert torch.equal(cut.decoder[0].weight[:, 1:], m.decoder[0].weight[:, 1:])
    assert m.encoder[2].bias.tolist() == [3.0, 4.0, 0.0, 0.0]  # the original is untouched


def test_ablate_rows_and_columns():
    m = model(bottleneck=5)
    cut = ablate(m, "bottleneck", [1, 3])
    assert (cut.encoder[2].weight[[1, 3]] == 0).all() and (cut.encoder[2].bias[[1, 3]] == 0).all()
    assert torch.equal(cut.encoder[2].weight[[0, 2, 4]], m.encoder[2].weight[[0, 2, 4]])
    assert (cut.decoder[0].weight[:, [1, 3]] == 0).all()
    assert (latent(cut)[:, [1, 3]] == 0).all()
    assert latent(cut).norm(dim=-1).tolist() == pytest.approx([1.0] * 64)


@pytest.mark.parametrize("dims", [[0], [0, 1], [2]])
def test_prune_matches_ablate(dims):
    m = model()
    cut, pruned = ablate(m, "bottleneck", dims), prune(m, "bottleneck", dims)
    assert pruned.encoder[2].out_features == pruned.decoder[0].in_features == 4 - len(dims)
    assert pruned.config["bottleneck"] == pruned.width == 4 - len(dims)
    assert torch.allclose(pruned(X), cut(X), atol=1e-6)
    keep = [k for k in range(4) if k not in dims]
    assert torch.allclose(latent(pruned), latent(cut)[:, keep], atol=1e-6)


def test_population_surgery_is_each_members():
    members = [model(seed=s) for s in range(3)]
    population = PopulationAutoencoder.from_members(members).eval()
    cut, pruned = ablate(population, "bottleneck", [0]), prune(population, "bottleneck", [0])
    assert pruned.member(1).width == 3
    for i, member in enumerate(members):
        expected = ablate(member, "bottleneck", [0])(X)
        assert torch.allclose(cut(X)[i], expected, atol=1e-6)
        assert torch.allclose(pruned(X)[i], expected, atol=1e-6)


def test_bad_dims_and_layers():
    m = model()
    for dims in ([], [4], [-1], [0, 0], [0, 1, 2, 3]):
        with pytest.raises(ConfigError, match="dims"):
            ablate(m, "bottleneck", dims)
    with pytest.raises(ConfigError, match="no module"):
        prune(m, "latent", [0])


def test_surgery_on_the_two_layer_model():
    """Producer: the encoder's last Linear (encoder.4, 16 → 5); consumer: the decoder's first (decoder.0)."""
    torch.manual_seed(0)
    m = ColorAutoencoder(bottleneck=5, nonlinear_layers=2).eval()
    cut = ablate(m, "bottleneck", [0, 2])
    assert (cut.encoder[4].weight[[0, 2]] == 0).all() and (cut.encoder[4].bias[[0, 2]] == 0).all()
    assert (cut.decoder[0].weight[:, [0, 2]] == 0).all()
    assert torch.equal(cut.encoder[2].weight, m.encoder[2].weight)  # the 16 → 16 layer is untouched
    assert (latent(cut)[:, [0, 2]] == 0).all()
    pruned = prune(m, "bottleneck", [0, 2])
    assert pruned.encoder[4].out_features == 3 and pruned.decoder[0].in_features == 3
    torch.testing.assert_close(pruned(X), cut(X), rtol=1e-6, atol=1e-7)
    population = PopulationAutoencoder.from_members([m, ColorAutoencoder(bottleneck=5, nonlinear_layers=2)])
    stacked_cut = ablate(population.eval(), "bottleneck", [0, 2])
    torch.testing.assert_close(stacked_cut(X)[0], cut(X), rtol=1e-6, atol=1e-7)
