"""``power-figure``: draw the minimum detectable effects from ``power.csv``."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "power-figure"
HELP = "draw the minimum detectable effects figure from the power table"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--table", type=Path, required=True, help="power.csv")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="target path without suffix")


def run(args: argparse.Namespace) -> None:
    """Draw the figure as ``--out`` .png and .svg, marked if the data are synthetic."""
    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.power import plot_power
    from integration_models.results.schemas import read_table

    registry = load_registry(args.registry)
    with synthetic_figures(is_synthetic(registry)):
        plot_power(read_table(args.table), registry, args.out)
