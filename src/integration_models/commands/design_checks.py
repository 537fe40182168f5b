"""``design-checks``: one sentence per check of the design, and the estimators' agreement."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "design-checks"
HELP = "say in words what the TWFE weights, HonestDiD, synthetic controls and estimators show"

# the estimators set beside the plan's, where the run fitted them (config `models`)
COMPARED = ("csdid", "sunab", "bjs", "dcdh")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--coefficients", type=Path, required=True, help="coefficients.parquet")
    parser.add_argument("--twfe-diagnostics", type=Path, required=True)
    parser.add_argument("--honest-did-breakdown", type=Path, required=True)
    parser.add_argument("--synthetic-control", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--plan", type=Path, required=True, help="analysis_plan.yaml")
    parser.add_argument("--panel", type=Path, required=True, help="its input hashes: the stamp")
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out", type=Path, required=True, help="design_checks.csv")
    parser.add_argument("--agreement", type=Path, required=True, help="estimator_agreement.csv")


def run(args: argparse.Namespace) -> None:
    """Write ``design_checks.csv`` and ``estimator_agreement.csv``.

    The agreement compares, for each primary outcome of the plan and each integration term,
    the plan's estimator with every other estimator of :data:`COMPARED` the run fitted
    (:func:`integration_models.results.design_checks.estimator_agreement`).
    """
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.results.design_checks import design_checks, estimator_agreement
    from integration_models.results.schemas import read_table
    from integration_models.results.stamp import STAMP_COLUMNS, Stamp
    from integration_models.results.summarise import write_csv

    plan = load_plan(args.plan)
    registry = load_registry(args.registry)
    coefficients = pd.read_parquet(args.coefficients).drop(columns=list(STAMP_COLUMNS))
    fitted = set(coefficients["model"])
    estimators = [m for m in COMPARED if m in fitted and m != plan.estimator]
    outcomes = plan.primary_outcomes(registry)
    agreement = estimator_agreement(coefficients, outcomes, estimators, plan.estimator)
    checks = design_checks(
        diagnostics=read_table(args.twfe_diagnostics),
        breakdown=read_table(args.honest_did_breakdown),
        synthetic=read_table(args.synthetic_control),
        agreement=(agreement, estimators, plan.estimator),
        alpha=plan.alpha,
    )
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(stamp.apply(agreement), args.agreement)
    write_csv(stamp.apply(checks), args.out)
