"""The metric schema: every metric name a run writes, declared once, with its meaning.

A name is `train/…`, `eval/…`, `val/…`, `labels/…`, the chapter's `score`, `posthoc/…`, `plan/…`
and `chapter/…`, `seed` or `population/size`; the same names key metrics.json, the columns of
members.csv and the logger. Names with a part that depends on the config are built here too
(`train_name(term)`, `phase_name(phase, term)`, `eval_name(setting, stat)`, `val_name(term)`,
`label_count_name(label)`, `posthoc_name(variant)`, `plan_name(variant, stat)`), so no other module
spells a metric name. `SCHEMA` says what each one means:

- `direction`: which way is better (`lower`, `higher`), or None for bookkeeping;
- `unit`: `MSE` (mean over R, G, B of a squared error in [0, 1] units), `r²`, `fraction`, `loss`
  (a regularizer's own units), `s`, `steps`, `count`, or `` for labels;
- `scope`: `member` (one value per population member, in members.csv; metrics.json holds the median
  over members) or `run` (one value for the run, in metrics.json only).

`describe(name)` finds a name's entry. Import-light (no torch): validation reads it before training.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Direction = Literal["lower", "higher"]
Scope = Literal["member", "run"]

BASELINE = "none"  # the evaluation setting without intervention

# --- the names --------------------------------------------------------------------------------------


def train_name(term: str) -> str:
    """`train/<term>`: a training term (loss, recon or a regularizer's name), mean over the last steps."""
    return f"train/{term}"


def phase_name(phase: str, term: str) -> str:
    """`train/<phase>/<term>`: `loss` or `recon`, mean over one dopesheet phase."""
    return f"train/{phase}/{term}"


def val_name(term: str) -> str:
    """`val/<term>`: `recon` or a `train+validate` regularizer's term on the data's validation set, at
    the last validation (the batch-size-weighted mean over the set's fixed batches)."""
    return f"val/{term}"


# A regularizer's phase (spec m2-family §1.6): `train` adds it to the loss; `train+validate` also
# evaluates it on the validation set, as `val/<term>`.
TRAIN_PHASE, TRAIN_VALIDATE_PHASE = "train", "train+validate"
PHASES = (TRAIN_PHASE, TRAIN_VALIDATE_PHASE)


def eval_name(setting: str, stat: str) -> str:
    """`eval/<setting>/<stat>`: one statistic of one evaluation setting (`none` or an intervention)."""
    return f"eval/{setting}/{stat}"


def posthoc_name(variant: str) -> str:
    """`posthoc/<variant>/r`: Pearson r of feature^p against per-colour MSE on the 20³ lattice under a
    chapter plan's variant (excolor.chapter)."""
    return f"posthoc/{variant}/r"


def plan_name(variant: str, stat: str) -> str:
    """`plan/<variant>/<stat>`: a statistic of the per-colour error on the loss cube under a chapter
    plan's variant (surgery such as ablate or prune, and/or interventions; excolor.chapter)."""
    return f"plan/{variant}/{stat}"


def label_count_name(label: str) -> str:
    """`labels/n/<label>`: positive labels seen while the label was active (excolor.labels)."""
    return f"labels/n/{label}"


LABELS_ANY = label_count_name("_any")  # samples with at least one active positive label
LABELS_TOTAL = "labels/n_total"  # samples seen
LOSS_TERM, RECON_TERM = "loss", "recon"  # the history columns every run has, before the regularizers
TRAIN_LOSS = train_name(LOSS_TERM)
TRAIN_RECON = train_name(RECON_TERM)
TRAIN_LR = train_name("lr")  # logged per step only
TRAIN_STEPS = train_name("steps")
TRAIN_SECONDS = train_name("seconds")
TRAIN_CPU_SECONDS = train_name("cpu_seconds")  # the fit's CPU time in this process (a load-independent cost)
TRAIN_CACHED = train_name("cached")
TRAIN_DEVICE = train_name("device")
FIRST_STEP_TIME = train_name("first_step_time")
DIVERGED = train_name("diverged")
EVAL_SECONDS = "eval/seconds"
# The CPU kernels the run trained with (excolor.reproducible): the `reproducible` mode, ATen's CPU
# capability, MKL's CBWR branch, oneDNN's ISA cap.
DISPATCH_MODE, DISPATCH_ATEN = "dispatch/mode", "dispatch/aten"
DISPATCH_MKL, DISPATCH_ONEDNN = "dispatch/mkl_cbwr", "dispatch/onednn_isa"
VAL_RECON = val_name(RECON_TERM)
SEED = "seed"
POPULATION_SIZE = "population/size"

# eval/<setting>/<stat>
MAX_MSE, MEDIAN_MSE, MEAN_MSE = "max_mse", "median_mse", "mean_mse"
RED_MEAN_MSE, OTHER_MEAN_MSE = "red_mean_mse", "other_mean_mse"
SETTING_VAL_RECON, SCORE = "val_recon", "score"
COLLATERAL, FOCUS = "collateral", "focus"
EVAL_STATS = (MAX_MSE, MEDIAN_MSE, MEAN_MSE, RED_MEAN_MSE, OTHER_MEAN_MSE, SETTING_VAL_RECON, SCORE)
INTERVENTION_STATS = (COLLATERAL, FOCUS)  # an intervention's only: relative to the baseline

# Bookkeeping written under train/: never a regularizer's name.
TRAIN_BOOKKEEPING = (
    TRAIN_STEPS,
    TRAIN_SECONDS,
    TRAIN_CPU_SECONDS,
    FIRST_STEP_TIME,
    TRAIN_DEVICE,
    TRAIN_CACHED,
)
# Values of the run as a whole, not of a member: in metrics.json only, never a member's metric.
# The chapter's sweep score (m2-family spec §1.9): r² of Pearson(feature^p, per-colour MSE) under a plan.
CHAPTER_SCORE = "score"
# The chapter's selection (excolor.chapter, excolor.selection): a member in the Pareto set is 1, else 0;
# the run's Pareto-set size, and the best member's (highest score in the set) seed and score.
PARETO, PARETO_SIZE = "chapter/pareto", "chapter/pareto_size"
BEST_SEED, BEST_SCORE = "chapter/best_seed", "chapter/best_score"
RUN_WIDE = (
    TRAIN_SECONDS,
    TRAIN_CPU_SECONDS,
    FIRST_STEP_TIME,
    TRAIN_DEVICE,
    TRAIN_CACHED,
    EVAL_SECONDS,
    POPULATION_SIZE,
    SEED,
    DISPATCH_MODE,
    DISPATCH_ATEN,
    DISPATCH_MKL,
    DISPATCH_ONEDNN,
)
# Bookkeeping: recorded, but never a result to compare arms on.
BOOKKEEPING = (*RUN_WIDE, TRAIN_STEPS, DIVERGED)


# --- what they mean -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Metric:
    """One schema entry: `pattern` is the name, with `<term>`, `<phase>`, `<setting>` placeholders."""

    pattern: str
    direction: Direction | None
    unit: str
    scope: Scope
    meaning: str

    def matches(self, name: str) -> bool:
        return _regex(self.pattern).fullmatch(name) is not None


def _eval(stat: str, direction: Direction, unit: str, meaning: str) -> Metric:
    return Metric(eval_name("<setting>", stat), direction, unit, "member", meaning)


SCHEMA: tuple[Metric, ...] = (
    Metric(TRAIN_LOSS, "lower", "loss", "member", "total loss, mean over the last 50 steps"),
    Metric(
        TRAIN_RECON,
        "lower",
        "MSE",
        "member",
        "reconstruction MSE on the training batches, mean over the last 50 steps",
    ),
    Metric(TRAIN_LR, None, "", "run", "the scheduled learning rate (logged per step)"),
    Metric(TRAIN_STEPS, None, "steps", "member", "steps trained"),
    Metric(TRAIN_SECONDS, None, "s", "run", "fit wall time"),
    Metric(TRAIN_CPU_SECONDS, None, "s", "run", "fit CPU time of the training process"),
    Metric(FIRST_STEP_TIME, None, "s", "run", "wall clock (Unix time) at the first step"),
    Metric(TRAIN_DEVICE, None, "", "run", "the device trained on"),
    Metric(TRAIN_CACHED, None, "count", "run", "1 when the trained model came from the cache"),
    Metric(DIVERGED, None, "count", "member", "1 for a member whose loss went non-finite"),
    Metric(
        phase_name("<phase>", LOSS_TERM),
        "lower",
        "loss",
        "member",
        "total loss, mean over one dopesheet phase",
    ),
    Metric(
        phase_name("<phase>", RECON_TERM),
        "lower",
        "MSE",
        "member",
        "reconstruction MSE, mean over one dopesheet phase",
    ),
    Metric(
        train_name("<term>"), "lower", "loss", "member", "a regularizer's term, mean over the last 50 steps"
    ),
    _eval(MAX_MSE, "lower", "MSE", "largest per-color error on the loss cube"),
    _eval(MEDIAN_MSE, "lower", "MSE", "median per-color error on the loss cube"),
    _eval(MEAN_MSE, "lower", "MSE", "mean per-color error on the loss cube"),
    _eval(RED_MEAN_MSE, "lower", "MSE", "mean per-color error inside the red neighbourhood"),
    _eval(OTHER_MEAN_MSE, "lower", "MSE", "mean per-color error outside the red neighbourhood"),
    _eval(SETTING_VAL_RECON, "lower", "MSE", "mean error on the 8³ validation cube"),
    _eval(SCORE, "higher", "r²", "targeting score: r² of error against similarity² to red"),
    _eval(COLLATERAL, "lower", "fraction", "share of the intervention's damage outside red"),
    _eval(FOCUS, "higher", "fraction", "score · (1 − collateral)"),
    Metric(EVAL_SECONDS, None, "s", "run", "evaluation wall time"),
    Metric(DISPATCH_MODE, None, "", "run", "the `reproducible` mode: portable or native CPU kernels"),
    Metric(DISPATCH_ATEN, None, "", "run", "ATen's CPU capability in use"),
    Metric(DISPATCH_MKL, None, "", "run", "MKL's conditional-numerical-reproducibility branch in use"),
    Metric(DISPATCH_ONEDNN, None, "", "run", "oneDNN's instruction-set cap"),
    Metric(
        VAL_RECON,
        "lower",
        "MSE",
        "member",
        "reconstruction on the data's validation set at the last validation (the re-runs' 351 colours); "
        "without one, the baseline's eval/none/val_recon",
    ),
    Metric(
        val_name("<term>"),
        "lower",
        "loss",
        "member",
        "a train+validate regularizer's term on the validation set (exact labels), last validation",
    ),
    Metric(SEED, None, "", "run", "the population's first seed"),
    Metric(POPULATION_SIZE, None, "count", "run", "members trained"),
    Metric(
        CHAPTER_SCORE,
        "higher",
        "r²",
        "member",
        "the chapter's sweep score: r² of Pearson(feature^p, per-colour MSE) on the 8³ lattice under the "
        "experiment's scoring plan (excolor.chapter)",
    ),
    Metric(
        posthoc_name("<variant>"),
        None,
        "r",
        "member",
        "post-hoc Pearson r of feature^p against per-colour MSE on the 20³ lattice under a plan variant",
    ),
    Metric(
        plan_name("<variant>", MAX_MSE),
        "lower",
        "MSE",
        "member",
        "largest per-color error on the loss cube under a plan variant",
    ),
    Metric(
        plan_name("<variant>", MEDIAN_MSE),
        "lower",
        "MSE",
        "member",
        "median per-color error on the loss cube under a plan variant",
    ),
    Metric(
        label_count_name("<label>"),
        None,
        "count",
        "member",
        "positive training labels drawn while a regularizer that reads the label had a non-zero "
        "scheduled weight (`_any`: samples with at least one such label)",
    ),
    Metric(LABELS_TOTAL, None, "count", "member", "training samples drawn"),
    Metric(PARETO, None, "count", "member", "1 for a member in the Pareto set of the chapter's selection"),
    Metric(PARETO_SIZE, None, "count", "run", "members in the Pareto set"),
    Metric(BEST_SEED, None, "", "run", "the seed of the best member: the highest score in the Pareto set"),
    Metric(BEST_SCORE, "higher", "r²", "run", "the best member's score"),
)


def _regex(pattern: str) -> re.Pattern[str]:
    """`<placeholder>` matches one path part (no `/`)."""
    return re.compile(re.sub(r"<\w+>", "[^/]+", re.escape(pattern).replace(r"\<", "<").replace(r"\>", ">")))


def describe(name: str) -> Metric | None:
    """The schema entry of metric `name` (exact names before patterns), or None for an unknown name."""
    exact = [metric for metric in SCHEMA if "<" not in metric.pattern and metric.pattern == name]
    if exact:
        return exact[0]
    return next((metric for metric in SCHEMA if metric.matches(name)), None)
