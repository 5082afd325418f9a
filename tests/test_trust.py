"""Trusted packages and where targets lead: `trusted_packages` extends the trusted `_target_`
packages; every target (the `hydra` node, the sweeper's search space and custom_search_space
included) is resolved as Hydra will and refused before any work unless it is defined in a trusted
package; the cache key follows the source of outside packages the targets resolve into."""

from __future__ import annotations

import importlib
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir

from excolor import targets
from excolor.cache import training_key
from excolor.config import CONF_DIR, VERSION_BASE
from excolor.console import HYDRA_PACKAGES, TRUSTED_PACKAGES, check_trusted, config_targets, trusted_packages
from excolor.errors import ConfigError
from excolor.validation import check_run_config

ROOT = Path(__file__).resolve().parents[1]


def composed(overrides=(), hydra_config: bool = True):
    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose("train", overrides=list(overrides), return_hydra_config=hydra_config)


def write_package(root: Path, files: dict[str, str]) -> None:
    for name, source in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source))
    importlib.invalidate_caches()


# A package laid out the way real ones are: a re-export in __init__, a constant in another module,
# a star import with __all__, an alias, a conditional binding and an alias to outside code.
LAB = {
    "lab/__init__.py": """
        from lab.terms import Spread
        from lab.starred import *
        import os
        helper = os.system
        Alias = Spread
        try:
            from lab.terms import Spread as Maybe
        except ImportError:
            Maybe = None
    """,
    "lab/terms.py": """
        import torch
        from lab.constants import SCALE
        from excolor.regularizers import Regularizer

        class Spread(Regularizer):
            def per_sample(self, z):
                return SCALE * z.abs().sum(-1)
    """,
    "lab/constants.py": "SCALE = 1.0\n",
    "lab/starred.py": """
        __all__ = ["Exported"]
        class Exported:
            pass
        class Hidden:
            pass
    """,
}


@pytest.fixture
def lab(tmp_path, monkeypatch):
    write_package(tmp_path, LAB)
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    for name in [n for n in sys.modules if n == "lab" or n.startswith("lab.")]:
        del sys.modules[name]


# --- resolving targets from source -------------------------------------------------------------------


@pytest.mark.parametrize(
    "path, module",
    [
        ("lab.Spread", "lab.terms"),  # re-exported by the package
        ("lab.Alias", "lab.terms"),  # `Alias = Spread`
        ("lab.Exported", "lab.starred"),  # through a star import with a literal __all__
        ("lab.terms", "lab.terms"),  # a submodule
        ("lab.terms.Spread.per_sample", "lab.terms"),  # a method in the class body
        ("lab.terms.Regularizer", "excolor.regularizers.base"),  # an import of outside code
        ("lab.constants.SCALE", None),  # a value: left to Python
        ("lab.Maybe", None),  # bound under try/except
        ("lab.helper", None),  # `helper = os.system`: os has no source to read (frozen)
    ],
)
def test_static_resolution(lab, path, module):
    if module is None:
        with pytest.raises(targets.Unresolved):
            targets.resolve_static(path)
    else:
        assert targets.resolve_static(path).module == module
    assert "lab" not in sys.modules  # nothing imported


def test_static_resolution_agrees_with_hydra(lab):
    """Where the source settles it, the answer is the one importing gives (Hydra's own walk)."""
    for path in (
        "lab.Spread",
        "lab.Alias",
        "lab.Exported",
        "lab.terms.Regularizer",
        "excolor.regularizers.Separate",
        "lightning.pytorch.Trainer",
        "torch.optim.Adam",
    ):
        assert targets.resolve_static(path).module == targets.resolve_dynamic(path).module, path
    assert targets.resolve("lab.helper").module in ("posix", "nt")  # os.system, found by importing


