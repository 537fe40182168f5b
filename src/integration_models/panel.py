"""The panel's columns, and the join of ingested observations with the integration category.

Kept apart from :mod:`integration_models.ingest` so that the model fits, which attach the
category themselves, do not depend on (and rerun with) the ingest code.
"""

from __future__ import annotations

import pandas as pd

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
