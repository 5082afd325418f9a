"""Every check on a composed config that can be made before torch is imported or training starts.

A run reads these values only after minutes of training (evaluation settings, the objective) or
fails on them with a traceback (`seed=abc`, `threads=0`); checked here, right after composition,
every bad value stops the run with one line `excolor: error: <key>…` and exit 2, before anything is
written where a result would go.

`check_run_config(cfg)` (excolor.train) and `check_evaluate_config(cfg)` (excolor.evaluate) run
them all; each `check_*` function checks one thing and raises `ConfigError` naming the key.
Constructor checks (falloff `a`, a mapper's `b`, a regularizer's `power`, …) stay with their classes,
which train builds before fitting; this module needs neither torch nor Lightning.

The metric names a run produces (`expected_metrics`), against which `objective` is checked:

- `train/steps`, `train/seconds`, `train/cpu_seconds`, `train/first_step_time`, `train/device`, `train/cached`;
- `train/loss`, `train/recon`, and `train/<regularizer>` for each regularizer that runs (non-zero
  scheduled weight) in the last `TAIL` steps;
- `train/<phase>/loss`, `train/<phase>/recon` for each dopesheet phase that starts within the run;
- `eval/<setting>/{max_mse, median_mse, mean_mse, red_mean_mse, other_mean_mse, val_recon, score}`
  for `none` and each `intervention` entry, plus `eval/<setting>/{collateral, focus}` for the
  interventions;
- `val/recon` and `seed`, and `population/size` when the config has a population group.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, ListConfig, OmegaConf
from omegaconf.errors import OmegaConfBaseException

from excolor.console import check_trusted, trusted_packages
from excolor.errors import ConfigError
from excolor.layers import check_layer
from excolor.metrics import (
    BASELINE,
    BEST_SCORE,
    BEST_SEED,
    CHAPTER_SCORE,
    EVAL_STATS,
    INTERVENTION_STATS,
    LOSS_TERM,
    MAX_MSE,
    MEDIAN_MSE,
    PARETO,
    PARETO_SIZE,
    POPULATION_SIZE,
    RECON_TERM,
    SEED,
    TRAIN_BOOKKEEPING,
    TRAIN_LOSS,
    TRAIN_RECON,
    TRAIN_VALIDATE_PHASE,
    VAL_RECON,
    describe,
    eval_name,
    phase_name,
    plan_name,
    posthoc_name,
    train_name,
    val_name,
)
from excolor.reproducible import check_mode, pin
from excolor.run_record import CHECKPOINT_FILE, CONFIG_FILE

TAIL = 50  # = excolor.losses.TAIL (not imported: losses imports torch)
# Groups whose numbers must all be finite (`inf`/`nan` never mean anything in them).
FINITE_GROUPS = (
    "model",
    "data",
    "regularizers",
    "trainer",
    "intervention",
    "evaluation",
    "population",
    "chapter",
)
PRECISIONS = {
    "64",
    "64-true",
    "32",
    "32-true",
    "16",
    "16-mixed",
    "16-true",
    "bf16",
    "bf16-mixed",
    "bf16-true",
    "transformer-engine",
    "transformer-engine-float16",
}
ACCELERATORS = {"auto", "cpu", "gpu", "cuda", "mps", "tpu"}
# Keys Hydra's instantiate reads itself, besides the target's parameters.
INSTANTIATE_KEYS = {"_target_", "_partial_", "_recursive_", "_convert_", "_args_"}
# torch.manual_seed's range: 0 … 2⁶⁴ − 1 (it also takes negative seeds, as aliases of large ones).
SEED_MAX = 2**64 - 1


# --- single values ------------------------------------------------------------------------------------


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_int(key: str, value: Any, minimum: int | None = None) -> int:
    """`value` is an integer (not a bool, not a string) ≥ `minimum`."""
    if not is_int(value):
        raise ConfigError(f"{key}={value!r} must be an integer")
    if minimum is not None and value < minimum:
        raise ConfigError(f"{key}={value} must be ≥ {minimum}")
    return value


def check_number(key: str, value: Any, minimum: float | None = None, strict: bool = False) -> float:
    """`value` is a finite real number (≥ or, with `strict`, > `minimum`)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key}={value!r} must be a number")
    if not math.isfinite(value):
        raise ConfigError(f"{key}={value} must be finite")
    if minimum is not None and (value <= minimum if strict else value < minimum):
        raise ConfigError(f"{key}={value} must be {'>' if strict else '≥'} {minimum:g}")
    return float(value)


