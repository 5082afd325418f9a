"""Build the configured regularizers and tie them to the schedule and the data's labels.

Its own module (not the train entry point) so that bench and tests build regularizers exactly as
training does without importing the entry point.
"""

from __future__ import annotations

import logging

from omegaconf import DictConfig

from excolor.config import config_key

log = logging.getLogger("excolor.train")  # the warnings belong with the run's own messages


def build_regularizers(configs: DictConfig, schedule, label_names: list[str], width: int) -> dict:
    """Instantiate each regularizer and tie it to the schedule and the data's labels; warn about a
    schedule column that drives nothing and a regularizer that no column drives (weight 1)."""
    from hydra.utils import instantiate

    regularizers = {}
    for name, config in (configs or {}).items():
        with config_key(f"regularizers.{name}"):
            regularizer = instantiate(config)
            regularizer.bind_labels(label_names)
            regularizer.check_width(width)
        if regularizer.column not in schedule.values:
            log.warning("regularizer %r: no schedule column %r drives it; it runs at weight %g", name, regularizer.column, regularizer.weight)
        regularizers[name] = regularizer
    driven = {r.column for r in regularizers.values()}
    for column in schedule.names:
        if column != "lr" and column not in driven:
            log.warning("schedule column %r drives no regularizer", column)
    return regularizers
