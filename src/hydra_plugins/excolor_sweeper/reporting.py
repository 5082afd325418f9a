"""Hydra's basic (grid) sweeper, plus the sweep's report when it ends, also when a trial failed.

Hydra calls `on_multirun_end` callbacks only after a sweep that raised nothing, and its basic sweeper
re-raises a failed trial once every trial has run: the report would be missing exactly when it is most
needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hydra._internal.core_plugins.basic_sweeper import BasicSweeper


class ReportingBasicSweeper(BasicSweeper):
    """`hydra.sweeper._target_: hydra_plugins.excolor_sweeper.reporting.ReportingBasicSweeper`."""

    def sweep(self, arguments: list[str]) -> Any:
        try:
            return super().sweep(arguments)
        finally:
            from excolor.report import write_report_safely

            write_report_safely(Path(self.config.hydra.sweep.dir))
