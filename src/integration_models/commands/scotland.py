"""``build-scotland``: build the real dataset from the public sources in ``sources_dir``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "build-scotland"
HELP = "build the real dataset from the public sources"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument(
        "--configfile",
        type=Path,
        nargs="*",
        default=[Path("config.scotland.yaml")],
        help="config files overriding config.yaml, as for snakemake",
    )


def run(args: argparse.Namespace) -> None:
    """Build and validate the dataset; report what changed on stderr."""
    from integration_models.configuration import load_config
    from integration_models.scotland import BuildSettings, build_dataset

    config = load_config(args.configfile)
    settings = BuildSettings(
        config["first_year"],
        config["last_year"],
        config["simd_switch_year"],
        config["deprivation_measure"],
    )
    summary = build_dataset(
        config["sources_dir"],
        config["areas"],
        config["classification"],
        config["raw_dir"],
        settings,
    )
    changed = summary["changed_files"]
    print(
        f"build-scotland: {len(summary['indicators'])} indicators and "
        f"{len(summary['indices'])} summary index(es), {summary['panel_rows']} "
        f"panel rows, {summary['excluded_rows']} excluded; {len(changed)} file(s) changed in "
        f"{config['raw_dir']}",
        file=sys.stderr,
    )
