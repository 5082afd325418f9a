"""Loading a Hydra multirun sweep dir and the ``report:`` spec of its config.

A sweep dir, as Hydra writes it, holds ``multirun.yaml`` (the sweep's composed config)
and one subdir per trial (``0/``, ``1/``, ...) holding ``.hydra/config.yaml``,
``.hydra/overrides.yaml`` and either ``metrics.json`` (status *ok*; one flat JSON
object) or ``failure.json`` (status *failed*; ``{"error": ..., "type": ...}``).
A trial dir with neither is *incomplete* (killed while running).

Samples are population **members**. An ok trial that holds ``members.csv`` (one row per member:
``member``, ``seed``, one column per grid key — a config path such as
``regularizers.unit.weight``, told from metric names by having no ``/`` — then the metrics) has
one `Member` per row; a trial without it (a run from before populations) is a population of one
whose metrics are its metrics.json and whose seed is metrics.json's ``seed`` (else the config's).
An unreadable members.csv (no ``member``/``seed`` columns, no rows, ragged rows, a cell that is
not a number, a row count other than metrics.json's ``population/size``) makes the trial failed.
A member's value of a key (`Member.value`) is its grid value for a grid key, its seed for
``seed``, else the trial's config value. Run-wide metrics (the fit's ``train/seconds``) are not
per member: a member's ``train/seconds`` is the run's divided by its number of members.

Schema of the ``report`` node of the sweep config (all keys optional)::

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

Defaults: ``arms`` = the override keys whose value varies across trials, excluding
``seed`` (and ``*.seed``), ``hydra.*``, ``population.*`` (they shape the samples, not the arms)
and keys whose values are all distinct numbers (continuous search params); ``metrics`` = every
numeric member metric except bookkeeping (``seed``, ``train/seconds``, ``train/steps``, …:
reported as compute); no ``dose``; no hypotheses.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf

from excolor import run_record
from excolor.errors import ConfigError
from excolor.run_record import BOOKKEEPING, Status

OK, FAILED, INCOMPLETE = Status.OK.value, Status.FAILED.value, Status.INCOMPLETE.value


class ReportError(Exception):
    """Bad input to the report (missing path, unknown study); printed as one line."""


# --------------------------------------------------------------------------- trials




@dataclass
class Member:
    """One population member of an ok trial: its seed, grid values and metrics (a sample)."""

    trial: "Trial"
    index: int
    seed: int | None
    grid: dict[str, float]
    metrics: dict[str, float]
    arm: str = ""

    def value(self, key: str) -> Any:
        """The grid value for a grid key, the seed for ``seed``, else the trial's config value."""
        if key in self.grid:
            return self.grid[key]
        if key == "seed":
            return self.seed
        return self.trial.value(key)

    def number(self, metric: str) -> float | None:
        """The member's metric as a float (None if absent; NaN kept)."""
        v = self.metrics.get(metric)
        return None if v is None else float(v)


@dataclass
class Trial:
    """One trial dir: its status, config, overrides, metrics or error, its members (ok trials)
    and (once analysed) its arm labels."""

    name: str
    path: Path
    status: str
    config: DictConfig | None = None
    overrides: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    members: list[Member] = field(default_factory=list)
    arms: list[str] = field(default_factory=list)

    def override_map(self) -> dict[str, str]:
        """The ``key=value`` overrides as a mapping (``+``/``~`` prefixes dropped)."""
        out = {}
        for o in self.overrides:
            if "=" not in o:
                continue
            k, v = o.split("=", 1)
            out[k.lstrip("+~")] = v
        return out

    def value(self, key: str) -> Any:
        """Config value at ``key`` (falls back to the override string; None if absent)."""
        if self.config is not None:
            v = OmegaConf.select(self.config, key, default=None, throw_on_resolution_failure=False)
            if v is not None:
                return OmegaConf.to_container(v, resolve=False) if isinstance(v, (DictConfig, ListConfig)) else v
        return self.override_map().get(key)

    def number(self, metric: str) -> float | None:
        """The metric as a float; None if absent or not a number (booleans are not numbers)."""
        v = self.metrics.get(metric)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return float(v)

    def grid_points(self) -> list[dict[str, float]]:
        """The distinct grid points of the trial: from its members, else from its config's
        ``population.grid`` (a failed or incomplete trial), else one empty point."""
        if self.members:
            return list({tuple(sorted(m.grid.items())): m.grid for m in self.members}.values())
        grid = select_value(self.config, "population.grid") if self.config is not None else None
        if isinstance(grid, dict) and grid and all(isinstance(v, list) for v in grid.values()):
            return [dict(zip(grid, point)) for point in itertools.product(*grid.values())]
        return [{}]


def trial_members(trial: Trial, records: list[run_record.MemberRecord]) -> list[Member]:
    """The trial's members as report samples; the run-wide ``train/seconds`` is shared among them
    (a member's share of the fit)."""
    seconds = trial.number(run_record.TRAIN_SECONDS)
    members = []
    for record in records:
        metrics = dict(record.metrics)
        if seconds is not None and run_record.TRAIN_SECONDS not in metrics:
            metrics[run_record.TRAIN_SECONDS] = seconds / len(records)
        members.append(Member(trial, record.index, record.seed, dict(record.grid), metrics))
    return members


def _sort_key(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name)


