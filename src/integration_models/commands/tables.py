"""``tables``: gather the fit files into the tidy result tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

    from integration_models.results.stamp import Stamp

NAME = "tables"
HELP = "gather fits into the result tables"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--fits", type=Path, nargs="+", required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--panel", type=Path, required=True, help="its input hashes: the stamp")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument(
        "--truth",
        type=Path,
        nargs="*",
        help="write known_effects.csv and known_effects_summary.csv: the estimates against "
        "the dataset's known effects (demo_truth.csv) if a file is given, with no rows if "
        "the option is given with none (a dataset whose truth is unknown)",
    )
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write coefficients, model_fit, summary, model_counts and event_study tables.

    They need the fits only; the headline, which needs the few-cluster inference, is the
    ``headline`` step's (a data-zone run, which has no few-cluster inference, has none:
    counts of terms as fitted alone would be the headline this project replaces).
    With ``--truth`` the known-effects tables are written too
    (:mod:`integration_models.results.known_effects`).
    """
    from integration_models.data.registry import load_registry
    from integration_models.errors import InputError
    from integration_models.io import write_parquet
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import (
        add_adjusted_pvalues,
        collect_fits,
        headline_table,
        summary_table,
        write_csv,
    )

    if args.truth is not None and len(args.truth) > 1:
        raise InputError("--truth", "give at most one truth file")
    registry = load_registry(args.registry)
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    coefficients, model_fit, event_study = collect_fits(args.fits)
    coefficients = add_adjusted_pvalues(coefficients, model_fit)
    summary = summary_table(coefficients, model_fit, registry, args.alpha)
    write_csv(stamp.apply(coefficients), args.out_dir / "coefficients.csv")
    write_parquet(stamp.apply(coefficients), args.out_dir / "coefficients.parquet")
    write_csv(stamp.apply(model_fit), args.out_dir / "model_fit.csv")
    write_csv(stamp.apply(summary), args.out_dir / "summary.csv")
    # counted here, once, with the Benjamini-Hochberg counts the summary's CSV cannot carry
    model_counts = headline_table(summary, args.alpha)
    write_csv(stamp.apply(model_counts), args.out_dir / "model_counts.csv")
    write_csv(stamp.apply(event_study), args.out_dir / "event_study.csv")
    if args.truth is not None:
        _write_known_effects(coefficients, args.truth, args.alpha, stamp, args.out_dir)


def _write_known_effects(
    coefficients: pd.DataFrame, truth: list[Path], alpha: float, stamp: Stamp, out_dir: Path
) -> None:
    """Write known_effects.csv and known_effects_summary.csv (no rows without a truth file)."""
    from integration_models.results.known_effects import (
        known_effects_summary,
        known_effects_table,
        load_truth,
    )
    from integration_models.results.summarise import write_csv

    table = known_effects_table(coefficients, load_truth(truth[0]) if truth else None, alpha)
    write_csv(stamp.apply(table), out_dir / "known_effects.csv")
    write_csv(stamp.apply(known_effects_summary(table)), out_dir / "known_effects_summary.csv")
