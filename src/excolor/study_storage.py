"""Where a sweep's Optuna study lives: the forms ``hydra.sweeper.storage`` takes, and opening them.

- a file path (no ``://``), e.g. ``optuna.journal``: Optuna's journal file storage
  (`optuna.storages.JournalStorage` over `optuna.storages.journal.JournalFileBackend`). Any number
  of sweep processes on one machine may share it; this is the sweeps' default.
- ``sqlite:///path``: an SQLite database (one sweep process at a time).
- any other SQLAlchemy URL, e.g. ``postgresql://user:password@host/db``: a database server, for sweep
  processes on many machines (SLURM jobs sharing one study).

A relative file path (a journal file, or an sqlite path after ``sqlite:///``) is relative to the
sweep dir, for the sweeper and for ``excolor.report`` alike, so a sweep dir can be moved or reported on
from anywhere. ``optuna`` is imported only when a storage is opened.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

SQLITE = "sqlite:///"
# The user attribute that marks a study's reference trial (``hydra.sweeper.enqueue_trials``, set by the
# sweeper's `_enqueue`, read by `excolor.report.reference`); its value is the trial's label.
REFERENCE = "reference"


def shown(spec: str) -> str:
    """The storage spec as logs and reports show it: a database URL's password replaced by ``***``."""
    if spec.startswith(SQLITE) or "://" not in spec:
        return spec
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(spec).render_as_string(hide_password=True)
    except ArgumentError:
        return spec


def resolve_storage(spec: str, sweep_dir: Path | None) -> str:
    """The storage spec with a relative file path made absolute against ``sweep_dir`` (an RDB server
    URL is returned as it is)."""
    spec = str(spec)
    if spec.startswith(SQLITE):
        return SQLITE + str(_absolute(Path(spec[len(SQLITE) :]), sweep_dir))
    if "://" in spec:
        return spec
    return str(_absolute(Path(spec), sweep_dir))


def storage_file(resolved: str) -> Path | None:
    """The file that holds a resolved file storage's study (None for a database server)."""
    if resolved.startswith(SQLITE):
        return Path(resolved[len(SQLITE) :])
    return None if "://" in resolved else Path(resolved)


def open_storage(resolved: str, attempts: int = 5) -> Any:
    """An Optuna storage object for a resolved spec (see `resolve_storage`). A database is created if
    it does not exist yet; processes that race on creating the same database (a failed insert of
    Alembic's version row) retry, up to ``attempts`` times."""
    from optuna.storages import JournalStorage, RDBStorage
    from optuna.storages.journal import JournalFileBackend

    if "://" not in resolved:
        Path(resolved).parent.mkdir(parents=True, exist_ok=True)
        return JournalStorage(JournalFileBackend(resolved))
    from sqlalchemy.exc import SQLAlchemyError

    for attempt in range(attempts):
        try:
            return RDBStorage(resolved)
        except SQLAlchemyError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (attempt + 1))
    raise AssertionError("unreachable")


def _absolute(path: Path, sweep_dir: Path | None) -> Path:
    if path.is_absolute() or sweep_dir is None:
        return path.absolute()
    return (Path(sweep_dir) / path).absolute()
