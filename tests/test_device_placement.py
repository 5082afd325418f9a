"""A population's training steps and evaluation, with the model on a device other than the CPU, make
nothing on the CPU and (between logged steps) never wait for the device.

On a machine without a GPU the device is `meta`: tensors with shapes and no data, so the whole run
costs next to nothing, and any value the host would have to read (`.item()`, `bool(t)`, `.tolist()`,
a boolean-mask index, which is a `nonzero`) cannot be computed and is caught. Where CUDA is present
(scripts/gpu-check.sh) the same tests also run on `cuda`, with real numbers.

Two recorders watch every operation: a TorchDispatchMode sees each aten op (its outputs' devices,
copies between devices, the ops that read device values on the host), and a TorchFunctionMode sees
tensors built from host data (`torch.tensor`, `torch.as_tensor`), which the dispatcher does not show.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
import torch
from omegaconf import OmegaConf
from torch.overrides import TorchFunctionMode
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves

from excolor.config import CONF_DIR
from excolor.data import ContinuousBatches
from excolor.evaluation import Evaluator
from excolor.interventions import Repulsion, Suppression
from excolor.module import AutoencoderModule
from excolor.population import Population
from excolor.schedule import load_schedule
from terms import ex23_terms

DEVICES = ["meta", *(["cuda"] if torch.cuda.is_available() else [])]
MODEL = OmegaConf.load(CONF_DIR / "model" / "linear.yaml")  # the shipped Ex 2.3 model
# Ops whose result the host must read from the device (a sync), whatever their arguments.
SYNC_OPS = {
    "_local_scalar_dense",
    "nonzero",
    "masked_select",
    "is_nonzero",
    "equal",
    "_unique",
    "_unique2",
    "unique_dim",
    "unique_consecutive",
    "repeat_interleave",
}
BUILDERS = {"tensor", "as_tensor"}  # torch functions that copy host data into a tensor


@dataclass
class Event:
    kind: str  # "sync", "to host", "to device", "created on the CPU", "from host data"
    op: str
    where: str

    def __str__(self) -> str:
        return f"{self.kind}: {self.op} at {self.where}"


def caller() -> str:
    """The innermost frame in excolor's own source (where the op was asked for)."""
    frames = [f for f in traceback.extract_stack() if "/src/excolor/" in f.filename.replace("\\", "/")]
    if not frames:
        return "(outside excolor)"
    f = frames[-1]
    return f"{f.filename.rsplit('/src/', 1)[-1]}:{f.lineno} {f.name}: {f.line}"


def is_device(tensor: Any) -> bool:
    return isinstance(tensor, torch.Tensor) and tensor.device.type != "cpu"


def bool_index(args: tuple) -> bool:
    """An `index`/`index_put` whose indices hold a boolean mask (→ nonzero on the device)."""
    indices = args[1] if len(args) > 1 and isinstance(args[1], (list, tuple)) else ()
    return any(isinstance(i, torch.Tensor) and i.dtype in (torch.bool, torch.uint8) for i in indices)


def copy_ends(name: str, args: tuple, kwargs: dict) -> tuple[torch.Tensor, torch.device]:
    """The source tensor and the target device of a `to` / `_to_copy` / `copy_`."""
    if name == "copy_":
        return args[1], args[0].device
    target = kwargs.get("device") or next((a for a in args[1:] if isinstance(a, (torch.device, str))), None)
    if target is None:  # to(other_tensor, …)
        target = next((a.device for a in args[1:] if isinstance(a, torch.Tensor)), args[0].device)
    return args[0], torch.device(target)


