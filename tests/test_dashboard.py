"""optuna-dashboard on a sweep's study: started on a free 127.0.0.1 port against a small journal file
study, its HTTP API lists the study and its trials, and, for a study the sweeper ran, the objectives
under the names of the task's ``objective`` key (not "Objective 0", "Objective 1") and the fixed
parameters as user attributes (skipped where optuna-dashboard is not installed; the dev extra installs it)."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("optuna_dashboard")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def make_study(journal: Path) -> list[tuple[int, str, list]]:
    """A two-objective study of 5 trials (one FAIL) in a journal file; (number, state, values) each."""
    import optuna

    from excolor.study_storage import open_storage

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        study_name="h1",
        storage=open_storage(str(journal)),
        directions=["minimize", "maximize"],
        sampler=optuna.samplers.RandomSampler(seed=0),
    )
    for i in range(5):
        trial = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
        if i == 3:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        else:
            study.tell(trial, [trial.params["x"], 1 - trial.params["x"]])
    return [(t.number, t.state.name, t.values) for t in study.get_trials()]


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


@contextlib.contextmanager
def dashboard(storage: Path):
    """optuna-dashboard serving ``storage`` on a free port; yields (its only study's summary, base URL)."""
    port = free_port()
    executable = shutil.which("optuna-dashboard", path=str(Path(sys.executable).parent))
    assert executable, "the optuna-dashboard command is not installed beside this Python"
    server = subprocess.Popen(
        [executable, str(storage), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline, studies = time.monotonic() + 60, None
        while time.monotonic() < deadline and server.poll() is None:
            try:
                studies = get_json(f"{url}/api/studies")
                break
            except OSError:
                time.sleep(0.2)
        assert studies is not None, f"the dashboard did not answer (exit {server.poll()})"
        (summary,) = studies["study_summaries"]
        yield summary, url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_dashboard_lists_the_studys_trials(tmp_path):
    journal = tmp_path / "optuna.journal"
    expected = make_study(journal)
    with dashboard(journal) as (summary, url):
        assert summary["study_name"] == "h1"
        detail = get_json(f"{url}/api/studies/{summary['study_id']}")
        found = [(t["number"], t["state"], t.get("values")) for t in detail["trials"]]
        assert [(n, s.upper()) for n, s, _ in found] == [(n, s) for n, s, _ in expected]
        for (_, _, values), (_, _, want) in zip(found, expected):
            assert values == (pytest.approx(want) if want is not None else None)


OBJECTIVES = ["eval/none/median_mse", "eval/suppression/score"]


def test_dashboard_shows_the_sweeps_objective_names_and_fixed_params(hydra_sweep_runner, tmp_path):
    """A two-objective sweep run by excolor_optuna (Hydra's test app, a journal study): the dashboard's
    study detail names the objectives as the task's ``objective`` key does, and lists the fixed
    override ``bar`` among the trials' user attributes with its value."""
    journal = tmp_path / "optuna.journal"
    sweep = hydra_sweep_runner(
        calling_file=None,
        calling_module="hydra.test_utils.a_module",
        config_path="configs",
        config_name="compose.yaml",
        temp_dir=tmp_path / "sweep",
        task_function=lambda cfg: (float(cfg.foo), -(float(cfg.foo) ** 2)),
        overrides=[
            "hydra/sweeper=excolor_optuna",
            "hydra/launcher=basic",
            f"hydra.sweeper.storage={journal}",
            "hydra.sweeper.study_name=h1",
            "hydra.sweeper.direction=[minimize,maximize]",
            "hydra.sweeper.n_trials=3",
            f"+objective=[{','.join(OBJECTIVES)}]",
            "foo=range(0,4)",
            "bar=7",
        ],
    )
    with sweep:
        pass
    with dashboard(journal) as (summary, url):
        detail = get_json(f"{url}/api/studies/{summary['study_id']}")
    assert detail["objective_names"] == OBJECTIVES
    assert {"key": "bar", "sortable": False} in detail["union_user_attrs"]
    assert len(detail["trials"]) == 3
    for trial in detail["trials"]:
        assert {"key": "bar", "value": "7"} in trial["user_attrs"]
        assert [p["name"] for p in trial["params"]] == ["foo"]
