"""``inference``: few-cluster inference and minimum detectable effects for the twfe terms."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "inference"
HELP = "few-cluster inference and minimum detectable effects for twfe"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--fits", type=Path, nargs="+", required=True, help="twfe fit files")
    parser.add_argument("--scales-json", required=True)
    parser.add_argument("--overrides-json", required=True)
    parser.add_argument("--reps", type=int, default=9999)
    parser.add_argument("--power-reps", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=20230831)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--size-sims", type=int, default=1000)
    parser.add_argument("--size-reps", type=int, default=999)
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)


def indicator_scales(registry_path: Path, scales_json: str, overrides_json: str) -> dict[str, str]:
    """Map each indicator id to its outcome scale (registry measure and configuration)."""
    from integration_models.fitting import outcome_scale
    from integration_models.registry import load_registry

    registry = load_registry(registry_path)
    by_measure, overrides = json.loads(scales_json), json.loads(overrides_json)
    return {
        indicator: outcome_scale(measure, indicator, by_measure, overrides)
        for indicator, measure in zip(registry["indicator_id"], registry["measure"], strict=True)
    }


def run(args: argparse.Namespace) -> None:
    """Write inference.csv, power.csv and size.csv (rejection rates under a simulated null)."""
    import pandas as pd

    from integration_models.inference import few_cluster_table
    from integration_models.power import power_table
    from integration_models.scope import load_scope
    from integration_models.size import null_rejection_table
    from integration_models.stamp import Stamp
    from integration_models.summarise import write_csv

    scales = indicator_scales(args.registry, args.scales_json, args.overrides_json)
    panel = pd.read_parquet(args.panel)
    indicators = list(scales)
    scope = load_scope(args.fits, indicators)
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    shared = {"seed": args.seed, "alpha": args.alpha, "scope": scope}
    table = few_cluster_table(panel, indicators, scales, reps=args.reps, **shared)
    write_csv(stamp.apply(table), args.out_dir / "inference.csv")
    power = power_table(panel, indicators, scales, reps=args.power_reps, **shared)
    write_csv(stamp.apply(power), args.out_dir / "power.csv")
    size = null_rejection_table(
        panel, indicators, scales, sims=args.size_sims, reps=args.size_reps, **shared
    )
    write_csv(stamp.apply(size), args.out_dir / "size.csv")
