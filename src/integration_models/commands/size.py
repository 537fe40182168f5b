"""``size``: join each indicator's size-diagnostic rows into size.csv and draw the figure."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "size"
HELP = "join each indicator's simulated rejection rates (size.csv) and draw them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument(
        "--parts", type=Path, nargs="+", required=True, help="per-indicator size rows"
    )
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--figure-stem", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write size.csv and figures/size.png/.svg.

    The simulation ran per indicator in the ``analyse`` jobs
    (:func:`integration_models.inference.size.indicator_size_rows`); this step only
    concatenates the parts in registry order, stamps them and draws them, so it reads no
    panel rows (the panel only for the stamp's input hashes).
    """
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.inference.size import combine_size
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.size import plot_size
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    table = combine_size([pd.read_parquet(path) for path in args.parts])
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(table), args.out)
    with synthetic_figures(is_synthetic(load_registry(args.registry))):
        plot_size(table, args.figure_stem, alpha=args.alpha)
