"""``provenance``: record input hashes, configuration, versions and commit."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

NAME = "provenance"
HELP = "record inputs, config and versions"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--dataset", type=Path, nargs="+", required=True)
    parser.add_argument("--reference", type=Path, nargs="+", required=True)
    parser.add_argument("--results", type=Path, nargs="+", required=True)
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write provenance.json."""
    from integration_models.provenance import build_provenance, write_provenance

    inputs = {"dataset": args.dataset, "reference": args.reference, "results": args.results}
    config = json.loads(args.config_json)
    write_provenance(args.out, build_provenance(inputs, config, Path.cwd()))
