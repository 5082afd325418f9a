"""Report for a Hydra multirun sweep (and/or its Optuna study): tables, verdicts, plots.

Usage::

    python -m excolor.report multirun/h2                   # writes multirun/h2/report.md
    python -m excolor.report multirun/h2 --out /tmp/rep    # write elsewhere
    python -m excolor.report sqlite:///optuna.db --study h4 [--out DIR]   # an Optuna study only

Input: a sweep dir as Hydra writes it: ``multirun.yaml`` (the sweep's composed config)
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

Each hypothesis metric gets a `excolor.stats.verdict` (rule: `excolor.stats.VERDICT_RULE`,
printed in the report); several metrics are combined with
`excolor.stats.combine_outcomes` (supported only if all are, not supported if any is).

Optuna: if ``hydra.sweeper.storage`` and ``hydra.sweeper.study_name`` are set, the study
is loaded (a relative ``sqlite:///path`` is looked up relative to the cwd, then the sweep
dir, then ``<sweep dir>/<file name>``, then the sweep dir's parents) and the report adds
trial counts by state, the top-5 trials (single objective) or the Pareto front
(multi-objective) and a param-vs-objective scatter grid. Objective names come from the
app config key ``objective`` (a string or list, matching the number of directions),
else ``value`` / ``objective_<i>``.

Outputs (into the sweep dir, or ``--out``): ``report.md``, ``summary.json`` (the same
numbers, machine-readable; NaN -> null), ``metrics.png`` (box + jittered points per arm
for each metric, log y for MSE-like metrics) and ``optuna.png``.

Exit codes: 0 ok, 2 bad input (one line on stderr).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from omegaconf import DictConfig, ListConfig, OmegaConf

from excolor import stats
from excolor.errors import ConfigError

OK, FAILED, INCOMPLETE = "ok", "failed", "incomplete"
MISSING = "—"
DPI = 100


class ReportError(Exception):
    """Bad input to the report (missing path, unknown study); printed as one line."""


# --------------------------------------------------------------------------- loading


@dataclass
class Trial:
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
        v = self.metrics.get(metric)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return None
        return float(v)


def _sort_key(p: Path):
    return (0, int(p.name), "") if p.name.isdigit() else (1, 0, p.name)


def load_trial(path: Path) -> Trial:
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


def _select(cfg: DictConfig, key: str, default: Any = None) -> Any:
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
    name: str
    claim: str
    treatment: dict[str, Any]
    control: dict[str, Any]
    metrics: dict[str, str]


@dataclass
class Spec:
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
    node = _select(cfg, "report", default=None) or {}
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


# --------------------------------------------------------------------------- formatting


def fmt_value(v: Any) -> str:
    """A config value as YAML would spell it (true, null, 0.001, linear)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def fmt_num(x: Any, digits: int = 3) -> str:
    """3 significant digits: 2.1e-05, 0.31, 1.23e+03; NaN/None -> '—'."""
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return MISSING if x is None or math.isnan(x) else ("inf" if x > 0 else "-inf")
    return f"{x:.{digits}g}"


def fmt_steps(x: float | None) -> str:
    """Step counts in full with thousands separators: 20,001."""
    return MISSING if x is None or not math.isfinite(x) else f"{x:,.0f}"


def fmt_seconds(s: float | None) -> str:
    if s is None or not math.isfinite(s):
        return MISSING
    if s < 120:
        return f"{s:.3g} s"
    if s < 7200:
        return f"{s / 60:.3g} min"
    return f"{s / 3600:.3g} h"


def _md_escape(s: str) -> str:
    return s.replace("|", "\\|").replace("\n", " ")


