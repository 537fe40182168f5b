"""``diagnostics``: join each indicator's TWFE diagnostics and HonestDiD rows, draw the figures."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "diagnostics"
HELP = "join the TWFE weight diagnostics, Bacon decompositions and HonestDiD bounds"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--parts", type=Path, nargs="+", required=True, help="per-indicator JSON")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out-dir", type=Path, required=True, help="folder of the tables")
    parser.add_argument("--figure-dir", type=Path, required=True, help="folder of the figures")


def run(args: argparse.Namespace) -> None:
    """Write twfe_diagnostics, bacon, honest_did and honest_did_breakdown (CSV), two figures.

    The work ran per indicator (:mod:`integration_models.diagnostics.job`); this step only
    concatenates the parts in registry order, stamps them and draws them.
    """
    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.diagnostics.tables import combine
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.diagnostics import plot_honest_did, plot_twfe_weights
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    tables = combine(args.parts)
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    for name, table in tables.items():
        write_csv(stamp.apply(table), args.out_dir / f"{name}.csv")
    with synthetic_figures(is_synthetic(load_registry(args.registry))):
        plot_twfe_weights(tables["twfe_diagnostics"], args.figure_dir / "twfe_weights")
        plot_honest_did(tables["honest_did_breakdown"], args.figure_dir / "honest_did")
