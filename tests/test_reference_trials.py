"""Reference trials (``hydra.sweeper.enqueue_trials``, `excolor_sweeper._enqueue`) and their place in the
report (`excolor.report.reference`, `reference_markdown`, `figures.plot_pareto`): enqueued once per
study (also when a sweep is resumed or two processes share the study, again only when interrupted),
checked against the search space before anything runs, marked in the Pareto table and plot, and compared
with the trials that beat it, by hand-worked values."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution
from optuna.trial import TrialState, create_trial

from excolor.report.markdown import optuna_markdown
from excolor.report.reference import better, compare_references, dominates
from excolor.report.result import StudyResult
from excolor.study_storage import open_storage
from hydra_plugins.excolor_sweeper._enqueue import REFERENCE, ensure_enqueued, references
from hydra_plugins.excolor_sweeper._settle import INTERRUPTED
from smoke import SMOKE_CUBE

SPACE = {"a": FloatDistribution(0.1, 10, log=True), "b": FloatDistribution(0.1, 10, log=True)}
ONES = [{"label": "dopesheet", "params": {"a": 1, "b": 1.0}}]
DIRECTIONS = ["maximize", "minimize"]


@pytest.fixture(autouse=True)
def quiet_optuna():
    optuna.logging.set_verbosity(optuna.logging.WARNING)


def new_study(storage=None, name="s") -> optuna.Study:
    return optuna.create_study(study_name=name, storage=storage, directions=DIRECTIONS, load_if_exists=True)


def run_next(study: optuna.Study, values=(0.5, 0.5), state=TrialState.COMPLETE, **attrs) -> optuna.Trial:
    """Ask one trial (a queued one first), set user attributes, tell ``values`` or ``state``."""
    trial = study.ask(SPACE)
    for key, value in attrs.items():
        trial.set_user_attr(key, value)
    study.tell(trial, list(values) if state == TrialState.COMPLETE else None, state=state)
    return trial


# --------------------------------------------------------------------------- the config entries


def test_an_entry_names_every_searched_param_as_its_distribution_holds_it():
    (entry,) = references(ONES, SPACE)
    assert entry.label == "dopesheet" and entry.params == {"a": 1.0, "b": 1.0}
    assert isinstance(entry.params["a"], float)  # an int for a float distribution becomes a float
    assert references([{"params": {"a": 2, "b": 3}}], SPACE)[0].label == REFERENCE  # the default label
    choice = {"c": CategoricalDistribution([True, False])}
    assert references([{"params": {"c": False}}], choice)[0].params == {"c": False}


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"params": {"a": 1}},
            r"enqueue_trials\[0\]\.params must name every searched param.*missing: \['b'\]",
        ),
        ({"params": {"a": 1, "b": 1, "z": 1}}, r"not searched: \['z'\]"),
        ({"params": {"a": 1, "b": 20}}, r"enqueue_trials\[0\]\.params\.b=20\.0 is outside its search space"),
        ({"params": {"a": 1, "b": "x"}}, r"params\.b='x' is outside"),
        ({"params": {"a": True, "b": 1}}, r"params\.a=True must be a number"),
        ({"a": 1, "b": 1}, r"enqueue_trials\[0\]=.* must be a mapping with params"),
        ({"params": {"a": 1, "b": 1}, "lable": "x"}, r"unknown key\(s\) \['lable'\]"),
    ],
)
def test_a_bad_entry_is_one_line_naming_the_key(entry, message):
    with pytest.raises(ValueError, match=message):
        references([entry], SPACE)


# --------------------------------------------------------------------------- once per study


def test_enqueued_once_however_often_the_sweeper_asks():
    study, entries = new_study(), references(ONES, SPACE)
    assert ensure_enqueued(study, entries) == entries
    assert ensure_enqueued(study, entries) == []  # waiting: not again
    first = run_next(study, (0.8, 1e-5))
    assert first.params == {"a": 1.0, "b": 1.0} and study.trials[0].user_attrs[REFERENCE] == "dopesheet"
    assert ensure_enqueued(study, entries) == []  # complete: never again
    run_next(study)
    assert len(study.trials) == 2 and study.trials[1].params != first.params  # the sampler's own


def test_an_interrupted_reference_runs_again_and_a_failed_one_does_not():
    study, entries = new_study(), references(ONES, SPACE)
    ensure_enqueued(study, entries)
    run_next(study, state=TrialState.FAIL, **{INTERRUPTED: True})  # e.g. killed: its slot runs again
    assert ensure_enqueued(study, entries) == entries
    run_next(study, state=TrialState.FAIL)  # a real failure is kept, as every failed trial
    assert ensure_enqueued(study, entries) == []
    assert [t.params for t in study.trials] == [{"a": 1.0, "b": 1.0}] * 2


def test_two_processes_on_one_journal_enqueue_it_once(tmp_path):
    """Two sweep processes (two storage objects on one journal file, as two processes open it): the
    second sees the first's waiting trial, also after the first has run it."""
    journal = str(tmp_path / "optuna.journal")
    one, two = new_study(open_storage(journal)), new_study(open_storage(journal))
    entries = references(ONES, SPACE)
    assert ensure_enqueued(one, entries) == entries
    assert ensure_enqueued(two, entries) == []
    run_next(two, (0.8, 1e-5))  # the second process happens to run it
    assert ensure_enqueued(one, entries) == [] and ensure_enqueued(two, entries) == []
    assert len(new_study(open_storage(journal)).trials) == 1