class Recorder(TorchDispatchMode):
    """Records every op that reads the device from the host, moves data between host and device, or
    makes a tensor on the CPU. On `meta`, a copy to the host (when allowed: `fake_host_copies`) is
    answered with zeros so that the code after it can run; any other sync raises at once, naming the
    line (meta has no values to read)."""

    def __init__(self, fake_host_copies: bool = False):
        super().__init__()
        self.events: list[Event] = []
        self.fake_host_copies = fake_host_copies

    def note(self, kind: str, func) -> Event:
        event = Event(kind, str(func.overloadpacket.__name__), caller())
        self.events.append(event)
        return event

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        name = func.overloadpacket.__name__
        inputs = [t for t in tree_leaves((args, kwargs)) if isinstance(t, torch.Tensor)]
        on_meta = any(t.device.type == "meta" for t in inputs)
        reads_device = any(
            t.device.type != "cpu" for t in inputs
        )  # an .item() of a CPU tensor waits for nothing
        if reads_device and (
            name in SYNC_OPS or (name in ("index", "index_put", "index_put_") and bool_index(args))
        ):
            event = self.note("sync", func)
            if on_meta:
                raise AssertionError(f"host sync on the device: {event}")
        if name in ("to", "_to_copy", "copy_") and inputs:
            source, target = copy_ends(name, args, kwargs)
            if source.device.type != "cpu" and target.type == "cpu":
                self.note("to host", func)
                if source.device.type == "meta":
                    if not self.fake_host_copies:
                        raise AssertionError(f"copy to the host: {self.events[-1]}")
                    if name == "copy_":
                        return args[0]
                    return torch.zeros(source.shape, dtype=kwargs.get("dtype") or source.dtype)
            elif source.device.type == "cpu" and target.type != "cpu":
                self.note("to device", func)
        out = func(*args, **kwargs)
        if any(isinstance(t, torch.Tensor) and t.device.type == "cpu" for t in tree_leaves(out)):
            self.note("created on the CPU", func)
        return out


class HostData(TorchFunctionMode):
    """Records `torch.tensor(...)` / `torch.as_tensor(...)` of host data (not visible to the dispatcher)."""

    def __init__(self, recorder: Recorder):
        super().__init__()
        self.recorder = recorder

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if getattr(func, "__name__", "") in BUILDERS and not (args and is_device(args[0])):
            self.recorder.events.append(Event("from host data", f"torch.{func.__name__}", caller()))
        return func(*args, **kwargs)


@dataclass
class Watch:
    """`with watch:` records into `events` until the block ends."""

    fake_host_copies: bool = False
    events: list[Event] = field(default_factory=list)

    def __enter__(self) -> None:
        self._recorder = Recorder(self.fake_host_copies)
        self._recorder.events = self.events
        self._function = HostData(self._recorder)
        self._function.__enter__()
        self._recorder.__enter__()

    def __exit__(self, *exc) -> None:
        self._recorder.__exit__(*exc)
        self._function.__exit__(*exc)


def report(events: list[Event]) -> str:
    return "\n".join(str(e) for e in events[:20]) + (
        f"\n… and {len(events) - 20} more" if len(events) > 20 else ""
    )


# ----------------------------------------------------------------------------- the recorder itself


def test_the_recorder_catches_syncs_host_tensors_and_copies():
    """Each kind of event the tests below rely on is seen (on meta: the sync raises at once)."""
    z = torch.ones(2, 4, device="meta")
    with pytest.raises(AssertionError, match="host sync"), Watch():
        z[z.sum(-1) > 0]  # a boolean mask: nonzero
    with pytest.raises(AssertionError, match="host sync"), Watch():
        z.sum().item()
    watch = Watch(fake_host_copies=True)
    with watch:
        torch.ones(3)  # made on the CPU
        torch.tensor([0, 1], device="meta")  # host data
        z.cpu()  # to the host
        torch.zeros(2).to("meta")  # to the device
    kinds = [e.kind for e in watch.events]
    assert (
        "created on the CPU" in kinds
        and "from host data" in kinds
        and "to host" in kinds
        and "to device" in kinds
    )
    clean = Watch()
    with clean:
        (z.index_select(-1, torch.zeros(1, dtype=torch.long, device="meta")) ** 2).sum(-1)
    assert clean.events == []


# ----------------------------------------------------------------------------- training steps


def regularizers() -> dict:
    return ex23_terms(["red", "vibrant"])


def data_config(seed: int):
    config = OmegaConf.load(CONF_DIR / "data" / "hsv_cube.yaml")
    config.seed = seed
    return config


def module_on(
    device: str, population: Population, steps: int, log_every: int
) -> tuple[AutoencoderModule, ContinuousBatches]:
    """The module and its batches on `device`, wired as Lightning would (model moved, then the
    optimizer built), with a stand-in trainer: a step counter and a plain backward."""
    schedule = load_schedule(str(CONF_DIR / "schedule" / "ex-2.3-dopesheet.csv"))
    model = population.build_model(MODEL)
    data = population.build_data(data_config(population.seed))
    terms = regularizers()
    population.bind_regularizers(terms)
    module = AutoencoderModule(model, terms, schedule, steps, log_every_n_steps=log_every).to(device)
    optimizer = module.configure_optimizers()
    module._optimizer, module._param_groups = optimizer, optimizer.param_groups
    module._trainer = SimpleNamespace(
        global_step=0,
        logger=None,
        callback_metrics={},
        strategy=SimpleNamespace(backward=lambda loss, _optimizer: loss.backward()),
    )
    return module, ContinuousBatches(data, steps, device=device)


