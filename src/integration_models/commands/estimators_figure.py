"""``estimators-figure``: every estimator's integration effects side by side, per primary outcome.

It reads the coefficient tables (so it waits for the fits and nothing else), the registry and
the analysis plan, whose primary outcomes it draws (:mod:`integration_models.plots.estimators`).
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "estimators-figure"
HELP = "draw every estimator's integration effects for the primary outcomes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument("--model-fit", type=Path, required=True, help="model_fit.csv")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="the analysis plan")
    parser.add_argument("--out", type=Path, required=True, help="target path without suffix")


def run(args: argparse.Namespace) -> None:
    """Draw the figure as ``--out`` .png and .svg, marked if the data are synthetic."""
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.estimators import plot_estimators
    from integration_models.results.schemas import read_table

    registry = load_registry(args.registry)
    outcomes = load_plan(args.plan).primary_outcomes(registry)
    coefficients = pd.read_parquet(args.coefficients)
    with synthetic_figures(is_synthetic(registry)):
        plot_estimators(coefficients, read_table(args.model_fit), registry, outcomes, args.out)
