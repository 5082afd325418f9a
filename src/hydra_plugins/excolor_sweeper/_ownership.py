"""Who runs a RUNNING trial, and whether anyone still does.

Each sweep process marks the trials it asks for with user attributes: ``sweeper_host`` and
``sweeper_pid`` (the process), and ``heartbeat`` (Unix time), which a background thread renews every
``heartbeat_interval`` seconds while the trial runs. A RUNNING trial is *stale* (its process was
killed) when its process is on this host and gone, or when its last sign of life (the heartbeat, or
the trial's start when it has none) is older than ``grace_period`` seconds. Stale trials are settled
by `excolor_sweeper._settle`; live ones belong to another process and are left alone.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Iterable
from datetime import datetime

import optuna

HOST, PID, HEARTBEAT = "sweeper_host", "sweeper_pid", "heartbeat"


def claim(trial: optuna.Trial) -> None:
    """Mark a trial just asked for as run by this process."""
    trial.set_user_attr(HOST, socket.gethostname())
    trial.set_user_attr(PID, os.getpid())
    trial.set_user_attr(HEARTBEAT, time.time())


def is_stale(trial: optuna.trial.FrozenTrial, grace_period: float, now: float | None = None) -> bool:
    """True if no live process runs this RUNNING trial (see the module docstring)."""
    now = time.time() if now is None else now
    attrs = trial.user_attrs
    if (
        attrs.get(HOST) == socket.gethostname()
        and isinstance(attrs.get(PID), int)
        and not _process_alive(attrs[PID])
    ):
        return True
    last = attrs.get(HEARTBEAT)
    if not isinstance(last, (int, float)):
        start = trial.datetime_start
        last = start.timestamp() if isinstance(start, datetime) else 0.0
    return now - last > grace_period


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (killed, not yet reaped by its parent) is gone for our purpose.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return True


class Heartbeat:
    """Renews the ``heartbeat`` attribute of the given trials every ``interval`` seconds, in a daemon
    thread, until `stop`. Use as a context manager around a batch's launch."""

    def __init__(self, trials: Iterable[optuna.Trial], interval: float) -> None:
        self.trials, self.interval = list(trials), interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="excolor-heartbeat", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            for trial in self.trials:
                with contextlib.suppress(Exception):  # a trial settled meanwhile; the sweep goes on
                    trial.set_user_attr(HEARTBEAT, time.time())
