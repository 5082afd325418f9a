"""What a run prints: the schedule-cut warning, the progress display, a quiet W&B logger, trusted targets."""

from __future__ import annotations

import logging
import os
import warnings
from types import SimpleNamespace

import pytest
import torch
from hydra.utils import instantiate

from excolor import progress
from excolor.console import quiet_libraries, trusted_targets
from excolor.schedule import load_schedule
from excolor.train import warn_cut_short

# w rises linearly 0 → 1 over steps 0..10 then stays; u is 0 until it jumps to 2 at step 20 (step curve)
DOPESHEET = "STEP,PHASE,ACTION,lr,w::linear,u::step\n0,Warmup,,0.1,0,0\n10,Train,,0.1,1,\n20,Late,,0.1,,2\n"


@pytest.fixture
def schedule(tmp_path):
    path = tmp_path / "dopesheet.csv"
    path.write_text(DOPESHEET)
    return load_schedule(path)


def test_unreached_by_hand(schedule):
    assert len(schedule) == 21
    missed = schedule.unreached(6)
    # keyframes at 10 and 20 lie ahead; so do the phases starting there; w has reached 5/10 = 0.5 of 1
    assert missed["keyframes"] == [10, 20] and missed["phases"] == ["Train", "Late"]
    assert missed["peaks"]["w"] == pytest.approx((0.5, 1.0)) and missed["peaks"]["u"] == (0.0, 2.0)
    assert "lr" not in missed["peaks"]
    assert schedule.unreached(21) == {"keyframes": [], "phases": [], "peaks": {}}
    later = schedule.unreached(15)  # w has peaked; u has not
    assert later["keyframes"] == [20] and list(later["peaks"]) == ["u"]


def test_cut_short_warning_names_what_never_runs(schedule, caplog):
    with caplog.at_level(logging.WARNING, logger="excolor.train"):
        warn_cut_short(schedule, 6)
    (record,) = caplog.records
    message = record.getMessage()
    assert "trainer.max_steps=6 stops the 21-step schedule dopesheet.csv early" in message
    assert (
        "keyframes at step(s) 10, 20 never reached" in message and "phase(s) Train, Late never run" in message
    )
    assert "w peaks at 0.5 of its 1" in message and "u peaks at 0 of its 2" in message


def fake_trainer(step: int, max_steps: int, **metrics):
    return SimpleNamespace(
        global_step=step,
        max_steps=max_steps,
        callback_metrics={k: torch.tensor(v) for k, v in metrics.items()},
    )


def test_progress_bar_follows_the_terminal(monkeypatch):
    monkeypatch.setattr("sys.stderr", SimpleNamespace(isatty=lambda: False))
    assert isinstance(progress.progress_bar(refresh_rate=5, lines=4), progress.LineProgress)
    monkeypatch.setattr("sys.stderr", SimpleNamespace(isatty=lambda: True))
    bar = progress.progress_bar(refresh_rate=5, lines=4)
    assert isinstance(bar, progress.TerminalProgressBar) and bar.refresh_rate == 5


def test_line_progress_logs_at_evenly_spaced_steps(caplog):
    lines = progress.LineProgress(lines=4)
    trainer = fake_trainer(0, 3001)
    lines.on_train_start(trainer, None)
    with caplog.at_level(logging.INFO, logger="excolor.progress"):
        for step in range(1, 3002):
            trainer.global_step = step
            if step == 1500:
                trainer.callback_metrics = {
                    "train/loss": torch.tensor(0.25),
                    "train/recon": torch.tensor(0.125),
                }
            lines.on_train_batch_end(trainer, None, None, None, step)
    messages = [record.getMessage() for record in caplog.records]
    # round(3001 k / 4): 750, 1500 (1500.5 rounds to even), 2251, 3001
    assert [message.split(" (")[0] for message in messages] == [
        "step 750/3,001",
        "step 1,500/3,001",
        "step 2,251/3,001",
        "step 3,001/3,001",
    ]
    assert "loss 2.500e-01 · recon 1.250e-01" in messages[1] and "loss" not in messages[0]
    assert messages[-1].startswith("step 3,001/3,001 (100%)")


