"""Entry points as real child processes of a warm interpreter: `python -m excolor.train …` without the ~4 s
of imports (torch, Lightning, Hydra, Optuna) that every fresh interpreter pays.

A `multiprocessing` fork server, started once per test worker with those modules imported (under the
portable kernels the suite pins in conftest.py), forks one child per call. The child is a process of its
own, as `subprocess` would start: its own pid and session (it can be killed, alone or with its group), its
working directory, environment, argv, sys.path (`python -m` puts the working directory first; PYTHONPATH's
entries follow), exit code and the two streams captured. What it cannot be is an interpreter that imports
torch for the first time, so a test about that (the kernels pinned before torch is imported, a native-mode
run) starts a fresh interpreter with `subprocess` instead.

`run(module, *argv, env=…, cwd=…, timeout=…)` returns what `subprocess.run(…, capture_output=True,
text=True)` would; `start(…)` returns a `WarmProcess` (pid, poll, wait, kill) writing its streams to a file.
"""

from __future__ import annotations

import atexit
import multiprocessing
import os
import runpy
import signal
import sys
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path

from inprocess import Completed

# What the fork server imports once (warm_preload.py: the entry points and what they import before their
# first step, logging left as a fresh process's task finds it).
PRELOAD = ["warm_preload"]
_context: multiprocessing.context.ForkServerContext | None = None


def _forkserver() -> multiprocessing.context.ForkServerContext:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def _child(module: str, argv: list[str], env: dict[str, str], cwd: str, output: str, errors: str) -> None:
    """In the forked child: become `python -m module argv…` started in `cwd` with `env`, streams to files."""
    os.setsid()  # a session of its own, as subprocess's start_new_session: killable as a group
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    extra = [entry for entry in env.get("PYTHONPATH", "").split(os.pathsep) if entry]
    sys.path[:0] = [cwd, *extra]
    opened: dict[str, int] = {}
    for fd, path in ((1, output), (2, errors)):
        if path not in opened:  # one file for both streams is opened once: one offset, nothing overwritten
            opened[path] = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(opened[path], fd)
    for target in opened.values():
        os.close(target)
    sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115 - the process's own stdout
    sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
    sys.argv = [module, *argv]
    sys.modules.pop(module, None)  # run as __main__ only, as `python -m` does (the preload imported it)
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    finally:
        # multiprocessing ends its children with os._exit: end as an interpreter would, first the threads'
        # exit hooks and non-daemon threads (joblib's workers are stopped there), then atexit
        threading._shutdown()  # type: ignore[attr-defined]
        atexit._run_exitfuncs()
        sys.stdout.flush()
        sys.stderr.flush()


class WarmProcess:
    """A started child: `pid`, `poll()`, `wait(timeout)` (its exit code), `terminate()`, `kill()`."""

    def __init__(self, process: multiprocessing.process.BaseProcess):
        self._process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self._process.exitcode

    def wait(self, timeout: float | None = None) -> int:
        self._process.join(timeout)
        if self._process.exitcode is None:
            raise TimeoutError(f"warm child {self.pid} still running after {timeout} s")
        return self._process.exitcode

    def kill(self) -> None:
        self._process.kill()

    def terminate(self) -> None:
        self._process.terminate()


def start(
    module: str,
    *argv: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    output: str | Path,
    errors: str | Path | None = None,
) -> WarmProcess:
    """Start `python -m module argv…` as a warm child; stdout to `output`, stderr to `errors` (default:
    the same file)."""
    environment = dict(os.environ if env is None else env)
    directory = str(cwd if cwd is not None else os.getcwd())
    error_path = errors if errors is not None else output
    process = _forkserver().Process(
        target=_child,
        args=(module, list(argv), environment, directory, str(output), str(error_path)),
        daemon=False,
    )
    process.start()
    return WarmProcess(process)


def run(
    module: str,
    *argv: str,
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
    timeout: float | None = None,
) -> Completed:
    """`python -m module argv…` as a warm child, to its end: exit code, stdout and stderr."""
    with tempfile.TemporaryDirectory(prefix="warm-") as scratch:
        output, errors = Path(scratch) / "stdout", Path(scratch) / "stderr"
        child = start(module, *argv, env=env, cwd=cwd, output=output, errors=errors)
        try:
            code = child.wait(timeout)
        except TimeoutError:
            child.kill()
            raise
        return Completed(code, output.read_text(errors="replace"), errors.read_text(errors="replace"))
