"""Config plumbing shared by the entry points: where conf/ lives, resolvers, one-line errors."""

from __future__ import annotations

import json
import os
import sys
from contextlib import contextmanager
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


def find_config_error(error: BaseException | None) -> str | None:
    """The ConfigError message behind `error` (hydra's instantiate wraps constructor errors), or None."""
    from excolor.errors import ConfigError

    while error is not None:
        if isinstance(error, ConfigError):
            return str(error)
        error = error.__cause__
    return None


@contextmanager
def config_key(key: str):
    """Name the config key in any ConfigError raised while building it: `regularizers.unit.weight=-1 …`."""
    from excolor.errors import ConfigError

    try:
        yield
    except Exception as error:
        message = find_config_error(error)
        if message is None or message.startswith(key):
            raise
        raise ConfigError(f"{key}.{message}" if "=" in message.split(" ")[0] else f"{key}: {message}") from None


def fail(message: str, code: int = 2) -> None:
    """Print one line to stderr and exit non-zero."""
    print(f"excolor: error: {message}", file=sys.stderr)
    raise SystemExit(code)
