"""Command line of the package: the Snakemake rules call these subcommands.

Each subcommand lives in its own module of :mod:`integration_models.commands`. Bad input ends
the command with one line, ``error: <file>:<line>: <problem>``, and exit status 2, instead of a
traceback.
"""

from __future__ import annotations

import argparse
import os
import sys

from integration_models.commands import (
    classify,
    data_summary,
    design_checks,
    diagnostics,
    estimators_figure,
    forest_figure,
    headline,
    inference,
    ingest,
    ingest_indicator,
    panel,
    power_figure,
    provenance,
    report,
    scotland,
    sensitivity,
    size,
    synthetic_control,
    tables,
    trends_figure,
)
from integration_models.errors import InputError

COMMANDS = (
    ingest,
    ingest_indicator,
    classify,
    panel,
    data_summary,
    tables,
    inference,
    size,
    headline,
    sensitivity,
    trends_figure,
    forest_figure,
    estimators_figure,
    power_figure,
    provenance,
    report,
    scotland,
    diagnostics,
    synthetic_control,
    design_checks,
)

# One BLAS thread: results must not depend on thread scheduling (byte-identical tables).
# Set before numpy is first imported, which happens inside the subcommands.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subcommand per workflow step."""
    parser = argparse.ArgumentParser(prog="integration-models", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        sub = subcommands.add_parser(command.NAME, help=command.HELP)
        command.add_arguments(sub)
        sub.set_defaults(run=command.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return the exit status (0 success, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
