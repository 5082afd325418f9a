"""Hydra callbacks: write the sweep's report when a multirun ends."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

log = logging.getLogger(__name__)


class ReportOnMultirunEnd(Callback):
    """Runs `excolor.report` on the sweep dir after the last trial (also after a failed trial ended it)."""

    def on_multirun_end(self, config: DictConfig, **kwargs: Any) -> None:
        from excolor.report import build_report

        path = build_report(Path(config.hydra.sweep.dir))
        log.info("report: %s", path)
