"""The `callbacks` group's progress display: a bar on a terminal, a few log lines anywhere else.

`progress_bar(refresh_rate, lines)` picks by where stderr goes:

- a terminal: Lightning's TQDM bar, less its `v_num` field (the logger's version id: noise here);
- a pipe or file (CI, `| tee`, a SLURM log): `LineProgress`, one log line at each of `lines` evenly
  spaced steps (``step 300/3,001 (10%) · loss 1.2e-03 · recon 4.5e-04 · 3.1 s``) — a carriage-return
  bar would write thousands of overwritten frames into the file.
"""

from __future__ import annotations

import logging
import sys
import time

from lightning.pytorch.callbacks import ProgressBar, TQDMProgressBar

from excolor.metrics import TRAIN_LOSS, TRAIN_RECON

log = logging.getLogger("excolor.progress")


class TerminalProgressBar(TQDMProgressBar):
    """TQDM without the logger's version id in the postfix."""

    def get_metrics(self, trainer, pl_module):
        metrics = super().get_metrics(trainer, pl_module)
        metrics.pop("v_num", None)
        return metrics


class LineProgress(ProgressBar):
    """One log line at `lines` evenly spaced steps (the last step included): step, percent, the latest
    logged loss and reconstruction (medians over members), seconds since the fit started."""

    def __init__(self, lines: int = 10):
        super().__init__()
        self.lines = int(lines)
        self._enabled = True
        self._marks: set[int] = set()
        self._started = 0.0

    def disable(self) -> None:
        self._enabled = False

    def enable(self) -> None:
        self._enabled = True

    def on_train_start(self, trainer, pl_module) -> None:
        total = int(trainer.max_steps)
        self._marks = (
            {max(1, round(total * k / self.lines)) for k in range(1, self.lines + 1)} if total > 0 else set()
        )
        self._started = time.perf_counter()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        step = trainer.global_step
        if not self._enabled or step not in self._marks:
            return
        metrics = trainer.callback_metrics
        values = " · ".join(
            f"{name} {float(metrics[key]):.3e}"
            for name, key in (("loss", TRAIN_LOSS), ("recon", TRAIN_RECON))
            if key in metrics
        )
        total = int(trainer.max_steps)
        log.info(
            "step %s/%s (%d%%)%s · %.1f s",
            f"{step:,}",
            f"{total:,}",
            round(100 * step / total),
            f" · {values}" if values else "",
            time.perf_counter() - self._started,
        )


def progress_bar(refresh_rate: int = 100, lines: int = 10) -> ProgressBar:
    """The progress display for where stderr goes (see the module docstring)."""
    if sys.stderr.isatty():
        return TerminalProgressBar(refresh_rate=refresh_rate)
    return LineProgress(lines=lines)
