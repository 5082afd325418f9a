"""The one exception type for bad input, so entry points can print it as one line."""


class ConfigError(ValueError):
    """A configuration value is invalid. The message names the key and the value."""


class CheckpointError(RuntimeError):
    """A checkpoint is missing or unreadable."""


class TrainingDiverged(RuntimeError):
    """The training loss became non-finite."""