def test_terminal_bar_drops_the_version_id():
    bar = progress.TerminalProgressBar()
    trainer = SimpleNamespace(
        loggers=[SimpleNamespace(version="abc")], progress_bar_metrics={"train/loss": 1.0}
    )
    assert "v_num" not in bar.get_metrics(trainer, None)


def test_quiet_wandb_logger_passes_no_anonymous(tmp_path):
    from excolor.loggers import QuietWandbLogger

    logger = QuietWandbLogger(project="p", offline=True, save_dir=str(tmp_path))
    assert "anonymous" not in logger._wandb_init and logger._wandb_init["settings"] == {"silent": True}
    loud = QuietWandbLogger(project="p", offline=True, save_dir=str(tmp_path), silent=False)
    assert "settings" not in loud._wandb_init


def test_trusted_targets_build_ours_and_refuse_others():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no execution-whitelist warning inside the context
        with trusted_targets():
            assert (
                instantiate({"_target_": "excolor.interventions.Suppression", "concept": [1.0, 0, 0, 0]})
                is not None
            )
            with pytest.raises(Exception, match="os.getcwd"):
                instantiate({"_target_": "os.getcwd"})


def test_quiet_libraries_leaves_one_lightning_handler_path():
    quiet_libraries()
    quiet_libraries()  # idempotent
    lightning_logger = logging.getLogger("lightning")
    consoles = [h for h in lightning_logger.handlers if type(h) is logging.StreamHandler]
    assert len(consoles) <= 1  # kept only when nothing (no Hydra logging) would print the records
    if logging.getLogger().handlers:
        assert not consoles
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    advert = logging.LogRecord("x", logging.INFO, __file__, 1, "💡 Tip: install something", None, None)
    assert not all(f.filter(advert) for f in rank_zero.filters)


# What srun sets in a task of a one-task SLURM job (the trial jobs of hydra/launcher=slurm run this way).
SLURM_TASK_ENV = {
    "SLURM_JOB_ID": "4242",
    "SLURM_JOB_NAME": "train",
    "SLURM_NTASKS": "1",
    "SLURM_NTASKS_PER_NODE": "1",
    "SLURM_NNODES": "1",
    "SLURM_PROCID": "0",
    "SLURM_LOCALID": "0",
    "SLURM_NODEID": "0",
    "SLURM_NODELIST": "node1",
}


@pytest.mark.parametrize("where", ["login node", "SLURM job"])
def test_lightning_stays_out_of_slurm(where, fake_srun_dir, monkeypatch, tmp_path, caplog, recwarn):
    """With `srun` on PATH (a fake one), on a login node and inside a SLURM job's task: a run is quiet
    (no srun hint, no requeue setup) and Lightning never builds its SLURM environment (which would
    requeue the job on SIGUSR1 and take SLURM's task counts for its own)."""
    from hydra import compose, initialize_config_dir
    from lightning.fabric.plugins.environments import SLURMEnvironment

    from excolor.config import CONF_DIR, VERSION_BASE
    from excolor.train import train

    monkeypatch.setenv("PATH", f"{fake_srun_dir}{os.pathsep}{os.environ['PATH']}")
    for key in [key for key in os.environ if key.startswith("SLURM_")]:
        monkeypatch.delenv(key)
    if where == "SLURM job":
        for key, value in SLURM_TASK_ENV.items():
            monkeypatch.setenv(key, value)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (on the login node this probe gives the srun hint itself)
        assert SLURMEnvironment.detect() is (where == "SLURM job")  # what Lightning would do on its own

    def refuse(*args, **kwargs):
        raise AssertionError("Lightning built its SLURM environment")

    monkeypatch.setattr(SLURMEnvironment, "__init__", refuse)
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        cfg = compose(
            config_name="train",
            overrides=[
                "logger=none",
                "callbacks=none",
                "trainer.max_steps=5",
                "intervention=none",
                "evaluation.plots=false",
                "cache.enabled=false",
            ],
        )
    with caplog.at_level(logging.INFO):
        train(cfg, tmp_path)
    said = [record.getMessage() for record in caplog.records] + [str(warning.message) for warning in recwarn]
    assert (tmp_path / "metrics.json").is_file()
    assert not [line for line in said if "srun" in line or "SLURM" in line or "requeu" in line], said
