"""The population axis: which members one run trains, and building them.

members = every grid point × every seed, grid-major: for each combination of `grid` values (in the
order given), the seeds `seed, seed+1, …, seed+size−1`. Member m's initialisation and data stream
come from its own seed only, so it is the single run with that seed and those grid values (up to
float rounding); a run with `size=1` and no grid *is* the single run.

Grid keys are the per-member scalars the stacked model supports (`GRID_KEYS`), one kind each:

- `lr_scale` (> 0): a multiplier of the schedule's `lr` column, member n stepping with lr(t) · s_n
  (`excolor.member_adam`). A multiplier rather than a learning rate: the column is keyframed over
  the steps (warm-up, decay), and scaling it keeps that shape; 1 is the schedule as written.
- `regularizers.<name>.weight` (≥ 0): the regularizer's weight, multiplying its schedule column
  (one stacked term, a weight per member).
- `regularizers.<name>.<setting>`: any other number the regularizer's config holds (`power`,
  `label_affinities.red`, a parameter of an outside regularizer): the members that share a value
  share one instance built with it, each instance computing its members' terms
  (`Regularizer.set_member_variants`); the constructor checks each value.
- `data.labels.<label>.alpha` / `.k`: a label's parameters (`excolor.labels`): each distinct
  (seed, label values) gets its own data stream, drawn exactly as the single run with those values.

Anything else (model shape, data sizes, strings) changes what every member computes or the shapes
they share: it is refused in one line. `check_config` checks the keys against the composed config.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from excolor.errors import ConfigError

# A grid key must name a value each member may hold on its own in one stacked model.
LR_SCALE = "lr_scale"
WEIGHT = "weight"
REGULARIZERS, LABELS = "regularizers", "data.labels"
REGULARIZER_SETTING = re.compile(
    r"^regularizers\.(?P<name>[A-Za-z_][\w-]*)\.(?P<setting>[A-Za-z_]\w*(?:\.[A-Za-z_][\w-]*)*)$"
)
LABEL_SETTING = re.compile(r"^data\.labels\.(?P<label>[A-Za-z_]\w*)\.(?P<setting>alpha|k)$")
GRID_KEYS = (  # the allowed keys, as the error line names them
    f"{LR_SCALE}, regularizers.<name>.{WEIGHT}, regularizers.<name>.<numeric setting>, "
    "data.labels.<label>.alpha, data.labels.<label>.k"
)


def grid_key_minimum(key: str) -> tuple[float | None, bool] | None:
    """The bound a grid key's values keep, (minimum or None, strict); None: not a per-member scalar.
    Settings other than the weight are bounded by their own constructors."""
    if key == LR_SCALE:
        return 0.0, True
    match = REGULARIZER_SETTING.match(key)
    if match is not None:
        return (0.0, False) if match["setting"] == WEIGHT else (None, False)
    if LABEL_SETTING.match(key):
        return None, False
    return None


@dataclass(frozen=True)
class Member:
    """One member of the population: its index, its seed and its grid values (config key → value)."""

    index: int
    seed: int
    values: dict[str, float]


class Population:
    """`size` seeds from `seed` on, times every point of `grid` (config key → list of values)."""

    def __init__(self, size: int = 1, grid: Mapping[str, Sequence[float]] | None = None, seed: int = 0):
        if isinstance(size, bool) or not isinstance(size, int) or size < 1:
            raise ConfigError(f"population.size={size} must be an integer ≥ 1")
        grid = dict(grid or {})
        for key, values in grid.items():
            bound = grid_key_minimum(str(key))
            if bound is None:
                raise ConfigError(f"population.grid.{key}: not a per-member scalar (allowed: {GRID_KEYS})")
            minimum, strict = bound
            if isinstance(values, (str, bytes)) or not isinstance(values, Sequence) or len(values) == 0:
                raise ConfigError(f"population.grid.{key}={values} must be a non-empty list of numbers")
            for value in values:
                if (
                    isinstance(value, bool)
                    or not isinstance(value, (int, float))
                    or not math.isfinite(value)
                    or (minimum is not None and (value < minimum or (strict and value == minimum)))
                ):
                    bound_text = "" if minimum is None else f" {'>' if strict else '≥'} {minimum:g}"
                    raise ConfigError(
                        f"population.grid.{key}={list(values)}: every value must be a finite number{bound_text}"
                    )
        self.size = size
        self.grid = {str(key): [float(v) for v in values] for key, values in grid.items()}
        self.seed = int(seed)
        points = itertools.product(*self.grid.values())
        self.members = [
            Member(index, self.seed + offset, dict(zip(self.grid, point)))
            for index, (point, offset) in enumerate(itertools.product(points, range(size)))
        ]

    def __len__(self) -> int:
        return len(self.members)

    @property
    def seeds(self) -> list[int]:
        """Each member's seed, in member order."""
        return [member.seed for member in self.members]

    @property
    def unique_seeds(self) -> list[int]:
        return sorted(set(self.seeds))

    def values(self, key: str) -> list[float] | None:
        """Each member's value of a grid key, or None when `key` is not on the grid."""
        return [member.values[key] for member in self.members] if key in self.grid else None

    def member_settings(self, prefix: str) -> list[dict[str, float]]:
        """Each member's grid values under `prefix` (`regularizers.<name>` or `data`), keyed relative to it,
        without the regularizer's `weight` (a weight is a per-member multiplier, not a setting)."""
        keys = [key for key in self.grid if key.startswith(prefix + ".") and not is_weight(key)]
        return [{key[len(prefix) + 1 :]: member.values[key] for key in keys} for member in self.members]

    def check_config(self, cfg: Mapping) -> None:
        """Every grid key names something the composed config (resolved, plain) holds: a configured
        regularizer, and for its settings a number in its config; a label of `data.labels`."""
        regularizers = cfg.get(REGULARIZERS) or {}
        labels = (cfg.get("data") or {}).get("labels") or {}
        for key in self.grid:
            if match := REGULARIZER_SETTING.match(key):
                name, setting = match["name"], match["setting"]
                if name not in regularizers:
                    configured = ", ".join(regularizers) or "none"
                    raise ConfigError(
                        f"population.grid.{key}: no regularizer {name!r} (configured: {configured})"
                    )
                if setting == WEIGHT:
                    continue
                value = _select(regularizers[name], setting)
                if isinstance(value, bool) or not isinstance(value, (int, float)):
                    found = "no such setting" if value is None else f"it is {value!r}, not a number"
                    raise ConfigError(
                        f"population.grid.{key}: {found} in regularizers.{name} (a grid varies a number the "
                        f"regularizer's config holds)"
                    )
            elif (match := LABEL_SETTING.match(key)) and match["label"] not in labels:
                configured = ", ".join(labels) or "none"
                raise ConfigError(
                    f"population.grid.{key}: no label {match['label']!r} in data.labels (configured: {configured})"
                )

    def bind_regularizers(self, regularizers: Mapping) -> None:
        """Give every regularizer its per-member weights: the grid's values for `regularizers.<name>.weight`,
        else its configured `weight` for every member."""
        for name, regularizer in regularizers.items():
            regularizer.set_member_weights(
                self.values(f"{REGULARIZERS}.{name}.{WEIGHT}") or [regularizer.weight] * len(self)
            )

    def build_model(self, model_config):
        """The stacked model (any model that `stack_linears` can stack): member m initialised exactly as
        `instantiate(model_config)` is after `torch.manual_seed(m.seed)` (members that share a seed
        share their initial weights)."""
        import torch
        from hydra.utils import instantiate

        from excolor.population_model import StackedModel

        initial = {}
        for seed in self.unique_seeds:
            torch.manual_seed(seed)
            initial[seed] = instantiate(model_config)
        return StackedModel.from_members([initial[seed] for seed in self.seeds])

    def build_data(self, data_config):
        """Each member's own stream: `data.seed` = its seed, and its grid values of `data.labels.*`;
        members with the same seed and values share one stream, drawn once, stacked by member."""
        from excolor.data import PopulationBatches

        settings = self.member_settings("data")
        keys = [(member.seed, tuple(values.items())) for member, values in zip(self.members, settings)]
        distinct = list(dict.fromkeys(keys))
        streams = [with_settings(data_config, dict(values), seed=seed) for seed, values in distinct]
        stream_of = {key: position for position, key in enumerate(distinct)}
        return PopulationBatches(streams, [stream_of[key] for key in keys])


def is_weight(key: str) -> bool:
    """Whether a grid key is a regularizer's weight (`regularizers.<name>.weight`)."""
    match = REGULARIZER_SETTING.match(key)
    return match is not None and match["setting"] == WEIGHT


def _select(config: Mapping, dotted: str):
    """config[a][b]… for `a.b…`, or None where a step is missing."""
    node = config
    for part in dotted.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def with_settings(config, settings: Mapping[str, float], **kwargs):
    """`instantiate(config, **kwargs)` with the dotted `settings` set in a copy of `config` first."""
    from hydra.utils import instantiate
    from omegaconf import DictConfig, OmegaConf

    if settings:
        copy = OmegaConf.create(OmegaConf.to_container(config, resolve=True))
        assert isinstance(copy, DictConfig)  # a regularizer's or the data's config: a mapping
        for key, value in settings.items():
            OmegaConf.update(copy, key, value, merge=False)
        config = copy
    return instantiate(config, **kwargs)