def check_seed(value: Any, key: str = "seed", members: int = 1) -> int:
    """An integer such that every member's seed, `value` … `value + members − 1`, is one
    torch.manual_seed takes and no two runs alias (0 … SEED_MAX)."""
    seed = check_int(key, value, minimum=0)
    if seed + members - 1 > SEED_MAX:
        last = f" (its {members} members' seeds run to {seed + members - 1})" if members > 1 else ""
        raise ConfigError(
            f"{key}={seed}{last} must be at most 2**64-1 = {SEED_MAX}, the largest seed torch takes"
        )
    return seed


def check_threads(value: Any) -> int:
    return check_int("threads", value, minimum=1)


def check_finite_numbers(key: str, node: Any) -> None:
    """Every float anywhere under `node` is finite."""
    if isinstance(node, float) and not math.isfinite(node):
        raise ConfigError(f"{key}={node} must be finite")
    if isinstance(node, Mapping):
        for name, value in node.items():
            check_finite_numbers(f"{key}.{name}", value)
    elif isinstance(node, Sequence) and not isinstance(node, str):
        for i, value in enumerate(node):
            check_finite_numbers(f"{key}[{i}]", value)


def check_concept(concept: Any, width: Any) -> list[float]:
    """A list of `width` finite numbers, not all zero (it is normalised to a unit vector)."""
    if isinstance(concept, str) or not isinstance(concept, Sequence):
        raise ConfigError(f"concept={concept!r} must be a list of numbers, e.g. [1, 0, 0, 0]")
    values = [check_number(f"concept[{i}]", v) for i, v in enumerate(concept)]
    if is_int(width) and len(values) != width:
        raise ConfigError(
            f"concept={values} has {len(values)} entries; model.bottleneck={width} needs {width}"
        )
    if not any(values):
        raise ConfigError(f"concept={values} must not be all zeros")
    return values


# --- groups -------------------------------------------------------------------------------------------


def check_trainer(trainer: Mapping) -> None:
    """log_every_n_steps ≥ 1, devices ≥ 1 (or 'auto'), a known accelerator and precision."""
    check_int("trainer.log_every_n_steps", trainer.get("log_every_n_steps"), minimum=1)
    devices = trainer.get("devices", 1)
    if devices != "auto":
        check_int("trainer.devices", devices, minimum=1)
    accelerator = trainer.get("accelerator", "auto")
    if accelerator not in ACCELERATORS:
        raise ConfigError(
            f"trainer.accelerator={accelerator!r} must be one of {', '.join(sorted(ACCELERATORS))}"
        )
    precision = trainer.get("precision")
    if precision is not None and str(precision) not in PRECISIONS:
        raise ConfigError(f"trainer.precision={precision!r} must be one of {', '.join(sorted(PRECISIONS))}")


def check_schedule_path(path: Any) -> str:
    if not isinstance(path, str) or not path:
        raise ConfigError(f"schedule.path={path!r} must be the path of a dopesheet CSV")
    return path


def run_length(schedule_steps: int, max_steps: Any) -> int:
    """The schedule's length, or trainer.max_steps when that is shorter (null or -1: the schedule's)."""
    if max_steps is None or max_steps == -1:
        return schedule_steps
    check_int("trainer.max_steps", max_steps)
    if not 1 <= max_steps <= schedule_steps:
        raise ConfigError(
            f"trainer.max_steps={max_steps} must be between 1 and the schedule's {schedule_steps} steps"
        )
    return max_steps


def check_learning_rates(schedule, steps: int) -> None:
    """The scheduled lr is finite and > 0 at every step the run takes."""
    lr = schedule["lr"][:steps]
    for step, value in enumerate(lr):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"schedule lr={value:g} at step {step} must be finite and > 0")


