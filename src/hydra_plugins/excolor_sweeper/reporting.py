"""Hydra's basic (grid) sweeper, plus the sweep's report when it ends, also when a trial failed.

Hydra calls `on_multirun_end` callbacks only after a sweep that raised nothing, and its basic sweeper
re-raises a failed trial once every trial has run: the report would be missing exactly when it is most
needed. A failed trial has already logged its one-line error (and written failure.json); the sweep
then ends with one more line and exit status 1 instead of the trial's traceback a second time.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper

log = logging.getLogger(__name__)


class ReportingBasicSweeper(BasicSweeper):
    """`hydra.sweeper._target_: hydra_plugins.excolor_sweeper.reporting.ReportingBasicSweeper`."""

    def sweep(self, arguments: list[str]) -> Any:
        from excolor.report import write_report_safely

        assert self.config is not None  # Hydra calls setup() before sweep()
        try:
            returns = super().sweep(arguments)
        except Exception as error:  # noqa: BLE001 - a trial's failure: already logged by the trial
            write_report_safely(Path(self.config.hydra.sweep.dir))
            log.error(
                "the sweep ran every trial, and at least one failed (first: %s: %s); the report lists them",
                type(error).__name__,
                str(error).splitlines()[0] if str(error) else "",
            )
            raise SystemExit(1) from None
        write_report_safely(Path(self.config.hydra.sweep.dir))
        return returns
