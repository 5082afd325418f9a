"""The one exception type for bad input, so entry points can print it as one line."""


class ConfigError(ValueError):
    """A configuration value is invalid. The message names the key and the value."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing or unreadable."""


class TrainingDiverged(RuntimeError):
    """The training loss became non-finite."""


class TrialInterrupted(RuntimeError):
    """A trial's job was ended from outside before it finished (cancelled, its node lost): not the
    trial's fault, so a resumable sweep runs its slot again."""


class TrialTimedOut(RuntimeError):
    """A trial's job reached its time limit (SLURM's ``--time``, ``hydra.launcher.timeout_min``): a
    failure of the trial, recorded and kept like any other."""


def asynchronous_cause(error: BaseException) -> BaseException:
    """`error`, or the `TrialTimedOut` behind it. SLURM's time-limit signal raises `TrialTimedOut` from a
    signal handler, wherever the task happens to be; library code there may wrap it (``inspect``
    re-raises any error as ``TypeError('unsupported callable')``), so the chain of causes and contexts is
    searched for it."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, TrialTimedOut):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return error
