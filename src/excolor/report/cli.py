"""``python -m excolor.report``: the report's command line (usage: the package docstring).
Bad input is one line ``excolor: error: …`` on stderr and exit code 2."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from excolor.errors import ConfigError
from excolor.report.build import build_optuna_report, build_report
from excolor.report.errors import ReportError


def main(argv: list[str] | None = None) -> int:
    """The CLI (see the package docstring); returns the exit code."""
    parser = argparse.ArgumentParser(
        prog="python -m excolor.report",
        description="Write report.md, summary.json and plots for a Hydra "
        "multirun sweep dir or an Optuna storage URL.",
    )
    parser.add_argument(
        "source",
        help="sweep dir (with multirun.yaml and trial subdirs), a journal file, or an "
        "optuna storage URL such as sqlite:///optuna.db",
    )
    parser.add_argument("--study", help="study name (storage URL only; default: the only study)")
    parser.add_argument("--out", help="output dir (default: the sweep dir, or the cwd for a storage URL)")
    args = parser.parse_args(argv)
    try:
        if "://" in args.source or Path(args.source).is_file():
            path = build_optuna_report(args.source, args.study, args.out)
        else:
            if args.study:
                raise ReportError("--study only applies to a storage URL")
            path = build_report(args.source, args.out)
    except (ReportError, ConfigError) as error:
        print(f"excolor: error: {error}", file=sys.stderr)
        return 2
    print(path)
    return 0
