"""``ingest-indicator``: read one indicator's values files (observations and exclusions)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from integration_models.commands import add_limit_argument, add_panel_arguments

NAME = "ingest-indicator"
HELP = "ingest one indicator: its observations (without integration) and exclusions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--raw-dir", type=Path, required=True)
    parser.add_argument("--indicator", required=True)
    parser.add_argument("--areas", type=Path, required=True)
    add_panel_arguments(parser)
    parser.add_argument("--observations", type=Path, required=True)
    parser.add_argument("--exclusions", type=Path, required=True)
    add_limit_argument(parser)


def run(args: argparse.Namespace) -> None:
    """Read, validate and write one indicator; report the row counts on stderr.

    The hashes of the files read (registry, covariates, areas, the indicator's values files)
    go into the observations' Parquet metadata.
    """
    from integration_models.data.identifiers import is_indicator_id
    from integration_models.data.ingest import IngestSettings, ingest_indicator, open_dataset
    from integration_models.data.inputs import reading
    from integration_models.data.reference import load_areas
    from integration_models.errors import InputError
    from integration_models.io import write_parquet

    if not is_indicator_id(args.indicator):
        raise InputError("--indicator", f"not a valid indicator id: {args.indicator!r}")
    settings = IngestSettings.from_arguments(args)
    with reading(args.max_input_mb) as hashes:
        dataset = open_dataset(args.raw_dir, load_areas(args.areas), settings)
        observations, exclusions = ingest_indicator(dataset, args.indicator)
    write_parquet(observations, args.observations, hashes)
    write_parquet(exclusions, args.exclusions)
    print(
        f"ingest {args.indicator}: {len(observations) + len(exclusions)} rows read, "
        f"{len(observations)} kept, {len(exclusions)} excluded",
        file=sys.stderr,
    )