def check_regularizers(regularizers: Mapping | None) -> None:
    """Each entry is a config with a `_target_`, a finite weight ≥ 0 and a schedule column name."""
    for name, config in (regularizers or {}).items():
        key = f"regularizers.{name}"
        if not isinstance(config, Mapping) or "_target_" not in config:
            raise ConfigError(f"{key} must be a config with a _target_")
        check_number(f"{key}.weight", config.get("weight", 1.0), minimum=0)
        if "column" in config and not isinstance(config["column"], str):
            raise ConfigError(f"{key}.column={config['column']!r} must be a schedule column name")


def check_interventions(intervention: Mapping | None) -> list[str]:
    """Each entry is a config with a `_target_`, or a non-empty list of them; `none` is reserved.
    Returns the setting names."""
    names = []
    for name, config in (intervention or {}).items():
        key = f"intervention.{name}"
        if name == BASELINE:
            raise ConfigError(f"{key}: the name is reserved for the baseline")
        items = list(config) if isinstance(config, Sequence) and not isinstance(config, str) else [config]
        if not items:
            raise ConfigError(f"{key} is an empty list")
        for item in items:
            if not isinstance(item, Mapping) or "_target_" not in item:
                raise ConfigError(f"{key} must be a config with a _target_ (or a list of them), not {item!r}")
        names.append(str(name))
    return names


def check_red_similarity(similarity: Any) -> float:
    """`evaluation.red_similarity`, the loss-cube colours' similarity to pure red from which they count
    as red: a number in (0, 1]."""
    value = check_number("evaluation.red_similarity", similarity, minimum=0, strict=True)
    if value > 1:
        raise ConfigError(f"evaluation.red_similarity={value} must be in (0, 1]")
    return value


def check_loss_cube(shape: Any) -> list[int]:
    """`evaluation.loss_cube`: [hues, saturations, values], each an integer ≥ 2."""
    if isinstance(shape, (str, bytes)) or not isinstance(shape, Sequence) or len(shape) != 3:
        raise ConfigError(
            f"evaluation.loss_cube={shape!r} must be [hues, saturations, values], e.g. [240, 48, 48]"
        )
    return [check_int(f"evaluation.loss_cube[{i}]", n, minimum=2) for i, n in enumerate(shape)]


def check_evaluation(evaluation: Mapping, members: int | None = None) -> None:
    """val_grid an integer ≥ 2, layer encoder/bottleneck, red_similarity in (0, 1], plots a bool,
    loss_cube (if present) three integers ≥ 2, member (if present) an index into the population."""
    check_int("evaluation.val_grid", evaluation.get("val_grid"), minimum=2)
    if "loss_cube" in evaluation:
        check_loss_cube(evaluation["loss_cube"])
    check_layer("evaluation.layer", evaluation.get("layer"))
    check_red_similarity(evaluation.get("red_similarity"))
    if not isinstance(evaluation.get("plots", False), bool):
        raise ConfigError(f"evaluation.plots={evaluation.get('plots')!r} must be true or false")
    if "member" in evaluation:
        member = check_int("evaluation.member", evaluation["member"], minimum=0)
        if members is not None and member >= members:
            raise ConfigError(f"evaluation.member={member} must be below the population's {members} members")


def population_size(cfg: Mapping, check_keys: bool = True) -> int | None:
    """The number of members the run trains, if the config has a population group: population.size ×
    the number of points of population.grid, under the rules `excolor.population.Population` keeps
    (its constructor and `check_config` are the one place they are checked). `check_keys=False`: a saved
    run's config (unresolved; its keys were checked when it ran)."""
    from excolor.population import Population

    population = cfg.get("population")
    if not isinstance(population, Mapping) or population.get("size") is None:
        return None
    grid = population.get("grid")
    if grid is not None and not isinstance(grid, Mapping):
        raise ConfigError(f"population.grid={grid!r} must map config keys to lists of values")
    members = Population(population["size"], grid)
    if check_keys:
        members.check_config(cfg)
    return len(members)


