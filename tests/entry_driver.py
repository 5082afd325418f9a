"""Run many bad-input cases through the real entry points in ONE interpreter (the tests' driver).

    python tests/entry_driver.py '{"case": ["excolor.train", ["seed=abc"]], …}' results.json

Each case runs its module as `__main__` (what `python -m module` does, `inprocess.run_module`): a case
then costs a config composition rather than a fresh interpreter (~4 s of imports).
Writes {case: {"returncode": …, "stdout": …, "stderr": …}}; a traceback is the case's stderr with code 1.
"""

import json
import sys

from inprocess import run_cases

if __name__ == "__main__":
    with open(sys.argv[2], "w") as handle:
        json.dump(run_cases(json.loads(sys.argv[1])), handle)
