"""Config plumbing shared by the entry points: where conf/ lives, resolvers, one-line errors."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from omegaconf import OmegaConf

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"

if not OmegaConf.has_resolver("excolor_conf"):
    # `${excolor_conf:schedule/x.csv}`: a file shipped in conf/, whatever the working directory.
    OmegaConf.register_new_resolver("excolor_conf", lambda relative: str(CONF_DIR / relative))


def write_json(path: Path, payload: dict) -> None:
    """Write JSON atomically (temp file + rename): a killed process never leaves half a file."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    os.replace(tmp, path)


def fail(message: str, code: int = 2) -> None:
    """Print one line to stderr and exit non-zero."""
    print(f"excolor: error: {message}", file=sys.stderr)
    raise SystemExit(code)