# --- the objective --------------------------------------------------------------------------------------


def regularizer_runs(config: Mapping, schedule, steps: int) -> bool:
    """Whether a regularizer runs in the last TAIL steps: its weight × its column is non-zero there
    (a regularizer no column drives runs at its weight)."""
    weight = float(config.get("weight", 1.0))
    column = config.get("column")
    values = schedule[column][max(0, steps - TAIL) : steps] if column in schedule.values else [1.0]
    return weight != 0 and any(v != 0 for v in values)


def expected_metrics(cfg: Mapping, schedule, steps: int, settings: list[str]) -> set[str]:
    """The metric names this run will write to metrics.json (see the module docstring)."""
    names = {SEED, VAL_RECON, TRAIN_LOSS, TRAIN_RECON, *TRAIN_BOOKKEEPING}
    if isinstance(cfg.get("population"), Mapping):
        names.add(POPULATION_SIZE)
    for name, config in (cfg.get("regularizers") or {}).items():
        if regularizer_runs(config, schedule, steps):
            names.add(train_name(name))
        if config.get("phase") == TRAIN_VALIDATE_PHASE:
            names.add(val_name(name))
    chapter = cfg.get("chapter")
    if isinstance(chapter, Mapping):  # excolor.chapter; its key defining the score is the metric's name
        if chapter.get(CHAPTER_SCORE):
            names.add(CHAPTER_SCORE)
        names.update(posthoc_name(variant) for variant in chapter.get("posthoc") or {})
        for variant in chapter.get("cube") or []:
            names.update(plan_name(variant, stat) for stat in (MAX_MSE, MEDIAN_MSE))
        if chapter.get("minimise") or chapter.get("maximise"):
            names.update(
                {PARETO, PARETO_SIZE, *((BEST_SEED, BEST_SCORE) if chapter.get(CHAPTER_SCORE) else ())}
            )
    for start, phase in schedule.phases:
        if start < steps:
            names.update({phase_name(phase, LOSS_TERM), phase_name(phase, RECON_TERM)})
    for setting in [BASELINE, *settings]:
        names.update(eval_name(setting, stat) for stat in EVAL_STATS)
        if setting != BASELINE:
            names.update(eval_name(setting, stat) for stat in INTERVENTION_STATS)
    return names


def objective_names(objective: Any) -> list[str]:
    """`objective` as a non-empty list of metric names (a single string is one name)."""
    names = [objective] if isinstance(objective, str) else objective
    if not isinstance(names, Sequence) or not names or not all(isinstance(n, str) and n for n in names):
        raise ConfigError(f"objective={objective!r} must be a metric name or a non-empty list of them")
    return list(names)


def check_objective(objective: Any, metrics: set[str]) -> list[str]:
    names = objective_names(objective)
    for name in names:
        if name not in metrics:
            close = sorted(m for m in metrics if m.split("/")[0] == name.split("/")[0])[:8]
            raise ConfigError(
                f"objective={name!r} is not a metric this run produces (e.g. {', '.join(close or sorted(metrics)[:8])})"
            )
    return names


OPTIMIZE = {"minimize": "lower", "maximize": "higher"}  # an Optuna direction → the schema's "better"


def check_directions(objective: Any, direction: Any) -> None:
    """An Optuna sweeper's `direction` (one name or one per objective) fits `objective`: as many
    entries, each the way the metric schema says the metric is better (`excolor.metrics`)."""
    if direction is None:
        return
    names = objective_names(objective)
    items = (
        list(direction) if isinstance(direction, Sequence) and not isinstance(direction, str) else [direction]
    )
    items = [str(getattr(item, "name", item)).lower() for item in items]
    if len(items) != len(names):
        raise ConfigError(
            f"hydra.sweeper.direction={items} has {len(items)} entries for the {len(names)} objective(s) {names}"
        )
    for index, (name, item) in enumerate(zip(names, items)):
        entry = describe(name)
        better = entry.direction if entry is not None else None
        if better is not None and OPTIMIZE.get(item) not in (None, better):
            raise ConfigError(
                f"hydra.sweeper.direction[{index}]={item} but {name} is better {better} (excolor.metrics)"
            )


