"""The panel's columns, and the join of ingested observations with the integration category.

Kept apart from :mod:`integration_models.data.ingest` so that the model fits, which attach the
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
    "period_key",
    "indicator_id",
    "value",
    "numerator",
    "denominator",
    "integration",
    "integration_exposed",
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
# the exposure (integration.parquet) is attached to the observations by these columns
EXPOSURE_COLUMNS = ["integration", "integration_exposed"]
OBSERVATION_COLUMNS = [column for column in PANEL_COLUMNS if column not in EXPOSURE_COLUMNS]
# Optional covariates carried to the end of the panel when the dataset has them.
OPTIONAL_COLUMNS = ["deprivation_alt"]
# Derived at ingest from an optional covariate when the dataset has it: its value in the
# configured baseline year (``deprivation_baseline_year``), constant within each area.
OPTIONAL_DERIVED = ["deprivation_alt_baseline"]
# Deprivation column -> its pre-integration baseline column (see ``ingest.read_covariates``).
BASELINE_OF = {"deprivation": "deprivation_baseline", "deprivation_alt": "deprivation_alt_baseline"}


def attach_integration(observations: pd.DataFrame, integration: pd.DataFrame) -> pd.DataFrame:
    """Add each row's exposure to integration to observations, giving the panel.

    ``integration`` is :func:`integration_models.data.exposure.exposure_table` of the
    classification (one row per area, year and kind of period): ``integration`` is ``none``,
    ``partial``, ``full`` or ``transition`` (the period straddles a change), and
    ``integration_exposed`` counts a transition as the category in force at its end. Returns
    ``PANEL_COLUMNS`` (then any of ``OPTIONAL_COLUMNS`` and ``OPTIONAL_DERIVED`` present),
    sorted by indicator, area and year.

    Raises
    ------
    ValueError
        If a row's area, year and kind of period has no exposure (the exposure was built for
        another registry or year window).
    """
    keys = ["area_code", "year", "period_key"]
    panel = observations.merge(integration, on=keys, how="left", validate="m:1")
    missing = panel["integration"].isna()
    if missing.any():
        first = panel.loc[missing, keys].iloc[0].tolist()
        raise ValueError(
            f"{int(missing.sum())} rows have no exposure to integration, e.g. area, year and "
            f"period {first}: rebuild integration.parquet from this registry"
        )
    optional = [c for c in OPTIONAL_COLUMNS + OPTIONAL_DERIVED if c in panel.columns]
    panel = panel[PANEL_COLUMNS + optional]
    panel = panel.sort_values(["indicator_id", "area_code", "year"])
    return panel.reset_index(drop=True)


def area_exposure(integration: pd.DataFrame, areas: pd.DataFrame) -> pd.DataFrame:
    """Return every area, year and kind of period with its partnership and exposure.

    The part of the panel that does not depend on any indicator: the areas the resampling
    draws weights for, the partnership histories the permutations reassign, and the areas,
    years and kinds of period the sensitivity variants relabel. Built from the classification
    (``integration.parquet``) and the areas table, so an analysis of one indicator draws
    exactly what an analysis of all indicators draws.

    Parameters
    ----------
    integration
        :func:`integration_models.data.exposure.exposure_table` (``area_code, year, period_key,
        integration, integration_exposed``).
    areas
        :func:`integration_models.data.reference.load_areas` (``area_code, area_name, hscp_code,
        hscp_start_year``).

    Returns
    -------
    pandas.DataFrame
        ``area_code, area_name, hscp_code, hscp_start_year, year, period_key, integration,
        integration_exposed``, sorted by area, kind of period and year.
    """
    info = areas[["area_code", "area_name", "hscp_code", "hscp_start_year"]]
    table = integration.merge(info, on="area_code", how="inner", validate="m:1")
    columns = ["area_code", "area_name", "hscp_code", "hscp_start_year", "year", "period_key"]
    table = table[[*columns, *EXPOSURE_COLUMNS]]
    return table.sort_values(["area_code", "period_key", "year"]).reset_index(drop=True)
