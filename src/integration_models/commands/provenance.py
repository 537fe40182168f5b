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
    parser.add_argument("--config-json", required=True)
    parser.add_argument("--out", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write provenance.json; warn on stderr if an input changed after it was read."""
    from integration_models.results.provenance import (
        build_provenance,
        stale_warning,
        write_provenance,
    )

    inputs = {"dataset": args.dataset, "reference": args.reference, "results": args.results}
    config = json.loads(args.config_json)
    provenance = build_provenance(inputs, config, Path.cwd(), args.panel)
    write_provenance(args.out, provenance)
    if warning := stale_warning(provenance):
        print(warning, file=sys.stderr)
