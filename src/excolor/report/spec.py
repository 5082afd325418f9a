"""The ``report:`` node of a sweep config as a `Spec`: arms, metrics, dose key and hypotheses.

Schema (all keys optional)::

    report:
      arms: [model.output, model.normalize]   # config paths (OmegaConf.select in each
                                              # trial's .hydra/config.yaml) or grid keys;
                                              # members with equal values form one arm
      metrics: [eval/none/median_mse, eval/suppression/score]  # metrics.json keys tabulated/plotted
      dose: regularizers.unit.weight          # a grid key: the dose-response x axis (optional)
      hypotheses:
        - name: H2                            # default H<i>; claim optional
          claim: dropping the output sigmoid improves reconstruction
          treatment: {model.output: linear}   # member selector: config path or grid key -> value
          control: {model.output: sigmoid}    # (members matching ALL pairs; may pool arms)
          metrics: {eval/none/median_mse: lower}   # metric -> "lower" | "higher" is better
          equivalence: 0.1                    # optional: an equivalence claim, the ratio within ±10 %
                                              # (TOST; the verdict: equivalent / not shown equivalent)
      chapter:                                # optional: the chapter's re-runs beside upstream's
        pairs: [[ex2.4.1, ex2.5.1]]           # figures (excolor.report.chapter; `true`: no pairs)
      factorial:                              # optional: a 2^k factorial, paired by seed
        factors:                              # factor (config path, grid key or config group) ->
          model.output: [sigmoid, linear]     #   [low level, high level]; effect = high − low
          regularizers: [ex2.2, ex2.3]
        metrics: {eval/none/median_mse: log, eval/suppression/score: linear}   # scale of the effect

Defaults: ``arms`` = the override keys whose value varies across trials, excluding
``seed`` (and ``*.seed``), ``hydra.*``, ``population.*`` (they shape the samples, not the arms)
and keys whose values are all distinct numbers (continuous search params); ``metrics`` = every
numeric member metric except bookkeeping (`excolor.run_record.BOOKKEEPING`: ``seed``,
``train/seconds``, ``train/steps``, …: reported as compute); no ``dose``; no hypotheses.
A node that breaks the schema is a `ConfigError` naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from omegaconf import DictConfig

from excolor.errors import ConfigError
from excolor.report.chapter import parse_chapter
from excolor.report.sweep import Trial, select_value
from excolor.run_record import BOOKKEEPING, SEED

SPEC_KEYS = ("arms", "metrics", "hypotheses", "dose", "factorial", "chapter")
FACTORIAL_KEYS = ("factors", "metrics")
SCALES = ("log", "linear")
HYPOTHESIS_SIDES = ("treatment", "control", "metrics")
DIRECTIONS = ("lower", "higher")


@dataclass
class Comparison:
    """What a hypothesis compares: its name and claim, and its treatment and control selectors
    (config path or grid key -> value; a member matches a side when it has every value)."""

    name: str
    claim: str
    treatment: dict[str, Any]
    control: dict[str, Any]

    @property
    def selected_keys(self) -> set[str]:
        """The keys either side selects on (left out of the pairing key)."""
        return set(self.treatment) | set(self.control)


@dataclass
class Hypothesis(Comparison):
    """One ``report.hypotheses`` entry: a `Comparison` and its metrics' directions."""

    metrics: dict[str, str]  # metric -> "lower" | "higher" (which is better)
    equivalence: float | None = None  # margin m: an equivalence claim, ratio within [1 − m, 1 + m]


@dataclass
class Factorial:
    """The ``report.factorial`` node: each factor's two levels (low, high) and each metric's scale."""

    factors: dict[str, tuple[Any, Any]]
    metrics: dict[str, str]  # metric -> "log" | "linear"


@dataclass
class Spec:
    """The parsed ``report`` node, defaults filled in; ``arms_declared`` says whether arms were given."""

    arms: list[str]
    metrics: list[str]
    hypotheses: list[Hypothesis]
    arms_declared: bool
    dose: str | None = None
    factorial: Factorial | None = None
    chapter: list[list[str]] | None = None  # report.chapter's pairs (excolor.report.chapter); None: off


def _str_list(node: Any, where: str) -> list[str]:
    if node is None:
        return []
    if isinstance(node, str):
        return [node]
    if not isinstance(node, list) or not all(isinstance(item, str) for item in node):
        raise ConfigError(f"{where} must be a list of strings, got {node!r}")
    return list(node)


