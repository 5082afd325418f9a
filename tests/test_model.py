"""The autoencoder (spec "Model") and checkpoint reloading."""

import pytest
import torch
from torch import nn

import excolor
from excolor.checkpoint import MODEL_CONFIG_KEY, CheckpointError
from excolor.errors import ConfigError
from excolor.model import ColorAutoencoder, L2Norm


def x_batch(n=32, seed=0):
    return torch.rand(n, 3, generator=torch.Generator().manual_seed(seed))


def test_architecture_matches_spec():
    torch.manual_seed(0)
    model = ColorAutoencoder()  # defaults: hidden 16, K 4, normalised, linear output
    enc, dec = model.encoder, model.decoder
    assert [type(m) for m in enc] == [nn.Linear, nn.GELU, nn.Linear]
    assert (enc[0].in_features, enc[0].out_features, enc[2].out_features) == (3, 16, 4)
    assert isinstance(model.bottleneck, L2Norm)
    assert [type(m) for m in dec] == [nn.Linear, nn.GELU, nn.Linear, nn.Identity]
    assert (dec[0].in_features, dec[0].out_features, dec[2].out_features) == (4, 16, 3)
    assert model.width == 4
    assert isinstance(ColorAutoencoder(output="sigmoid").decoder[-1], nn.Sigmoid)


@pytest.mark.parametrize("bottleneck", [2, 4, 7])
@pytest.mark.parametrize("normalize", [True, False])
def test_shapes(bottleneck, normalize):
    model = ColorAutoencoder(hidden=8, bottleneck=bottleneck, normalize=normalize)
    x = x_batch()
    y, latents = model.forward_with_latents(x)
    assert y.shape == (32, 3)
    assert latents["encoder"].shape == latents["bottleneck"].shape == (32, bottleneck)
    assert model(x).shape == (32, 3)


def test_bottleneck_has_unit_norm_when_normalized():
    model = ColorAutoencoder(normalize=True)
    x = x_batch(100)
    _, latents = model.forward_with_latents(x)
    torch.testing.assert_close(latents["bottleneck"].norm(dim=-1), torch.ones(100))
    # and it is the encoder output divided by its norm
    enc = latents["encoder"]
    torch.testing.assert_close(latents["bottleneck"], enc / enc.norm(dim=-1, keepdim=True))
    # hooking by name sees the same tensor
    seen = []
    model.bottleneck.register_forward_hook(lambda m, i, o: seen.append(o))
    model(x)
    torch.testing.assert_close(seen[0].norm(dim=-1), torch.ones(100))


def test_bottleneck_is_identity_without_normalization():
    model = ColorAutoencoder(normalize=False)
    assert isinstance(model.bottleneck, nn.Identity)
    _, latents = model.forward_with_latents(x_batch())
    torch.testing.assert_close(latents["bottleneck"], latents["encoder"])


def test_forward_and_forward_with_latents_agree():
    for training in (True, False):
        model = ColorAutoencoder().train(training)
        x = x_batch()
        torch.testing.assert_close(model(x), model.forward_with_latents(x)[0])


def force_output(model, bias):
    """Make the last linear layer output `bias` whatever the input."""
    last = model.decoder[2]
    with torch.no_grad():
        last.weight.zero_()
        last.bias.copy_(torch.tensor(bias))


def test_eval_output_is_clamped_and_training_output_is_not():
    model = ColorAutoencoder(output="linear")
    force_output(model, [5.0, -5.0, 0.5])
    x = x_batch(4)
    model.train()
    torch.testing.assert_close(model(x), torch.tensor([[5.0, -5.0, 0.5]]).expand(4, 3))
    torch.testing.assert_close(
        model.forward_with_latents(x)[0], torch.tensor([[5.0, -5.0, 0.5]]).expand(4, 3)
    )
    model.eval()
    torch.testing.assert_close(model(x), torch.tensor([[1.0, 0.0, 0.5]]).expand(4, 3))
    torch.testing.assert_close(model.forward_with_latents(x)[0], torch.tensor([[1.0, 0.0, 0.5]]).expand(4, 3))


def test_sigmoid_output_is_in_open_unit_interval():
    model = ColorAutoencoder(output="sigmoid")
    force_output(model, [5.0, -5.0, 0.0])
    x = x_batch(4)
    for training in (True, False):
        y = model.train(training)(x)
        # sigmoid(5) ≈ 0.99331, sigmoid(-5) ≈ 0.00669, sigmoid(0) = 0.5
        torch.testing.assert_close(y[0], torch.tensor([0.993307, 0.006693, 0.5]), atol=1e-5, rtol=0)
    torch.manual_seed(1)
    model = ColorAutoencoder(output="sigmoid").train()
    y = model(torch.randn(1000, 3) * 10)
    assert (y > 0).all() and (y < 1).all()


@pytest.mark.parametrize(
    "kwargs, key",
    [
        ({"bottleneck": 1}, "model.bottleneck=1"),
        ({"bottleneck": 0}, "model.bottleneck=0"),
        ({"hidden": 0}, "model.hidden=0"),
        ({"output": "tanh"}, "model.output='tanh'"),
    ],
)
def test_bad_config(kwargs, key):
    with pytest.raises(ConfigError) as info:
        ColorAutoencoder(**kwargs)
    assert key in str(info.value)


# --- checkpoints ---


def save_checkpoint(model, path):
    """What a Lightning checkpoint of AutoencoderModule holds: `model.`-prefixed weights + the config."""
    state = {f"model.{k}": v for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, MODEL_CONFIG_KEY: dict(model.config)}, path)


