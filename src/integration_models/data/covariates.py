"""Build the canonical ``covariates.csv`` table from the published Scottish sources.

The covariates are ``area_code, year, population, population_0_17, land_area_km2,
deprivation`` for every council and year of the study window. No source gives all of them
for every year, so some values are derived rather than observed, and each such value is
recorded in a *flags* table (``area_code, year, column, flag, note``) so that a reader can
see, and a sensitivity analysis can vary, what was filled in:

Population (all ages, for density) and children (0-17)
    Observed mid-year estimates: 1998-2018 (NRS, 2011-Census based), 2020 (NRS small-area
    estimates summed over data zones, 2011-Census based) and 2022 (NRS, 2022-Census based).
    2019 and 2021 are interpolated linearly between their neighbours (flag ``interpolated``),
    and years after 2022 are held at 2022 (flag ``extrapolated: held at 2022``). The 2022
    Census rebasing is a step in the series (e.g. Glasgow City 635,640 in 2020 and 622,820 in
    2022); it is noted once, on a row with an empty ``area_code`` (all councils). The mid-2021
    all-age totals (``population21_ltla21.csv``) are *not* used: they have no ages, so the
    children would still be interpolated and the two columns would rest on different bases,
    and their vintage (Scotland 5,418,400) matches neither the 2011-Census based series nor
    NRS's published mid-2021 total (5,479,900, ``population_hb19.csv``); using them would put
    a third vintage, and a second step, into the series.

Land area
    The sum of the 2011 data zones' standard (land) areas per council, one value for all years
    (council boundaries were stable). Not flagged: it is an aggregate of observed areas.

Deprivation (``deprivation_measure``)
    ``"children_simd"`` (default): the percentage of the council's children living in
    Scotland's 20% most deprived data zones, SIMD 2016 for years before ``simd_switch_year``
    and SIMD 2020v2 from then on. Each SIMD edition is one cross-section applied to several
    years, so every value is flagged with its edition (``simd2016`` or ``simd2020``).
    ``"income"``: ScotPHO's percentage of the population income deprived, observed in the SIMD
    reference years 2004, 2007, 2010, 2014 and 2017, interpolated linearly between them and
    held at the nearest reference year outside them (both flagged).

Checks: every source must hold all 32 councils (else an :class:`InputError` naming the file);
the mid-2020 council totals built from data zones must equal NRS's published mid-2020 totals
where a file has them (council totals in the LGBF workbook's ``MYE Population 2020-21``,
health-board totals in ``population_hb19.csv``) and must in any case lie within 3% of the
mid-2018 estimates.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.ingest import COVARIATE_COLUMNS
from integration_models.data.sources import nrs
from integration_models.data.sources.common import AreaMatcher
from integration_models.data.sources.deprivation import (
    MOST_DEPRIVED_RANK,
    children_in_most_deprived,
    income_deprived_share,
)
from integration_models.data.sources.geography import land_area_km2, read_dz_lookup
from integration_models.errors import InputError

FLAG_COLUMNS = ["area_code", "year", "column", "flag", "note"]
DEPRIVATION_MEASURES = ("children_simd", "income")
# Files under the sources directory (the layout of ``shared/data/scotland``).
SOURCE_FILES = {
    "mye": "population/nrs_mye_ca_sex_single_age_1998_2018.xlsx",
    "dz_population_2020": "population/population20_dz11_single_age.csv",
    "population_2022": "population/population22_ltla19_scotland.csv",
    "board_population": "population/population_hb19.csv",
    "dz_lookup": "lookups/DataZone2011lookup_2024-12-16.csv",
    "land_area": "land_area/sc_dz_11_attributes.csv",
    "simd2016": "simd/imd2016_scotland_dz11.csv",
    "simd2020": "simd/simd2020v2_withinds.csv",
    "income": "scotpho_profiles/scotpho_deprivation_data_ca_2023-02.csv",
    "lgbf": "lgbf/lgbf_data_jan22_long.csv",
}
OPTIONAL_FILES = frozenset({"board_population", "lgbf"})
REBASING_YEAR = 2022
SANITY_RATIO = (0.97, 1.03)
POPULATION_VINTAGE = {
    2020: "mid-2020 data-zone estimates summed, 2011-Census based",
    2022: "mid-2022, 2022-Census based",
}


def _path(sources_dir: Path, key: str) -> Path:
    path = sources_dir / SOURCE_FILES[key]
    if not path.is_file() and key not in OPTIONAL_FILES:
        raise InputError(path, "file not found (needed for the covariates)")
    return path


def _vintage(year: int) -> str:
    return POPULATION_VINTAGE.get(year, f"mid-{year} NRS estimate, 2011-Census based")


def fill_years(
    observed: pd.DataFrame,
    column: str,
    years: list[int],
    describe=None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Fill a council series to ``years``: linear between observations, held outside them.

    Parameters
    ----------
    observed
        ``area_code, year, <column>``; every council must have the same observed years.
    column
        The value column.
    years
        The years wanted.
    describe
        Optional ``year -> str`` naming an observed year's source, used in the notes.

    Returns
    -------
    tuple of pandas.DataFrame
        The values (``area_code, year, <column>``) and their flags (``FLAG_COLUMNS``): one row
        per filled value, ``interpolated`` with the two years used, or ``extrapolated: held at
        <year>``. Observed values get no flag.
    """
    describe = describe or str
    if observed.duplicated(["area_code", "year"]).any():
        raise ValueError(f"{column}: a council is observed twice in one year")
    wide = observed.pivot_table(
        index="area_code", columns="year", values=column, aggfunc="first", dropna=False
    ).sort_index(axis=1)
    if wide.isna().to_numpy().any():
        raise ValueError(f"{column}: councils are observed in different years")
    known = [int(year) for year in wide.columns]
    filled = {year: _fill(wide.to_numpy(dtype=float), known, year) for year in years}
    values = pd.DataFrame(
        [
            (area, year, float(filled[year][i]))
            for i, area in enumerate(wide.index)
            for year in years
        ],
        columns=["area_code", "year", column],
    )
    flags = []
    for year in years:
        if year in known:
            continue
        before = [k for k in known if k < year]
        after = [k for k in known if k > year]
        if before and after:
            low, high = before[-1], after[0]
            flag = "interpolated"
            note = (
                f"linear between {low} ({describe(low)}) and {high} ({describe(high)}); "
                f"no {year} estimate in the sources"
            )
        else:
            held = before[-1] if before else after[0]
            flag = f"extrapolated: held at {held}"
            note = f"no {year} value in the sources; {held} value ({describe(held)}) carried"
        flags += [(area, year, column, flag, note) for area in wide.index]
    return values, pd.DataFrame(flags, columns=FLAG_COLUMNS)