def _clean(o: Any) -> Any:
    """JSON-safe copy: NaN/inf -> None, numpy scalars -> python."""
    if isinstance(o, dict):
        return {str(k): _clean(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [_clean(v) for v in o]
    if isinstance(o, (np.floating, float)):
        return float(o) if math.isfinite(o) else None
    if isinstance(o, np.integer):
        return int(o)
    return o


def _matches(t: Trial, selector: dict[str, Any]) -> bool:
    for k, want in selector.items():
        got = t.value(k)
        if not (got == want or fmt_value(got) == fmt_value(want)):
            return False
    return True


def _sel_label(selector: dict[str, Any]) -> str:
    """linear (string values) or normalize=true (other values); several keys joined by ','."""
    return ",".join(fmt_value(v) if isinstance(v, str) else f"{k.split('.')[-1]}={fmt_value(v)}"
                    for k, v in selector.items())


# --------------------------------------------------------------------------- analysis


def analyse(cfg: DictConfig, trials: list[Trial], spec: Spec) -> dict:
    for t in trials:
        t.arm = ", ".join(f"{k.split('.')[-1]}={fmt_value(t.value(k))}" for k in spec.arms) or "all"
    arm_order: list[str] = []
    for t in trials:
        if t.arm not in arm_order:
            arm_order.append(t.arm)
    ok = [t for t in trials if t.status == OK]
    has_steps = any(t.number("train/steps") is not None for t in ok)

    def compute(ts: list[Trial]) -> dict:
        secs = [t.number("train/seconds") for t in ts]
        secs = [s for s in secs if s is not None and math.isfinite(s)]
        steps = [t.number("train/steps") for t in ts]
        steps = [s for s in steps if s is not None and math.isfinite(s)]
        return {"train_seconds": float(sum(secs)) if secs else None, "n_timed": len(secs),
                "mean_seconds": float(np.mean(secs)) if secs else None,
                "mean_steps": float(np.mean(steps)) if steps else None}

    arms = []
    for a in arm_order:
        members = [t for t in trials if t.arm == a]
        ok_m = [t for t in members if t.status == OK]
        first = members[0]
        arms.append({
            "arm": a,
            "values": {k: first.value(k) for k in spec.arms},
            "trials": [t.name for t in members],
            "n_ok": len(ok_m),
            "n_failed": sum(t.status == FAILED for t in members),
            "n_incomplete": sum(t.status == INCOMPLETE for t in members),
            "compute": compute(ok_m),
            "metrics": {m: {**stats.summarize([v for v in (t.number(m) for t in ok_m) if v is not None]),
                            "values": [t.number(m) for t in ok_m]}
                        for m in spec.metrics},
        })

    hyps = []
    for h in spec.hypotheses:
        tr = [t for t in ok if _matches(t, h.treatment)]
        co = [t for t in ok if _matches(t, h.control)]
        per = []
        for m, better in h.metrics.items():
            tv = [v for v in (t.number(m) for t in tr) if v is not None]
            cv = [v for v in (t.number(m) for t in co) if v is not None]
            v = stats.verdict(tv, cv, better=better)
            per.append({"metric": m, **v.to_dict()})
        hyps.append({"name": h.name, "claim": h.claim, "treatment": h.treatment, "control": h.control,
                     "treatment_trials": [t.name for t in tr], "control_trials": [t.name for t in co],
                     "outcome": stats.combine_outcomes(p["outcome"] for p in per), "metrics": per})

    return {
        "counts": {OK: len(ok), FAILED: sum(t.status == FAILED for t in trials),
                   INCOMPLETE: sum(t.status == INCOMPLETE for t in trials), "total": len(trials)},
        "arm_keys": spec.arms, "arm_keys_declared": spec.arms_declared, "metric_names": spec.metrics,
        "compute": compute(ok), "has_steps": has_steps,
        "arms": arms, "hypotheses": hyps,
        "failed": [{"trial": t.name, "overrides": t.overrides, "type": t.error_type, "error": t.error}
                   for t in trials if t.status == FAILED],
        "incomplete": [{"trial": t.name, "overrides": t.overrides} for t in trials if t.status == INCOMPLETE],
    }


def verdict_line(h: dict) -> str:
    tl, cl = _sel_label(h["treatment"]), _sel_label(h["control"])
    parts = []
    for p in h["metrics"]:
        op = "/" if p["measure"] == "ratio" else " − "
        s = (f"median {p['metric']} {tl}{op}{cl} = {fmt_num(p['ratio'], 2)} "
             f"[95% CI {fmt_num(p['lo'], 2)}, {fmt_num(p['hi'], 2)}], "
             f"Mann–Whitney p = {fmt_num(p['p'], 2)} (n = {p['n_t']} vs {p['n_c']})")
        if len(h["metrics"]) > 1:
            s += f" → {p['better']} is better: {p['outcome']}"
        parts.append(s)
    claim = f" ({h['claim']})" if h["claim"] else ""
    return f"**{h['name']}**{claim}: {h['outcome']} — " + "; ".join(parts)


# --------------------------------------------------------------------------- plots


def _is_mse(name: str) -> bool:
    n = name.lower()
    return "mse" in n or "recon" in n


def plot_metrics(result: dict, path: Path) -> Path | None:
    from matplotlib.figure import Figure

    metrics = result["metric_names"]
    arms = [a for a in result["arms"] if a["n_ok"] > 0]
    if not metrics or not arms:
        return None
    labels = [a["arm"].replace(", ", "\n") for a in arms]
    longest = max(len(x) for s in labels for x in s.split("\n"))
    per_arm = min(max(0.75, 0.075 * longest), 1.3)
    w = max(3.2, per_arm * len(arms) + 1.2)
    rotate = 0.075 * longest > per_arm
    ncols = max(1, min(3, len(metrics), int(13 // w)))
    nrows = math.ceil(len(metrics) / ncols)
    fig = Figure(figsize=(w * ncols, 3.3 * nrows + 0.4), dpi=DPI, layout="constrained")
    axes = np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False)).ravel()
    rng = np.random.default_rng(0)

    for ax, m in zip(axes, metrics):
        data = []
        for a in arms:
            v = np.array([x for x in a["metrics"][m]["values"] if x is not None], dtype=float)
            data.append(v[np.isfinite(v)])
        allv = np.concatenate(data) if data else np.array([])
        log = _is_mse(m) and allv.size > 0 and bool(np.all(allv > 0))
        pos = np.arange(1, len(arms) + 1)
        nonempty = [i for i, d in enumerate(data) if d.size]
        if nonempty:
            ax.boxplot([data[i] for i in nonempty], positions=pos[nonempty], widths=0.55,
                       showfliers=False, medianprops={"color": "tab:orange", "linewidth": 1.5},
                       boxprops={"color": "0.35"}, whiskerprops={"color": "0.35"}, capprops={"color": "0.35"})
        for i, d in enumerate(data):
            x = pos[i] + rng.uniform(-0.15, 0.15, d.size)
            ax.scatter(x, d, s=14, alpha=0.75, color="tab:blue", zorder=3, linewidths=0)
        if log:
            ax.set_yscale("log")
        ax.set_xticks(pos)
        ax.set_xticklabels(labels, rotation=30 if rotate else 0, ha="right" if rotate else "center", fontsize=8)
        ax.set_xlim(0.4, len(arms) + 0.6)
        ax.set_title(m, fontsize=9)
        ax.tick_params(axis="y", which="both", labelsize=8)
        ax.grid(axis="y", alpha=0.3, which="both" if log else "major")
    for ax in axes[len(metrics):]:
        ax.set_visible(False)
    fig.suptitle("per-arm metrics (box: quartiles, orange: median; points: trials)", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


def _is_log_dist(d: Any) -> bool:
    return bool(getattr(d, "log", False)) or type(d).__name__ in ("LogUniformDistribution", "IntLogUniformDistribution")


def plot_optuna(info: dict, trials: list, path: Path) -> Path | None:
    from matplotlib.figure import Figure

    params, objectives = info["params"], info["objectives"]
    done = [t for t in trials if t.state.name == "COMPLETE" and t.values is not None]
    if not params or not done:
        return None
    best = set(info["best_numbers"])
    dists: dict[str, Any] = {}
    for t in done:
        for p, d in t.distributions.items():
            dists.setdefault(p, d)
    nr, nc = len(objectives), len(params)
    fig = Figure(figsize=(2.8 * nc + 0.6, 2.4 * nr + 0.6), dpi=DPI, layout="constrained")
    axes = fig.subplots(nr, nc, squeeze=False)
    jit = np.random.default_rng(0)
    for j, p in enumerate(params):
        d = dists.get(p)
        cats = list(d.choices) if type(d).__name__ == "CategoricalDistribution" else None
        for i, obj in enumerate(objectives):
            ax = axes[i][j]
            for group, style in ((False, {"color": "0.55", "s": 16, "alpha": 0.7, "label": "trial"}),
                                 (True, {"color": "tab:red", "s": 30, "edgecolors": "k", "linewidths": 0.6,
                                         "label": info["best_label"], "zorder": 3})):
                pts = [t for t in done if p in t.params and (t.number in best) == group]
                if not pts:
                    continue
                xs = np.array([cats.index(t.params[p]) if cats else t.params[p] for t in pts], dtype=float)
                if cats:  # jitter so coincident categorical points stay visible
                    xs = xs + jit.uniform(-0.12, 0.12, xs.size)
                ys = [t.values[i] for t in pts]
                ax.scatter(xs, ys, **style)
            if cats:
                ax.set_xticks(range(len(cats)))
                ax.set_xticklabels([fmt_value(c) for c in cats], fontsize=7)
                ax.set_xlim(-0.5, len(cats) - 0.5)
            elif d is not None and _is_log_dist(d):
                ax.set_xscale("log")
            ys_all = np.array([t.values[i] for t in done], dtype=float)
            if _is_mse(obj) and ys_all.size and np.all(ys_all > 0):
                ax.set_yscale("log")
            if i == nr - 1:
                ax.set_xlabel(p, fontsize=8)
            if j == 0:
                ax.set_ylabel(obj, fontsize=8)
            ax.tick_params(which="both", labelsize=7)
            ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=7, loc="best")
    fig.suptitle(f"Optuna study {info['study']}: params vs objectives", fontsize=9)
    fig.savefig(path, dpi=DPI)
    return path


# --------------------------------------------------------------------------- optuna


def resolve_storage(storage: str, sweep_dir: Path | None) -> str:
    """An sqlite URL with the db file located (cwd, sweep dir, sweep dir/<name>, parents)."""
    prefix = "sqlite:///"
    if not storage.startswith(prefix):
        return storage
    rel = storage[len(prefix):]
    p = Path(rel)
    cands = [p] if p.is_absolute() else [Path.cwd() / p]
    if sweep_dir is not None and not p.is_absolute():
        cands += [sweep_dir / p, sweep_dir / p.name] + [par / p for par in sweep_dir.resolve().parents]
    elif sweep_dir is not None:
        cands += [sweep_dir / p.name]
    for c in cands:
        if c.is_file():
            return prefix + str(c.resolve())
    raise ReportError(f"optuna storage file not found: {rel} (looked in {', '.join(str(c) for c in cands[:3])})")


def load_optuna(storage: str, study_name: str | None, objective_names: Any = None,
                sweep_dir: Path | None = None) -> tuple[dict, list]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    url = resolve_storage(str(storage), sweep_dir)
    if study_name is None:
        names = [s.study_name for s in optuna.get_all_study_summaries(url)]
        if len(names) != 1:
            raise ReportError(f"storage {storage} holds {len(names)} studies {names}; name one with --study")
        study_name = names[0]
    try:
        study = optuna.load_study(study_name=study_name, storage=url)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(url)]
        raise ReportError(f"no study {study_name!r} in {storage} (studies: {names})") from None
    directions = [d.name.lower() for d in study.directions]
    if isinstance(objective_names, str):
        objective_names = [objective_names]
    if isinstance(objective_names, list) and len(objective_names) == len(directions):
        objectives = [str(o) for o in objective_names]
    else:
        objectives = ["value"] if len(directions) == 1 else [f"objective_{i}" for i in range(len(directions))]
    trials = study.get_trials(deepcopy=False)
    counts: dict[str, int] = {"COMPLETE": 0, "FAIL": 0, "RUNNING": 0}
    for t in trials:
        counts[t.state.name] = counts.get(t.state.name, 0) + 1
    params: list[str] = []
    for t in trials:
        params += [p for p in t.params if p not in params]
    done = [t for t in trials if t.state.name == "COMPLETE" and t.values is not None]
    if len(directions) == 1:
        sign = 1 if directions[0] == "minimize" else -1
        best = sorted(done, key=lambda t: sign * t.values[0])[:5]
        label = "top 5"
    else:
        best = sorted(study.best_trials, key=lambda t: t.values[0] * (1 if directions[0] == "minimize" else -1))
        label = "Pareto front"
    info = {
        "study": study_name, "storage": str(storage), "storage_resolved": url, "directions": directions, "objectives": objectives,
        "counts": counts, "params": params, "best_label": label,
        "best_numbers": [t.number for t in best],
        "best": [{"number": t.number, "params": dict(t.params), "values": list(t.values)} for t in best],
    }
    return info, trials


def optuna_markdown(info: dict, png: Path | None) -> list[str]:
    lines = [f"## Optuna study `{info['study']}`", ""]
    where = f"`{info['storage']}`"
    if info["storage"] != info["storage_resolved"]:
        where += f" (found at `{info['storage_resolved']}`)"
    lines.append(f"Storage {where}; objectives: "
                 + ", ".join(f"{o} ({d})" for o, d in zip(info["objectives"], info["directions"])) + ".")
    lines.append("Trials by state: " + ", ".join(f"{k} {v}" for k, v in info["counts"].items()) + ".")
    lines.append("")
    if info["best_label"] == "Pareto front":
        lines.append(f"### Pareto front ({len(info['best'])} trials)")
    else:
        lines.append(f"### Top {len(info['best'])} trials by {info['objectives'][0]} ({info['directions'][0]})")
    lines.append("")
    if info["best"]:
        head = ["trial"] + info["params"] + info["objectives"]
        lines.append("| " + " | ".join(_md_escape(h) for h in head) + " |")
        lines.append("|" + "|".join("---:" for _ in head) + "|")
        for b in info["best"]:
            cells = [str(b["number"])]
            cells += [fmt_num(b["params"][p]) if isinstance(b["params"].get(p), (int, float))
                      and not isinstance(b["params"].get(p), bool) else fmt_value(b["params"].get(p, MISSING))
                      for p in info["params"]]
            cells += [fmt_num(v) for v in b["values"]]
            lines.append("| " + " | ".join(_md_escape(c) for c in cells) + " |")
    else:
        lines.append("No completed trials.")
    lines.append("")
    if png is not None:
        lines += [f"![params vs objectives]({png.name})", ""]
    return lines


# --------------------------------------------------------------------------- report


def _write(out_dir: Path, md: list[str], summary: dict) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "summary.json").write_text(json.dumps(_clean(summary), indent=2, default=str) + "\n")
    report = out_dir / "report.md"
    report.write_text("\n".join(md).rstrip() + "\n")
    return report


def build_report(sweep_dir: str | Path, out_dir: str | Path | None = None) -> Path:
    """Write report.md, summary.json and PNGs for a sweep dir; return the report.md path."""
    sweep_dir = Path(sweep_dir)
    out = Path(out_dir) if out_dir is not None else sweep_dir
    cfg, trials = load_sweep(sweep_dir)
    spec = parse_spec(cfg, trials)
    res = analyse(cfg, trials, spec)
    out.mkdir(parents=True, exist_ok=True)
    metrics_png = plot_metrics(res, out / "metrics.png")

    c = res["counts"]
    md = [f"# Sweep report: `{sweep_dir}`", ""]
    md.append(f"- Trials: {c['total']} — ok {c[OK]}, failed {c[FAILED]}, incomplete {c[INCOMPLETE]}")
    comp = res["compute"]
    line = (f"- Training compute: {fmt_seconds(comp['train_seconds'])} total "
            f"(sum of `train/seconds` over {comp['n_timed']} ok trials; failed/incomplete not counted)")
    if res["has_steps"]:
        line += f"; mean steps per trial {fmt_steps(comp['mean_steps'])}"
    md.append(line)
    how = "from report.arms" if res["arm_keys_declared"] else "default: the overrides that vary"
    keys = ", ".join(f"`{k}`" for k in res["arm_keys"]) or "nothing (one arm, `all`)"
    md.append(f"- Arms by: {keys} ({how})")
    md.append("")

    md += ["## Compute per arm", ""]
    head = ["arm", "ok", "failed", "incomplete", "train time", "mean / trial"]
    if res["has_steps"]:
        head.append("mean steps")
    md += ["| " + " | ".join(head) + " |", "|---|" + "---:|" * (len(head) - 1)]
    for a in res["arms"]:
        ac = a["compute"]
        row = [a["arm"], str(a["n_ok"]), str(a["n_failed"]), str(a["n_incomplete"]),
               fmt_seconds(ac["train_seconds"]), fmt_seconds(ac["mean_seconds"])]
        if res["has_steps"]:
            row.append(fmt_steps(ac["mean_steps"]))
        md.append("| " + " | ".join(_md_escape(x) for x in row) + " |")
    md.append("")

    md += ["## Metrics per arm", ""]
    if res["metric_names"]:
        head = ["arm", "n"]
        for m in res["metric_names"]:
            head += [f"{m} mean ± sd", f"{m} median"]
        md += ["| " + " | ".join(_md_escape(h) for h in head) + " |", "|---|" + "---:|" * (len(head) - 1)]
        for a in res["arms"]:
            row = [a["arm"], str(a["n_ok"])]
            for m in res["metric_names"]:
                s = a["metrics"][m]
                cell = f"{fmt_num(s['mean'])} ± {fmt_num(s['sd'])}"
                if s["n"] != a["n_ok"]:
                    cell += f" (n={s['n']}" + (f", {s['n_nonfinite']} non-finite" if s["n_nonfinite"] else "") + ")"
                row += [cell, fmt_num(s["median"])]
            md.append("| " + " | ".join(_md_escape(x) for x in row) + " |")
        md.append("")
    else:
        md += ["No metrics.", ""]
    if metrics_png is not None:
        md += [f"![metrics per arm]({metrics_png.name})", ""]

    if res["hypotheses"]:
        md += ["## Hypotheses", ""]
        for h in res["hypotheses"]:
            md += [f"- {verdict_line(h)}"]
        md += ["", f"Rule: {stats.VERDICT_RULE}", ""]

    if res["failed"]:
        md += ["## Failed trials", ""]
        for f in res["failed"]:
            ov = " ".join(f["overrides"]) or "(no overrides)"
            md.append(f"- `{f['trial']}/` `{ov}`: {f['type']}: {f['error']}")
        md.append("")
    if res["incomplete"]:
        md += ["## Incomplete trials (no metrics.json or failure.json)", ""]
        for f in res["incomplete"]:
            md.append(f"- `{f['trial']}/` `{' '.join(f['overrides']) or '(no overrides)'}`")
        md.append("")

    summary = {"sweep_dir": str(sweep_dir), **res}
    for a in summary["arms"]:
        for s in a["metrics"].values():
            s.pop("values", None)
    storage = _select(cfg, "hydra.sweeper.storage")
    study_name = _select(cfg, "hydra.sweeper.study_name")
    if storage and study_name:
        try:
            info, otrials = load_optuna(storage, study_name, _select(cfg, "objective"), sweep_dir)
            png = plot_optuna(info, otrials, out / "optuna.png")
            md += optuna_markdown(info, png)
            summary["optuna"] = info
        except ReportError as e:
            md += ["## Optuna study", "", f"Could not load: {e}", ""]
            summary["optuna"] = {"error": str(e)}
    return _write(out, md, summary)


def build_optuna_report(storage: str, study: str | None = None, out_dir: str | Path | None = None) -> Path:
    """Report for an Optuna study given by storage URL; written to out_dir (default cwd)."""
    out = Path(out_dir) if out_dir is not None else Path.cwd()
    info, trials = load_optuna(storage, study)
    out.mkdir(parents=True, exist_ok=True)
    png = plot_optuna(info, trials, out / "optuna.png")
    md = [f"# Optuna study report: `{info['study']}`", ""] + optuna_markdown(info, png)
    return _write(out, md, {"optuna": info})


def write_report_safely(sweep_dir: str | Path) -> Path | None:
    """Build the report at the end of a sweep; a reporting problem is logged, never raised (it must
    not hide the sweep's own outcome)."""
    import logging

    try:
        path = build_report(sweep_dir)
    except Exception as error:  # noqa: BLE001 - reporting is best effort at this point
        logging.getLogger(__name__).warning("could not write the report for %s: %s", sweep_dir, error)
        return None
    logging.getLogger(__name__).info("report: %s", path)
    return path


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m excolor.report",
                                 description="Write report.md, summary.json and plots for a Hydra "
                                             "multirun sweep dir or an Optuna storage URL.")
    ap.add_argument("source", help="sweep dir (with multirun.yaml and trial subdirs) or an optuna "
                                   "storage URL such as sqlite:///optuna.db")
    ap.add_argument("--study", help="study name (storage URL only; default: the only study)")
    ap.add_argument("--out", help="output dir (default: the sweep dir, or the cwd for a storage URL)")
    args = ap.parse_args(argv)
    try:
        if "://" in args.source:
            path = build_optuna_report(args.source, args.study, args.out)
        else:
            if args.study:
                raise ReportError("--study only applies to a storage URL")
            path = build_report(args.source, args.out)
    except (ReportError, ConfigError) as e:
        print(f"excolor.report: error: {e}", file=sys.stderr)
        return 2
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
