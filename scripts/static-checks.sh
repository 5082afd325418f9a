#!/usr/bin/env bash
# The static checks, configured in pyproject.toml: ruff (lint and format), basedpyright (types), vulture
# (dead code). Zero findings or a non-zero exit. PYTHON names the environment's interpreter (default:
# the clone's .venv); every tool is run from it, so the checker sees the installed libraries.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-.venv/bin/python}
BIN=$(dirname "$PYTHON")
status=0
run() {
    echo "+ $*"
    "$@" || status=1
}
run "$BIN/ruff" check src tests scripts
run "$BIN/ruff" format --check --output-format concise src tests scripts
run "$BIN/basedpyright" --pythonpath "$PYTHON"
run "$BIN/vulture"
exit $status
