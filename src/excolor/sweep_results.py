"""Loading a Hydra multirun sweep dir and the ``report:`` spec of its config.

A sweep dir, as Hydra writes it, holds ``multirun.yaml`` (the sweep's composed config)
and one subdir per trial (``0/``, ``1/``, ...) holding ``.hydra/config.yaml``,
``.hydra/overrides.yaml`` and either ``metrics.json`` (status *ok*; one flat JSON
object) or ``failure.json`` (status *failed*; ``{"error": ..., "type": ...}``).
A trial dir with neither is *incomplete* (killed while running).

Schema of the ``report`` node of the sweep config (all keys optional)::

    report:
      arms: [model.output, model.normalize]   # config paths (OmegaConf.select in each
                                              # trial's .hydra/config.yaml); trials with
                                              # equal values form one arm
      metrics: [eval/none/median_mse, eval/suppression/score]  # metrics.json keys tabulated/plotted
      hypotheses:
        - name: H2                            # default H<i>; claim optional
          claim: dropping the output sigmoid improves reconstruction
          treatment: {model.output: linear}   # trial selector: config path -> value
          control: {model.output: sigmoid}    # (trials matching ALL pairs; may pool arms)
          metrics: {eval/none/median_mse: lower}   # metric -> "lower" | "higher" is better

Defaults: ``arms`` = the override keys whose value varies across trials, excluding
``seed`` (and ``*.seed``), ``hydra.*`` and keys whose values are all distinct numbers
(continuous search params); ``metrics`` = every numeric metrics.json key except
``seed``, ``train/seconds``, ``train/steps`` (those are reported as compute); no hypotheses.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from excolor.errors import ConfigError

OK, FAILED, INCOMPLETE = "ok", "failed", "incomplete"


class ReportError(Exception):
    """Bad input to the report (missing path, unknown study); printed as one line."""


# --------------------------------------------------------------------------- trials


@dataclass
class Trial:
    """One trial dir: its status, config, overrides, metrics or error, and (once analysed) its arm."""

    name: str
    path: Path
    status: str
    config: DictConfig | None = None
    overrides: list[str] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    error_type: str | None = None
    arm: str = ""

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


def _sort_key(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name)


def load_trial(path: Path) -> Trial:
    """Read one trial dir; unreadable files make the trial failed (metrics) or are skipped (config)."""
    t = Trial(name=path.name, path=path, status=INCOMPLETE)
    hydra_dir = path / ".hydra"
    cfg_file = hydra_dir / "config.yaml"
    if cfg_file.is_file():
        try:
            cfg = OmegaConf.load(cfg_file)
            t.config = cfg if isinstance(cfg, DictConfig) else None
        except Exception:  # noqa: BLE001 - a half-written config is not fatal to the report
            t.config = None
    ov_file = hydra_dir / "overrides.yaml"
    if ov_file.is_file():
        try:
            t.overrides = [str(o) for o in (yaml.safe_load(ov_file.read_text()) or [])]
        except yaml.YAMLError:
            t.overrides = []
    m_file, f_file = path / "metrics.json", path / "failure.json"
    if m_file.is_file():
        try:
            m = json.loads(m_file.read_text())
            if not isinstance(m, dict):
                raise ValueError("not a JSON object")
            t.metrics, t.status = m, OK
        except ValueError as e:
            t.status, t.error, t.error_type = FAILED, f"unreadable metrics.json: {e}", "BadMetrics"
    elif f_file.is_file():
        t.status = FAILED
        try:
            f = json.loads(f_file.read_text())
            t.error, t.error_type = str(f.get("error", "")), str(f.get("type", ""))
        except (ValueError, AttributeError) as e:
            t.error, t.error_type = f"unreadable failure.json: {e}", "BadFailure"
    return t


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
        if k == "seed" or k.endswith(".seed") or k.startswith("hydra."):
            continue
        vals = [m.get(k) for m in maps]
        if len(set(vals)) < 2:
            continue
        present = [v for v in vals if v is not None]
        if len(present) > 1 and all(_is_number_str(v) for v in present) and len(set(present)) == len(present):
            continue
        arms.append(k)
    return arms


_NOT_METRICS = ("seed", "train/seconds", "train/steps")  # bookkeeping, shown as compute


def parse_spec(cfg: DictConfig, trials: list[Trial]) -> Spec:
    """Validate the ``report`` node of the sweep config (schema above) and fill in the defaults."""
    node = select_value(cfg, "report", default=None) or {}
    if not isinstance(node, dict):
        raise ConfigError(f"report must be a mapping, got {node!r}")
    unknown = set(node) - {"arms", "metrics", "hypotheses"}
    if unknown:
        raise ConfigError(f"report: unknown key(s) {sorted(unknown)}; allowed: arms, metrics, hypotheses")
    declared = node.get("arms") is not None
    arms = _str_list(node.get("arms"), "report.arms") if declared else default_arms(trials)
    metrics = _str_list(node.get("metrics"), "report.metrics")
    if not metrics:
        seen: list[str] = []
        for t in trials:
            seen += [k for k in t.metrics if k not in seen and k not in _NOT_METRICS and t.number(k) is not None]
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
    return Spec(arms, metrics, hyps, declared)
