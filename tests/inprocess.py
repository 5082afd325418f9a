"""Run an entry point, `python -m <module> <argv…>` or `python <script> <argv…>`, inside the calling process.

A case then costs a config composition and the run itself, not a fresh interpreter (~5 s of torch and
Lightning imports). For tests where the process is not what is tested; the process boundary keeps its own
tests (the README's commands, the cluster, kernels pinned before torch is imported).

`run_module` sets argv, the environment and the working directory for the call and restores them, with
the root logger and the warnings capture that a Hydra run reconfigures, after it; it returns what
`subprocess.run(…, capture_output=True, text=True)` would: the exit code (a traceback is code 1 with the
traceback on stderr), stdout and stderr.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import runpy
import sys
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Completed:
    """What a finished `python -m module …` left: its exit code and its two streams."""

    returncode: int
    stdout: str
    stderr: str


def run_module(
    module: str, *argv: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> Completed:
    """Run `module` as `__main__` with `argv`; `env` (the whole environment) and `cwd` for the call only."""
    return _run(lambda: runpy.run_module(module, run_name="__main__", alter_sys=True), module, argv, env, cwd)


def run_script(
    path: str | Path, *argv: str, env: Mapping[str, str] | None = None, cwd: str | Path | None = None
) -> Completed:
    """Run the script at `path` as `__main__` (`python path argv…`), as `run_module` does a module."""
    return _run(lambda: runpy.run_path(str(path), run_name="__main__"), str(path), argv, env, cwd)


def run_cases(
    cases: Mapping[str, tuple[str, Sequence[str]]],
    env: Mapping[str, str] | None = None,
    cwd: str | Path | None = None,
) -> dict[str, dict]:
    """`run_module` for each {case: (module, argv)}, one after the other; {case: {"returncode", "stdout",
    "stderr"}} (the form `entry_driver.py` writes as JSON)."""
    results = {}
    for name, (module, argv) in cases.items():
        done = run_module(module, *argv, env=env, cwd=cwd)
        results[name] = {"returncode": done.returncode, "stdout": done.stdout, "stderr": done.stderr}
    return results


def _run(
    call: Callable[[], object],
    argv0: str,
    argv: tuple[str, ...],
    env: Mapping[str, str] | None,
    cwd: str | Path | None,
) -> Completed:
    out, err = io.StringIO(), io.StringIO()
    saved_argv, saved_env, saved_cwd = sys.argv, dict(os.environ), os.getcwd()
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    code = 0
    sys.argv = [argv0, *argv]
    if env is not None:
        os.environ.clear()
        os.environ.update(env)
    if cwd is not None:
        os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                call()
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            except BaseException:  # noqa: BLE001 - a traceback is what a failing process would print
                traceback.print_exc()
                code = 1
    finally:
        sys.argv = saved_argv
        os.environ.clear()
        os.environ.update(saved_env)
        os.chdir(saved_cwd)
        logging.captureWarnings(False)
        root.handlers[:] = saved_handlers
        root.setLevel(saved_level)
    return Completed(code, out.getvalue(), err.getvalue())
