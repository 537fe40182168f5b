"""``size``: rejection rates of the few-cluster tests under a simulated null (size.csv)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "size"
HELP = "rejection rates of the four tests under a simulated null on the real design"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--fits", type=Path, nargs="+", required=True, help="twfe fit files")
    parser.add_argument("--scales-json", required=True)
    parser.add_argument("--overrides-json", required=True)
    parser.add_argument("--seed", type=int, default=20230831)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--size-sims", type=int, default=1000)
    parser.add_argument("--size-reps", type=int, default=999)
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write size.csv.

    One simulation on the design shared by the most indicators, whose residuals drive it
    (:func:`integration_models.inference.size.null_rejection_table`): the work spans indicators, so
    it reads the whole panel.
    """
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.inference.scope import load_scope
    from integration_models.inference.size import null_rejection_table
    from integration_models.models.design import indicator_scales
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    registry = load_registry(args.registry)
    scales = indicator_scales(
        registry, json.loads(args.scales_json), json.loads(args.overrides_json)
    )
    indicators = list(scales)
    size = null_rejection_table(
        pd.read_parquet(args.panel),
        indicators,
        scales,
        sims=args.size_sims,
        reps=args.size_reps,
        seed=args.seed,
        alpha=args.alpha,
        scope=load_scope(args.fits, indicators),
    )
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(size), args.out)