def _is_number_text(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _shapes_the_samples(key: str) -> bool:
    """Seeds, Hydra's own keys and the population's keys make members, not arms."""
    return key == SEED or key.endswith(f".{SEED}") or key.startswith(("hydra.", "population."))


def default_arms(trials: list[Trial]) -> list[str]:
    """Override keys that vary across trials, minus seed, hydra.*, population.* and all-distinct numbers."""
    override_maps = [trial.override_map() for trial in trials]
    keys = list(dict.fromkeys(key for overrides in override_maps for key in overrides))
    arms = []
    for key in keys:
        if _shapes_the_samples(key):
            continue
        values = [overrides.get(key) for overrides in override_maps]
        if len(set(values)) < 2:
            continue
        present = [value for value in values if value is not None]
        if (
            len(present) > 1
            and all(_is_number_text(value) for value in present)
            and len(set(present)) == len(present)
        ):
            continue  # a continuous search param: every trial its own value
        arms.append(key)
    return arms


def default_metrics(trials: list[Trial]) -> list[str]:
    """Every member metric in order of appearance, bookkeeping left out (it is compute)."""
    names = (name for trial in trials for member in trial.members for name in member.metrics)
    return [name for name in dict.fromkeys(names) if name not in BOOKKEEPING]


def _hypothesis(index: int, node: Any) -> Hypothesis:
    """One validated ``report.hypotheses[index]`` entry."""
    where = f"report.hypotheses[{index}]"
    if not isinstance(node, dict):
        raise ConfigError(f"{where} must be a mapping, got {node!r}")
    name = node.get("name") or f"H{index + 1}"
    for side in HYPOTHESIS_SIDES:
        if not isinstance(node.get(side), dict) or not node.get(side):
            raise ConfigError(f"{where}.{side} ({name}) must be a non-empty mapping, got {node.get(side)!r}")
    for metric, direction in node["metrics"].items():
        if direction not in DIRECTIONS:
            raise ConfigError(
                f"{where}.metrics.{metric} ({name}) must be 'lower' or 'higher', got {direction!r}"
            )
    margin = node.get("equivalence")
    if margin is not None and (
        isinstance(margin, bool) or not isinstance(margin, (int, float)) or not 0 < margin < 1
    ):
        raise ConfigError(
            f"{where}.equivalence ({name}) must be a margin in (0, 1) such as 0.1 (±10 % on the "
            f"ratio), got {margin!r}"
        )
    return Hypothesis(
        str(name),
        str(node.get("claim") or ""),
        dict(node["treatment"]),
        dict(node["control"]),
        {str(metric): str(direction) for metric, direction in node["metrics"].items()},
        None if margin is None else float(margin),
    )


def _factorial(node: Any) -> Factorial | None:
    """The validated ``report.factorial`` node (None if absent)."""
    if node is None:
        return None
    if not isinstance(node, dict) or set(node) - set(FACTORIAL_KEYS):
        raise ConfigError(
            f"report.factorial must be a mapping with keys {', '.join(FACTORIAL_KEYS)}, got {node!r}"
        )
    factors, metrics = node.get("factors"), node.get("metrics")
    if not isinstance(factors, dict) or len(factors) < 2:
        raise ConfigError(
            f"report.factorial.factors must map at least two factors to [low, high], got {factors!r}"
        )
    for factor, levels in factors.items():
        if not isinstance(levels, list) or len(levels) != 2 or levels[0] == levels[1]:
            raise ConfigError(
                f"report.factorial.factors.{factor} must be two distinct levels [low, high], got {levels!r}"
            )
    if not isinstance(metrics, dict) or not metrics or any(scale not in SCALES for scale in metrics.values()):
        raise ConfigError(f"report.factorial.metrics must map metrics to 'log' or 'linear', got {metrics!r}")
    return Factorial(
        {str(factor): (levels[0], levels[1]) for factor, levels in factors.items()},
        {str(metric): str(scale) for metric, scale in metrics.items()},
    )


def parse_spec(config: DictConfig, trials: list[Trial]) -> Spec:
    """Validate the ``report`` node of the sweep config (schema above) and fill in the defaults."""
    node = select_value(config, "report", default=None) or {}
    if not isinstance(node, dict):
        raise ConfigError(f"report must be a mapping, got {node!r}")
    unknown = set(node) - set(SPEC_KEYS)
    if unknown:
        raise ConfigError(f"report: unknown key(s) {sorted(unknown)}; allowed: {', '.join(SPEC_KEYS)}")
    dose = node.get("dose")
    if dose is not None and (not isinstance(dose, str) or not dose):
        raise ConfigError(
            f"report.dose must be a grid key (a config path such as regularizers.unit.weight), got {dose!r}"
        )
    declared = node.get("arms") is not None
    arms = _str_list(node.get("arms"), "report.arms") if declared else default_arms(trials)
    metrics = _str_list(node.get("metrics"), "report.metrics") or default_metrics(trials)
    hypotheses = [_hypothesis(index, entry) for index, entry in enumerate(node.get("hypotheses") or [])]
    chapter = parse_chapter(node.get("chapter"))
    return Spec(arms, metrics, hypotheses, declared, dose, _factorial(node.get("factorial")), chapter)