@pytest.mark.parametrize(
    "config", [{}, {"output": "sigmoid"}, {"normalize": False, "bottleneck": 3, "hidden": 5}]
)
def test_load_model_round_trip(tmp_path, config):
    torch.manual_seed(0)
    model = ColorAutoencoder(**config)
    save_checkpoint(model, tmp_path / "model.ckpt")
    for where in (tmp_path, tmp_path / "model.ckpt", str(tmp_path)):  # run dir or file, str or Path
        loaded = excolor.load_model(where)
        assert isinstance(loaded, ColorAutoencoder)
        assert not loaded.training  # eval mode
        assert loaded.config == model.config
        x = x_batch(50)
        torch.testing.assert_close(loaded(x), model.eval()(x))


def test_load_model_missing(tmp_path):
    with pytest.raises(CheckpointError) as info:
        excolor.load_model(tmp_path)  # a directory without model.ckpt
    assert str(tmp_path / "model.ckpt") in str(info.value)
    with pytest.raises(CheckpointError) as info:
        excolor.load_model(tmp_path / "nope.ckpt")
    assert "nope.ckpt" in str(info.value)


def test_load_model_corrupt(tmp_path):
    bad = tmp_path / "model.ckpt"
    bad.write_bytes(b"this is not a checkpoint \x00\x01\x02")
    with pytest.raises(CheckpointError) as info:
        excolor.load_model(tmp_path)
    message = str(info.value)
    assert str(bad) in message and "\n" not in message


def test_load_model_truncated_and_foreign(tmp_path):
    model = ColorAutoencoder()
    good = tmp_path / "good.ckpt"
    save_checkpoint(model, good)
    truncated = tmp_path / "truncated.ckpt"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(CheckpointError):
        excolor.load_model(truncated)
    foreign = tmp_path / "foreign.ckpt"
    torch.save({"state_dict": {}}, foreign)  # no model config
    with pytest.raises(CheckpointError) as info:
        excolor.load_model(foreign)
    assert "foreign.ckpt" in str(info.value)
    mismatched = tmp_path / "mismatched.ckpt"
    torch.save(
        {
            "state_dict": {f"model.{k}": v for k, v in model.state_dict().items()},
            MODEL_CONFIG_KEY: {"bottleneck": 5},
        },
        mismatched,
    )
    with pytest.raises(CheckpointError):
        excolor.load_model(mismatched)


# --- nonlinear layers (spec m2-family §1.1: CNColorMLP(K, 16, n_nonlinear=N)) ---


@pytest.mark.parametrize(("bottleneck", "layers", "count"), [(4, 1, 263), (5, 2, 840), (4, 3, 1_351)])
def test_parameter_counts(bottleneck, layers, count):
    """4·16 + 2·(N−1)·17·16 + 17·K + (K+1)·16 + 3·17 (by hand: 263, 840; N = 3, K = 4: 1,351)."""
    model = ColorAutoencoder(bottleneck=bottleneck, nonlinear_layers=layers)
    assert sum(p.numel() for p in model.parameters()) == count


def test_two_nonlinear_layers_per_side():
    model = ColorAutoencoder(bottleneck=5, nonlinear_layers=2)
    linear, gelu = nn.Linear, nn.GELU
    assert [type(m) for m in model.encoder] == [linear, gelu, linear, gelu, linear]
    assert [type(m) for m in model.decoder] == [linear, gelu, linear, gelu, linear, nn.Identity]
    shapes = [(m.in_features, m.out_features) for m in model.modules() if isinstance(m, nn.Linear)]
    assert shapes == [(3, 16), (16, 16), (16, 5), (5, 16), (16, 16), (16, 3)]
    y, latents = model.forward_with_latents(x_batch())
    assert y.shape == (32, 3) and latents["bottleneck"].shape == (32, 5)
    assert model.config["nonlinear_layers"] == 2


def test_one_nonlinear_layer_draws_the_same_initial_weights_as_before():
    """nonlinear_layers=1 builds the Ex 2.3 network in the same order: the same RNG draws."""
    torch.manual_seed(3)
    model = ColorAutoencoder(nonlinear_layers=1)
    torch.manual_seed(3)
    by_hand = [nn.Linear(3, 16), nn.Linear(16, 4), nn.Linear(4, 16), nn.Linear(16, 3)]
    linears = [m for m in model.modules() if isinstance(m, nn.Linear)]
    for expected, got in zip(by_hand, linears):
        assert torch.equal(expected.weight, got.weight) and torch.equal(expected.bias, got.bias)


@pytest.mark.parametrize("layers", [0, -1, 1.5, True])
def test_bad_nonlinear_layers(layers):
    with pytest.raises(ConfigError, match="model.nonlinear_layers"):
        ColorAutoencoder(nonlinear_layers=layers)


def test_the_shipped_two_layer_config_is_the_chapters_840_parameter_model():
    from hydra.utils import instantiate
    from omegaconf import OmegaConf

    from excolor.config import CONF_DIR

    config = OmegaConf.merge(
        OmegaConf.load(CONF_DIR / "model" / "linear.yaml"),
        OmegaConf.load(CONF_DIR / "model" / "k5-two-layer.yaml"),
    )
    del config["defaults"]
    model = instantiate(config)
    assert model.width == 5 and model.config["nonlinear_layers"] == 2 and model.config["output"] == "linear"
    assert sum(p.numel() for p in model.parameters()) == 840
