"""Config plumbing shared by the entry points: where conf/ lives, resolvers, one-line errors."""

from __future__ import annotations

import inspect
import os
import re
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

from omegaconf import OmegaConf

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"


def _version_base() -> dict:
    """`version_base="1.3"` for Hydra 1.3 (which warns when it is missing); nothing for Hydra ≥ 1.4
    (which warns when it is given): pass as `**VERSION_BASE` to hydra.main / initialize_config_dir."""
    from importlib.metadata import version

    major, minor = (int(part) for part in version("hydra-core").split(".")[:2])
    return {} if (major, minor) >= (1, 4) else {"version_base": "1.3"}


VERSION_BASE = _version_base()


def _register_resolver(name: str, resolver) -> None:
    """OmegaConf ≥ 2.4 names the resolver API `register_resolver` (and warns on the old name); before
    2.4 `register_resolver` is the legacy string-only API and `register_new_resolver` the right one."""
    if "annotation_validation" in inspect.signature(OmegaConf.register_resolver).parameters:
        OmegaConf.register_resolver(name, resolver)
    else:
        OmegaConf.register_new_resolver(name, resolver)


if not OmegaConf.has_resolver("excolor_conf"):
    # `${excolor_conf:schedule/x.csv}`: a file shipped in conf/, whatever the working directory.
    _register_resolver("excolor_conf", lambda relative: str(CONF_DIR / relative))


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
        raise ConfigError(
            f"{key}.{message}" if "=" in message.split(" ")[0] else f"{key}: {message}"
        ) from None


def fail(message: str, code: int = 2) -> NoReturn:
    """Print one line to stderr and exit non-zero."""
    print(f"excolor: error: {message}", file=sys.stderr)
    raise SystemExit(code)


# --- the entry points' wrapper: Hydra's composition errors and every check before Hydra runs ----------

_MISSING_OPTION = re.compile(r"Could not find '(?P<group>[^']+)/(?P<option>[^'/]+)'")
_UNKNOWN_KEY = re.compile(r"Could not (?:override|append to|delete from config)[^']*'(?P<key>[^']+)'")
_TWICE = re.compile(r"^(?P<group>\S+) appears more than once in the final defaults list")
_AMBIGUOUS = re.compile(r"Ambiguous value for argument '(?P<key>[^=']+)=(?P<value>[^']*)'")


def _options(message: str) -> list[str]:
    """The lines after "Available options in '…':" in Hydra's message (up to the search path)."""
    lines = message.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith("Available options")), None)
    if start is None:
        return []
    options = []
    for line in lines[start + 1 :]:
        if not line.startswith("\t") and not line.startswith("  "):
            break
        options.append(line.strip())
    return options


def _bad_override(overrides: list[str]) -> str | None:
    """The first override that does not parse, as `<key>: bad override syntax …`."""
    from hydra.core.override_parser.overrides_parser import OverridesParser

    parser = OverridesParser.create()
    for override in overrides:
        try:
            parser.parse_overrides([override])
        except Exception as error:
            key = override.split("=", 1)[0].lstrip("+~") or override
            reason = str(error).splitlines()[0]
            return f"{key}: bad override syntax in {override!r}: {reason}"
    return None


def composition_error(error: BaseException, overrides: list[str]) -> str | None:
    """One line `<key>: …` for an error Hydra raised while composing the config, or None when it is
    not a composition error. Names the key and, for a config group, its valid options."""
    from hydra.errors import HydraException, OverrideParseException
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(error, (HydraException, OmegaConfBaseException)):
        return None
    message = str(error)
    if isinstance(error, OverrideParseException):
        return _bad_override(overrides) or f"bad override syntax: {message.splitlines()[0]}"
    if match := _MISSING_OPTION.search(message):
        group, option = match["group"], match["option"]
        options = _options(message)
        valid = f" (valid options: {', '.join(options)})" if options else ""
        return f"{group.replace('/', '.')}: no option {option!r}{valid}"
    if match := _UNKNOWN_KEY.search(message):
        key = match["key"].lstrip("+~")
        return f"{key}: no such key (to add one, write +{key}=…)"
    if match := _TWICE.search(message):
        return f"{match['group']}: chosen twice (a group is chosen with {match['group']}=…, without '+')"
    if match := _AMBIGUOUS.search(message):
        return f"{match['key']}={match['value']}: a list of values is a sweep (add -m), or write [{match['value']}] for a list"
    key = getattr(error, "full_key", None)
    first = message.strip().splitlines()[0] if message.strip() else type(error).__name__
    return f"{key}: {first}" if key else first


def compose_config(config_name: str, overrides: list[str]):
    """Compose conf/<config_name>.yaml with `overrides` (and the hydra node), as Hydra would."""
    from hydra import compose, initialize_config_dir

    with initialize_config_dir(config_dir=str(CONF_DIR), **VERSION_BASE):
        return compose(config_name=config_name, overrides=overrides, return_hydra_config=True)


def checked_main(hydra_main, config_name: str, check, argv: list[str] | None = None):
    """Run the @hydra.main function `hydra_main` after composing its config here and calling
    `check(cfg, multirun)` on it: any bad input, Hydra's composition errors included, stops with one
    line `excolor: error: <key>: …` and exit 2, before Hydra creates an output directory.

    Hydra's own flags (--help, --cfg, --info, …) go straight to Hydra. In a multirun the sweep
    overrides (`seed=0,1`, `range(…)`) are left out of the check; each trial is checked again in the
    task (a sweep over a `…_target_` key has each of its values checked here too). HYDRA_FULL_ERROR=1 (Hydra's switch for full tracebacks) lets composition errors through
    with their traceback, for debugging.
    """
    from hydra._internal.utils import get_args_parser

    from excolor.errors import ConfigError

    argv = sys.argv[1:] if argv is None else argv
    args, unknown = get_args_parser().parse_known_args(argv)
    passthrough = (
        args.help,
        args.hydra_help,
        args.cfg,
        args.info,
        args.shell_completion,
        args.config_path,
        args.config_name,
        args.config_dir,
        getattr(args, "experimental_rerun", None),
        unknown,
    )
    if any(passthrough):
        modes = [
            flag
            for flag, given in (
                ("--multirun", args.multirun),
                ("--cfg", args.cfg),
                ("--info", args.info),
                ("--shell-completion", args.shell_completion),
            )
            if given
        ]
        if len(modes) > 1:  # Hydra's own answer is a traceback
            fail(f"{' and '.join(modes)} cannot be used together")
        return hydra_main()
    overrides = list(args.overrides)
    sweeps: list[str] = []
    full_error = os.environ.get("HYDRA_FULL_ERROR") == "1"
    try:
        if args.multirun:
            from hydra.core.override_parser.overrides_parser import OverridesParser

            parsed = OverridesParser.create().parse_overrides(overrides)
            lines = [(o.input_line, o.is_sweep_override()) for o in parsed]
            # the parser keeps each override's own text (input_line is None only for a hand-built one)
            overrides = [line for line, sweep in lines if line is not None and not sweep]
            sweeps = [line for line, sweep in lines if line is not None and sweep]
        cfg = compose_config(config_name, overrides)
    except Exception as error:
        message = None if full_error else composition_error(error, overrides)
        if message is None:
            raise
        fail(message)
    try:
        check(cfg, bool(args.multirun))
        if sweeps:  # every value a sweep may give a `…_target_` key is trusted too (excolor.console)
            from excolor.console import check_trusted, trusted_packages

            check_trusted({}, trusted_packages(cfg), overrides=sweeps)
    except ConfigError as error:
        fail(str(error))
    return hydra_main()
