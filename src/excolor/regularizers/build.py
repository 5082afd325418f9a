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
    from excolor.population import Population
    from excolor.regularizers.base import Regularizer

log = logging.getLogger("excolor.train")  # the warnings belong with the run's own messages


def build_regularizers(
    configs: DictConfig, schedule, label_names: list[str], width: int, population: Population | None = None
) -> dict[str, Regularizer]:
    """Instantiate each regularizer and tie it to the schedule and the data's labels; warn about a
    schedule column that drives nothing and a regularizer that no column drives (weight 1).

    With a `population`, each regularizer gets its members' weights, and one instance per distinct
    value of the settings its grid varies (`Regularizer.set_member_variants`)."""
    regularizers = {}
    for name, config in (configs or {}).items():
        with config_key(f"regularizers.{name}"):
            regularizer = build_one(config, label_names, width)
            settings = population.member_settings(f"regularizers.{name}") if population else [{}]
            distinct = list(dict.fromkeys(tuple(values.items()) for values in settings))
            if distinct != [()]:
                variants = [build_one(config, label_names, width, dict(values)) for values in distinct]
                if len(variants) == 1:  # every member has the same value: the plain term, built with it
                    regularizer = variants[0]
                else:
                    regularizer.set_member_variants(
                        variants, [distinct.index(tuple(values.items())) for values in settings]
                    )
        if regularizer.column not in schedule.values:
            log.warning(
                "regularizer %r: no schedule column %r drives it; it runs at weight %g",
                name,
                regularizer.column,
                regularizer.weight,
            )
        regularizers[name] = regularizer
    if population is not None:
        population.bind_regularizers(regularizers)
    driven = {r.column for r in regularizers.values()}
    for column in schedule.names:
        if column != "lr" and column not in driven:
            log.warning("schedule column %r drives no regularizer", column)
    return regularizers


def build_one(config, label_names: list[str], width: int, settings: dict | None = None) -> Regularizer:
    """One regularizer from its config (with `settings`, dotted keys, set first), checked to be a
    Regularizer, bound to the data's labels and checked against the latent width."""
    from excolor.population import with_settings
    from excolor.regularizers import base

    regularizer = with_settings(config, settings or {})
    if not isinstance(regularizer, base.Regularizer):
        kind = type(regularizer)
        raise ConfigError(
            f"{kind.__module__}.{kind.__qualname__} is not a Regularizer (subclass excolor.extension.Regularizer)"
        )
    regularizer.bind_labels(label_names)
    regularizer.check_width(width)
    return regularizer
