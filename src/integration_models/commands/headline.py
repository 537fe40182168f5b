"""``headline``: the headline table, from the summary and the few-cluster inference."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "headline"
HELP = "the headline and the conclusion under the test that kept its level"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument("--model-fit", type=Path, required=True, help="model_fit.csv")
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--inference", type=Path, required=True)
    parser.add_argument("--size", type=Path, required=True)
    parser.add_argument("--power", type=Path, required=True, help="the MDEs of the conclusion")
    parser.add_argument("--alpha", type=float, default=0.05)
    parser.add_argument("--panel", type=Path, required=True, help="its input hashes: the stamp")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out", type=Path, required=True, help="headline.csv")
    parser.add_argument("--conclusion", type=Path, required=True, help="conclusion.csv")
    parser.add_argument("--estimates", type=Path, required=True, help="estimates.csv")
    parser.add_argument("--multiplicity", type=Path, required=True, help="multiplicity.csv")


def run(args: argparse.Namespace) -> None:
    """Write ``headline.csv``, ``conclusion.csv``, ``estimates.csv`` and ``multiplicity.csv``.

    It starts with the twfe integration terms under the test that kept its level in the null
    simulation (``size.csv``), then counts every model's terms as fitted, from the summary
    of ``tables`` (the same :func:`~integration_models.results.summarise.summary_table` of the same
    coefficients). Kept apart from ``tables`` so that the coefficient tables and the figures
    do not wait for the resampling inference.

    ``conclusion.csv`` (:func:`integration_models.results.summarise.conclusion_table`) holds what
    the report leads with, decided here so that the report only displays it: the headline test,
    the configured alpha, the counts of better and worse outcomes and the MDEs of
    ``--power``; ``estimates.csv`` the verdict on each indicator's estimate under that test
    (:func:`~integration_models.results.summarise.estimates_table`, the rows the conclusion counts);
    ``multiplicity.csv`` how many indicators each test finds before and after adjustment.
    """
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.inference.size import honest_method
    from integration_models.results.schemas import read_table
    from integration_models.results.stamp import STAMP_COLUMNS, Stamp
    from integration_models.results.summarise import (
        conclusion_table,
        estimates_table,
        headline_label,
        headline_table,
        honest_headline,
        multiplicity_table,
        summary_table,
        write_csv,
    )

    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    stamps = list(STAMP_COLUMNS)
    coefficients = pd.read_parquet(args.coefficients).drop(columns=stamps)
    model_fit = read_table(args.model_fit, keep_default_na=False).drop(columns=stamps)
    registry = load_registry(args.registry)
    summary = summary_table(coefficients, model_fit, registry, args.alpha)
    size = read_table(args.size)
    inference = read_table(args.inference)
    method = honest_method(size, args.alpha)
    honest = honest_headline(inference, size, method, args.alpha)
    headline = pd.concat([honest, headline_table(summary, args.alpha)], ignore_index=True)
    write_csv(stamp.apply(headline), args.out)
    label = headline_label(inference, method)
    conclusion = conclusion_table(inference, read_table(args.power), registry, label, args.alpha)
    write_csv(stamp.apply(conclusion), args.conclusion)
    estimates = estimates_table(inference, registry, label, args.alpha)
    write_csv(stamp.apply(estimates), args.estimates)
    write_csv(stamp.apply(multiplicity_table(inference, args.alpha)), args.multiplicity)
