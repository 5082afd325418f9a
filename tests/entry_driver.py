"""Run many bad-input cases through the real entry points in ONE interpreter (the tests' driver).

    python tests/entry_driver.py '{"case": ["excolor.train", ["seed=abc"]], …}' results.json

Each case runs its module as `__main__` (what `python -m module` does) with sys.argv set, its stderr
captured: a case then costs a config composition rather than a fresh interpreter (~4 s of imports).
Writes {case: {"returncode": …, "stderr": …}}; a traceback is the case's stderr with code 1.
"""

import contextlib
import io
import json
import runpy
import sys
import traceback


def run_cases(cases: dict[str, list]) -> dict[str, dict]:
    results = {}
    for name, (module, argv) in cases.items():
        err = io.StringIO()
        code = 0
        sys.argv = [module, *argv]
        with contextlib.redirect_stderr(err):
            try:
                runpy.run_module(module, run_name="__main__", alter_sys=True)
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else (0 if exit.code is None else 1)
            except BaseException:  # noqa: BLE001 - a traceback is what the tests look for
                traceback.print_exc()
                code = 1
        results[name] = {"returncode": code, "stderr": err.getvalue()}
    return results


if __name__ == "__main__":
    with open(sys.argv[2], "w") as handle:
        json.dump(run_cases(json.loads(sys.argv[1])), handle)