# --------------------------------------------------------------------------- the comparison


def frozen(number: int, values, a=2.0, reference=None):
    trial = create_trial(
        params={"a": a, "b": 1.0},
        distributions=SPACE,
        values=list(values),
        user_attrs={REFERENCE: reference} if reference else {},
    )
    trial.number = number
    return trial


def test_better_and_dominates_by_hand():
    assert better(0.9, 0.8, "maximize") and better(1e-5, 2e-5, "minimize")
    assert not better(0.8, 0.8, "maximize")
    assert dominates([0.9, 1e-5], [0.8, 1e-5], DIRECTIONS)  # better on one, equal on the other
    assert not dominates([0.8, 1e-5], [0.8, 1e-5], DIRECTIONS)  # equal everywhere: no
    assert not dominates([0.9, 2e-5], [0.8, 1e-5], DIRECTIONS)  # better on one, worse on the other


def test_the_trials_that_beat_the_reference():
    trials = [
        frozen(0, (0.8, 1e-5), a=1.0, reference="dopesheet"),
        frozen(1, (0.9, 2e-5)),  # beats the score only
        frozen(2, (0.7, 3e-5)),  # beats nothing
        frozen(3, (0.85, 0.5e-5)),  # dominates
        frozen(4, (0.8, 0.9e-5)),  # dominates: equal score, better recon
    ]
    (found,) = compare_references(trials, ["score", "val/recon"], DIRECTIONS)
    assert (found.number, found.label, found.n_compared) == (0, "dopesheet", 4)
    assert [(r.number, r.beats, r.dominates) for r in found.rows] == [
        (3, [True, True], True),
        (4, [False, True], True),
        (1, [True, False], False),
    ]
    assert all(not r.verdicts for r in found.rows)  # no sweep dir: no members to pair


def write_members(sweep: Path, number: int, scores, recons) -> None:
    """A trial dir as the report reads it: config, overrides, members.csv and metrics.json."""
    trial = sweep / str(number)
    (trial / ".hydra").mkdir(parents=True)
    (trial / ".hydra" / "config.yaml").write_text("seed: 0\nobjective: [score, val/recon]\n")
    (trial / ".hydra" / "overrides.yaml").write_text("[]\n")
    rows = ["member,seed,score,val/recon"] + [
        f"{i},{i},{s!r},{r!r}" for i, (s, r) in enumerate(zip(scores, recons))
    ]
    (trial / "members.csv").write_text("\n".join(rows) + "\n")
    (trial / "metrics.json").write_text(json.dumps({"score": 0.0, "val/recon": 0.0, "seed": 0}))


