"""``figures``: draw the overview figures (trends, forest) that span all indicators.

The two figures of each indicator are drawn by the workflow's per-indicator job
(:mod:`integration_models.plots.indicator`) from that indicator's fit files only, the power
figure by ``power-figure`` from ``power.csv``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "figures"
HELP = "draw the trends and forest figures from the panel and the coefficient tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True, help="the panel (trends)")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument("--model-fit", type=Path, required=True, help="model_fit.csv")
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Draw ``trends`` and ``forest`` into ``--out-dir``, marked if the data are synthetic."""
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plots import LINEAR_MODELS
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.forest import plot_forest
    from integration_models.plots.trends import plot_trends
    from integration_models.results.schemas import read_table

    registry = load_registry(args.registry)
    coefficients = pd.read_parquet(args.coefficients)
    coefficients = coefficients[coefficients["model"].isin(LINEAR_MODELS)]
    with synthetic_figures(is_synthetic(registry)):
        plot_trends(pd.read_parquet(args.panel), registry, args.out_dir / "trends")
        plot_forest(coefficients, read_table(args.model_fit), registry, args.out_dir / "forest")
