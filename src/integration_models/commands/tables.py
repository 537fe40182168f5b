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
    # both or neither: without them (a data-zone run) there is no headline table
    parser.add_argument("--inference", type=Path)
    parser.add_argument("--size", type=Path)
    parser.add_argument("--power", type=Path, help="power.csv: the MDEs of the conclusion")
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write coefficients, model_fit, summary, headline, conclusion and event_study tables.

    The headline starts with the twfe integration terms under the test that kept its level
    in the null simulation (``size.csv``), then counts every model's terms as fitted. Without
    ``--inference`` and ``--size`` (a data-zone run, which has no few-cluster inference) it is
    not written: counts of terms as fitted alone would be the headline this project replaces.

    ``conclusion.csv`` (:func:`integration_models.summarise.conclusion_table`) holds what the
    report leads with, decided here so that the report only displays it: the headline test,
    the configured alpha, the counts of better and worse outcomes and the MDEs of
    ``--power``.
    """
    import pandas as pd

    from integration_models.atomic import write_parquet
    from integration_models.errors import InputError
    from integration_models.registry import load_registry
    from integration_models.size import honest_method
    from integration_models.stamp import Stamp
    from integration_models.summarise import (
        adjust_pvalues,
        collect_fits,
        conclusion_table,
        headline_label,
        headline_table,
        honest_headline,
        summary_table,
        write_csv,
    )

    if (args.inference is None) != (args.size is None):
        raise InputError("--inference/--size", "give both or neither")
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
    if args.inference is None:
        return
    size = pd.read_csv(args.size)
    inference = pd.read_csv(args.inference)
    method = honest_method(size, args.alpha)
    honest = honest_headline(inference, size, method, args.alpha)
    headline = pd.concat([honest, headline_table(summary, args.alpha)], ignore_index=True)
    write_csv(stamp.apply(headline), args.out_dir / "headline.csv")
    power = pd.read_csv(args.power) if args.power is not None else None
    conclusion = conclusion_table(
        inference, power, registry, headline_label(inference, method), args.alpha
    )
    write_csv(stamp.apply(conclusion), args.out_dir / "conclusion.csv")
