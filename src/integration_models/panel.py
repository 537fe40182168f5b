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
    "deprivation_baseline",
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
# Derived at ingest from an optional covariate when the dataset has it: its value in the
# configured baseline year (``deprivation_baseline_year``), constant within each area.
OPTIONAL_DERIVED = ["deprivation_alt_baseline"]
# Deprivation column -> its pre-integration baseline column (see ``ingest.read_covariates``).
BASELINE_OF = {"deprivation": "deprivation_baseline", "deprivation_alt": "deprivation_alt_baseline"}


def attach_integration(observations: pd.DataFrame, integration: pd.DataFrame) -> pd.DataFrame:
    """Add each row's integration category to observations, giving the panel.

    ``integration`` is :func:`integration_models.reference.integration_by_area_year` of the
    classification (one row per area and year). Returns ``PANEL_COLUMNS`` (then any of
    ``OPTIONAL_COLUMNS`` and ``OPTIONAL_DERIVED`` present), sorted by indicator, area and
    year.
    """
    panel = observations.merge(integration, on=["area_code", "year"], how="left", validate="m:1")
    optional = [c for c in OPTIONAL_COLUMNS + OPTIONAL_DERIVED if c in panel.columns]
    panel = panel[PANEL_COLUMNS + optional]
    panel = panel.sort_values(["indicator_id", "area_code", "year"])
    return panel.reset_index(drop=True)
