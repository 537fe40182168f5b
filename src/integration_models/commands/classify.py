"""``classify``: the integration category of every area and year, from the classification."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "classify"
HELP = "integration category by area and year (integration.parquet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--areas", type=Path, required=True)
    parser.add_argument("--classification", type=Path, required=True)
    parser.add_argument("--first-year", type=int, required=True)
    parser.add_argument("--last-year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write one row per area and year with its category."""
    from integration_models.atomic import write_parquet
    from integration_models.reference import (
        integration_by_area_year,
        load_areas,
        load_classification,
    )

    areas = load_areas(args.areas)
    classification = load_classification(args.classification, areas)
    years = list(range(args.first_year, args.last_year + 1))
    write_parquet(integration_by_area_year(classification, areas, years), args.out)
