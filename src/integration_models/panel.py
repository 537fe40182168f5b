"""The panel's columns, and the join of ingested observations with the integration category.

Kept apart from :mod:`integration_models.ingest` so that the model fits, which attach the
category themselves, do not depend on (and rerun with) the ingest code.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from integration_models.inputs import write_input_hashes

PANEL_COLUMNS = [
    "area_code",
    "area_name",
    "hscp_code",
    "health_board_code",
    "year",
    "indicator_id",
    "value",
    "numerator",
    "denominator",
    "integration",
    "deprivation",
    "population_density",
    "covid",
    "population",
    "population_0_17",
    "hscp_start_year",
    "area_code_original",
    "file",
    "line",
]
OBSERVATION_COLUMNS = [column for column in PANEL_COLUMNS if column != "integration"]
# Optional covariates carried to the end of the panel when the dataset has them.
OPTIONAL_COLUMNS = ["deprivation_alt"]


def attach_integration(observations: pd.DataFrame, integration: pd.DataFrame) -> pd.DataFrame:
    """Add each row's integration category to observations, giving the panel.

    ``integration`` is :func:`integration_models.reference.integration_by_area_year` of the
    classification (one row per area and year). Returns ``PANEL_COLUMNS`` (then any of
    ``OPTIONAL_COLUMNS`` present), sorted by indicator, area and year.
    """
    panel = observations.merge(integration, on=["area_code", "year"], how="left", validate="m:1")
    panel = panel[PANEL_COLUMNS + [c for c in OPTIONAL_COLUMNS if c in panel.columns]]
    panel = panel.sort_values(["indicator_id", "area_code", "year"])
    return panel.reset_index(drop=True)


def write_parquet_atomic(
    frame: pd.DataFrame, path: str | Path, input_hashes: dict[str, str] | None = None
) -> None:
    """Write ``frame`` to Parquet via a temporary file, so no half-written file is left.

    ``input_hashes`` (``{path: sha256}`` of the input files the frame was made from) go into
    the file's key-value metadata, where :func:`integration_models.inputs.read_input_hashes`
    finds them.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    table = pa.Table.from_pandas(frame, preserve_index=False)
    if input_hashes is not None:
        table = write_input_hashes(table, input_hashes)
    pq.write_table(table, tmp)
    tmp.replace(path)
