"""Geography: the 2011 data-zone lookup and council land areas built from data-zone areas.

Data zones (S01, 6,976 of them in the 2011 set) are the building blocks from which council
figures are made when a source is published only for small areas: the mid-2020 population by
age, SIMD ranks and land areas. The Scottish Government's data-zone lookup
(``DataZone2011lookup_2024-12-16.csv``) gives each zone's council (S12) and health board (S08)
in current codes, so no recoding of the 2018/2019 code changes is needed downstream.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from integration_models.data.sources.common import require_columns
from integration_models.errors import InputError

DATA_ZONES_2011 = 6976
COUNCILS = 32
DZ_CODE = re.compile(r"S01\d{6}")
COUNCIL_CODE = re.compile(r"S12\d{6}")
BOARD_CODE = re.compile(r"S08\d{6}")
# Scotland's land area from summing the 2011 data zones' standard areas (README, land_area/).
SCOTLAND_LAND_AREA_KM2 = 77937.0
LAND_AREA_TOLERANCE_KM2 = 50.0


def _check_codes(values: pd.Series, pattern: re.Pattern, what: str, path: str | Path) -> None:
    bad = values[~values.astype(str).str.fullmatch(pattern.pattern)]
    if not bad.empty:
        raise InputError(path, f"{what} '{bad.iloc[0]}' is not a valid code")


def read_dz_lookup(path: str | Path) -> pd.DataFrame:
    """Read the Scottish Government 2011 data-zone lookup: data zone to council and board.

    Only the three code columns are read (the file has 38 columns and is latin-1 encoded, as
    published).

    Parameters
    ----------
    path
        ``lookups/DataZone2011lookup_2024-12-16.csv`` (columns ``DZ2011_Code``, ``LA_Code``,
        ``HB_Code`` among others).

    Returns
    -------
    pandas.DataFrame
        Columns ``dz_code, area_code, health_board_code``; one row per data zone, sorted.

    Raises
    ------
    InputError
        If a column is missing, a code is malformed, a data zone is repeated, or the lookup does
        not hold 6,976 data zones in 32 councils.
    """
    columns = ["DZ2011_Code", "LA_Code", "HB_Code"]
    try:
        header = pd.read_csv(path, nrows=0, encoding="latin-1")
    except (OSError, ValueError) as error:
        raise InputError(path, f"cannot read the data-zone lookup ({error})") from error
    require_columns(header, columns, path)
    table = pd.read_csv(path, usecols=columns, dtype=str, encoding="latin-1")
    table = table.rename(
        columns={"DZ2011_Code": "dz_code", "LA_Code": "area_code", "HB_Code": "health_board_code"}
    )
    table = table.apply(lambda column: column.str.strip())
    _check_codes(table["dz_code"], DZ_CODE, "data zone", path)
    _check_codes(table["area_code"], COUNCIL_CODE, "council code", path)
    _check_codes(table["health_board_code"], BOARD_CODE, "health board code", path)
    repeated = table.loc[table["dz_code"].duplicated(), "dz_code"]
    if not repeated.empty:
        raise InputError(path, f"data zone {repeated.iloc[0]} appears more than once")
    if len(table) != DATA_ZONES_2011 or table["area_code"].nunique() != COUNCILS:
        raise InputError(
            path,
            f"expected {DATA_ZONES_2011} data zones in {COUNCILS} councils, found {len(table)} "
            f"in {table['area_code'].nunique()}",
        )
    return table.sort_values("dz_code").reset_index(drop=True)


def sum_to_councils(
    frame: pd.DataFrame, dz_lookup: pd.DataFrame, path: str | Path, columns: list[str]
) -> pd.DataFrame:
    """Sum data-zone figures to councils, insisting that every 2011 data zone is present once.

    A partial set of zones would silently understate council totals, so a zone missing from
    ``frame``, or one the lookup does not know, is an error rather than a gap.

    Parameters
    ----------
    frame
        Data-zone table with ``dz_code`` and the numeric ``columns``.
    dz_lookup
        From :func:`read_dz_lookup`.
    path
        The file ``frame`` came from, for messages.
    columns
        The columns to sum.

    Returns
    -------
    pandas.DataFrame
        ``area_code`` and the summed ``columns``, one row per council, sorted.

    Raises
    ------
    InputError
        Naming ``path`` and the first unknown, repeated or missing data zone.
    """
    codes = frame["dz_code"]
    repeated = codes[codes.duplicated()]
    if not repeated.empty:
        raise InputError(path, f"data zone {repeated.iloc[0]} appears more than once")
    known = set(dz_lookup["dz_code"])
    unknown = sorted(set(codes) - known)
    if unknown:
        raise InputError(path, f"data zone(s) not in the 2011 lookup: {unknown[:5]}")
    missing = sorted(known - set(codes))
    if missing:
        raise InputError(
            path, f"{len(missing)} data zone(s) missing (e.g. {missing[:3]}): totals incomplete"
        )
    merged = frame.merge(dz_lookup[["dz_code", "area_code"]], on="dz_code", how="left")
    return merged.groupby("area_code", as_index=False)[columns].sum()


def land_area_km2(path: str | Path, dz_lookup: pd.DataFrame) -> pd.DataFrame:
    """Return each council's land area: the sum of its data zones' standard areas.

    The standard area (``StdAreaKm2``) is clipped to mean high water, so it is land area, the
    right denominator for population density. One boundary vintage (2011 data zones) serves all
    years because council boundaries were stable over the study period.

    Parameters
    ----------
    path
        ``land_area/sc_dz_11_attributes.csv`` (columns ``DataZone``, ``StdAreaKm2``).
    dz_lookup
        From :func:`read_dz_lookup`.

    Returns
    -------
    pandas.DataFrame
        Columns ``area_code, land_area_km2``, 32 rows.

    Raises
    ------
    InputError
        If a column is missing, an area is not a positive number, the data zones do not match
        the lookup, or Scotland's total is not about 77,937 km2.
    """
    header = pd.read_csv(path, nrows=0)
    require_columns(header, ["DataZone", "StdAreaKm2"], path)
    table = pd.read_csv(path, usecols=["DataZone", "StdAreaKm2"], dtype={"DataZone": str})
    table = table.rename(columns={"DataZone": "dz_code", "StdAreaKm2": "land_area_km2"})
    area = pd.to_numeric(table["land_area_km2"], errors="coerce")
    bad = table.loc[area.isna() | (area <= 0), "dz_code"]
    if not bad.empty:
        raise InputError(path, f"StdAreaKm2 of data zone {bad.iloc[0]} is not a positive number")
    table["land_area_km2"] = area.astype(float)
    councils = sum_to_councils(table, dz_lookup, path, ["land_area_km2"])
    total = float(councils["land_area_km2"].sum())
    if abs(total - SCOTLAND_LAND_AREA_KM2) > LAND_AREA_TOLERANCE_KM2:
        raise InputError(
            path,
            f"Scotland's land area sums to {total:,.1f} km2, expected about "
            f"{SCOTLAND_LAND_AREA_KM2:,.0f} km2",
        )
    return councils
