"""``headline``: the headline table, from the summary and the few-cluster inference."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "headline"
HELP = "the headline and the conclusion under the analysis plan's test and adjustments"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument(
        "--model-counts", type=Path, required=True, help="model_counts.csv: every model's counts"
    )
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--inference", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="analysis_plan.yaml")
    parser.add_argument("--power", type=Path, required=True, help="the MDEs of the conclusion")
    parser.add_argument(
        "--equivalence", type=Path, required=True, help="equivalence.csv: what is ruled out"
    )
    parser.add_argument("--panel", type=Path, required=True, help="its input hashes: the stamp")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out", type=Path, required=True, help="headline.csv")
    parser.add_argument("--conclusion", type=Path, required=True, help="conclusion.csv")
    parser.add_argument("--estimates", type=Path, required=True, help="estimates.csv")
    parser.add_argument("--multiplicity", type=Path, required=True, help="multiplicity.csv")


def run(args: argparse.Namespace) -> None:
    """Write ``headline.csv``, ``conclusion.csv``, ``estimates.csv`` and ``multiplicity.csv``.

    It starts with the twfe integration terms under the analysis plan's test (``--plan``:
    its ``test``, its ``alpha`` and, within each family of outcomes, its adjustment; primary
    outcomes first), then every model's terms as fitted, counted at the configured alpha by
    ``tables`` (``--model-counts``), not counted again here. No simulation or result chooses
    the test: the size simulation is a diagnostic shown beside it. Kept apart from ``tables``
    so that the coefficient tables and the figures do not wait for the resampling inference.

    ``conclusion.csv`` (:func:`integration_models.results.summarise.conclusion_table`) holds what
    the report leads with, decided here so that the report only displays it: per family and
    term, the plan's test, adjustment and alpha, the counts of better and worse outcomes and
    the MDEs of ``--power``; ``estimates.csv`` the verdict on each indicator's estimate
    (:func:`~integration_models.results.summarise.estimates_table`, the rows the conclusion
    counts); ``multiplicity.csv`` how many indicators each test finds before and after
    adjustment, per family.
    """
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.results.schemas import read_table
    from integration_models.results.stamp import STAMP_COLUMNS, Stamp
    from integration_models.results.summarise import (
        PlannedTest,
        conclusion_table,
        estimates_table,
        identification_caveats,
        multiplicity_table,
        plan_headline,
        write_csv,
    )

    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    stamps = list(STAMP_COLUMNS)
    coefficients = pd.read_parquet(args.coefficients).drop(columns=stamps)
    model_counts = read_table(args.model_counts, keep_default_na=False).drop(columns=stamps)
    registry = load_registry(args.registry)
    planned = PlannedTest.of_plan(load_plan(args.plan))
    inference = read_table(args.inference)
    headline = pd.concat([plan_headline(inference, planned), model_counts], ignore_index=True)
    write_csv(stamp.apply(headline), args.out)
    equivalence = read_table(args.equivalence)
    conclusion = conclusion_table(inference, read_table(args.power), registry, planned, equivalence)
    write_csv(stamp.apply(conclusion), args.conclusion)
    caveats = identification_caveats(coefficients)
    estimates = estimates_table(inference, registry, planned, equivalence, caveats)
    write_csv(stamp.apply(estimates), args.estimates)
    write_csv(stamp.apply(multiplicity_table(inference, planned.alpha)), args.multiplicity)