# --- places ------------------------------------------------------------------------------------------


def check_writable_dir(key: str, path: Any) -> Path:
    """`path` is (or can be created as) a directory this process may write into: the nearest existing
    ancestor is a directory in which a probe file can be created (and is removed at once). Found out
    by trying, not by `os.access`, which answers yes to root for a read-only mount or /proc."""
    if not isinstance(path, (str, os.PathLike)) or not str(path):
        raise ConfigError(f"{key}={path!r} must be a directory path")
    path = Path(path).absolute()
    existing = path
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise ConfigError(f"{key}={path}: {existing} is not a directory")
    try:
        handle, probe = tempfile.mkstemp(prefix=".excolor-probe-", dir=existing)
        os.close(handle)
        os.unlink(probe)
    except OSError as error:
        raise ConfigError(f"{key}={path}: {existing} is not writable ({error.strerror or error})") from None
    return path


def check_storage_url(key: str, url: Any) -> None:
    """An Optuna storage: null; a journal file path (no `://`) whose directory can be written; or a
    database URL SQLAlchemy can parse and has a dialect for (for sqlite, a file whose directory can
    be written)."""
    if url is None:
        return
    if not isinstance(url, str) or not url:
        raise ConfigError(
            f"{key}={url!r} must be a database URL such as sqlite:///optuna.db or a journal file path"
        )
    if "://" not in url:  # a journal file (Optuna's JournalStorage)
        journal = Path(url)
        if journal.is_dir():
            raise ConfigError(f"{key}={url!r}: {journal} is a directory, not a journal file")
        check_writable_dir(key, journal.absolute().parent)
        return
    from sqlalchemy.engine import make_url  # optuna's own dependency; only for sweeps

    try:
        parsed = make_url(url)
        parsed.get_dialect()
    except Exception as error:  # ArgumentError, NoSuchModuleError: one line, not the 122 of a traceback
        raise ConfigError(
            f"{key}={url!r} is not a usable database URL ({type(error).__name__}: {str(error).splitlines()[0]})"
        ) from None
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database or parsed.database == ":memory:":
            raise ConfigError(
                f"{key}={url!r} must name a database file (an in-memory study cannot be resumed)"
            )
        database = Path(parsed.database)
        if database.is_dir():
            raise ConfigError(f"{key}={url!r}: {database} is a directory")
        check_writable_dir(key, database.absolute().parent)
        if database.exists():
            try:
                with open(database, "r+b"):  # opened for reading and writing, nothing written
                    pass
            except OSError as error:
                raise ConfigError(
                    f"{key}={url!r}: {database} is not readable and writable ({error.strerror or error})"
                ) from None


def check_target_keys(cfg) -> None:
    """Every key of a node with an `excolor` `_target_` is a parameter of that target
    (`excolor.signature`): `+model.foo=1` names model's keys here, not in a TypeError mid-run."""
    from excolor.signature import parameters

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            target = node.get("_target_")
            accepted = parameters(target) if isinstance(target, str) else None
            if accepted is not None:
                for key in node:
                    if key not in accepted and key not in INSTANTIATE_KEYS:
                        raise ConfigError(
                            f"{where}.{key}: no such key ({where} takes: {', '.join(accepted)})"
                        )
            for key, value in node.items():
                walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, (list, tuple)):
            for index, value in enumerate(node):
                walk(value, f"{where}[{index}]")

    raw = OmegaConf.to_container(cfg, resolve=False) if OmegaConf.is_config(cfg) else dict(cfg)
    if not isinstance(raw, dict):
        raise ConfigError("the config is not a mapping")
    walk({key: value for key, value in raw.items() if key != "hydra"}, "")


# --- whole configs -------------------------------------------------------------------------------------


