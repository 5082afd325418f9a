"""Which CPU kernels a run's arithmetic goes through, pinned (`reproducible=portable`) or the machine's
own (`reproducible=native`).

Torch picks a vectorised kernel for the CPU it runs on, at three places, and the kernels round
differently in the last place; 3,001 training steps amplify that into different metrics (the README's
dispatch table: four different default runs on one AVX-512 machine). `portable` pins all three, so a
run's metrics are bit-identical on any x86-64 CPU with SSE4.1 and the same library versions:

- ATen's CPU capability (`ATEN_CPU_CAPABILITY=default`: the plain x86-64 kernels, no AVX/AVX2/AVX-512;
  elementwise math, the normal sampler, reductions, Adam);
- MKL's conditional numerical reproducibility (`MKL_CBWR=COMPATIBLE`: the code path MKL keeps the
  same on every x86 CPU, Intel or not; the GEMMs of the linear layers);
- oneDNN's instruction set (`ONEDNN_MAX_CPU_ISA=SSE41`, and its older name `DNNL_MAX_CPU_ISA`: torch
  2.13 runs `GELU` through oneDNN's JIT eltwise kernel, whose AVX2/AVX-512 versions use FMA).

Each library reads its variable once, when it first runs a kernel, so `pin` sets them before torch
is imported. Checked on this machine and left alone: glibc's libm variants
(`GLIBC_TUNABLES=glibc.cpu.hwcaps=-AVX2,-FMA,…`) and numpy's SIMD dispatch (`NPY_DISABLE_CPU_FEATURES`)
do not change a portable run's metrics. The thread count is part of the config (`threads`), so it is
the same wherever the config is.

`native` leaves the dispatch as it is (the machine's fastest, or whatever the environment forces).
`dispatch()` reads what torch actually uses; metrics.json records it (`excolor.run_record.DISPATCH`).
"""

from __future__ import annotations

import ctypes
import os
import sys
from pathlib import Path

from excolor.errors import ConfigError
from excolor.run_record import DISPATCH_ATEN, DISPATCH_MKL, DISPATCH_MODE, DISPATCH_ONEDNN

PORTABLE = "portable"
NATIVE = "native"
MODES = (PORTABLE, NATIVE)
# Set before torch is imported: every CPU-dependent dispatch torch's CPU kernels go through.
PORTABLE_ENV = {
    "ATEN_CPU_CAPABILITY": "default",
    "MKL_CBWR": "COMPATIBLE",
    "ONEDNN_MAX_CPU_ISA": "SSE41",
    "DNNL_MAX_CPU_ISA": "SSE41",
}
# What `dispatch()` must read in a portable process.
PORTABLE_DISPATCH = {DISPATCH_ATEN: "DEFAULT", DISPATCH_MKL: "COMPATIBLE", DISPATCH_ONEDNN: "SSE41"}
# MKL's branch numbers (mkl_cbwr.h) as mkl_cbwr_get(MKL_CBWR_BRANCH) answers them.
MKL_BRANCHES = {
    1: "OFF",
    2: "AUTO",
    3: "COMPATIBLE",
    4: "SSE2",
    6: "SSSE3",
    7: "SSE4_1",
    8: "SSE4_2",
    9: "AVX",
    10: "AVX2",
    11: "AVX512_MIC",
    12: "AVX512",
    13: "AVX512_MIC_E1",
    14: "AVX512_E1",
}
MKL_CBWR_BRANCH = 1
UNSET = "unset"

_pinned: str | None = None  # the mode `pin` set up in this process, once torch got imported under it


def check_mode(mode: object) -> str:
    """`reproducible` is one of MODES."""
    if mode not in MODES:
        raise ConfigError(f"reproducible={mode!r} must be one of {', '.join(MODES)}")
    return str(mode)


def pin(mode: str) -> None:
    """Make this process run torch's CPU kernels as `mode` says; call before importing torch.

    portable: sets PORTABLE_ENV (overriding what the environment forced). If torch is already
    imported, its dispatch is read instead, and a process that runs other kernels is refused with one
    line (ConfigError): a second trial in one process cannot change what the first one started.
    native: changes nothing, but is refused in a process that `pin` made portable.
    """
    global _pinned
    check_mode(mode)
    if "torch" not in sys.modules:
        if mode == PORTABLE:
            os.environ.update(PORTABLE_ENV)
            _pinned = PORTABLE
        return
    if mode == NATIVE:
        if _pinned == PORTABLE:
            raise ConfigError(
                "reproducible=native: this process already runs torch with the portable kernels "
                "(a fresh process runs the native ones)"
            )
        return
    used = dispatch()
    wrong = {key: value for key, value in PORTABLE_DISPATCH.items() if used[key] != value}
    if wrong:
        found = ", ".join(f"{key.split('/')[1]} {value}" for key, value in wrong.items())
        raise ConfigError(
            f"reproducible=portable: torch was imported in this process before the kernels were "
            f"pinned ({found}); run it in a fresh process"
        )


def dispatch(mode: str | None = None) -> dict[str, str]:
    """The kernels torch runs in this process (torch must be imported): ATen's CPU capability as
    torch reports it, MKL's CBWR branch as MKL reports it, oneDNN's ISA cap as set in the environment
    (oneDNN has no query for it), plus `mode` under DISPATCH_MODE when given."""
    import torch

    record = {
        DISPATCH_ATEN: torch.backends.cpu.get_cpu_capability(),
        DISPATCH_MKL: mkl_branch(),
        DISPATCH_ONEDNN: os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or UNSET,
    }
    return record if mode is None else {DISPATCH_MODE: mode, **record}


def mkl_branch() -> str:
    """MKL's CBWR branch in effect (OFF: nothing forced), read from the MKL torch links; `unknown`
    where torch has no MKL with that call."""
    import torch

    try:
        library = ctypes.CDLL(str(Path(torch.__file__).parent / "lib" / "libtorch_cpu.so"))
        branch = int(library.mkl_serv_cbwr_get(MKL_CBWR_BRANCH))
    except (OSError, AttributeError):
        return "unknown"
    return MKL_BRANCHES.get(branch, str(branch))
