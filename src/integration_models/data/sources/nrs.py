"""Readers for National Records of Scotland (NRS) population estimates.

Council populations by single year of age exist in three files of two vintages:

* mid-1998 to mid-2018, 2011-Census based (``nrs_mye_ca_sex_single_age_1998_2018.xlsx``,
  by sex only: there is no persons row, so the sexes are summed);
* mid-2020 by 2011 data zone, 2011-Census based (``population20_dz11_single_age.csv``),
  summed to councils through the data-zone lookup;
* mid-2022, 2022-Census based (``population22_ltla19_scotland.csv``, persons).

Mid-2021 exists only as all-age council totals of a third vintage
(``population21_ltla21.csv``); :func:`read_population_2021_totals` reads it for comparison, but
the covariates do not use it (see :mod:`integration_models.data.covariates`).

Every reader returns the all-ages population (for density) and the children of an age band
as ``area_code, year, population, population_<first>_<last>``: by default aged 0-17
(``population_0_17``, the usual denominator for children's indicators); ``ages=range(0, 16)``
gives ``population_0_15``, the children under 16 that DWP counts in low-income families
(:func:`band_column`).
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from integration_models.data.sources.common import AreaMatcher, require_columns
from integration_models.data.sources.geography import sum_to_councils
from integration_models.errors import InputError

POPULATION_COLUMNS = ["area_code", "year", "population", "population_0_17"]
OLDEST = 90  # the open-ended top age group, "90 and over"
CHILD_AGES = range(0, 18)
MYE_COLUMNS = ["Area", "Year", "Sex", "Age", "Population"]
PERSONS_LABELS = frozenset({"persons", "all", "p", "t", "total", "all persons"})
SEX_LABELS = frozenset({"f", "m", "female", "male", "females", "males"})
_AGE_LABEL = re.compile(r"^\s*(\d{1,3})\s*(\+|and over|plus)?\s*$", re.IGNORECASE)


def band_column(ages: range) -> str:
    """Return the column name of the population in an age band: ``population_0_17`` for 0-17.

    Raises
    ------
    ValueError
        If ``ages`` is not a run of single years within 0..89: the top group (90 and over) is
        open-ended, so no band can end there and still say which ages it holds.
    """
    if ages.step != 1 or not 0 <= ages.start < ages.stop <= OLDEST:
        raise ValueError(f"ages must be consecutive single years within 0..{OLDEST - 1}: {ages}")
    return f"population_{ages.start}_{ages.stop - 1}"


def age_of(label: object) -> int | None:
    """Return the age that a column or cell label denotes, or None if it is not an age.

    ``"17"``, ``17`` and ``17.0`` are 17; ``"90+"``, ``"90 and over"`` and ``90`` are 90, the
    open-ended top group. Anything else (``"all_ages"``, ``"sex"``) is None.
    """
    if isinstance(label, bool):
        return None
    if isinstance(label, int | float):
        return int(label) if float(label).is_integer() else None
    match = _AGE_LABEL.match(str(label))
    return int(match.group(1)) if match else None


def _age_columns(columns: list[str], path: str | Path) -> dict[str, int]:
    """Map the single-year age columns of a wide file to ages; require exactly 0..90+."""
    ages = {column: age_of(column) for column in columns}
    ages = {column: age for column, age in ages.items() if age is not None}
    found = sorted(ages.values())
    if found != list(range(OLDEST + 1)):
        raise InputError(
            path,
            f"expected single-year age columns 0..{OLDEST - 1} and {OLDEST}+, found "
            f"{len(found)} age columns",
        )
    return ages


def _numeric(frame: pd.DataFrame, columns: list[str], path: str | Path) -> pd.DataFrame:
    """Return ``columns`` of ``frame`` as floats; raise naming the first non-number."""
    out = frame[columns].apply(pd.to_numeric, errors="coerce")
    bad = out.isna() | (out < 0)
    if bad.to_numpy().any():
        row, col = (int(i[0]) for i in bad.to_numpy().nonzero())
        raise InputError(
            path,
            f"column '{columns[col]}' is not a non-negative number: "
            f"{frame[columns[col]].iloc[row]!r}",
            row + 2,
        )
    return out.astype(float)


def read_mye_single_age(
    path: str | Path, matcher: AreaMatcher, years: range | None = None, ages: range = CHILD_AGES
) -> pd.DataFrame:
    """Read the NRS mid-year estimates by council, sex and single year of age, 1998-2018.

    The workbook's one sheet is long (``Area, Year, Sex, Age, Population``) with rows for the
    sexes only. If a persons row were present the sexes would be ignored to avoid counting
    people twice; here there is none, so females and males are summed, and each council and
    year must have both sexes at every age 0..90 (90 = 90 and over). Councils are matched by
    name; the Scotland rows are used only to check that the councils add up to Scotland.

    The sheet is read with openpyxl in read-only mode (about 4 s for its 126,126 rows; pandas'
    ``read_excel`` takes about twice as long).

    Parameters
    ----------
    path
        ``population/nrs_mye_ca_sex_single_age_1998_2018.xlsx``.
    matcher
        Council matcher built from the reference areas.
    years
        Years to keep (all when None); the whole sheet is checked either way.
    ages
        The age band of the second column (:func:`band_column`; default 0-17).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, population, population_<first>_<last>`` (integers), one row per
        council and year.

    Raises
    ------
    InputError
        On a changed layout, an unknown council name, an incomplete sex x age grid, councils
        not adding up to Scotland, or a council missing.
    """
    from openpyxl import load_workbook

    band = band_column(ages)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except (OSError, ValueError, KeyError) as error:
        raise InputError(path, f"cannot read the workbook ({error})") from error
    try:
        rows = book.worksheets[0].iter_rows(values_only=True)
        header = [str(cell).strip() if cell is not None else "" for cell in next(rows, ())]
        table = pd.DataFrame.from_records(
            (row[: len(header)] for row in rows if any(cell is not None for cell in row)),
            columns=header,
        )
    finally:
        book.close()
    require_columns(table, MYE_COLUMNS, path)
    table = table[MYE_COLUMNS]
    table["Age"] = table["Age"].map({label: age_of(label) for label in table["Age"].unique()})
    if table["Age"].isna().any():
        line = int(table.index[table["Age"].isna()][0]) + 2
        raise InputError(path, "Age is not an age (expected 0..90 or '90+')", line)
    table["Population"] = pd.to_numeric(table["Population"], errors="coerce")
    table["Year"] = pd.to_numeric(table["Year"], errors="coerce")
    for column in ("Population", "Year"):
        if table[column].isna().any():
            line = int(table.index[table[column].isna()][0]) + 2
            raise InputError(path, f"{column} is not a number", line)
    sex = table["Sex"].astype(str).str.strip().str.lower()
    unknown = sorted(set(sex) - PERSONS_LABELS - SEX_LABELS)
    if unknown:
        raise InputError(path, f"unexpected Sex value(s) {unknown}")
    persons = sex.isin(PERSONS_LABELS)
    table = table[persons] if persons.any() else table[~persons]
    table = table.assign(Year=table["Year"].astype(int), Age=table["Age"].astype(int))
    if years is not None:
        table = table[table["Year"].isin(list(years))]
    grid = table.groupby(["Area", "Year"])["Age"].agg(["size", "nunique"])
    expected_rows = (OLDEST + 1) * (1 if persons.any() else 2)
    bad = grid[(grid["size"] != expected_rows) | (grid["nunique"] != OLDEST + 1)]
    if not bad.empty:
        area, year = bad.index[0]
        raise InputError(
            path, f"{area} {year}: expected ages 0..{OLDEST} for each sex, the grid is incomplete"
        )
    children = table["Age"].between(ages.start, ages.stop - 1)
    table = table.assign(child=table["Population"].where(children, 0))
    totals = table.groupby(["Area", "Year"], as_index=False).agg(
        population=("Population", "sum"), **{band: ("child", "sum")}
    )
    totals["area_code"] = matcher.by_name(totals["Area"], path)
    scotland = totals[totals["area_code"].isna()].set_index("Year")
    councils = totals.dropna(subset=["area_code"])
    if councils.duplicated(["area_code", "Year"]).any():
        raise InputError(path, "a council appears under two names")
    if not scotland.empty:
        summed = councils.groupby("Year")[["population", band]].sum()
        gap = (summed - scotland[["population", band]]).abs().max().max()
        if gap > 0.5:
            raise InputError(path, f"councils do not add up to Scotland (difference {gap:g})")
    for _, group in councils.groupby("Year"):
        matcher.check_complete(group["area_code"], path)
    out = councils.rename(columns={"Year": "year"})[["area_code", "year", "population", band]]
    out = out.astype({"population": "int64", band: "int64"})
    return out.sort_values(["area_code", "year"]).reset_index(drop=True)


def read_population_2022(
    path: str | Path, matcher: AreaMatcher, ages: range = CHILD_AGES
) -> pd.DataFrame:
    """Read the NRS mid-2022 council estimates (2022-Census based), persons by single age.

    Parameters
    ----------
    path
        ``population/population22_ltla19_scotland.csv`` (``ltla19_code, sex, all_ages, 0,
        ..., 89, 90 and over``).
    matcher
        Council matcher built from the reference areas.
    ages
        The age band of the second column (:func:`band_column`; default 0-17).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, population, population_<first>_<last>`` for 2022 (integers).

    Raises
    ------
    InputError
        On a changed layout, rows that are not persons, ages that do not add up to
        ``all_ages``, an unknown code, or a council missing.
    """
    band = band_column(ages)
    table = pd.read_csv(path, dtype={"ltla19_code": str, "sex": str})
    table.columns = [str(column).strip() for column in table.columns]
    require_columns(table, ["ltla19_code", "sex", "all_ages"], path)
    columns = _age_columns(list(table.columns), path)
    not_persons = table.loc[~table["sex"].str.strip().str.lower().isin(PERSONS_LABELS), "sex"]
    if not not_persons.empty:
        raise InputError(path, f"expected persons only, found sex '{not_persons.iloc[0]}'")
    numbers = _numeric(table, [*columns, "all_ages"], path)
    summed = numbers[list(columns)].sum(axis=1)
    off = (summed - numbers["all_ages"]).abs() > 0.5
    if off.any():
        raise InputError(path, "single ages do not add up to all_ages", int(off.idxmax()) + 2)
    child_columns = [column for column, age in columns.items() if age in ages]
    out = pd.DataFrame(
        {
            "area_code": matcher.by_code(table["ltla19_code"].str.strip(), path),
            "year": 2022,
            "population": numbers["all_ages"].round().astype("int64"),
            band: numbers[child_columns].sum(axis=1).round().astype("int64"),
        }
    )
    if out["area_code"].duplicated().any():
        raise InputError(path, "a council appears twice")
    matcher.check_complete(out["area_code"], path)
    return out.sort_values("area_code").reset_index(drop=True)


def read_dz_single_age_2020(path: str | Path, ages: range = CHILD_AGES) -> pd.DataFrame:
    """Read the mid-2020 small-area estimates: all-ages and an age band's population per zone.

    This is the only source here with children by data zone, so it also supplies the
    children counts for the SIMD-based deprivation measure.

    Parameters
    ----------
    path
        ``population/population20_dz11_single_age.csv`` (``dz11_code, total_population, sex,
        0, ..., 89, 90+``, sex ``All``).
    ages
        The age band of the last column (:func:`band_column`; default 0-17).

    Returns
    -------
    pandas.DataFrame
        ``dz_code, population, population_<first>_<last>`` (floats), one row per data zone.

    Raises
    ------
    InputError
        On a changed layout, rows other than all persons, or ages not adding up to the total.
    """
    band = band_column(ages)
    header = pd.read_csv(path, nrows=0)
    require_columns(header, ["dz11_code", "total_population", "sex"], path)
    columns = _age_columns(list(header.columns), path)
    child_columns = [column for column, age in columns.items() if age in ages]
    table = pd.read_csv(path, dtype={"dz11_code": str, "sex": str})
    not_all = table.loc[~table["sex"].str.strip().str.lower().isin(PERSONS_LABELS), "sex"]
    if not not_all.empty:
        raise InputError(path, f"expected all persons only, found sex '{not_all.iloc[0]}'")
    numbers = _numeric(table, [*columns, "total_population"], path)
    off = (numbers[list(columns)].sum(axis=1) - numbers["total_population"]).abs() > 0.5
    if off.any():
        raise InputError(
            path, "single ages do not add up to total_population", int(off.idxmax()) + 2
        )
    return pd.DataFrame(
        {
            "dz_code": table["dz11_code"].str.strip(),
            "population": numbers["total_population"],
            band: numbers[child_columns].sum(axis=1),
        }
    )


def read_dz_population_2020(
    path: str | Path, dz_to_council: pd.DataFrame, ages: range = CHILD_AGES
) -> pd.DataFrame:
    """Return mid-2020 council populations built by summing the data-zone estimates.

    Parameters
    ----------
    path
        ``population/population20_dz11_single_age.csv``.
    dz_to_council
        The data-zone lookup (:func:`integration_models.data.sources.geography.read_dz_lookup`);
        every one of its 6,976 zones must appear in the file once.
    ages
        The age band of the last column (:func:`band_column`; default 0-17).

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, population, population_<first>_<last>`` for 2020 (integers).
    """
    return councils_from_zones(read_dz_single_age_2020(path, ages), dz_to_council, path)


def councils_from_zones(
    zones: pd.DataFrame, dz_to_council: pd.DataFrame, path: str | Path, year: int = 2020
) -> pd.DataFrame:
    """Sum a data-zone population table (:func:`read_dz_single_age_2020`) to councils.

    Every column but ``dz_code`` is summed (the all-ages population and the age band read).
    """
    columns = [column for column in zones.columns if column != "dz_code"]
    out = sum_to_councils(zones, dz_to_council, path, columns)
    out.insert(1, "year", year)
    out = out.astype(dict.fromkeys(columns, "int64"))
    return out[["area_code", "year", *columns]].sort_values("area_code").reset_index(drop=True)


def read_population_2021_totals(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the mid-2021 all-age council totals (statistics.gov.scot small-area vintage).

    Not used for the covariates: it has no ages, and its vintage (Scotland 5,418,400) matches
    neither the 2011-Census based series up to 2020 nor NRS's published mid-2021 total
    (5,479,900); see :mod:`integration_models.data.covariates`. Kept for comparisons.

    Parameters
    ----------
    path
        ``population/population21_ltla21.csv`` (``ltla21_code, ltla21_name,
        total_population``).
    matcher
        Council matcher built from the reference areas.

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, population`` for 2021.
    """
    table = pd.read_csv(path, dtype={"ltla21_code": str})
    require_columns(table, ["ltla21_code", "total_population"], path)
    numbers = _numeric(table, ["total_population"], path)
    out = pd.DataFrame(
        {
            "area_code": matcher.by_code(table["ltla21_code"].str.strip(), path),
            "year": 2021,
            "population": numbers["total_population"].round().astype("int64"),
        }
    )
    matcher.check_complete(out["area_code"], path)
    return out.sort_values("area_code").reset_index(drop=True)
