"""``trends-figure``: draw every indicator's mean by integration category and year.

It reads only the panel, so after a data update it starts as soon as the panel is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "trends-figure"
HELP = "draw the trends figure from the panel"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="target path without suffix")


def run(args: argparse.Namespace) -> None:
    """Draw the figure as ``--out`` .png and .svg, marked if the data are synthetic."""
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.trends import plot_trends

    registry = load_registry(args.registry)
    with synthetic_figures(is_synthetic(registry)):
        plot_trends(pd.read_parquet(args.panel), registry, args.out)
