"""``classify``: the integration category of every area and year, from the classification."""

from __future__ import annotations

import argparse
from pathlib import Path

from integration_models.commands import add_limit_argument

NAME = "classify"
HELP = "integration category by area and year (integration.parquet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--areas", type=Path, required=True)
    parser.add_argument("--classification", type=Path, required=True)
    parser.add_argument("--first-year", type=int, required=True)
    parser.add_argument("--last-year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    add_limit_argument(parser)


def run(args: argparse.Namespace) -> None:
    """Write one row per area and year with its category, and the hashes of the files read."""
    from integration_models.atomic import write_parquet
    from integration_models.inputs import reading
    from integration_models.reference import (
        integration_by_area_year,
        load_areas,
        load_classification,
    )

    with reading(args.max_input_mb) as hashes:
        areas = load_areas(args.areas)
        classification = load_classification(args.classification, areas)
    years = list(range(args.first_year, args.last_year + 1))
    integration = integration_by_area_year(classification, areas, years)
    write_parquet(integration, args.out, hashes)
