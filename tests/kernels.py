"""The CPU-kernel variables an outside environment may force (excolor.reproducible pins them in the
portable mode), shared by the tests that check a process pins them whatever the environment says."""

from __future__ import annotations

import os
from pathlib import Path

from excolor.reproducible import PORTABLE_ENV

# What an outside environment may force (the variables `reproducible.pin` overrides), all at their fastest here.
FORCED = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def forced_env(**forced: str) -> dict[str, str]:
    """This process's environment without the dispatch variables the suite's conftest sets (the portable
    ones), plus `forced`: what a process started from an outside shell would see."""
    return {**{key: value for key, value in os.environ.items() if key not in PORTABLE_ENV}, **forced}


def has_avx2() -> bool:
    try:
        return "avx2" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
