"""Shared helpers: validated registry, path functions, wildcard constraints, targets."""

from pathlib import Path

from snakemake.exceptions import WorkflowError

from integration_models.errors import InputError
from integration_models.identifiers import registry_ids
from integration_models.workflow import check_config, package_sources

try:
    check_config(config)
    INDICATORS = registry_ids(Path(config["raw_dir"]) / "indicators.csv")
except InputError as err:
    raise WorkflowError(f"error: {err}") from None


def processed(path):
    """Path inside the configured processed-data folder."""
    return str(Path(config["processed_dir"]) / path)


def results(path):
    """Path inside the configured results folder."""
    return str(Path(config["results_dir"]) / path)


def raw_inputs():
    """Every file of the dataset directory that the ingest reads (new files trigger reruns)."""
    raw = Path(config["raw_dir"])
    files = [raw / "covariates.csv"]
    files += sorted((raw / "values").rglob("*.csv"))
    return [str(path) for path in files]


def dataset_dir(wildcards, input):
    """The dataset directory, as the folder of the registry file."""
    return str(Path(input.registry).parent)


def final_outputs():
    """All targets of a full run."""
    return [processed("panel.parquet"), processed("exclusions.csv")]


wildcard_constraints:
    indicator="|".join(INDICATORS),