@pytest.fixture
def capturable_on_meta(monkeypatch):
    """torch lets Adam keep its step on the device (`capturable`) only on real accelerators; meta
    stands in for one here."""
    from torch.optim import adam

    supported = adam._get_capturable_supported_devices
    monkeypatch.setattr(
        adam, "_get_capturable_supported_devices", lambda *a, **k: [*supported(*a, **k), "meta"]
    )


@pytest.mark.parametrize("device", DEVICES)
def test_training_steps_stay_on_the_device_and_never_sync_between_logged_steps(device, capturable_on_meta):
    """65 steps of a population of 3 (all four terms on, an epoch boundary at step 57, a logged
    step at 50): outside logged steps, no op makes a tensor on the CPU, copies between host and
    device, or reads a device value on the host; the data of each epoch are drawn on the device."""
    steps, log_every = 66, 50
    module, batches = module_on(device, Population(size=3, seed=0), steps, log_every)
    assert next(module.model.parameters()).device.type == device
    batch_iter = iter(batches)
    batch = next(batch_iter)  # the first epoch's draws set up the device stream (keys, weights): once
    quiet_steps = 0
    for step in range(steps - 1):
        module._trainer.global_step = step
        logged = step % log_every == 0
        watch = Watch(fake_host_copies=logged)
        with watch:
            module.training_step(batch, step)
            batch = next(batch_iter)  # at step 56 → 57 the next epoch is drawn
        assert (
            batch[0].device.type == device and batch[0].shape[0] == 3
        )  # the last batch of an epoch is short
        if not logged:
            assert watch.events == [], f"step {step}:\n{report(watch.events)}"
            quiet_steps += 1
    assert quiet_steps == steps - 3  # steps 0 and 50 are logged
    state = module._optimizer.state[next(module.model.parameters())]
    assert state["step"].device.type == device  # Adam's step counter lives on the device too
    assert module._term_weights.device.type == device


def test_on_the_cpu_the_optimizer_and_draws_are_the_defaults():
    """The CPU keeps torch's default Adam (step counters on the host) and the generator streams."""
    population = Population(size=2, seed=0)
    module, batches = module_on("cpu", population, 5, 50)
    assert module._optimizer.defaults["capturable"] is False and module._optimizer.defaults["foreach"] is None
    ours = next(iter(batches))
    theirs = next(iter(ContinuousBatches(population.build_data(data_config(population.seed)), 5)))
    assert torch.equal(ours[0], theirs[0]) and torch.equal(ours[1], theirs[1])


# ----------------------------------------------------------------------------- evaluation


@pytest.mark.parametrize("device", DEVICES)
def test_evaluation_computes_on_the_device_and_copies_to_the_host_only_at_the_end(device):
    """Each setting's metrics for a population of 3: every op before the results' copies to the host
    runs on the device, and nothing is made on the CPU before them."""
    model = Population(size=3, seed=0).build_model(MODEL).to(device)
    evaluator = Evaluator(model)
    settings = {
        "none": [],
        "suppression": [Suppression([1, 0, 0, 0])],
        "repulsion": [Repulsion([1, 0, 0, 0])],
    }
    for name, interventions in settings.items():
        interventions = [m.to(device) for m in interventions]  # as evaluate_run's first call leaves them
        watch = Watch(fake_host_copies=True)
        with watch:
            members, error = evaluator.metrics(name, interventions)
        first_copy = next(i for i, e in enumerate(watch.events) if e.kind == "to host")
        before = watch.events[:first_copy]
        assert before == [], f"{name}:\n{report(before)}"
        copies = [e for e in watch.events if e.kind == "to host"]
        assert len(copies) <= 3, f"{name}: {len(copies)} copies to the host:\n{report(copies)}"
        assert all(e.kind in ("to host", "created on the CPU") for e in watch.events), report(watch.events)
        assert len(members) == 3 and error.shape == (3, 552_960)
