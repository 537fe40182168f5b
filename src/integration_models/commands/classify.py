"""``classify``: the exposure of every area, year and kind of period, from the classification."""

from __future__ import annotations

import argparse
from pathlib import Path

from integration_models.commands import add_limit_argument

NAME = "classify"
HELP = "exposure to integration by area, year and kind of period (integration.parquet)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--areas", type=Path, required=True)
    parser.add_argument("--classification", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--first-year", type=int, required=True)
    parser.add_argument("--last-year", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    add_limit_argument(parser)


def run(args: argparse.Namespace) -> None:
    """Write the exposure of every area and year for each kind of period in the registry.

    One row per area, year and ``period_key`` (:func:`integration_models.data.exposure.
    exposure_table`), with the hashes of the files read.
    """
    from integration_models.data.exposure import exposure_table
    from integration_models.data.inputs import reading
    from integration_models.data.reference import load_areas, load_classification
    from integration_models.data.registry import load_registry, period_types
    from integration_models.io import write_parquet

    with reading(args.max_input_mb) as hashes:
        areas = load_areas(args.areas)
        classification = load_classification(args.classification, areas)
        kinds = period_types(load_registry(args.registry))
    years = list(range(args.first_year, args.last_year + 1))
    write_parquet(exposure_table(classification, areas, years, kinds), args.out, hashes)
