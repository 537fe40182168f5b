"""Command line of the package: the Snakemake rules call these subcommands.

Bad input ends the command with one line, ``error: <file>:<line>: <problem>``, and exit status
2, instead of a traceback.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from integration_models.errors import InputError


def _ingest(args: argparse.Namespace) -> None:
    from integration_models.ingest import IngestSettings, build_panel, write_panel
    from integration_models.reference import load_areas, load_classification

    areas = load_areas(args.areas)
    classification = load_classification(args.classification, areas)
    settings = IngestSettings(args.first_year, args.last_year, tuple(args.covid_years))
    panel, exclusions = build_panel(args.raw_dir, areas, classification, settings)
    write_panel(panel, exclusions, args.panel, args.exclusions)
    print(
        f"ingest: {len(panel) + len(exclusions)} rows read, {len(panel)} in the panel, "
        f"{len(exclusions)} excluded",
        file=sys.stderr,
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subcommand per workflow step."""
    parser = argparse.ArgumentParser(prog="integration-models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build panel.parquet and exclusions.csv")
    ingest.add_argument("--raw-dir", type=Path, required=True)
    ingest.add_argument("--areas", type=Path, required=True)
    ingest.add_argument("--classification", type=Path, required=True)
    ingest.add_argument("--first-year", type=int, required=True)
    ingest.add_argument("--last-year", type=int, required=True)
    ingest.add_argument("--covid-years", type=int, nargs="*", default=[])
    ingest.add_argument("--panel", type=Path, required=True)
    ingest.add_argument("--exclusions", type=Path, required=True)
    ingest.set_defaults(run=_ingest)
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
