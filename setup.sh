#!/usr/bin/env bash
# Create .venv and install excolor with everything it needs (tests and profiler included).
# TORCH_SPEC picks the torch build: the default is the CPU wheel this project is tested with; on a
# CUDA machine use e.g. TORCH_SPEC="torch" (or install your torch into .venv first).
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch first: with torch already present, the project's open torch range installs nothing more.
.venv/bin/python -m pip install --quiet "${TORCH_SPEC:-torch==2.13.0}"
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "excolor installed in .venv"
