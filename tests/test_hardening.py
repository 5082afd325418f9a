"""Issue 9: checkpoints load weights-only (a planted pickle payload never runs), the cache key
cannot go stale, and a broken cache entry is evicted and retrained."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

import pytest
import torch
from hydra import compose, initialize_config_dir

from excolor import cache as cache_module
from excolor.cache import CheckpointCache, code_version, training_code, training_key
from excolor.checkpoint import MODEL_CONFIG_KEY, load_model, read_checkpoint
from excolor.config import CONF_DIR, VERSION_BASE
from excolor.errors import CheckpointError
from inprocess import run_module

FAST = [
    "logger=none",
    "callbacks=none",
    "trainer.max_steps=20",
    "trainer.accelerator=cpu",
    "evaluation.plots=false",
    "intervention=none",
    "threads=1",
]


class Payload:
    """Unpickling this runs `open(marker, "w")`: proof of code execution if the marker appears."""

    def __init__(self, marker: Path):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def compose_train(overrides: list[str] = ()):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose(config_name="train", overrides=list(overrides))


def plant(file: Path, marker: Path, base: dict | None = None) -> None:
    """Write a checkpoint whose pickle carries the payload next to (otherwise valid) entries."""
    checkpoint = dict(base or {"state_dict": {}, MODEL_CONFIG_KEY: {}})
    checkpoint["evil"] = Payload(marker)
    torch.save(checkpoint, file)


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    """One real 20-step run (its checkpoint is what Lightning writes)."""
    root = tmp_path_factory.mktemp("trained")
    run = root / "run"
    done = run_module(
        "excolor.train",
        *FAST,
        "cache.enabled=false",
        f"hydra.run.dir={run}",
        cwd=root,
        env={**os.environ, "WANDB_MODE": "disabled"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return run


# --- 1. checkpoints ---------------------------------------------------------------------------


@pytest.mark.slow
def test_a_real_checkpoint_loads_weights_only(trained):
    checkpoint = torch.load(trained / "model.ckpt", weights_only=True)  # what Lightning wrote passes
    model = load_model(trained)
    assert not model.training
    assert model.encoder[0].weight.shape == (16, 3)
    stored = next(v for k, v in checkpoint["state_dict"].items() if k.endswith("encoder.0.weight"))
    assert torch.equal(
        model.encoder[0].weight, stored.reshape(-1, 16, 3)[0]
    )  # member 0 of a stacked population


@pytest.mark.slow
def test_payload_never_runs_through_load_model(tmp_path, trained):
    marker = tmp_path / "PWNED"
    Payload(marker).__reduce__()  # sanity: the payload is real (calling it would create the file)
    assert not marker.exists()
    # An unrestricted torch.load would run it:
    plant(tmp_path / "probe.ckpt", marker)
    torch.load(tmp_path / "probe.ckpt", weights_only=False)
    assert marker.exists()
    marker.unlink()

    import excolor

    plant(tmp_path / "model.ckpt", marker, torch.load(trained / "model.ckpt", weights_only=True))
    with pytest.raises(CheckpointError) as error:
        excolor.load_model(tmp_path)
    assert not marker.exists()
    message = str(error.value)
    assert (
        "\n" not in message and "refusing checkpoint" in message and str(tmp_path / "model.ckpt") in message
    )
    assert "GLOBAL" in message  # names what it refused


@pytest.mark.parametrize(
    "content, reason",
    [
        (b"", "cannot read checkpoint"),
        (b"not a zip and not a pickle", "cannot read checkpoint"),
    ],
)
def test_unreadable_checkpoints_are_one_line_errors(tmp_path, content, reason):
    (tmp_path / "model.ckpt").write_bytes(content)
    with pytest.raises(CheckpointError, match=reason) as error:
        load_model(tmp_path)
    assert "\n" not in str(error.value)


@pytest.mark.slow
def test_truncated_and_foreign_checkpoints_are_refused(tmp_path, trained):
    data = (trained / "model.ckpt").read_bytes()
    (tmp_path / "model.ckpt").write_bytes(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="cannot read checkpoint"):
        load_model(tmp_path)
    torch.save({"weights": torch.zeros(3)}, tmp_path / "model.ckpt")
    with pytest.raises(CheckpointError, match="no 'state_dict' entry"):
        load_model(tmp_path)
    with pytest.raises(CheckpointError, match="no checkpoint at"):
        load_model(tmp_path / "missing")


@pytest.mark.slow
def test_payload_never_runs_through_evaluate(tmp_path, trained):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text((trained / ".hydra" / "config.yaml").read_text())
    marker = tmp_path / "PWNED"
    plant(run / "model.ckpt", marker, torch.load(trained / "model.ckpt", weights_only=True))
    done = run_module(
        "excolor.evaluate", f"run={run}", "evaluation.plots=false", "intervention=none", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("excolor: error: refusing checkpoint"), done.stderr
    assert not marker.exists()
    assert not (run / "evaluations").exists()  # the refused evaluation left no evaluations/<time>/ behind


def test_a_broken_checkpoint_leaves_no_evaluation_dir(tmp_path, trained):
    run = tmp_path / "run"
    (run / ".hydra").mkdir(parents=True)
    (run / ".hydra" / "config.yaml").write_text((trained / ".hydra" / "config.yaml").read_text())
    (run / "model.ckpt").write_bytes(b"not a checkpoint")
    (run / "evaluations" / "earlier").mkdir(parents=True)  # an evaluation from before stays
    done = run_module(
        "excolor.evaluate", f"run={run}", "evaluation.plots=false", "intervention=none", cwd=tmp_path
    )
    assert done.returncode == 2, done.stderr[-3000:]
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("excolor: error: ") and "checkpoint" in lines[0], (
        done.stderr
    )
    assert [path.name for path in (run / "evaluations").iterdir()] == ["earlier"]


# --- 2. the cache key -----------------------------------------------------------------------------


def key(overrides: list[str] = (), steps: int = 3001, device: str = "cpu") -> str:
    return training_key(compose_train(overrides), steps, device)


@pytest.fixture(scope="module")
def default_key() -> str:
    """`key()` of the default config, computed once for the comparisons below."""
    return key()


@pytest.mark.parametrize(
    "override",
    [
        "+trainer.precision=bf16-mixed",
        "trainer.devices=2",
        "trainer.accelerator=cpu",
        "trainer.log_every_n_steps=7",
        "seed=1",
        "threads=2",
        "model.hidden=8",
        "data.batch_size=32",
        "regularizers.unit.weight=0.5",
        "regularizers=ex2.2",
        "schedule=ex2.2",
        "concept=[0,1,0,0]",
        "++population.size=4",
    ],
)
def test_everything_that_shapes_training_changes_the_key(override, default_key):
    assert key([override]) != default_key


@pytest.mark.parametrize(
    "override",
    [
        "intervention=none",
        "intervention.suppression.falloff.power=3",
        "evaluation.plots=false",
        "logger=none",
        "objective=[eval/none/median_mse]",
        "cache.dir=/elsewhere",
        "tag=other",
    ],
)
def test_evaluation_and_logging_do_not_change_the_key(override, default_key):
    assert key([override]) == default_key


def test_steps_and_device_change_the_key(default_key):
    assert key(steps=500) != default_key
    assert key(device="cuda") != default_key


def test_the_modules_training_imports_are_found_from_the_code():
    modules = training_code({"excolor.train"})[0]
    # train.py's fit and seeding code, and what it imports lazily inside functions
    for name in (
        "excolor.train",
        "excolor.module",
        "excolor.data",
        "excolor.model",
        "excolor.schedule",
        "excolor.losses",
        "excolor.regularizers.separate",
        "excolor.cache",
        "excolor.checkpoint",
    ):
        assert name in modules, name
    assert "excolor.report" not in modules  # not imported by training
    assert list(modules) == sorted(modules)  # deterministic order
    assert code_version() == code_version()


def test_a_changed_line_in_the_training_loop_changes_the_key(monkeypatch):
    before = key()
    module_file = cache_module.module_file("excolor.module")
    read = cache_module._read_source
    monkeypatch.setattr(
        cache_module,
        "_read_source",
        lambda path: read(path) + (b"\n# changed\n" if path == module_file else b""),
    )
    assert key() != before
    train_file = cache_module.module_file("excolor.train")
    assert b"trainer.fit(" in read(train_file)  # the line this test changes: train.py's fit call
    monkeypatch.setattr(
        cache_module,
        "_read_source",
        lambda path: (
            read(path).replace(b"trainer.fit(", b"trainer.fit (") if path == train_file else read(path)
        ),
    )
    assert key() != before


def test_a_changed_schedule_file_changes_the_key(tmp_path):
    schedule = tmp_path / "s.csv"
    schedule.write_text("STEP,PHASE,ACTION,lr\n0,Train,,0.01\n100,,,0.01\n")
    first = key([f"schedule.path={schedule}"])
    schedule.write_text("STEP,PHASE,ACTION,lr\n0,Train,,0.01\n100,,,0.02\n")
    assert key([f"schedule.path={schedule}"]) != first


# --- 2. broken entries ------------------------------------------------------------------------------


def make_entry(root: Path, trained: Path, key: str = "k") -> Path:
    entry = root / key
    entry.mkdir(parents=True)
    for name in ("model.ckpt", "losses.csv"):
        (entry / name).write_bytes((trained / name).read_bytes())
    (entry / "train_metrics.json").write_text(json.dumps({"train/recon": 0.1}))
    return entry


BREAKERS = {
    "truncated_checkpoint": lambda e: (e / "model.ckpt").write_bytes((e / "model.ckpt").read_bytes()[:100]),
    "missing_losses": lambda e: (e / "losses.csv").unlink(),
    "missing_checkpoint": lambda e: (e / "model.ckpt").unlink(),
    "bad_json": lambda e: (e / "train_metrics.json").write_text("{not json"),
    "json_not_object": lambda e: (e / "train_metrics.json").write_text("[1, 2]"),
    "payload": lambda e: plant(
        e / "model.ckpt", e.parent / "PWNED", torch.load(e / "model.ckpt", weights_only=True)
    ),
}


@pytest.mark.slow
def test_a_good_entry_is_found(tmp_path, trained):
    entry = make_entry(tmp_path, trained)
    assert CheckpointCache(tmp_path).lookup("k") == entry
    run = tmp_path / "run"
    run.mkdir()
    assert CheckpointCache(tmp_path).restore(entry, run) == {"train/recon": 0.1}
    assert load_model(run).encoder[0].weight.shape == (16, 3)


@pytest.mark.slow
@pytest.mark.parametrize("breaker", list(BREAKERS))
def test_a_broken_entry_is_reported_and_evicted(tmp_path, trained, caplog, breaker):
    entry = make_entry(tmp_path, trained)
    BREAKERS[breaker](entry)
    with caplog.at_level(logging.WARNING, logger="excolor.cache"):
        assert CheckpointCache(tmp_path).lookup("k") is None
    assert not entry.exists() and not list(tmp_path.glob(".evicted-*"))
    assert str(entry) in caplog.text and "broken" in caplog.text
    assert not (tmp_path / "PWNED").exists()
    assert CheckpointCache(tmp_path).lookup("missing") is None


@pytest.mark.slow
def test_a_poisoned_cache_hit_is_evicted_and_retrained_not_run(tmp_path, trained):
    """Through the real entry point: a payload planted in the cache entry that this run's key points
    at is refused, evicted (its path in the log), and the run trains afresh and re-fills the entry."""
    cache_dir = tmp_path / "cache"
    overrides = [*FAST, f"cache.dir={cache_dir}"]
    entry_key = training_key(compose_train(overrides), 20, "cpu")
    entry = make_entry(cache_dir, trained, entry_key)
    marker = tmp_path / "PWNED"
    plant(entry / "model.ckpt", marker, torch.load(entry / "model.ckpt", weights_only=True))
    run = tmp_path / "run"
    done = run_module(
        "excolor.train",
        *overrides,
        f"hydra.run.dir={run}",
        cwd=tmp_path,
        env={**os.environ, "WANDB_MODE": "disabled"},
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert not marker.exists()
    log = (run / "train.log").read_text()
    assert f"cache entry {entry} is broken" in log
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["train/cached"] == 0  # retrained, not reused
    read_checkpoint(entry / "model.ckpt")  # the entry was stored again, clean