def _plain(cfg) -> dict:
    """The config as plain containers, interpolations resolved (naming the key that fails)."""
    if not OmegaConf.is_config(cfg):
        return dict(cfg)
    plain = {}
    for key in cfg:
        if key in ("hydra", "logger"):  # the logger interpolates Hydra's runtime, and no check reads it
            continue
        try:
            value = cfg[key]
            plain[key] = (
                OmegaConf.to_container(value, resolve=True)
                if isinstance(value, (DictConfig, ListConfig))
                else value
            )
        except OmegaConfBaseException as error:
            where = getattr(error, "full_key", None) or key
            raise ConfigError(f"{where}: {str(error).splitlines()[0]}") from None
    return plain


# The last verdict of check_run_config: (the config it checked, as plain JSON, its verdict). The
# entry point checks a run's config before Hydra runs and the task receives that config again from
# Hydra: the same content is checked (and its schedule loaded) once per process.
_last_verdict: tuple[str, dict] | None = None


def check_run_config(cfg) -> dict:
    """All checks for a training run (excolor.train), in the order a reader meets the keys. Returns
    {"schedule": the loaded schedule, "steps": the run length, "objective": the objective names}.
    A config whose content (resolved, Hydra's own node aside; its schedule file unchanged) was the last
    one checked is not checked again: its verdict is returned."""
    global _last_verdict
    plain = _plain(cfg)
    content = json.dumps([plain, _file_state((plain.get("schedule") or {}).get("path"))], default=repr)
    if _last_verdict is not None and _last_verdict[0] == content and not _hydra_node(cfg):
        return _last_verdict[1]
    check_trusted(cfg)
    check_target_keys(cfg)
    check_seed(plain.get("seed"))
    check_threads(plain.get("threads"))
    check_mode(plain.get("reproducible"))
    for key, value in (
        ("cuda_graphs", plain.get("cuda_graphs", False)),
        ("data.device_draws", (plain.get("data") or {}).get("device_draws", True)),
    ):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}={value!r} must be true or false")
    model = plain.get("model") or {}
    check_int("model.bottleneck", model.get("bottleneck"), minimum=2)
    if "hidden" in model:
        check_int("model.hidden", model.get("hidden"), minimum=1)
    if "nonlinear_layers" in model:
        check_int("model.nonlinear_layers", model.get("nonlinear_layers"), minimum=1)
    check_concept(plain.get("concept"), model.get("bottleneck"))  # before the groups it is copied into
    for group in FINITE_GROUPS:
        check_finite_numbers(group, plain.get(group))
    check_trainer(plain.get("trainer") or {})
    check_regularizers(plain.get("regularizers"))
    settings = check_interventions(plain.get("intervention"))
    check_evaluation(plain.get("evaluation") or {}, population_size(plain))
    population = plain.get("population")
    if isinstance(population, Mapping) and "seed" in population:  # the members' seeds: seed … seed+size−1
        check_seed(population["seed"], "population.seed", population.get("size") or 1)
    from excolor.schedule import load_schedule

    # The loader itself, not hydra's instantiate: numpy only, and no config-chosen code runs here.
    schedule = load_schedule(check_schedule_path((plain.get("schedule") or {}).get("path")))
    steps = run_length(len(schedule), plain["trainer"].get("max_steps"))
    check_learning_rates(schedule, steps)
    objective = check_objective(plain.get("objective"), expected_metrics(plain, schedule, steps, settings))
    cache = plain.get("cache") or {}
    if cache.get("enabled"):
        check_writable_dir("cache.dir", cache.get("dir"))
    verdict = {"schedule": schedule, "steps": steps, "objective": objective}
    _last_verdict = (content, verdict)
    return verdict


def _file_state(path: Any) -> list | None:
    """A file's size and modification time (a schedule edited on disk is a new config), or None."""
    try:
        stat = os.stat(path)
    except (OSError, TypeError, ValueError):
        return None
    return [stat.st_size, stat.st_mtime_ns]


def _hydra_node(cfg) -> bool:
    """Whether `cfg` carries Hydra's own node (checked for trust each time: the verdict does not cover it)."""
    return isinstance(cfg, Mapping) and "hydra" in cfg


