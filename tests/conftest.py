"""Tests build configs with `hydra.utils.instantiate` as the entry points do: inside the same trusted-
target whitelist (`excolor.console.trusted_targets`), so Hydra ≥ 1.4 neither warns nor refuses.

The suite runs torch's portable CPU kernels (`excolor.reproducible.PORTABLE_ENV`), set here before any
test module imports torch: a reference computed in this process (a plain loop, a `train(cfg)` call)
uses the kernels of the runs it is compared with, and every subprocess inherits them."""

import os
from collections import Counter

import pytest

from excolor.console import trusted_targets
from excolor.reproducible import PORTABLE_ENV

os.environ.update(PORTABLE_ENV)


@pytest.fixture(autouse=True)
def _trusted_targets():
    with trusted_targets():
        yield


@pytest.fixture(scope="session")
def fake_srun_dir(tmp_path_factory):
    """A directory holding a stand-in for SLURM's `srun` (runs its arguments), to put first on PATH: every
    run must stay quiet on a host where srun exists (a cluster's login node, or inside a job)."""
    directory = tmp_path_factory.mktemp("fake-slurm-bin")
    srun = directory / "srun"
    srun.write_text('#!/bin/sh\nexec "$@"\n')
    srun.chmod(0o755)
    return directory


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Files with the most `slow` tests first, the rest after them in their own order (a stable sort:
    the order inside a file stays). With the files run in parallel (pytest-xdist `--dist loadfile
    --no-loadscope-reorder`), the long files start at once and the short ones fill in around them."""
    slow = Counter(item.nodeid.split("::")[0] for item in items if item.get_closest_marker("slow"))
    items.sort(key=lambda item: -slow[item.nodeid.split("::")[0]])
