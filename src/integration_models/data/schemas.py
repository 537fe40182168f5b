"""The declared schema of the panel (``panel.parquet``), checked where written and read.

The panel is checked by the step that writes it (:func:`integration_models.data.ingest.write_panel`)
and by each model fit as it joins its indicator's observations with the integration categories
(:mod:`integration_models.models.fit_job`): its columns in order, their types, the integration
categories. The machinery (column helpers, the check, the error) is
:mod:`integration_models.table_schema`; the results tables' schemas are
:mod:`integration_models.results.schemas`, which the steps before the tables do not import.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from integration_models.data.panel import OPTIONAL_COLUMNS, OPTIONAL_DERIVED, PANEL_COLUMNS
from integration_models.table_schema import (
    NON_NEGATIVE,
    TableSchemaError,
    integer,
    is_number,
    number,
    one_of,
    problems,
    text,
)

CATEGORIES = ("none", "partial", "full", "transition")

_PANEL_TYPES: dict[str, pa.Column] = {
    "year": integer(),
    "value": number(nullable=False),
    "numerator": number(NON_NEGATIVE),
    "denominator": number(NON_NEGATIVE),
    "integration": text(one_of(CATEGORIES), nullable=False),
    "integration_exposed": text(one_of(CATEGORIES[:3]), nullable=False),
    "deprivation": number(),
    "deprivation_baseline": number(),
    "population_density": number(NON_NEGATIVE),
    "covid": number(pa.Check.in_range(0, 1)),
    "population": number(NON_NEGATIVE),
    "population_0_17": number(NON_NEGATIVE),
    "hscp_start_year": integer(),
    "line": integer(),
}
_PANEL_TEXT = ("area_code", "area_name", "hscp_code", "health_board_code", "period_key",
               "indicator_id", "area_code_original", "file")  # fmt: skip


def _panel_layout(frame: pd.DataFrame) -> bool:
    columns = list(frame.columns)
    optional = [c for c in OPTIONAL_COLUMNS + OPTIONAL_DERIVED if c in columns]
    return columns == PANEL_COLUMNS + optional


# panel.parquet: PANEL_COLUMNS in order, then any of the optional covariates present
PANEL = pa.DataFrameSchema(
    {
        **{c: _PANEL_TYPES.get(c) or text(nullable=c not in _PANEL_TEXT) for c in PANEL_COLUMNS},
        **{
            c: pa.Column(None, pa.Check(is_number, name="numeric"), required=False, nullable=True)
            for c in OPTIONAL_COLUMNS + OPTIONAL_DERIVED
        },
    },
    checks=[pa.Check(_panel_layout, name="columns PANEL_COLUMNS in order, then optional ones")],
    strict=False,
    name="panel",
)


def check_panel(panel: pd.DataFrame, path: str | Path = "panel.parquet") -> None:
    """Raise :class:`TableSchemaError` if ``panel`` does not match :data:`PANEL`."""
    found = problems(panel, PANEL)
    if found:
        raise TableSchemaError("panel", path, found, module=__name__)
