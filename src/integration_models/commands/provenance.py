"""``provenance``: record input hashes, configuration, versions and commit."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

NAME = "provenance"
HELP = "record inputs, config and versions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--dataset", type=Path, nargs="+", required=True)
    parser.add_argument("--reference", type=Path, nargs="+", required=True)
    parser.add_argument("--results", type=Path, nargs="+", required=True)
    parser.add_argument("--panel", type=Path, required=True, help="holds the hashes as read")
    parser.add_argument("--plan", type=Path, help="analysis_plan.yaml: recorded with deviations")
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write provenance.json; warn on stderr if an input changed after it was read.

    With ``--plan``, ``analysis_plan`` records the plan (path, SHA-256, test, alpha,
    registration, families, amendments) and the run's deviations from it
    (:func:`integration_models.plan.analysis_plan.plan_record`), which the report displays.
    """
    from integration_models.plan.analysis_plan import load_plan, plan_record
    from integration_models.results.provenance import (
        build_provenance,
        stale_warning,
        write_provenance,
    )

    inputs = {"dataset": args.dataset, "reference": args.reference, "results": args.results}
    config = json.loads(args.config_json)
    provenance = build_provenance(inputs, config, Path.cwd(), args.panel)
    if args.plan is not None:
        provenance["analysis_plan"] = plan_record(load_plan(args.plan), config)
    write_provenance(args.out, provenance)
    if warning := stale_warning(provenance):
        print(warning, file=sys.stderr)
