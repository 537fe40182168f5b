"""``ingest``: build panel.parquet and exclusions.csv from the dataset directory."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from integration_models.commands import add_limit_argument, add_panel_arguments

NAME = "ingest"
HELP = "build panel.parquet and exclusions.csv"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--areas", type=Path, required=True)
    parser.add_argument("--classification", type=Path, required=True)
    add_panel_arguments(parser)
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--exclusions", type=Path, required=True)
    add_limit_argument(parser)


def run(args: argparse.Namespace) -> None:
    """Read, validate and write; report the row counts on stderr."""
    from integration_models.data.ingest import IngestSettings, build_panel, write_panel
    from integration_models.data.inputs import reading
    from integration_models.data.reference import load_areas, load_classification

    with reading(args.max_input_mb) as hashes:
        areas = load_areas(args.areas)
        classification = load_classification(args.classification, areas)
        settings = IngestSettings.from_arguments(args)
        panel, exclusions = build_panel(args.raw_dir, areas, classification, settings)
    write_panel(panel, exclusions, args.panel, args.exclusions, hashes)
    print(
        f"ingest: {len(panel) + len(exclusions)} rows read, {len(panel)} in the panel, "
        f"{len(exclusions)} excluded",
        file=sys.stderr,
    )