def test_paired_by_seed_and_holm_adjusted_over_every_compared_trial(tmp_path):
    """Trial 1's score is (1.10 + 0.01·i) × the reference's on seed i = 0…7: every ratio above 1, exact
    Wilcoxon p = 2/2⁸ = 0.0078, median ratio (1.13 + 1.14)/2 = 1.135; its recon (2 + 0.1·i) × (worse,
    p = 0.0078, median 2.35). Trial 2 is worse on both (each ratio on one side: p = 0.0078 twice) and
    is not shown, but its tests count in the family: 4 tests, Holm: 4 × 2/256 = 0.031 for all."""
    base = [0.5 + 0.01 * i for i in range(8)]
    recon = [1e-5 * (1 + 0.1 * i) for i in range(8)]
    write_members(tmp_path, 0, base, recon)
    write_members(
        tmp_path,
        1,
        [(1.1 + 0.01 * i) * s for i, s in enumerate(base)],
        [(2 + 0.1 * i) * r for i, r in enumerate(recon)],
    )
    write_members(
        tmp_path,
        2,
        [(0.9 - 0.01 * i) * s for i, s in enumerate(base)],
        [(1.5 + 0.1 * i) * r for i, r in enumerate(recon)],
    )
    trials = [
        frozen(0, (0.535, 1.35e-5), a=1.0, reference="ref"),
        frozen(1, (0.5885, 2.7e-5)),
        frozen(2, (0.48, 2.0e-5)),
    ]
    (found,) = compare_references(trials, ["score", "val/recon"], DIRECTIONS, tmp_path)
    assert found.n_tests == 4 and found.n_compared == 2
    (row,) = found.rows  # trial 2 beats nothing: not shown
    score, recon_verdict = row.verdicts
    assert score is not None and recon_verdict is not None
    assert score.effect == pytest.approx(1.135) and score.n_pairs == 8 and score.paired
    assert score.p == pytest.approx(2 / 256) and score.p_holm == pytest.approx(8 / 256)
    assert score.outcome == "supported" and recon_verdict.outcome == "not supported"
    assert recon_verdict.effect == pytest.approx(2.35) and score.family_size == 4


# --------------------------------------------------------------------------- the report


def study_result(trials) -> StudyResult:
    objectives = ["score", "val/recon"]
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    front = [t for t in done if not any(dominates(o.values, t.values, DIRECTIONS) for o in done)]
    return StudyResult(
        study="s",
        storage="optuna.journal",
        storage_resolved="optuna.journal",
        directions=DIRECTIONS,
        objectives=objectives,
        counts={"COMPLETE": len(done)},
        params=["a", "b"],
        best_label="Pareto front",
        best_numbers=[t.number for t in front],
        best=[],
        references=compare_references(trials, objectives, DIRECTIONS),
    )


def test_the_report_marks_the_reference_and_names_the_rows_that_beat_it(tmp_path):
    from excolor.report.figures import plot_pareto
    from excolor.report.result import BestTrial

    trials = [
        frozen(0, (0.8, 1e-5), a=1.0, reference="dopesheet"),
        frozen(1, (0.9, 2e-5)),
        frozen(3, (0.85, 0.5e-5)),
    ]
    study = study_result(trials)
    study.best = [BestTrial(3, {"a": 2.0, "b": 1.0}, [0.85, 0.5e-5])]
    png = plot_pareto(study, trials, tmp_path / "pareto.png")
    assert png is not None and png.stat().st_size > 1000
    md = "\n".join(optuna_markdown(study, None, png))
    # off the front, the reference is shown below it, marked
    assert "| 0 ◆ dopesheet (reference, not on the Pareto front) | 1 | 1 | 0.8 | 1e-05 |" in md
    assert "![Pareto plot](pareto.png)" in md
    assert "### Against the reference: trial 0 ◆ dopesheet" in md
    assert "| 3 | 2 | 1 | 0.85 ✓ | — | 5e-06 ✓ | — | yes |" in md
    assert "| 1 | 2 | 1 | 0.9 ✓ | — | 2e-05 | — | no |" in md
    assert "- Dominates `dopesheet` on the trials' values: trial 3 (rows with *dominates* yes)." in md
    assert "- score: 2 of 2 trials beat it (✓)" in md and "- val/recon: 1 of 2 trials beat it (✓)" in md


def test_a_reference_nothing_beats_is_not_called_equivalent():
    trials = [frozen(0, (0.9, 1e-5), a=1.0, reference="dopesheet"), frozen(1, (0.8, 2e-5))]
    study = study_result(trials)
    md = "\n".join(optuna_markdown(study, None))
    assert "No other trial beats `dopesheet` on any objective in this study (1 trials)" in md
    assert "not a finding of equivalence" in md and "no difference" not in md


def test_one_objective_has_no_pareto_plot(tmp_path):
    from excolor.report.figures import plot_pareto

    study = study_result([frozen(0, (0.9, 1e-5), a=1.0, reference="r")])
    study.objectives = ["score"]
    assert plot_pareto(study, [frozen(0, (0.9, 1e-5))], tmp_path / "p.png") is None


# --------------------------------------------------------------------------- in a sweep


