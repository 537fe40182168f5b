"""``forest-figure``: draw the forest plot of the integration estimates of every indicator.

It reads only the coefficient tables, so it waits for the fits and nothing else, and draws the
models of :data:`integration_models.plots.FOREST_MODELS` (``estimators-figure`` sets every
difference-in-differences estimator beside twfe for the primary outcomes); the trends
figure (``trends-figure``) reads only the panel, the two figures of each indicator are drawn
by the workflow's per-indicator job (:mod:`integration_models.plots.indicator`), the power
figure by ``power-figure``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "forest-figure"
HELP = "draw the forest plot from the coefficient tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument("--model-fit", type=Path, required=True, help="model_fit.csv")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True, help="target path without suffix")


def run(args: argparse.Namespace) -> None:
    """Draw the figure as ``--out`` .png and .svg, marked if the data are synthetic."""
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plots import FOREST_MODELS
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.forest import plot_forest
    from integration_models.results.schemas import read_table

    registry = load_registry(args.registry)
    coefficients = pd.read_parquet(args.coefficients)
    coefficients = coefficients[coefficients["model"].isin(FOREST_MODELS)]
    with synthetic_figures(is_synthetic(registry)):
        plot_forest(coefficients, read_table(args.model_fit), registry, args.out)
