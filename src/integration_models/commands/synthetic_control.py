"""``synthetic-control``: join each indicator's synthetic-control parts into tables and a figure."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "synthetic-control"
HELP = "join the synthetic control and synthetic DiD of the early adopters and draw them"

# synthetic_control.csv, in this order (then the stamp)
COLUMNS = [
    "indicator_id", "area_code", "area_name", "hscp_code", "partnership", "method", "go_live",
    "go_live_year", "category", "confidence", "scale", "n_pre", "n_post", "first_pre_year",
    "first_post_year", "last_post_year", "n_donors", "estimate", "std_error", "conf_low",
    "conf_high", "pre_rmspe", "ratio", "p_placebo", "n_placebos", "p_placebo_library",
    "n_placebos_library", "status", "note",
]  # fmt: skip
WEIGHT_COLUMNS = ["indicator_id", "area_code", "method", "rank", "donor_code", "donor_name",
                  "weight"]  # fmt: skip


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True, help="panel.parquet (the stamp)")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="analysis_plan.yaml")
    for part in ("estimates", "weights", "paths"):
        parser.add_argument(
            f"--{part}", type=Path, nargs="+", required=True, help=f"per-indicator {part} parts"
        )
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--table", type=Path, required=True, help="synthetic_control.csv")
    parser.add_argument("--weights-table", type=Path, required=True, help="synthetic_weights.csv")
    parser.add_argument("--figure-stem", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write synthetic_control.csv, synthetic_weights.csv and the figure (.png and .svg).

    The fits ran per indicator (:func:`integration_models.results.synthetic_control.synthetic_job`);
    this step concatenates the parts in registry order, stamps them and draws the primary
    outcomes.
    """
    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.plots.base import synthetic_figures
    from integration_models.plots.synthetic import plot_synthetic
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv
    from integration_models.results.synthetic_control import combine_parts

    registry = load_registry(args.registry)
    estimates = combine_parts(args.estimates).reindex(columns=COLUMNS)
    weights = combine_parts(args.weights).reindex(columns=WEIGHT_COLUMNS)
    paths = combine_parts(args.paths)
    for frame in (estimates, weights):
        for column in ("go_live_year", "first_pre_year", "first_post_year", "last_post_year",
                       "n_placebos", "n_placebos_library"):  # fmt: skip
            if column in frame:
                frame[column] = frame[column].astype("Int64")
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(estimates), args.table)
    write_csv(stamp.apply(weights), args.weights_table)
    outcomes = load_plan(args.plan).primary_outcomes(registry)
    titles = dict(zip(registry["indicator_id"], registry["title"], strict=True))
    with synthetic_figures(is_synthetic(registry)):
        plot_synthetic(estimates, paths, outcomes, titles, args.figure_stem)
