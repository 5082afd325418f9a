"""`hydra.sweeper.params` (and sweep overrides on the command line) → Optuna distributions.

The same override syntax as Hydra's Optuna sweeper: ``choice(a, b)`` is categorical, ``range(a, b[,
step])`` an integer or float distribution with a step, ``interval(a, b)`` a float (int for int bounds)
distribution, log-scaled with ``tag(log, interval(…))``. A plain ``key=value`` is a fixed override every
trial gets; ``~key`` deletes a key in every trial. Built on Hydra's public override parser and Optuna's
public distributions. A sampler is only ever offered the values the user wrote:

- ``range(start, stop, step)`` of ints: ``IntDistribution(low, high, step=|step|)`` with ``low, high`` the
  smallest and largest of the values ``start + k·step < stop`` (``> stop`` for a negative step), computed,
  never enumerated (``range(0, 10**12)`` is parsed in microseconds); a descending range keeps the order a
  sampler can exploit (``range(3, 0, -1)`` → ``IntDistribution(1, 3)``).
- a float range: its ``count = ⌈(stop − start) / step⌉`` values (exact fractions, whatever the decimal
  context) are ``start + k·step``, k = 0 … count − 1. ``FloatDistribution(low, high, step)`` where every
  one of them is a binary float that Optuna's grid arithmetic ``low + k·step`` hits exactly (start and step
  multiples of 2^-m with ``(|low| + |high|)·2^m ≤ 2^53``: ``range(0, 5, 0.5)``, ``range(-1e15, 0, 1.0)``);
  otherwise (``range(0, 1, 0.1)``, where Optuna would propose 0.30000000000000004) a categorical of
  exactly Hydra's values, which holds at most `MAX_CHOICES` of them.
- ``int(range(…))`` / ``float(range(…))`` / ``shuffle(range(…))``: a categorical of the cast (or
  shuffled) values, as Hydra yields them (``int(range(0, 5, 1.5))`` → {0, 1, 3, 4}).
- an empty range or a zero step: ValueError.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import ceil
from typing import Any, cast

from hydra.core.override_parser.overrides_parser import OverridesParser
from hydra.core.override_parser.types import IntervalSweep, Override, RangeSweep, Transformer
from optuna.distributions import (
    BaseDistribution,
    CategoricalChoiceType,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

# The most values a range may give when it becomes a categorical (each is a choice a sampler weighs).
MAX_CHOICES = 100_000
# Integers up to 2^53 are exact in a binary64 float.
EXACT_INTEGERS = 2**53


@dataclass
class SearchSpace:
    """What a trial is made of: distributions to sample, fixed values, and verbatim overrides."""

    distributions: dict[str, BaseDistribution] = field(default_factory=dict)
    fixed: dict[str, str] = field(default_factory=dict)
    verbatim: list[str] = field(default_factory=list)

    def overrides(self, params: dict[str, Any]) -> list[str]:
        """The Hydra overrides of one trial with sampled ``params``."""
        return (
            [f"{k}={v}" for k, v in params.items()]
            + [f"{k}={v}" for k, v in self.fixed.items()]
            + self.verbatim
        )


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
    """The Optuna distribution of one sweep override (see the module docstring)."""
    if override.is_choice_sweep():
        return _categorical(override)
    if override.is_range_sweep():
        return range_distribution(override)
    if override.is_interval_sweep():
        interval = override.value()
        assert isinstance(interval, IntervalSweep) and interval.start is not None and interval.end is not None
        log = "log" in interval.tags
        if isinstance(interval.start, int) and isinstance(interval.end, int):
            return IntDistribution(interval.start, interval.end, log=log)
        return FloatDistribution(float(interval.start), float(interval.end), log=log)
    raise ValueError(f"{override.input_line}: this sweep is not supported by the Optuna sweeper")


def range_distribution(override: Override) -> BaseDistribution:
    """A ``range(…)`` sweep's distribution, from its bounds (see the module docstring)."""
    sweep = override.value()
    assert isinstance(sweep, RangeSweep) and sweep.start is not None and sweep.stop is not None
    start, stop, step = Fraction(str(sweep.start)), Fraction(str(sweep.stop)), Fraction(str(sweep.step))
    if step == 0:
        raise ValueError(f"{override.input_line}: a range needs a nonzero step")
    count = ceil((stop - start) / step)
    if count <= 0:
        raise ValueError(f"{override.input_line}: the range has no values")
    if sweep.shuffle or sweep.transformers:
        return _categorical(override, count)
    values = sweep.range()
    if isinstance(values, range):
        int_low, int_high = sorted((values[0], values[-1]))
        return IntDistribution(int_low, int_high, step=abs(values.step))
    assert isinstance(values.start, Decimal) and isinstance(values.step, Decimal)
    # Hydra's k-th value is float(start + step·k) in Decimal arithmetic: the same expression here.
    first, last = values.start, values.start + values.step * (count - 1)
    low, high = sorted((first, last))
    if _binary_grid(low, high, values.step, exact_last=Fraction(last) == start + step * (count - 1)):
        return FloatDistribution(float(low), float(high), step=float(abs(values.step)))
    return _categorical(override, count)


def _binary_grid(low: Decimal, high: Decimal, step: Decimal, exact_last: bool) -> bool:
    """Every value of the grid low, low + |step|, …, high is a binary float, and Optuna's float
    arithmetic low + k·|step| gives it exactly: low and step are multiples of 2^-m (m ≥ 0) and
    (|low| + |high|)·2^m ≤ 2^53, so every sum and product on the way is an exact integer multiple of 2^-m."""
    denominators = (Fraction(low).denominator, Fraction(step).denominator)
    if not exact_last or any(d & (d - 1) for d in denominators):  # not a power of two
        return False
    scale = max(denominators)
    return (abs(Fraction(low)) + abs(Fraction(high))) * scale <= EXACT_INTEGERS


def _categorical(override: Override, count: int | None = None) -> CategoricalDistribution:
    """The sweep's values as Hydra yields them (encoded for Optuna), refused beyond `MAX_CHOICES`."""
    if count is not None and count > MAX_CHOICES:
        raise ValueError(
            f"{override.input_line}: {count} values are too many for a categorical distribution "
            f"(at most {MAX_CHOICES}); use interval(…), or a step of a binary fraction (0.5, 0.25, …)"
        )
    return CategoricalDistribution(
        [
            cast(CategoricalChoiceType, value)
            for value in override.sweep_iterator(transformer=Transformer.encode)
        ]
    )