def test_a_resumed_sweep_runs_its_reference_once(hydra_sweep_runner, tmp_path):
    """Hydra's test app: the reference (foo = 2) is trial 0 of the first run; the rerun with more
    trials resumes the study and does not run it again."""
    from test_sweeper_parity import run_sweep

    overrides = (
        "hydra.sweeper.direction=[minimize,maximize]",
        "+objective=[x,y]",
        "foo=range(1,9)",
        "hydra.sweeper.enqueue_trials=[{label:ref,params:{foo:2}}]",
    )
    task = lambda cfg: (float(cfg.foo), -float(cfg.foo))  # noqa: E731 - a task function, inline
    with run_sweep(hydra_sweep_runner, tmp_path, task, "hydra.sweeper.n_trials=2", *overrides) as (study, _):
        first = study.get_trials()
    with run_sweep(hydra_sweep_runner, tmp_path, task, "hydra.sweeper.n_trials=4", *overrides) as (study, _):
        trials = study.get_trials()
    assert first[0].params == {"foo": 2} and first[0].user_attrs[REFERENCE] == "ref"
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials)
    assert [t.number for t in trials if REFERENCE in t.user_attrs] == [0]


def test_a_bad_entry_stops_the_sweep_before_a_trial_runs(hydra_sweep_runner, tmp_path):
    from test_sweeper_parity import run_sweep

    calls = []
    with (
        pytest.raises(SystemExit),
        run_sweep(
            hydra_sweep_runner,
            tmp_path,
            calls.append,
            "hydra.sweeper.n_trials=2",
            "foo=range(1,9)",
            "hydra.sweeper.enqueue_trials=[{params:{foo:20}}]",
        ),
    ):
        pass
    assert calls == []


@pytest.mark.slow
def test_a_tiny_m2_search_runs_the_dopesheet_once_and_reports_it(tmp_path):
    """`python -m excolor.train -m sweep=m2_search` in this process, 30 steps, 2 seeds, 3 trials, then
    resumed to 4: the dopesheet (every multiplier 1) is trial 0, run once, and the report marks it in
    the Pareto table, its own section and pareto.png."""
    from inprocess import run_module

    tiny = [
        "-m",
        "sweep=m2_search",
        "trainer.max_steps=30",
        "trainer.accelerator=cpu",
        "population.size=2",
        SMOKE_CUBE,
        f"hydra.sweep.dir={tmp_path / 'sweep'}",
        f"cache.dir={tmp_path / 'cache'}",
    ]
    for n_trials in (3, 4):
        done = run_module("excolor.train", *tiny, f"hydra.sweeper.n_trials={n_trials}", cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-3000:]
    study = optuna.load_study(
        study_name="m2_search", storage=open_storage(str(tmp_path / "sweep" / "optuna.journal"))
    )
    trials = study.get_trials()
    assert len(trials) == 4 and all(t.state == TrialState.COMPLETE for t in trials)
    (reference,) = [t for t in trials if REFERENCE in t.user_attrs]
    assert reference.number == 0 and set(reference.params.values()) == {1.0} and len(reference.params) == 4
    assert study.metric_names == ["score", "val/recon"]
    md = (tmp_path / "sweep" / "report.md").read_text()
    assert "0 ◆ dopesheet" in md and "### Against the reference: trial 0 ◆ dopesheet" in md
    assert (tmp_path / "sweep" / "pareto.png").stat().st_size > 1000


def test_m2_search_composes_with_2_9_1_and_passes_the_pre_sweep_check(tmp_path):
    """The experiment is fixed (not swept), so the check before Hydra runs composes Ex 2.9.1 and its
    `score`: objective [score, val/recon] validates; the dopesheet names every searched multiplier."""
    from excolor.validation import check_train_entry
    from test_sweeps import compose_train, parse_override

    cfg = compose_train("sweep=m2_search", f"hydra.sweep.dir={tmp_path}", f"cache.dir={tmp_path}")
    check_train_entry(cfg, multirun=True)
    sweeper = cfg.hydra.sweeper
    assert cfg.tag == "ex2.9.1" and list(cfg.objective) == ["score", "val/recon"]
    assert list(sweeper.direction) == ["maximize", "minimize"] and sweeper.sampler.seed == 0
    assert "seed" not in sweeper.params and cfg.population.size >= 16 and sweeper.n_trials >= 12
    assert set(sweeper.params) == {f"regularizers.{name}.weight" for name in cfg.regularizers}
    for key, value in sweeper.params.items():
        interval = parse_override(key, value).value()
        assert "log" in interval.tags and interval.start < 1 < interval.end
    (dopesheet,) = sweeper.enqueue_trials
    assert dopesheet.label == "dopesheet" and dict(dopesheet.params) == dict.fromkeys(sweeper.params, 1.0)
