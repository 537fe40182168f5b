"""``build-scotland``: build the real dataset from the public sources in ``sources_dir``.

The sources folder is the ``sources_dir`` setting (``config.yaml``, default
``../shared/data/scotland``, relative to the project folder the command runs in). When it is
not a folder the command stops before reading anything, naming the setting, where it was set,
the folder it looked in and how to point it elsewhere; README.md ("Real Scottish data") lists
the public files the build needs and where each publisher releases them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from integration_models.errors import InputError

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
    parser.add_argument(
        "--config",
        nargs="*",
        default=[],
        metavar="KEY=VALUE",
        help="settings overriding the config files, as for snakemake (e.g. sources_dir=PATH)",
    )


def check_sources_dir(config: dict, configfiles, items: dict) -> Path:
    """Return the ``sources_dir`` folder, or stop naming the setting if it is not a folder.

    Raises
    ------
    InputError
        At the config file and line that set ``sources_dir`` (or ``--config``), naming the
        folder it looked in (resolved) and how to set it.
    """
    from integration_models.configuration import setting_origin

    sources = Path(config["sources_dir"])
    if sources.is_dir():
        return sources
    path, line = setting_origin("sources_dir", configfiles, items)
    looked_in = sources.resolve()
    state = "is not a folder" if looked_in.exists() else "does not exist"
    raise InputError(
        path,
        f"sources_dir: the folder of public source files, '{sources}', {state} (looked in "
        f"{looked_in}); set the sources_dir setting to the folder holding them, in "
        "config.scotland.yaml or a config file given with --configfile, or with --config "
        "sources_dir=PATH (README.md, 'Real Scottish data', lists the files it needs)",
        line,
    )


def run(args: argparse.Namespace) -> None:
    """Build and validate the dataset; report what changed on stderr."""
    from integration_models.configuration import load_config, parse_config_items
    from integration_models.data.scotland import BuildSettings, build_dataset

    items = parse_config_items(args.config)
    config = load_config(args.configfile, items)
    sources = check_sources_dir(config, args.configfile, items)
    settings = BuildSettings(
        config["first_year"],
        config["last_year"],
        config["simd_switch_year"],
        config["deprivation_measure"],
    )
    summary = build_dataset(
        sources,
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
