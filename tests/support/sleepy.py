"""A test-only Lightning callback that makes a trial slow without using the CPU: the time-limit test
needs a trial that outlives SLURM's 1-minute limit, not one that burns a core for it.

    PYTHONPATH=tests/support … 'trusted_packages=[sleepy]' '+callbacks.sleep={_target_: sleepy.SleepEachStep}'
"""

import time

from lightning.pytorch import Callback


class SleepEachStep(Callback):
    """Sleeps `seconds` after every training step."""

    def __init__(self, seconds: float = 1.0):
        self.seconds = float(seconds)

    def on_train_batch_end(self, *args, **kwargs) -> None:
        del args, kwargs  # Lightning's trainer, module, outputs, batch and index: not needed to wait
        time.sleep(self.seconds)
