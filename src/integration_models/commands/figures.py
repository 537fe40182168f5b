"""``figures``: draw the figures that span all indicators (overview, power) from the tables.

The two figures of each indicator are drawn by the workflow's per-indicator job instead
(:mod:`integration_models.plots.indicator`), from that indicator's fit files only.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from integration_models.errors import InputError

NAME = "figures"
HELP = "draw the overview (trends, forest) or the power figure from the tables"
NEEDS = {  # figure batch -> the options it reads
    "overview": ("panel", "coefficients", "model_fit"),
    "power": ("table",),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--which", choices=list(NEEDS), required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument("--panel", type=Path, help="the panel ('overview': trends)")
    parser.add_argument(
        "--coefficients", type=Path, help="coefficients.parquet ('overview': forest)"
    )
    parser.add_argument("--model-fit", type=Path, help="model_fit.csv ('overview': forest)")
    parser.add_argument("--table", type=Path, help="power.csv ('power')")


def run(args: argparse.Namespace) -> None:
    """Draw the batch named by ``--which`` into ``--out-dir``, marked if the data are synthetic.

    Only the files the batch needs are read; one it needs and was not given is an error.
    """
    import pandas as pd

    from integration_models.plots import LINEAR_MODELS
    from integration_models.plots.base import synthetic_figures
    from integration_models.registry import is_synthetic, load_registry
    from integration_models.schemas import read_table

    missing = [key for key in NEEDS[args.which] if getattr(args, key) is None]
    if missing:
        options = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise InputError("--which", f"'{args.which}' needs {options}")
    registry = load_registry(args.registry)
    out = args.out_dir
    with synthetic_figures(is_synthetic(registry)):
        if args.which == "overview":
            from integration_models.plots.forest import plot_forest
            from integration_models.plots.trends import plot_trends

            coefficients = pd.read_parquet(args.coefficients)
            coefficients = coefficients[coefficients["model"].isin(LINEAR_MODELS)]
            plot_trends(pd.read_parquet(args.panel), registry, out / "trends")
            plot_forest(coefficients, read_table(args.model_fit), registry, out / "forest")
        else:
            from integration_models.plots.power import plot_power

            plot_power(read_table(args.table), registry, out / "power")
