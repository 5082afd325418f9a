"""A lock that makes "count the study's trials, then ask for the missing ones" one step across the
sweep processes of one machine: an exclusive `fcntl.flock` on ``<study file>.sweeper-lock`` beside a journal
file or sqlite database. Processes on a database server (no local file) take no lock; there the
sweeper's rank check (`_impl`) drops the rare surplus trial instead."""

from __future__ import annotations

import contextlib
import fcntl
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def study_lock(study_file: Path | None) -> Iterator[None]:
    """Hold the lock for ``study_file`` (no-op for None) while the block runs."""
    if study_file is None:
        yield
        return
    # Not "<file>.lock": that is the name of the journal backend's own lock.
    lock_path = study_file.with_name(study_file.name + ".sweeper-lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