def check_evaluate_config(cfg) -> None:
    """All checks for excolor.evaluate: the run dir holds a run, and the evaluation settings."""
    if OmegaConf.is_config(cfg) and OmegaConf.is_missing(cfg, "run"):
        raise ConfigError("run: missing; name a run directory, e.g. run=outputs/2026-11-28/10-00-00")
    check_trusted(cfg)
    plain = _plain(cfg)
    run = plain.get("run")
    if not isinstance(run, str) or not run:
        raise ConfigError("run: missing; name a run directory, e.g. run=outputs/2026-11-28/10-00-00")
    run_dir = Path(run)
    if not run_dir.is_dir():
        raise ConfigError(f"run={run}: no such directory")
    if not (run_dir / CONFIG_FILE).is_file():
        raise ConfigError(f"run={run}: not a run directory (no {CONFIG_FILE})")
    if not (run_dir / CHECKPOINT_FILE).is_file():
        raise ConfigError(f"no checkpoint at {run_dir / CHECKPOINT_FILE} (run={run} did not finish training)")
    for group in ("intervention", "evaluation"):
        check_finite_numbers(group, plain.get(group))
    run_config = OmegaConf.load(run_dir / CONFIG_FILE)
    if not isinstance(run_config, DictConfig):
        raise ConfigError(f"run={run}: {CONFIG_FILE} is not a mapping")
    if "population" in run_config:  # evaluate builds the run's population from it: trusted by this command
        check_trusted(OmegaConf.masked_copy(run_config, ["population"]), trusted_packages(cfg))
    width = OmegaConf.select(run_config, "model.bottleneck")
    concept = plain.get("concept")
    check_concept(run_config.get("concept") if concept is None else concept, width)
    if plain.get("reproducible") is not None:
        check_mode(plain["reproducible"])
    check_interventions(plain.get("intervention"))
    saved = OmegaConf.to_container(run_config)
    assert isinstance(saved, dict)  # a DictConfig's container
    check_evaluation(plain.get("evaluation") or {}, population_size(saved, check_keys=False))
    check_writable_dir("run", run_dir / "evaluations")


def check_cuda(accelerator: Any) -> None:
    """trainer.accelerator=gpu/cuda needs a CUDA device. (The one check that imports torch, and only
    when a GPU is asked for: Lightning's own error is a multi-line traceback after setup.)"""
    if accelerator in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(
                f"trainer.accelerator={accelerator}: no CUDA device is available (use trainer=cpu or trainer=auto)"
            )


def check_train_entry(cfg, multirun: bool) -> None:
    """`python -m excolor.train`, before Hydra runs: the run's config, then where it will write
    (the run or sweep directory, and an Optuna sweeper's storage)."""
    check_run_config(cfg)
    if OmegaConf.select(cfg, "trainer.accelerator") in ("gpu", "cuda"):
        pin(OmegaConf.select(cfg, "reproducible"))  # check_cuda imports torch: its CPU kernels first
    check_cuda(OmegaConf.select(cfg, "trainer.accelerator"))
    try:
        if multirun:
            check_writable_dir("hydra.sweep.dir", OmegaConf.select(cfg, "hydra.sweep.dir"))
            check_storage_url(
                "hydra.sweeper.storage", OmegaConf.select(cfg, "hydra.sweeper.storage", default=None)
            )
            check_directions(
                cfg.get("objective"), OmegaConf.select(cfg, "hydra.sweeper.direction", default=None)
            )
            from hydra_plugins.excolor_sweeper._trust import check_sweeper

            check_sweeper(OmegaConf.select(cfg, "hydra.sweeper", default=None), trusted_packages(cfg))
        else:
            check_writable_dir("hydra.run.dir", OmegaConf.select(cfg, "hydra.run.dir"))
    except OmegaConfBaseException as error:
        raise ConfigError(
            f"{getattr(error, 'full_key', None) or 'hydra'}: {str(error).splitlines()[0]}"
        ) from None


def check_evaluate_entry(cfg, multirun: bool) -> None:
    """`python -m excolor.evaluate`, before Hydra runs (and creates `<run>/evaluations/<time>/`)."""
    check_evaluate_config(cfg)