def test_every_shipped_target_resolves_from_source_alone():
    """The default configs and every sweep (the hydra node included) are checked without importing."""
    for overrides in (
        [],
        ["sweep=h1"],
        ["sweep=falloff"],
        ["hydra/launcher=joblib"],
        ["hydra/launcher=slurm"],
        ["logger=csv"],
        ["callbacks=default"],
    ):
        for where, target in config_targets(composed(overrides)):
            assert targets.resolve_static(target).module.startswith(target.split(".")[0]), (where, target)


def test_checks_import_nothing_they_check():
    code = (
        "import sys; from tests.test_trust import composed; from excolor.console import check_trusted;"
        "check_trusted(composed(['sweep=h1'])); check_trusted(composed(['hydra/launcher=joblib']));"
        "bad = [m for m in ('torch', 'lightning', 'optuna', 'joblib') if m in sys.modules]; assert not bad, bad"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]


# --- the trust check -----------------------------------------------------------------------------------

REFUSED = {
    # an alias through trusted code to outside code: refused for where it leads
    "alias_os_system": (["model._target_=excolor.config.os.system"], "defined in module posix"),
    "alias_torch_linear": (["model._target_=excolor.model.torch.nn.Linear"], "defined in module torch.nn"),
    "hydra_launcher": (
        ["hydra.launcher._target_=subprocess.run"],
        "hydra.launcher._target_='subprocess.run'",
    ),
    "hydra_sweeper_alias": (
        ["hydra.sweeper._target_=hydra_plugins.excolor_sweeper.resumable.ConfigStore"],
        "defined in module hydra.core.config_store",
    ),
    # Hydra's plugins are trusted in the hydra node only
    "plugin_outside_hydra": (
        ["model._target_=hydra_plugins.excolor_sweeper.resumable.ResumableOptunaSweeper"],
        "model._target_='hydra_plugins.excolor_sweeper.resumable.ResumableOptunaSweeper'",
    ),
    "plugin_as_search_space": (
        [
            "+hydra.sweeper.custom_search_space=hydra_plugins.hydra_optuna_sweeper._impl.create_params_from_overrides"
        ],
        "custom_search_space='hydra_plugins.hydra_optuna_sweeper._impl",
    ),
    "search_space": (
        ["+hydra.sweeper.params={model._target_: 'choice(excolor.model.ColorAutoencoder, os.system)'}"],
        "hydra.sweeper.params.model._target_='os.system'",
    ),
    "custom_search_space": (
        ["+hydra.sweeper.custom_search_space=shutil.rmtree"],
        "custom_search_space='shutil.rmtree'",
    ),
    "outside_untrusted": (
        ["+regularizers.x._target_=lab.Spread", "+regularizers.x.column=c"],
        "regularizers.x._target_='lab.Spread'",
    ),
    "missing": (["model._target_=excolor.model.Nope"], "cannot be found"),
    "not_a_list": (["trusted_packages=lab"], "trusted_packages='lab' must be a list"),
    "not_a_name": (["trusted_packages=['lab/x']"], "trusted_packages: 'lab/x' is not a package name"),
    "lookalike": (["trusted_packages=[lab]", "model._target_=labx.Model"], "model._target_='labx.Model'"),
}


@pytest.mark.parametrize("name", list(REFUSED))
def test_refused(lab, name):
    overrides, part = REFUSED[name]
    with pytest.raises(ConfigError) as error:
        check_trusted(composed(overrides))
    message = str(error.value)
    assert part in message and "\n" not in message
    if "_target_" in part or "custom" in part:
        assert "trusted_packages" in message
    assert "lab" not in sys.modules  # an untrusted target is never imported


def test_is_trusted_resolves_too():
    from excolor.console import is_trusted

    assert is_trusted("excolor.regularizers.Unitarity") and not is_trusted("optuna.samplers.TPESampler")
    assert is_trusted("optuna.samplers.TPESampler", HYDRA_PACKAGES)
    assert not is_trusted("excolor.config.os.system") and not is_trusted("os.system") and not is_trusted(3)
    assert not is_trusted("excolor.nope.Nothing")
    assert (
        is_trusted("lab.Spread", (*TRUSTED_PACKAGES, "lab")) is False
    )  # not on sys.path here: cannot be found


