"""``panel``: join the ingested indicators with the integration category into panel.parquet."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "panel"
HELP = "assemble panel.parquet and exclusions.csv from the ingested indicators"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--observations", type=Path, nargs="+", required=True)
    parser.add_argument("--exclusions-in", type=Path, nargs="+", required=True)
    parser.add_argument("--integration", type=Path, required=True)
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--exclusions", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Concatenate, attach the category, write; report the row counts on stderr.

    The input hashes recorded by the ingest and classify jobs are merged into the panel's
    metadata; a file that two jobs read with different contents is named on stderr.
    """
    import pandas as pd

    from integration_models.data.ingest import combine_exclusions, write_panel
    from integration_models.data.inputs import merge_input_hashes, read_input_hashes
    from integration_models.data.panel import attach_integration

    observations = pd.concat([pd.read_parquet(p) for p in args.observations], ignore_index=True)
    panel = attach_integration(observations, pd.read_parquet(args.integration))
    exclusions = combine_exclusions([pd.read_parquet(p) for p in args.exclusions_in])
    parts = [*args.observations, args.integration]
    hashes = merge_input_hashes(read_input_hashes(path) for path in parts)
    for path in [path for path, digest in hashes.items() if " " in digest]:
        print(
            f"warning: {path} changed during the run (read with different contents)",
            file=sys.stderr,
        )
    write_panel(panel, exclusions, args.panel, args.exclusions, hashes)
    print(
        f"panel: {len(panel)} rows in the panel, {len(exclusions)} excluded",
        file=sys.stderr,
    )
