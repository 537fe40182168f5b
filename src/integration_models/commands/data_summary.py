"""``data-summary``: count what the data preparation kept and left out, for the report."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "data-summary"
HELP = "count the panel's rows, the exclusions and the classified exposure"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--exclusions", type=Path, required=True, help="exclusions.csv")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--integration", type=Path, required=True, help="integration.parquet")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write ``data_summary.csv``, ``exclusion_counts.csv`` and ``exposure_counts.csv``."""
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.data.summary import (
        exclusion_counts,
        exposure_counts,
        indicator_summary,
    )
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    registry = load_registry(args.registry)
    panel = pd.read_parquet(args.panel, columns=["indicator_id", "area_code", "year"])
    exclusions = pd.read_csv(args.exclusions, dtype=str, keep_default_na=False)
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    tables = {
        "data_summary": indicator_summary(panel, exclusions, registry),
        "exclusion_counts": exclusion_counts(exclusions),
        "exposure_counts": exposure_counts(pd.read_parquet(args.integration)),
    }
    for name, table in tables.items():
        write_csv(stamp.apply(table), args.out_dir / f"{name}.csv")