def _fill(matrix: np.ndarray, known: list[int], year: int) -> np.ndarray:
    """Return the column for ``year``: observed, interpolated, or the nearest end held."""
    if year in known:
        return matrix[:, known.index(year)]
    return np.array([np.interp(year, known, row) for row in matrix])


def check_population_2020(
    councils_2020: pd.DataFrame,
    zones: pd.DataFrame,
    dz_lookup: pd.DataFrame,
    mye: pd.DataFrame,
    sources_dir: Path,
    matcher: AreaMatcher,
) -> list[str]:
    """Check the mid-2020 totals built from data zones against published figures.

    NRS published mid-2020 council totals are not in the population folder, but the LGBF
    long file carries them as ``MYE Population`` for ``2020-21`` (LGBF labels a mid-year
    estimate by the financial year that starts then), and ``population_hb19.csv`` has NRS's
    mid-2020 health-board totals. The data-zone sums must equal both, to the person, where the
    files are present. Whatever is present, each council's 2020 total must be within 3% of its
    mid-2018 estimate, a guard against a wrong or partial lookup.

    Returns
    -------
    list of str
        A description of each check made, for the record.

    Raises
    ------
    InputError
        Naming the data-zone population file and the first council or board that disagrees.
    """
    dz_path = sources_dir / SOURCE_FILES["dz_population_2020"]
    done = []
    totals = councils_2020.set_index("area_code")["population"].astype(float)
    lgbf = sources_dir / SOURCE_FILES["lgbf"]
    if lgbf.is_file():
        table = pd.read_csv(lgbf, usecols=["Local Authority", "Indicator2", "Year", "Value"])
        rows = table[
            (table["Indicator2"] == "MYE Population")
            & table["Year"].astype(str).str.startswith("2020-21")
        ]
        if rows.empty:
            raise InputError(lgbf, "no 'MYE Population' rows for 2020-21")
        codes = matcher.by_name(rows["Local Authority"], lgbf)
        published = rows.assign(area_code=codes).dropna(subset=["area_code"])
        published = published.groupby("area_code")["Value"].agg(["min", "max"])
        if (published["max"] - published["min"]).abs().max() > 0.5:
            raise InputError(lgbf, "repeated 'MYE Population 2020-21' values disagree")
        gap = (totals - published["min"]).abs()
        if gap.isna().any() or gap.max() > 0.5:
            area = gap.fillna(np.inf).idxmax()
            raise InputError(
                dz_path,
                f"{area}: data zones sum to {totals.get(area)} for mid-2020, published total "
                f"{published['min'].get(area)} ({lgbf.name})",
            )
        done.append(f"2020 council totals equal LGBF 'MYE Population 2020-21' ({lgbf.name})")
    boards_path = sources_dir / SOURCE_FILES["board_population"]
    if boards_path.is_file():
        boards = pd.read_csv(boards_path)
        boards = boards[pd.to_numeric(boards["year"], errors="coerce") == 2020]
        published = boards.set_index("hb19_code")["total_population"].astype(float)
        summed = zones.merge(dz_lookup, on="dz_code").groupby("health_board_code")["population"]
        gap = (summed.sum() - published).abs()
        if gap.isna().any() or gap.max() > 0.5:
            raise InputError(
                dz_path, f"mid-2020 board totals differ from {boards_path.name} at {gap.idxmax()}"
            )
        done.append(f"2020 health-board totals equal NRS mid-2020 ({boards_path.name})")
    base = mye[mye["year"] == 2018].set_index("area_code")["population"]
    ratio = totals / base
    low, high = SANITY_RATIO
    if ratio.isna().any() or not ratio.between(low, high).all():
        area = (ratio - 1).abs().fillna(np.inf).idxmax()
        raise InputError(
            dz_path, f"{area}: 2020 total is {ratio.get(area):.3f} x the mid-2018 estimate"
        )
    done.append(f"2020 / 2018 council ratios within {low}-{high}")
    return done


