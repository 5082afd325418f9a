"""Replayed training steps (excolor.step_graphs, `cuda_graphs=true`).

On the CPU the graphs are stood in for by `EagerStandIn` (a "replay" reruns the step and copies its
output into one fixed tensor, as a graph fills the tensors it recorded): that checks the plumbing
(fixed inputs refreshed before each replay, one graph per key, outputs copied out). On CUDA the real
graphs are compared with eager steps."""

from __future__ import annotations

import lightning as L
import pytest
import torch
from omegaconf import OmegaConf

from excolor import step_graphs
from excolor.config import CONF_DIR
from excolor.data import ContinuousBatches
from excolor.module import AutoencoderModule
from excolor.population import Population
from excolor.schedule import load_schedule
from excolor.step_graphs import EagerStandIn
from terms import ex23_terms

MODEL = OmegaConf.load(CONF_DIR / "model" / "linear.yaml")  # the shipped Ex 2.3 model
# 60 steps of 15 batches of 256 per epoch (the last one 16 colors: steps 14, 29, 44, 59); anchor and
# planar stop at step 30 (new keys), as the Ex 2.3 terms do at ~1,900.
SCHEDULE = """STEP,PHASE,ACTION,lr,reg-separate,reg-anchor,reg-unit,reg-planar
0,Train,,0.01,0.01,0.04,0.1,0.1
29,,,0.02,0.01,0.04,0.1,0.1
30,,,0.02,0.01,0,0.1,0
59,,,0.01,0.01,0,0.1,0
"""
STEPS, BATCH = 60, 256


def fit(tmp_path, device: str, graphs: bool, steps: int = STEPS, size: int = 4) -> AutoencoderModule:
    path = tmp_path / "schedule.csv"
    path.write_text(SCHEDULE)
    schedule = load_schedule(str(path))
    population = Population(size=size, seed=0)
    data_config = OmegaConf.load(CONF_DIR / "data" / "hsv_cube.yaml")
    data_config.batch_size = BATCH
    model = population.build_model(MODEL)
    data = population.build_data(data_config)
    terms = ex23_terms(data.label_names)
    population.bind_regularizers(terms)
    module = AutoencoderModule(model, terms, schedule, steps, log_every_n_steps=50, cuda_graphs=graphs)
    trainer = L.Trainer(
        max_steps=steps,
        accelerator="gpu" if device == "cuda" else "cpu",
        devices=1,
        logger=False,
        enable_progress_bar=False,
        enable_checkpointing=False,
        enable_model_summary=False,
    )
    trainer.fit(module, train_dataloaders=ContinuousBatches(data, steps, device=trainer.strategy.root_device))
    return module


@pytest.fixture
def stand_in(monkeypatch):
    """Graph mode on the CPU, through EagerStandIn."""
    monkeypatch.setattr(
        AutoencoderModule, "_graph_backend", lambda self, device: EagerStandIn() if self.cuda_graphs else None
    )


def weights(module: AutoencoderModule) -> list[torch.Tensor]:
    return [p.detach().cpu() for p in module.model.parameters()]


@pytest.mark.slow
def test_replayed_steps_equal_the_same_steps_run_eagerly(tmp_path, stand_in, monkeypatch):
    """Warm-up 1 (every key captured at its second step: the full batch, the short last batch of each
    epoch, and both again once two terms stop at step 30) against never capturing: bit for bit."""
    monkeypatch.setattr(step_graphs, "WARMUP", 1)
    replayed = fit(tmp_path, "cpu", graphs=True)
    assert replayed._graphs is not None and replayed._graphs.captured == 4
    assert sorted(key[0][-2] for key in replayed._graphs.entries) == [16, 16, BATCH, BATCH]
    monkeypatch.setattr(step_graphs, "WARMUP", 10**9)
    eager = fit(tmp_path, "cpu", graphs=True)
    assert eager._graphs is not None and eager._graphs.captured == 0
    for a, b in zip(weights(replayed), weights(eager)):
        assert torch.equal(a, b)
    torch.testing.assert_close(replayed.history, eager.history, rtol=0, atol=0, equal_nan=True)
    history = replayed.history
    assert history.shape == (STEPS, 6, 4)
    assert (
        torch.isnan(history[30:, 2 + 1]).all() and torch.isfinite(history[:30, 2 + 1]).all()
    )  # anchor skipped from 30


@pytest.mark.slow
def test_graph_mode_trains_as_the_eager_module_up_to_rounding(tmp_path, stand_in):
    """The only difference from ordinary steps: Adam's learning rate is a tensor."""
    graphs = fit(tmp_path, "cpu", graphs=True)
    plain = fit(tmp_path, "cpu", graphs=False)
    assert plain._graphs is None
    for a, b in zip(weights(graphs), weights(plain)):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(graphs.history, plain.history, rtol=1e-4, atol=1e-7, equal_nan=True)


def test_cuda_graphs_off_cuda_warn_and_run_eagerly(tmp_path, caplog):
    with caplog.at_level("WARNING", logger="excolor.module"):
        module = fit(tmp_path, "cpu", graphs=True, steps=5)
    assert module._graphs is None and "cuda_graphs=true: training on cpu" in caplog.text


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_graphs_train_as_eager_steps_on_cuda(tmp_path, monkeypatch):
    """Real graphs (every key captured at its second step) against ordinary eager steps."""
    monkeypatch.setattr(step_graphs, "WARMUP", 1)
    graphs = fit(tmp_path, "cuda", graphs=True, size=64)
    assert graphs._graphs is not None and graphs._graphs.captured == 4
    plain = fit(tmp_path, "cuda", graphs=False, size=64)
    for a, b in zip(weights(graphs), weights(plain)):
        torch.testing.assert_close(a, b, rtol=1e-3, atol=1e-5)
    torch.testing.assert_close(graphs.history, plain.history, rtol=1e-3, atol=1e-6, equal_nan=True)


@pytest.mark.parametrize(
    ("override", "text"),
    [
        ("cuda_graphs=3", "cuda_graphs=3 must be true or false"),
        ("data.device_draws=maybe", "data.device_draws='maybe' must be true or false"),
    ],
)
def test_the_device_flags_must_be_bools(override, text):
    from hydra import compose, initialize_config_dir

    from excolor.config import VERSION_BASE
    from excolor.errors import ConfigError
    from excolor.validation import check_run_config

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose("train", overrides=[override])
    with pytest.raises(ConfigError) as error:
        check_run_config(cfg)
    assert str(error.value) == text
