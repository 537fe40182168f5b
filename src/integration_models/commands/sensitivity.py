"""``sensitivity``: the headline twfe integration estimates under every sensitivity variant."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "sensitivity"
HELP = "rerun the twfe integration estimates under each sensitivity variant"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--fits", type=Path, nargs="+", required=True, help="twfe fit files")
    parser.add_argument("--areas", type=Path, required=True)
    parser.add_argument("--scenarios", type=Path, nargs="*", default=[])
    parser.add_argument("--scales-json", required=True)
    parser.add_argument("--overrides-json", required=True)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--table", type=Path, required=True)
    parser.add_argument("--summary", type=Path, required=True)
    parser.add_argument("--figure-stem", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write the variant table, its per-variant summary and the figure."""
    import pandas as pd

    from integration_models.commands.inference import indicator_scales
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.sensitivity import plot_sensitivity
    from integration_models.reference import load_areas
    from integration_models.registry import is_synthetic, load_registry
    from integration_models.scope import load_scope
    from integration_models.sensitivity import (
        conclusion_summary,
        load_scenarios,
        sensitivity_table,
    )
    from integration_models.stamp import Stamp
    from integration_models.summarise import write_csv

    scales = indicator_scales(args.registry, args.scales_json, args.overrides_json)
    table = sensitivity_table(
        pd.read_parquet(args.panel),
        list(scales),
        scales,
        scenarios=load_scenarios(args.scenarios, load_areas(args.areas)),
        alpha=args.alpha,
        scope=load_scope(args.fits, list(scales)),
    )
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(table), args.table)
    write_csv(stamp.apply(conclusion_summary(table)), args.summary)
    registry = load_registry(args.registry)
    with synthetic_figures(is_synthetic(registry)):
        plot_sensitivity(table, registry, args.figure_stem)
