"""`hydra.sweeper.params` (and sweep overrides on the command line) → Optuna distributions.

The same override syntax as Hydra's Optuna sweeper: ``choice(a, b)`` is categorical, ``range(a, b[,
step])`` an integer (or, for floats, categorical) distribution, ``interval(a, b)`` a float (int for
int bounds) distribution, log-scaled with ``tag(log, interval(…))``. A plain ``key=value`` is a fixed
override every trial gets; ``~key`` deletes a key in every trial. Built on Hydra's public override
parser and Optuna's public distributions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override, RangeSweep, Transformer
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution


@dataclass
class SearchSpace:
    """What a trial is made of: distributions to sample, fixed values, and verbatim overrides."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    verbatim: list[str] = field(default_factory=list)

    def overrides(self, params: dict[str, Any]) -> list[str]:
        """The Hydra overrides of one trial with sampled ``params``."""
        return [f"{k}={v}" for k, v in params.items()] + [f"{k}={v}" for k, v in self.fixed.items()] + self.verbatim


def search_space(arguments: list[str]) -> SearchSpace:
    """Parse override strings (``key=choice(…)``, ``key=value``, ``~key``) into a `SearchSpace`; a
    later override of a key replaces an earlier one (the command line wins over the config)."""
    space = SearchSpace()
    for override in OverridesParser.create().parse_overrides(arguments):
        if override.is_delete():
            space.verbatim.append(str(override.input_line))
            continue
        key = override.get_key_element()
        space.distributions.pop(key, None)
        space.fixed.pop(key, None)
        if override.is_sweep_override():
            space.distributions[key] = distribution(override)
        else:
            space.fixed[key] = override.get_value_element_as_str()
    return space


def distribution(override: Override) -> BaseDistribution:
    """The Optuna distribution of one sweep override."""
    if override.is_choice_sweep():
        return CategoricalDistribution(_encoded_values(override))
    if override.is_range_sweep():
        sweep = override.value()
        assert isinstance(sweep, RangeSweep)  # what is_range_sweep() means
        values = list(sweep)  # in order (a shuffled range is categorical below)
        if not values:
            raise ValueError(f"{override.input_line}: the range is empty")
        ints = [v for v in values if isinstance(v, int)]
        step = ints[1] - ints[0] if len(ints) > 1 else 1
        if not sweep.shuffle and len(ints) == len(values) and step > 0:
            return IntDistribution(ints[0], ints[-1], step=step)
        return CategoricalDistribution(_encoded_values(override))
    if override.is_interval_sweep():
        interval = override.value()
        assert isinstance(interval, IntervalSweep)  # what is_interval_sweep() means
        assert interval.start is not None and interval.end is not None  # the grammar requires both
        log = "log" in interval.tags
        if isinstance(interval.start, int) and isinstance(interval.end, int):
            return IntDistribution(interval.start, interval.end, log=log)
        return FloatDistribution(float(interval.start), float(interval.end), log=log)
    raise ValueError(f"{override.input_line}: this sweep is not supported by the Optuna sweeper")


def _encoded_values(override: Override) -> list:
    return list(override.sweep_iterator(transformer=Transformer.encode))
