"""``sensitivity``: join the per-indicator sensitivity rows, adjust them, summarise and draw."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sensitivity"
HELP = "join each indicator's sensitivity rows; adjust, summarise and draw them"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument(
        "--parts", type=Path, nargs="+", required=True, help="per-indicator sensitivity rows"
    )
    parser.add_argument(
        "--plan", type=Path, required=True, help="analysis_plan.yaml: the conclusions' level"
    )
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--figure-stem", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write the variant table, its per-variant summary and the figure."""
    import pandas as pd

    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.sensitivity import plot_sensitivity
    from integration_models.results.sensitivity import (
        combine_sensitivity,
        conclusion_summary,
    )
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    plan = load_plan(args.plan)
    registry = load_registry(args.registry)
    parts = [pd.read_parquet(path) for path in args.parts]
    table = combine_sensitivity(parts, plan.alpha, plan.families_of(registry))
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(table), args.table)
    write_csv(stamp.apply(conclusion_summary(table)), args.summary)
    with synthetic_figures(is_synthetic(registry)):
        plot_sensitivity(table, registry, args.figure_stem)
