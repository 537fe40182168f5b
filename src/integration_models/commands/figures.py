"""``figures``: draw one batch of figures from the tables."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from integration_models.errors import InputError

if TYPE_CHECKING:
    import pandas as pd

NAME = "figures"
HELP = "draw the figures from the tables"
# glm effects are on a log or logit link, not on the outcome's scale like the others: drawn on
# a shared axis they would mislead, so the figures show the linear models only.
LINEAR_MODELS = ("mixed", "twfe", "csdid")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument("--coefficients", type=Path, required=True)
    parser.add_argument("--model-fit", type=Path, required=True)
    parser.add_argument("--out-dir", type=Path, required=True)
    parser.add_argument(
        "--table", type=Path, help="the table a 'power' or 'sensitivity' batch draws"
    )
    parser.add_argument(
        "--which",
        nargs="+",
        required=True,
        help="'overview', 'event_study', 'power', 'sensitivity', or 'coefficients' followed by "
        "indicator ids",
    )


def run(args: argparse.Namespace) -> None:
    """Draw the batch named by ``--which`` into ``--out-dir``, marked if the data are synthetic."""
    from integration_models.figures import synthetic_figures
    from integration_models.registry import is_synthetic, load_registry

    registry = load_registry(args.registry)
    with synthetic_figures(is_synthetic(registry)):
        _draw(args, registry)


def _draw(args: argparse.Namespace, registry: pd.DataFrame) -> None:
    """Draw the batch named by ``--which`` (see :func:`run`)."""
    import pandas as pd

    from integration_models.figures import plot_coefficients, plot_forest, plot_trends
    from integration_models.schemas import read_table

    coefficients = pd.read_parquet(args.coefficients)
    coefficients = coefficients[coefficients["model"].isin(LINEAR_MODELS)]
    out = args.out_dir
    kind, *indicators = args.which
    if kind == "overview":
        plot_trends(pd.read_parquet(args.panel), registry, out / "trends")
        plot_forest(coefficients, read_table(args.model_fit), registry, out / "forest")
    elif kind == "event_study":
        from integration_models.did import event_study_reasons, plot_event_study

        events = read_table(args.out_dir.parent / "tables" / "event_study.csv")
        for indicator in registry["indicator_id"]:
            rows = events[events["indicator_id"] == indicator]
            reasons = event_study_reasons(coefficients, indicator)
            plot_event_study(
                rows, registry, indicator, out / f"event_study_{indicator}", reasons=reasons
            )
    elif kind == "power":
        from integration_models.power import plot_power

        plot_power(read_table(args.table), registry, out / "power")
    elif kind == "coefficients":
        for indicator in indicators or registry["indicator_id"]:
            plot_coefficients(coefficients, registry, indicator, out / f"coefficients_{indicator}")
    else:
        raise InputError("--which", f"unknown figure batch '{kind}'")
