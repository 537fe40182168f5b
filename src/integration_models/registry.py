"""The indicator registry (``indicators.csv``): what each indicator is and how to read it."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from integration_models.errors import InputError
from integration_models.identifiers import is_indicator_id, shown
from integration_models.tables import LINE, read_table

REGISTRY_COLUMNS = [
    "indicator_id",
    "title",
    "domain",
    "measure",
    "unit",
    "higher_is_better",
    "period",
    "source",
]
OPTIONAL_COLUMNS = ["notes"]
DOMAINS = ("children", "families", "workforce")
MEASURES = ("percentage", "rate", "count", "mean")
PERIODS = ("calendar", "financial", "academic", "snapshot")
SYNTHETIC_MARK = "SYNTHETIC"


def load_registry(path: str | Path) -> pd.DataFrame:
    """Read and check the indicator registry.

    Parameters
    ----------
    path
        ``indicators.csv`` of a dataset directory.

    Returns
    -------
    pandas.DataFrame
        One row per indicator in file order, ``higher_is_better`` as bool, plus ``lineno``.

    Raises
    ------
    InputError
        Naming the line of an illegal or repeated id, an unknown domain, measure or period, a
        direction that is not true/false, or an empty title; or if the registry has no rows.
    """
    path = Path(path)
    table = read_table(path, REGISTRY_COLUMNS, OPTIONAL_COLUMNS)
    if table.empty:
        raise InputError(path, "the registry lists no indicators")
    seen: dict[str, int] = {}
    for row in table.itertuples(index=False):
        line = getattr(row, LINE)
        if not is_indicator_id(row.indicator_id):
            raise InputError(
                path,
                f"illegal indicator_id {shown(row.indicator_id)} "
                "(must match [a-z][a-z0-9_]{0,62})",
                line,
            )
        if row.indicator_id in seen:
            raise InputError(
                path,
                f"indicator_id '{row.indicator_id}' repeats line {seen[row.indicator_id]}",
                line,
            )
        seen[row.indicator_id] = line
        for column, allowed in (("domain", DOMAINS), ("measure", MEASURES), ("period", PERIODS)):
            value = getattr(row, column)
            if value not in allowed:
                raise InputError(
                    path, f"{column} {shown(value)} is not one of {', '.join(allowed)}", line
                )
        if row.higher_is_better.lower() not in ("true", "false"):
            raise InputError(
                path, f"higher_is_better {shown(row.higher_is_better)} is not true or false", line
            )
        if not row.title:
            raise InputError(path, "title is empty", line)
    table["higher_is_better"] = table["higher_is_better"].str.lower() == "true"
    return table


def is_synthetic(registry: pd.DataFrame) -> bool:
    """Return True if the dataset declares itself synthetic (a source starting ``SYNTHETIC``)."""
    return bool(registry["source"].str.startswith(SYNTHETIC_MARK).any())
