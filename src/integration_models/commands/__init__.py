"""One module per workflow step: its command-line arguments and what it runs.

Each module defines ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args)``, and imports
the heavy parts of the package inside ``run`` only, so building the parser stays cheap. A rule's
code inputs are the modules its command imports
(:func:`integration_models.workflow.package_sources`), so editing one step's code reruns that
step only.
"""

from __future__ import annotations

import argparse
from datetime import date

from integration_models.data.exposure import COVID_WINDOW
from integration_models.data.inputs import DEFAULT_MAX_MB


def add_limit_argument(parser: argparse.ArgumentParser) -> None:
    """Declare ``--max-input-mb``, the size limit of every input file a command reads."""
    parser.add_argument(
        "--max-input-mb",
        type=float,
        default=DEFAULT_MAX_MB,
        help=f"largest input file read, in MB (default {DEFAULT_MAX_MB}; max_input_mb)",
    )


def add_panel_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the ingest's settings: the year window and what it derives besides the values.

    ``--first-year``, ``--last-year``: the years kept; ``--covid-window START END``: the
    pandemic's first and last day (ISO dates); ``--deprivation-baseline-year``: the year of
    each area's pre-integration deprivation. ``IngestSettings.from_arguments``
    (:mod:`integration_models.data.ingest`) reads them.
    """
    parser.add_argument("--first-year", type=int, required=True)
    parser.add_argument("--last-year", type=int, required=True)
    parser.add_argument(
        "--covid-window",
        type=date.fromisoformat,
        nargs=2,
        metavar=("START", "END"),
        default=list(COVID_WINDOW),
        help="first and last day of the COVID-19 window (covid_window; default "
        f"{COVID_WINDOW[0]} {COVID_WINDOW[1]})",
    )
    parser.add_argument(
        "--deprivation-baseline-year",
        type=int,
        default=None,
        help="year of each area's pre-integration deprivation (default: the ingest's, 2015)",
    )
