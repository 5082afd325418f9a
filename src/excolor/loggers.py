"""The `logger` group's W&B logger: Lightning's `WandbLogger`, quiet.

Lightning always passes wandb an `anonymous` argument, which wandb ≥ 0.19 warns about on every run;
wandb's own console output (banner, a run summary rounded to 5 decimals) is switched off with
`settings.silent`. The run's directory is logged once instead, as one line.
"""

from __future__ import annotations

import logging
from pathlib import Path

from lightning.pytorch.loggers import WandbLogger

log = logging.getLogger("excolor.logger")


class QuietWandbLogger(WandbLogger):
    """`WandbLogger(**kwargs)` without `anonymous`, with wandb's console output off unless `silent=False`."""

    def __init__(self, *args, silent: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self._wandb_init.pop("anonymous", None)
        if silent:
            settings = self._wandb_init.get("settings") or {}
            if isinstance(settings, dict):
                self._wandb_init["settings"] = {"silent": True, **settings}
        self._announced = False

    @property
    def experiment(self):
        run = super().experiment
        if not self._announced and getattr(run, "dir", None):
            self._announced = True
            mode = "offline" if self._offline else "online"
            where = Path(run.dir)
            log.info("W&B run (%s): %s", mode, where.parent if where.name == "files" else where)
        return run
