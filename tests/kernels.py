"""The CPU-kernel variables an outside environment may force (excolor.reproducible pins them in the
portable mode), shared by the tests that check a process pins them whatever the environment says."""

from __future__ import annotations

from pathlib import Path

# What an outside environment may force (the variables `reproducible.pin` overrides), all at their fastest here.
FORCED = {"ATEN_CPU_CAPABILITY": "avx2", "MKL_CBWR": "AVX2", "ONEDNN_MAX_CPU_ISA": "AVX2"}


def has_avx2() -> bool:
    try:
        return "avx2" in Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