def load_trial(path: Path) -> Trial:
    """One trial dir, read through the run-record contract (`excolor.run_record.read_run`)."""
    record = run_record.read_run(path)
    trial = Trial(name=path.name, path=path, status=record.status.value, config=record.config,
                  overrides=record.overrides, metrics=record.metrics, error=record.error, error_type=record.error_type)
    trial.members = trial_members(trial, record.members)
    return trial


def load_sweep(sweep_dir: Path) -> tuple[DictConfig, list[Trial]]:
    """The sweep config (``multirun.yaml``, empty if absent) and its trials in numeric order."""
    if not sweep_dir.is_dir():
        raise ReportError(f"no such sweep dir: {sweep_dir}")
    mr = sweep_dir / "multirun.yaml"
    dirs = sorted((p for p in sweep_dir.iterdir()
                   if p.is_dir() and (p.name.isdigit() or (p / ".hydra").is_dir())), key=_sort_key)
    if not mr.is_file() and not dirs:
        raise ReportError(f"not a sweep dir (no multirun.yaml and no trial dirs): {sweep_dir}")
    cfg = OmegaConf.load(mr) if mr.is_file() else OmegaConf.create({})
    if not isinstance(cfg, DictConfig):
        raise ConfigError(f"{mr}: expected a mapping, got a list")
    return cfg, [load_trial(d) for d in dirs]


def select_value(cfg: DictConfig, key: str, default: Any = None) -> Any:
    """Value at ``key``, resolved if possible, else raw (interpolations kept); containers -> python."""
    try:
        v = OmegaConf.select(cfg, key, default=default)
        if isinstance(v, (DictConfig, ListConfig)):
            return OmegaConf.to_container(v, resolve=True)
        return v
    except Exception:  # noqa: BLE001 - unresolved hydra interpolations (${now:...}) etc.
        node: Any = OmegaConf.to_container(cfg, resolve=False)
        for part in key.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


# --------------------------------------------------------------------------- spec


@dataclass
class Hypothesis:
    """One ``report.hypotheses`` entry: treatment vs control selectors and metric directions."""

    name: str
    claim: str
    treatment: dict[str, Any]
    control: dict[str, Any]
    metrics: dict[str, str]


@dataclass
class Spec:
    """The parsed ``report`` node, defaults filled in; ``arms_declared`` says whether arms were given."""

    arms: list[str]
    metrics: list[str]
    hypotheses: list[Hypothesis]
    arms_declared: bool
    dose: str | None = None


def _str_list(v: Any, where: str) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{where} must be a list of strings, got {v!r}")
    return list(v)


def _is_number_str(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def default_arms(trials: list[Trial]) -> list[str]:
    """Override keys that vary across trials, minus seed, hydra.* and all-distinct numbers."""
    maps = [t.override_map() for t in trials]
    keys: list[str] = []
    for m in maps:
        keys += [k for k in m if k not in keys]
    arms = []
    for k in keys:
        if k == "seed" or k.endswith(".seed") or k.startswith(("hydra.", "population.")):
            continue
        vals = [m.get(k) for m in maps]
        if len(set(vals)) < 2:
            continue
        present = [v for v in vals if v is not None]
        if len(present) > 1 and all(_is_number_str(v) for v in present) and len(set(present)) == len(present):
            continue
        arms.append(k)
    return arms


# bookkeeping, shown as compute (or not at all)
_NOT_METRICS = BOOKKEEPING


def parse_spec(cfg: DictConfig, trials: list[Trial]) -> Spec:
    """Validate the ``report`` node of the sweep config (schema above) and fill in the defaults."""
    node = select_value(cfg, "report", default=None) or {}
    if not isinstance(node, dict):
        raise ConfigError(f"report must be a mapping, got {node!r}")
    unknown = set(node) - {"arms", "metrics", "hypotheses", "dose"}
    if unknown:
        raise ConfigError(f"report: unknown key(s) {sorted(unknown)}; allowed: arms, metrics, hypotheses, dose")
    dose = node.get("dose")
    if dose is not None and (not isinstance(dose, str) or not dose):
        raise ConfigError(f"report.dose must be a grid key (a config path such as regularizers.unit.weight), "
                          f"got {dose!r}")
    declared = node.get("arms") is not None
    arms = _str_list(node.get("arms"), "report.arms") if declared else default_arms(trials)
    metrics = _str_list(node.get("metrics"), "report.metrics")
    if not metrics:
        seen: list[str] = []
        for member in (m for t in trials for m in t.members):
            seen += [k for k in member.metrics if k not in seen and k not in _NOT_METRICS]
        metrics = seen
    hyps = []
    for i, h in enumerate(node.get("hypotheses") or []):
        where = f"report.hypotheses[{i}]"
        if not isinstance(h, dict):
            raise ConfigError(f"{where} must be a mapping, got {h!r}")
        name = h.get("name") or f"H{i + 1}"
        for k in ("treatment", "control", "metrics"):
            if not isinstance(h.get(k), dict) or not h.get(k):
                raise ConfigError(f"{where}.{k} ({name}) must be a non-empty mapping, got {h.get(k)!r}")
        for m, d in h["metrics"].items():
            if d not in ("lower", "higher"):
                raise ConfigError(f"{where}.metrics.{m} ({name}) must be 'lower' or 'higher', got {d!r}")
        hyps.append(Hypothesis(str(name), str(h.get("claim") or ""), dict(h["treatment"]),
                               dict(h["control"]), {str(k): str(v) for k, v in h["metrics"].items()}))
    return Spec(arms, metrics, hyps, declared, dose)
