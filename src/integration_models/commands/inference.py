"""``inference``: join the per-indicator few-cluster inference and power, adjusted across them."""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "inference"
HELP = "join each indicator's few-cluster inference and power; adjust across indicators"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command's arguments."""
    parser.add_argument("--panel", type=Path, required=True)
    parser.add_argument("--registry", type=Path, required=True)
    parser.add_argument(
        "--plan", type=Path, required=True, help="analysis_plan.yaml: the families adjusted within"
    )
    parser.add_argument(
        "--parts", type=Path, nargs="+", required=True, help="per-indicator inference rows"
    )
    parser.add_argument(
        "--draws", type=Path, nargs="+", required=True, help="per-indicator draws, same order"
    )
    parser.add_argument(
        "--power", type=Path, nargs="+", required=True, help="per-indicator power, same order"
    )
    parser.add_argument(
        "--equivalence", type=Path, nargs="+", default=[],
        help="per-indicator equivalence rows, same order (writes equivalence.csv)",
    )  # fmt: skip
    parser.add_argument("--reps", type=int, default=9999)
    parser.add_argument("--config-hash", required=True)
    parser.add_argument("--out-dir", type=Path, required=True)


def run(args: argparse.Namespace) -> None:
    """Write inference.csv and power.csv.

    inference.csv carries each indicator's ``family`` (the plan's primary or secondary
    outcomes) and its Benjamini-Hochberg and Romano-Wolf p-values adjusted within that family.
    """
    import pandas as pd

    from integration_models.data.registry import load_registry
    from integration_models.inference.table import combine_few_cluster
    from integration_models.plan.analysis_plan import load_plan
    from integration_models.results.indicator_analysis import read_draws
    from integration_models.results.stamp import Stamp
    from integration_models.results.summarise import write_csv

    registry = load_registry(args.registry)
    indicators = list(registry["indicator_id"])
    families = load_plan(args.plan).families_of(registry)
    if not len(args.parts) == len(args.draws) == len(args.power) == len(indicators):
        raise SystemExit("error: --parts, --draws and --power need one file per indicator")
    parts = [
        (pd.read_parquet(rows), read_draws(draws, indicator))
        for rows, draws, indicator in zip(args.parts, args.draws, indicators, strict=True)
    ]
    stamp = Stamp.of_run(args.config_hash, args.panel, args.registry)
    write_csv(
        stamp.apply(combine_few_cluster(parts, indicators, args.reps, families)),
        args.out_dir / "inference.csv",
    )
    power = pd.concat([pd.read_parquet(path) for path in args.power], ignore_index=True)
    write_csv(stamp.apply(power), args.out_dir / "power.csv")
    if args.equivalence:
        write_equivalence(args.equivalence, indicators, stamp, args.out_dir)


def write_equivalence(paths, indicators, stamp, out_dir: Path) -> None:
    """Write equivalence.csv from the per-indicator parts (one file per indicator)."""
    import pandas as pd

    from integration_models.inference.equivalence import combine_equivalence
    from integration_models.results.summarise import write_csv

    if len(paths) != len(indicators):
        raise SystemExit("error: --equivalence needs one file per indicator")
    table = combine_equivalence([pd.read_parquet(path) for path in paths], indicators)
    write_csv(stamp.apply(table), out_dir / "equivalence.csv")
