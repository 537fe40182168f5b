"""``tables``: gather the fit files into the tidy result tables."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "tables"
HELP = "gather fits into the result tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--fits", type=Path, nargs="+", required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--panel", type=Path, required=True, help="its input hashes: the stamp")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write coefficients, model_fit, summary and event_study tables.

    They need the fits only; the headline, which needs the few-cluster inference, is the
    ``headline`` step's (a data-zone run, which has no few-cluster inference, has none:
    counts of terms as fitted alone would be the headline this project replaces).
    """
    from integration_models.atomic import write_parquet
    from integration_models.registry import load_registry
    from integration_models.stamp import Stamp
    from integration_models.summarise import (
        adjust_pvalues,
        collect_fits,
        summary_table,
        write_csv,
    )

    registry = load_registry(args.registry)
    stamp = Stamp.of_run(args.config_hash, args.panel)
    coefficients, model_fit, event_study = collect_fits(args.fits)
    coefficients = adjust_pvalues(coefficients, model_fit)
    summary = summary_table(coefficients, model_fit, registry, args.alpha)
    write_csv(stamp.apply(coefficients), args.out_dir / "coefficients.csv")
    write_parquet(stamp.apply(coefficients), args.out_dir / "coefficients.parquet")
    write_csv(stamp.apply(model_fit), args.out_dir / "model_fit.csv")
    write_csv(stamp.apply(summary), args.out_dir / "summary.csv")
    write_csv(stamp.apply(event_study), args.out_dir / "event_study.csv")
