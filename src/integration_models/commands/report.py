"""``report``: write the self-contained HTML report."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "report"
HELP = "write the self-contained HTML report"
PATH_ARGUMENTS = (
    "registry",
    "classification",
    "areas",
    "provenance",
    "out",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument(
        "--tables", type=Path, nargs="+", required=True, help="the result tables (CSV) to show"
    )
    parser.add_argument(
        "--figures", type=Path, nargs="*", default=[], help="the figures; the PNGs are embedded"
    )
    for name in PATH_ARGUMENTS:
        parser.add_argument(f"--{name}", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Render report.html from the tables, figures and reference data it is given (only those)."""
    from integration_models.data.reference import load_areas, load_classification
    from integration_models.data.registry import is_synthetic, load_registry
    from integration_models.report.render import write_report

    registry = load_registry(args.registry)
    areas = load_areas(args.areas)
    write_report(
        args.out,
        tables=args.tables,
        figures=args.figures,
        registry=registry,
        classification=load_classification(args.classification, areas),
        areas=areas,
        provenance=json.loads(Path(args.provenance).read_text(encoding="utf-8")),
        synthetic=is_synthetic(registry),
    )