def _populations(
    sources_dir: Path, matcher: AreaMatcher, dz_lookup: pd.DataFrame, years: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (populations, flags, data-zone 2020 table) for ``years``.

    The small files are read first so that a bad one fails before the slow workbook is read.
    """
    p2022 = nrs.read_population_2022(_path(sources_dir, "population_2022"), matcher)
    dz_path = _path(sources_dir, "dz_population_2020")
    zones = nrs.read_dz_single_age_2020(dz_path)
    councils_2020 = nrs.councils_from_zones(zones, dz_lookup, dz_path)
    mye = nrs.read_mye_single_age(_path(sources_dir, "mye"), matcher)
    check_population_2020(councils_2020, zones, dz_lookup, mye, sources_dir, matcher)
    observed = pd.concat([mye, councils_2020, p2022], ignore_index=True)
    parts, flags = [], []
    for column in ("population", "population_0_17"):
        values, column_flags = fill_years(observed, column, years, _vintage)
        parts.append(values.set_index(["area_code", "year"])[column].round().astype("int64"))
        flags.append(column_flags)
    if min(years) <= REBASING_YEAR and max(years) >= REBASING_YEAR - 1:
        scotland = observed.groupby("year")["population"].sum()
        flags.append(
            pd.DataFrame(
                [
                    (
                        "",
                        REBASING_YEAR,
                        "population",
                        "series break: 2022 Census rebasing",
                        "all councils, population and population_0_17: estimates up to 2020 "
                        "are 2011-Census based, from 2022 2022-Census based (Scotland "
                        f"{scotland.get(2020, np.nan):,.0f} in 2020, "
                        f"{scotland.get(2022, np.nan):,.0f} in 2022); values for 2021 are "
                        "interpolated across the step",
                    )
                ],
                columns=FLAG_COLUMNS,
            )
        )
    populations = pd.concat(parts, axis=1).reset_index()
    return populations, pd.concat(flags, ignore_index=True), zones


def _dz_lookup(sources_dir: Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the data-zone lookup with current council codes; require all 32 councils."""
    lookup_path = _path(sources_dir, "dz_lookup")
    dz_lookup = read_dz_lookup(lookup_path)
    dz_lookup["area_code"] = matcher.by_code(dz_lookup["area_code"], lookup_path)
    matcher.check_complete(dz_lookup["area_code"], lookup_path)
    return dz_lookup


def population_by_age(
    sources_dir: str | Path, areas: pd.DataFrame, years: list[int], ages: range
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Return the councils' population in an age band for ``years``, filled as the covariates.

    Indicators whose counts cover another age band than the covariates' 0-17 (DWP counts
    children under 16) need their own denominator. It comes from the same three single-age
    NRS sources as ``population_0_17`` (mid-1998 to mid-2018, mid-2020 summed over data zones,
    mid-2022) and is filled the same way (:func:`fill_years`): mid-2019 and mid-2021 have no
    single-age council estimates here (``population21_ltla21.csv`` holds all-age totals only),
    so they are interpolated linearly between their neighbours and flagged; years after 2022
    are held at 2022, also flagged. Mid-2021 thus lies between a 2011-Census based and a
    2022-Census based estimate; the rebasing step is noted on a row with an empty
    ``area_code``, as for the covariates.

    Parameters
    ----------
    sources_dir
        The folder of public source files (files in :data:`SOURCE_FILES`).
    areas
        The council reference table.
    years
        The mid-years wanted.
    ages
        The age band, e.g. ``range(0, 16)`` for 0-15 (:func:`nrs.band_column`).

    Returns
    -------
    tuple of pandas.DataFrame
        ``area_code, year, population_<first>_<last>`` (integers, one row per council and
        year) and the flags (:data:`FLAG_COLUMNS`) of every value that is not observed.

    Raises
    ------
    InputError
        Naming the file when a source is missing, has an unexpected layout or lacks a council.
    """
    sources_dir = Path(sources_dir)
    column = nrs.band_column(ages)
    matcher = AreaMatcher(areas)
    dz_lookup = _dz_lookup(sources_dir, matcher)
    observed = pd.concat(
        [
            nrs.read_population_2022(_path(sources_dir, "population_2022"), matcher, ages),
            nrs.read_dz_population_2020(_path(sources_dir, "dz_population_2020"), dz_lookup, ages),
            nrs.read_mye_single_age(_path(sources_dir, "mye"), matcher, ages=ages),
        ],
        ignore_index=True,
    )
    values, flags = fill_years(observed[["area_code", "year", column]], column, years, _vintage)
    values[column] = values[column].round().astype("int64")
    if min(years) <= REBASING_YEAR and max(years) >= REBASING_YEAR - 1:
        scotland = observed.groupby("year")[column].sum()
        note = (
            f"all councils, {column}: estimates up to 2020 are 2011-Census based, from 2022 "
            f"2022-Census based (Scotland {scotland.get(2020, np.nan):,.0f} in 2020, "
            f"{scotland.get(2022, np.nan):,.0f} in 2022); values for 2021 are interpolated "
            "across the step"
        )
        rebasing = pd.DataFrame(
            [("", REBASING_YEAR, column, "series break: 2022 Census rebasing", note)],
            columns=FLAG_COLUMNS,
        )
        flags = pd.concat([flags, rebasing], ignore_index=True)
    return values, flags


def _deprivation_simd(
    sources_dir: Path,
    zones: pd.DataFrame,
    dz_lookup: pd.DataFrame,
    years: list[int],
    switch_year: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Children in the 20% most deprived data zones, SIMD 2016 then SIMD 2020 from the switch."""
    rows, flags = [], []
    for edition, wanted in (
        ("2016", [y for y in years if y < switch_year]),
        ("2020", [y for y in years if y >= switch_year]),
    ):
        if not wanted:
            continue
        path = _path(sources_dir, f"simd{edition}")
        measure = children_in_most_deprived(path, edition, zones, dz_lookup)
        note = (
            f"SIMD {edition} ({path.name}): % of children 0-17 (mid-2020 data-zone estimates) "
            f"in Scotland's 20% most deprived data zones (overall rank <= {MOST_DEPRIVED_RANK}); "
            f"one edition used for {wanted[0]}-{wanted[-1]}"
        )
        for year in wanted:
            rows.append(measure.assign(year=year))
            flags.append(
                measure[["area_code"]].assign(
                    year=year, column="deprivation", flag=f"simd{edition}", note=note
                )
            )
    return pd.concat(rows, ignore_index=True), pd.concat(flags, ignore_index=True)[FLAG_COLUMNS]


def _deprivation_income(
    sources_dir: Path, matcher: AreaMatcher, years: list[int]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ScotPHO's income-deprived share, filled between and beyond the SIMD reference years."""
    path = _path(sources_dir, "income")
    observed = income_deprived_share(path, matcher)
    labels = dict(zip(observed["year"], observed["period_label"], strict=False))

    def describe(year: int) -> str:
        return f"ScotPHO income deprived, {labels[year]}"

    return fill_years(observed, "deprivation", years, describe)


def build_covariates(
    sources_dir: Path,
    areas: pd.DataFrame,
    first_year: int,
    last_year: int,
    simd_switch_year: int = 2020,
    deprivation_measure: str = "children_simd",
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Build the covariates of every council and year from the published sources.

    Parameters
    ----------
    sources_dir
        A folder laid out as ``shared/data/scotland`` (files in :data:`SOURCE_FILES`; the LGBF
        and health-board files are used only for checks and may be absent).
    areas
        The council reference table (:func:`integration_models.data.reference.load_areas`).
    first_year, last_year
        The study window, inclusive.
    simd_switch_year
        First year that uses SIMD 2020 rather than SIMD 2016 (``children_simd`` only).
    deprivation_measure
        ``"children_simd"`` or ``"income"`` (see the module docstring).

    Returns
    -------
    tuple of pandas.DataFrame
        The covariates, with exactly :data:`integration_models.data.ingest.COVARIATE_COLUMNS`, one
        row per council and year, no missing values; and the flags (:data:`FLAG_COLUMNS`),
        one row per value that is not a direct observation, plus one row (empty
        ``area_code``) noting the 2022 Census rebasing.

    Raises
    ------
    InputError
        Naming the file when a file is missing, has an unexpected layout, lacks a council, or
        fails a consistency check.
    ValueError
        On an empty window or an unknown deprivation measure.
    """
    if first_year > last_year:
        raise ValueError(f"first_year {first_year} is after last_year {last_year}")
    if deprivation_measure not in DEPRIVATION_MEASURES:
        raise ValueError(
            f"deprivation_measure must be one of {DEPRIVATION_MEASURES}, "
            f"not {deprivation_measure!r}"
        )
    sources_dir = Path(sources_dir)
    years = list(range(first_year, last_year + 1))
    needed = ["dz_lookup", "population_2022", "dz_population_2020", "mye", "land_area"]
    if deprivation_measure == "income":
        needed.append("income")
    else:
        needed += ["simd2016"] if first_year < simd_switch_year else []
        needed += ["simd2020"] if last_year >= simd_switch_year else []
    for key in needed:  # fail before the slow reads when a file is missing
        _path(sources_dir, key)
    matcher = AreaMatcher(areas)
    dz_lookup = _dz_lookup(sources_dir, matcher)

    populations, population_flags, zones = _populations(sources_dir, matcher, dz_lookup, years)
    land = land_area_km2(_path(sources_dir, "land_area"), dz_lookup)
    if deprivation_measure == "children_simd":
        deprivation, deprivation_flags = _deprivation_simd(
            sources_dir, zones, dz_lookup, years, simd_switch_year
        )
    else:
        deprivation, deprivation_flags = _deprivation_income(sources_dir, matcher, years)

    grid = pd.DataFrame(
        [(area, year) for area in sorted(areas["area_code"]) for year in years],
        columns=["area_code", "year"],
    )
    covariates = (
        grid.merge(populations, on=["area_code", "year"], how="left")
        .merge(land, on="area_code", how="left")
        .merge(
            deprivation[["area_code", "year", "deprivation"]], on=["area_code", "year"], how="left"
        )
    )[COVARIATE_COLUMNS]
    if covariates.isna().to_numpy().any():
        gap = covariates[covariates.isna().any(axis=1)].iloc[0]
        raise InputError(sources_dir, f"no covariates for {gap['area_code']} {gap['year']}")
    if (covariates["population_0_17"] >= covariates["population"]).any():
        raise InputError(sources_dir, "children outnumber the whole population somewhere")
    if not covariates["deprivation"].between(0, 100).all():
        raise InputError(sources_dir, "a deprivation percentage is outside 0-100")
    flags = pd.concat([population_flags, deprivation_flags], ignore_index=True)
    flags = flags.sort_values(["column", "area_code", "year"], kind="stable")
    return covariates.reset_index(drop=True), flags.reset_index(drop=True)
