"""Command line of the package: the Snakemake rules call these subcommands.

Bad input ends the command with one line, ``error: <file>:<line>: <problem>``, and exit status
2, instead of a traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from integration_models.errors import InputError

LINEAR_MODELS = ("mixed", "twfe", "csdid")

# One BLAS thread: results must not depend on thread scheduling (byte-identical tables).
# Set before numpy is first imported, which happens inside the subcommands.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")


def _ingest(args: argparse.Namespace) -> None:
    from integration_models.ingest import IngestSettings, build_panel, write_panel
    from integration_models.reference import load_areas, load_classification

    areas = load_areas(args.areas)
    classification = load_classification(args.classification, areas)
    settings = IngestSettings(args.first_year, args.last_year, tuple(args.covid_years))
    panel, exclusions = build_panel(args.raw_dir, areas, classification, settings)
    write_panel(panel, exclusions, args.panel, args.exclusions)
    print(
        f"ingest: {len(panel) + len(exclusions)} rows read, {len(panel)} in the panel, "
        f"{len(exclusions)} excluded",
        file=sys.stderr,
    )


def _tables(args: argparse.Namespace) -> None:
    from integration_models.registry import load_registry
    from integration_models.summarise import (
        adjust_pvalues,
        collect_fits,
        headline_table,
        summary_table,
        write_csv,
        write_parquet,
    )

    registry = load_registry(args.registry)
    coefficients, model_fit, event_study = collect_fits(args.fits)
    coefficients = adjust_pvalues(coefficients, model_fit)
    summary = summary_table(coefficients, model_fit, registry, args.alpha)
    write_csv(coefficients, args.out_dir / "coefficients.csv")
    write_parquet(coefficients, args.out_dir / "coefficients.parquet")
    write_csv(model_fit, args.out_dir / "model_fit.csv")
    write_csv(summary, args.out_dir / "summary.csv")
    write_csv(headline_table(summary, args.alpha), args.out_dir / "headline.csv")
    write_csv(event_study, args.out_dir / "event_study.csv")


def _inference(args: argparse.Namespace) -> None:
    import pandas as pd

    from integration_models.fitting import outcome_scale
    from integration_models.inference import few_cluster_table
    from integration_models.power import minimum_detectable_effect
    from integration_models.registry import load_registry
    from integration_models.summarise import write_csv

    registry = load_registry(args.registry)
    by_measure, overrides = json.loads(args.scales_json), json.loads(args.overrides_json)
    scales = {
        indicator: outcome_scale(measure, indicator, by_measure, overrides)
        for indicator, measure in zip(registry["indicator_id"], registry["measure"], strict=True)
    }
    panel = pd.read_parquet(args.panel)
    table = few_cluster_table(panel, list(scales), scales, reps=args.reps, seed=args.seed)
    write_csv(table, args.out_dir / "inference.csv")
    rows = []
    for indicator, scale in scales.items():
        for term in ("integration_full", "integration_partial"):
            row = {"indicator_id": indicator, "term": term, "scale": scale}
            try:
                result = minimum_detectable_effect(
                    panel, indicator, scale, term, reps=args.power_reps, seed=args.seed
                )
            except ValueError as err:  # DesignError and other unmodellable cases
                row["note"] = f"not estimated: {err}"
            else:
                row.update(mde=result.mde, mde_sd=result.mde_sd, std_error=result.std_error)
                row["note"] = "" if result.mde == result.mde else "power 0.8 not reached on grid"
            rows.append(row)
    columns = ["indicator_id", "term", "scale", "mde", "mde_sd", "std_error", "note"]
    write_csv(pd.DataFrame(rows, columns=columns), args.out_dir / "power.csv")


def _figures(args: argparse.Namespace) -> None:
    import pandas as pd

    from integration_models.figures import plot_coefficients, plot_forest, plot_trends
    from integration_models.registry import load_registry

    registry = load_registry(args.registry)
    coefficients = pd.read_parquet(args.coefficients)
    # glm effects are on a log or logit link, not on the outcome's scale like the others:
    # drawn on a shared axis they would mislead, so the figures show the linear models only.
    coefficients = coefficients[coefficients["model"].isin(LINEAR_MODELS)]
    out = args.out_dir
    kind, *indicators = args.which
    if kind == "overview":
        plot_trends(pd.read_parquet(args.panel), registry, out / "trends")
        plot_forest(coefficients, pd.read_csv(args.model_fit), registry, out / "forest")
    elif kind == "event_study":
        from integration_models.did import plot_event_study

        events = pd.read_csv(args.out_dir.parent / "tables" / "event_study.csv")
        for indicator in registry["indicator_id"]:
            rows = events[events["indicator_id"] == indicator]
            plot_event_study(rows, registry, indicator, out / f"event_study_{indicator}")
    elif kind == "coefficients":
        for indicator in indicators or registry["indicator_id"]:
            plot_coefficients(coefficients, registry, indicator, out / f"coefficients_{indicator}")
    else:
        raise InputError("--which", f"unknown figure batch '{kind}'")


def _provenance(args: argparse.Namespace) -> None:
    from integration_models.provenance import build_provenance, write_provenance

    inputs = {"dataset": args.dataset, "reference": args.reference, "results": args.results}
    config = json.loads(args.config_json)
    write_provenance(args.out, build_provenance(inputs, config, Path.cwd()))


def _report(args: argparse.Namespace) -> None:
    import pandas as pd

    from integration_models.reference import load_areas, load_classification
    from integration_models.registry import is_synthetic, load_registry
    from integration_models.report import write_report

    registry = load_registry(args.registry)
    areas = load_areas(args.areas)
    write_report(
        args.out,
        tables_dir=args.tables_dir,
        figures_dir=args.figures_dir,
        panel=pd.read_parquet(args.panel),
        exclusions=pd.read_csv(args.exclusions, dtype={"raw_value": str}, keep_default_na=False),
        registry=registry,
        classification=load_classification(args.classification, areas),
        areas=areas,
        provenance=json.loads(Path(args.provenance).read_text(encoding="utf-8")),
        synthetic=is_synthetic(registry),
    )


def _build_scotland(args: argparse.Namespace) -> None:
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
        f"build-scotland: {len(summary['indicators'])} indicators, {summary['panel_rows']} "
        f"panel rows, {summary['excluded_rows']} excluded; {len(changed)} file(s) changed in "
        f"{config['raw_dir']}",
        file=sys.stderr,
    )


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with one subcommand per workflow step."""
    parser = argparse.ArgumentParser(prog="integration-models", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    ingest = commands.add_parser("ingest", help="build panel.parquet and exclusions.csv")
    ingest.add_argument("--raw-dir", type=Path, required=True)
    ingest.add_argument("--areas", type=Path, required=True)
    ingest.add_argument("--classification", type=Path, required=True)
    ingest.add_argument("--first-year", type=int, required=True)
    ingest.add_argument("--last-year", type=int, required=True)
    ingest.add_argument("--covid-years", type=int, nargs="*", default=[])
    ingest.add_argument("--panel", type=Path, required=True)
    ingest.add_argument("--exclusions", type=Path, required=True)
    ingest.set_defaults(run=_ingest)

    tables = commands.add_parser("tables", help="gather fits into the result tables")
    tables.add_argument("--fits", type=Path, nargs="+", required=True)
    tables.add_argument("--registry", type=Path, required=True)
    tables.add_argument("--alpha", type=float, default=0.05)
    tables.add_argument("--out-dir", type=Path, required=True)
    tables.set_defaults(run=_tables)

    inference = commands.add_parser(
        "inference", help="few-cluster inference and minimum detectable effects for twfe"
    )
    inference.add_argument("--panel", type=Path, required=True)
    inference.add_argument("--registry", type=Path, required=True)
    inference.add_argument("--scales-json", required=True)
    inference.add_argument("--overrides-json", required=True)
    inference.add_argument("--reps", type=int, default=9999)
    inference.add_argument("--power-reps", type=int, default=2000)
    inference.add_argument("--seed", type=int, default=20230831)
    inference.add_argument("--out-dir", type=Path, required=True)
    inference.set_defaults(run=_inference)

    figures = commands.add_parser("figures", help="draw the figures from the tables")
    figures.add_argument("--panel", type=Path, required=True)
    figures.add_argument("--registry", type=Path, required=True)
    figures.add_argument("--coefficients", type=Path, required=True)
    figures.add_argument("--model-fit", type=Path, required=True)
    figures.add_argument("--out-dir", type=Path, required=True)
    figures.add_argument(
        "--which",
        nargs="+",
        required=True,
        help="'overview', or 'coefficients' followed by indicator ids (default: all)",
    )
    figures.set_defaults(run=_figures)

    provenance = commands.add_parser("provenance", help="record inputs, config and versions")
    provenance.add_argument("--dataset", type=Path, nargs="+", required=True)
    provenance.add_argument("--reference", type=Path, nargs="+", required=True)
    provenance.add_argument("--results", type=Path, nargs="+", required=True)
    provenance.add_argument("--config-json", required=True)
    provenance.add_argument("--out", type=Path, required=True)
    provenance.set_defaults(run=_provenance)

    report = commands.add_parser("report", help="write the self-contained HTML report")
    for name in (
        "tables-dir",
        "figures-dir",
        "panel",
        "exclusions",
        "registry",
        "classification",
        "areas",
        "provenance",
        "out",
    ):
        report.add_argument(f"--{name}", type=Path, required=True)
    report.set_defaults(run=_report)

    scotland = commands.add_parser(
        "build-scotland", help="build the real dataset from the public sources"
    )
    scotland.add_argument(
        "--configfile",
        type=Path,
        nargs="*",
        default=[Path("config.scotland.yaml")],
        help="config files overriding config.yaml, as for snakemake",
    )
    scotland.set_defaults(run=_build_scotland)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one subcommand; return the exit status (0 success, 2 bad input)."""
    args = build_parser().parse_args(argv)
    try:
        args.run(args)
    except InputError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
