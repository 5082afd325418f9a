"""The dispatch table's rows and counts (excolor.dispatch_matrix), without running trainings."""

from __future__ import annotations

from excolor import dispatch_matrix as dm
from excolor.run_record import DISPATCH_ATEN, DISPATCH_MKL, DISPATCH_ONEDNN, TRAIN_SECONDS


def test_cpu_flags_and_choices():
    flags = dm.cpu_flags("processor\t: 0\nflags\t\t: fpu sse4_1 avx avx2 fma\nbugs\t: none\n")
    assert flags == {"fpu", "sse4_1", "avx", "avx2", "fma"}
    assert dm.choices(flags) == {
        dm.ATEN: ["unset", "default", "avx2"],
        dm.MKL: ["unset", "COMPATIBLE", "AVX2"],
        dm.ONEDNN: ["unset", "SSE41", "AVX2"],
    }
    avx512 = dm.choices(flags | {"avx512f", "avx512bw", "avx512vl", "avx512dq"})
    assert avx512[dm.ATEN][-1] == "avx512" and avx512[dm.ONEDNN][-1] == "AVX512_CORE"
    assert dm.cpu_flags("no flags here") == set()


def test_combinations_of_each_design():
    values = {
        dm.ATEN: ["unset", "default"],
        dm.MKL: ["unset", "COMPATIBLE", "AVX2"],
        dm.ONEDNN: ["unset", "SSE41"],
    }
    rows = dm.combinations(values, "grid")
    assert len(rows) == 2 * 3 + 1 and rows[-1] == {dm.ATEN: "unset", dm.MKL: "unset", dm.ONEDNN: "SSE41"}
    assert len(dm.combinations(values, "full")) == 2 * 3 * 2
    each = dm.combinations(values, "each")
    assert each[0] == dict.fromkeys(dm.VARIABLES, "unset") and len(each) == 1 + 1 + 2 + 1 + 2
    assert each[1] == {dm.ATEN: "default", dm.MKL: "unset", dm.ONEDNN: "unset"}
    assert each[-2:] == [
        {dm.ATEN: "default", dm.MKL: "COMPATIBLE", dm.ONEDNN: "SSE41"},
        {dm.ATEN: "default", dm.MKL: "AVX2", dm.ONEDNN: "SSE41"},
    ]


def metrics(recon: float, seconds: float, aten: str = "AVX512") -> dict:
    return {
        "train/recon": recon,
        "eval/none/median_mse": recon / 2,
        TRAIN_SECONDS: seconds,
        DISPATCH_ATEN: aten,
        DISPATCH_MKL: "OFF",
        DISPATCH_ONEDNN: "unset",
    }


def test_table_counts_distinct_results_ignoring_timings():
    forced = {dm.ATEN: "unset", dm.MKL: "unset", dm.ONEDNN: "unset"}
    rows = [
        {"forced": forced, "native": metrics(1e-5, 10.0), "portable": metrics(2e-5, 11.0, "DEFAULT")},
        {
            "forced": {**forced, dm.ATEN: "default"},
            "native": metrics(1.5e-5, 9.0, "DEFAULT"),
            "portable": metrics(2e-5, 12.0, "DEFAULT"),
        },
    ]
    rows.append(
        {
            "forced": {**forced, dm.ATEN: "avx2"},
            "native": metrics(1e-5, 8.0, "AVX2"),  # same numbers, other kernels
            "portable": metrics(2e-5, 10.0, "DEFAULT"),
        }
    )
    lines = dm.table(rows).splitlines()
    assert lines[2] == "| unset | unset | unset | AVX512 · OFF · unset | 1e-05 | 5e-06 | 2e-05 | 1e-05 |"
    assert lines[-1].startswith("3 forced settings: native gave **2** different results, portable **1**")
