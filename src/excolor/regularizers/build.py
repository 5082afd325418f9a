"""Build the configured regularizers and tie them to the schedule and the data's labels.

Its own module (not the train entry point) so that bench and tests build regularizers exactly as
training does without importing the entry point.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from omegaconf import DictConfig

from excolor.config import config_key
from excolor.errors import ConfigError

if TYPE_CHECKING:
    from excolor.regularizers.base import Regularizer

log = logging.getLogger("excolor.train")  # the warnings belong with the run's own messages


def build_regularizers(
    configs: DictConfig, schedule, label_names: list[str], width: int
) -> dict[str, Regularizer]:
    """Instantiate each regularizer and tie it to the schedule and the data's labels; warn about a
    schedule column that drives nothing and a regularizer that no column drives (weight 1)."""
    from hydra.utils import instantiate

    from excolor.regularizers import base

    regularizers = {}
    for name, config in (configs or {}).items():
        with config_key(f"regularizers.{name}"):
            regularizer = instantiate(config)
            if not isinstance(regularizer, base.Regularizer):
                kind = type(regularizer)
                raise ConfigError(
                    f"{kind.__module__}.{kind.__qualname__} is not a Regularizer "
                    "(subclass excolor.extension.Regularizer)"
                )
            regularizer.bind_labels(label_names)
            regularizer.check_width(width)
        if regularizer.column not in schedule.values:
            log.warning(
                "regularizer %r: no schedule column %r drives it; it runs at weight %g",
                name,
                regularizer.column,
                regularizer.weight,
            )
        regularizers[name] = regularizer
    driven = {r.column for r in regularizers.values()}
    for column in schedule.names:
        if column != "lr" and column not in driven:
            log.warning("schedule column %r drives no regularizer", column)
    return regularizers