def test_sweep_override_values_are_checked():
    with pytest.raises(ConfigError, match=r"model._target_='os.getcwd'"):
        check_trusted(composed(), overrides=["model._target_=excolor.model.ColorAutoencoder,os.getcwd"])
    check_trusted(composed(), overrides=["model._target_=excolor.model.ColorAutoencoder", "seed=0,1"])
    with pytest.raises(ConfigError, match="swept over choice"):
        check_trusted(composed(), overrides=["model._target_=interval(0,1)"])


def test_trusted_packages_extend_the_list(lab):
    cfg = composed(
        ["trusted_packages=[lab]", "+regularizers.x._target_=lab.Spread", "+regularizers.x.column=c"]
    )
    assert trusted_packages(cfg) == (*TRUSTED_PACKAGES, "lab")
    check_trusted(cfg)
    check_run_config(cfg)
    # the outside package's own alias to os.system stays refused
    with pytest.raises(ConfigError, match="defined in module"):
        check_trusted(composed(["trusted_packages=[lab]", "+callbacks.x._target_=lab.helper"]))


def test_trusted_packages_reach_hydras_whitelist(lab):
    from hydra.utils import instantiate

    from excolor.console import trusted_targets

    with trusted_targets(trusted_packages(composed(["trusted_packages=[lab]"]))):
        assert type(instantiate({"_target_": "lab.Spread", "column": "c"})).__name__ == "Spread"


# --- the cache key follows outside code -----------------------------------------------------------------


def test_editing_an_outside_module_changes_the_cache_key(lab):
    overrides = ["trusted_packages=[lab]", "+regularizers.x._target_=lab.Spread", "+regularizers.x.column=c"]
    before = training_key(composed(overrides, hydra_config=False), 100, "cpu")
    assert training_key(composed(overrides, hydra_config=False), 100, "cpu") == before
    # a constant in a module the class imports (not the module the target names)
    (lab / "lab" / "constants.py").write_text("SCALE = 2.0\n")
    after = training_key(composed(overrides, hydra_config=False), 100, "cpu")
    assert after != before
    # a module the package never imports does not matter
    (lab / "lab" / "unused.py").write_text("X = 1\n")
    assert training_key(composed(overrides, hydra_config=False), 100, "cpu") == after


def test_static_resolution_agrees_with_importing_across_excolor():
    """Every public name of every excolor module, and torch.optim's and lightning.pytorch's exports:
    where the source settles a path, importing leads to the same module, or to a package above it
    when a library relabels its public classes (`torch.Tensor.__module__` is "torch", its source
    torch/_tensor.py); the standard library's frozen importlib is left out."""
    import pkgutil

    import excolor

    paths = [f"torch.optim.{name}" for name in ("Adam", "AdamW", "SGD", "lr_scheduler.StepLR")]
    paths += [
        f"lightning.pytorch.{name}"
        for name in (
            "Trainer",
            "LightningModule",
            "callbacks.ProgressBar",
            "loggers.CSVLogger",
            "loggers.WandbLogger",
        )
    ]
    for info in pkgutil.walk_packages(excolor.__path__, "excolor."):
        if info.name.endswith("__main__"):
            continue
        module = importlib.import_module(info.name)
        paths += [f"{info.name}.{name}" for name in vars(module) if not name.startswith("_")]
    settled = 0
    for path in paths:
        try:
            static = targets.resolve_static(path)
        except targets.Unresolved:
            continue
        dynamic = targets.resolve_dynamic(path).module
        if dynamic.startswith("_frozen_importlib"):
            continue
        settled += 1
        assert static.module == dynamic or static.module.startswith(dynamic + "."), (
            path,
            static.module,
            dynamic,
        )
    assert settled > 500
