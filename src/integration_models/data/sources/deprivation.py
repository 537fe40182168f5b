"""Deprivation measures per council: from SIMD data-zone ranks, or ScotPHO's income deprivation.

Two measures, both percentages (0-100):

``children_in_most_deprived``
    The share of a council's children (aged 0-17) who live in data zones among Scotland's 20%
    most deprived by the SIMD overall rank. The children counts are the mid-2020 data-zone
    estimates, the only data-zone age breakdown available, for both SIMD editions: the
    measure then moves between editions only through the ranking, not through population
    change. SIMD ranks 6,976 data zones; the most deprived 20% is rank <= 1395
    (``floor(0.2 * 6976)``), which is exactly the Scottish Government's quintile 1 in the
    SIMD 2020v2 file (1,395 zones, highest rank 1395).

``income_deprived_share``
    ScotPHO's "Population income deprived": the percentage of the whole population that is
    income deprived per SIMD's income domain. It exists only for the SIMD reference years
    2004, 2007, 2010, 2014 and 2017, each labelled as that calendar year.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from integration_models.data.sources.common import AreaMatcher, require_columns
from integration_models.data.sources.geography import DATA_ZONES_2011, sum_to_councils
from integration_models.errors import InputError

MOST_DEPRIVED_SHARE = 0.2
MOST_DEPRIVED_RANK = int(MOST_DEPRIVED_SHARE * DATA_ZONES_2011)  # 1395
# Column layouts of the SIMD files: (data-zone column, overall-rank column).
SIMD_LAYOUTS = [
    ("Data_Zone", "SIMD2020v2_Rank"),  # Scottish Government "ranks and indicators" file
    ("dz11_code", "IMD_rank"),  # IMD R package files, SIMD 2016 and 2020
]
EDITIONS = ("2016", "2020")
INCOME_INDICATOR = "Population income deprived"
INCOME_REFERENCE_YEARS = (2004, 2007, 2010, 2014, 2017)
SCOTPHO_COLUMNS = [
    "code",
    "areatype",
    "indicator",
    "year",
    "def_period",
    "quint_type",
    "quintile",
    "numerator",
    "denominator",
    "measure",
]


def read_simd_ranks(path: str | Path) -> pd.DataFrame:
    """Read the overall SIMD rank of every 2011 data zone (1 = most deprived).

    Both layouts in the shared data are accepted: the Scottish Government's
    ``simd2020v2_withinds.csv`` (``Data_Zone``, ``SIMD2020v2_Rank``) and the IMD package's
    ``imd20xx_scotland_dz11.csv`` (``dz11_code``, ``IMD_rank``). Only those two columns are read.

    Returns
    -------
    pandas.DataFrame
        ``dz_code, rank`` (integer ranks).

    Raises
    ------
    InputError
        If neither layout matches, or the ranks are not a permutation of 1..6976.
    """
    header = list(pd.read_csv(path, nrows=0).columns)
    for dz_column, rank_column in SIMD_LAYOUTS:
        if dz_column in header and rank_column in header:
            break
    else:
        expected = " or ".join(f"({a}, {b})" for a, b in SIMD_LAYOUTS)
        raise InputError(path, f"unexpected layout: expected columns {expected}")
    table = pd.read_csv(path, usecols=[dz_column, rank_column], dtype={dz_column: str})
    ranks = pd.to_numeric(table[rank_column], errors="coerce")
    if (
        len(table) != DATA_ZONES_2011
        or ranks.isna().any()
        or sorted(ranks) != list(range(1, DATA_ZONES_2011 + 1))
    ):
        raise InputError(
            path,
            f"{rank_column} is not a ranking 1..{DATA_ZONES_2011} of {DATA_ZONES_2011} data zones",
        )
    return pd.DataFrame({"dz_code": table[dz_column].str.strip(), "rank": ranks.astype("int64")})


def children_in_most_deprived(
    simd_path: str | Path,
    edition: str,
    dz_children: pd.DataFrame,
    dz_lookup: pd.DataFrame,
) -> pd.DataFrame:
    """Return the percentage of each council's children living in Scotland's 20% most deprived.

    Parameters
    ----------
    simd_path
        A SIMD data-zone file (:func:`read_simd_ranks`).
    edition
        ``"2016"`` or ``"2020"``; checked against the file name when it names one, so that
        the 2016 ranks cannot be passed as 2020 by mistake.
    dz_children
        ``dz_code, population_0_17`` for every data zone (mid-2020,
        :func:`integration_models.data.sources.nrs.read_dz_single_age_2020`).
    dz_lookup
        From :func:`integration_models.data.sources.geography.read_dz_lookup`.

    Returns
    -------
    pandas.DataFrame
        ``area_code, deprivation`` (0-100), 32 rows.

    Raises
    ------
    InputError
        On a bad SIMD file, an edition that contradicts the file name, data zones that do not
        match the lookup, or a council without children.
    """
    edition = str(edition)
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {EDITIONS}, not {edition!r}")
    named = [e for e in EDITIONS if e in Path(simd_path).name]
    if named and named != [edition]:
        raise InputError(simd_path, f"file name says SIMD {named[0]}, edition given {edition}")
    ranks = read_simd_ranks(simd_path)
    selected = ranks["rank"] <= MOST_DEPRIVED_RANK
    if int(selected.sum()) != MOST_DEPRIVED_RANK:
        raise InputError(simd_path, f"{int(selected.sum())} data zones have rank <= 1395")
    zones = ranks.merge(dz_children[["dz_code", "population_0_17"]], on="dz_code", how="left")
    if zones["population_0_17"].isna().any():
        missing = zones.loc[zones["population_0_17"].isna(), "dz_code"].iloc[0]
        raise InputError(simd_path, f"no children count for data zone {missing}")
    zones["deprived_0_17"] = zones["population_0_17"].where(zones["rank"] <= MOST_DEPRIVED_RANK, 0)
    councils = sum_to_councils(zones, dz_lookup, simd_path, ["population_0_17", "deprived_0_17"])
    if (councils["population_0_17"] <= 0).any():
        raise InputError(simd_path, "a council has no children in the data-zone estimates")
    councils["deprivation"] = 100 * councils["deprived_0_17"] / councils["population_0_17"]
    return councils[["area_code", "deprivation"]].sort_values("area_code").reset_index(drop=True)


def income_deprived_share(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Return ScotPHO's percentage of the population income deprived, by council and year.

    The rows used are indicator "Population income deprived", quintile ``Total`` (the whole
    council, not one SIMD quintile), council areas only. The percentage is recomputed from the
    numerator and denominator, and checked against ScotPHO's rounded ``measure``.

    Parameters
    ----------
    path
        ``scotpho_profiles/scotpho_deprivation_data_ca_2023-02.csv``; only the needed columns
        are read.
    matcher
        Council matcher built from the reference areas.

    Returns
    -------
    pandas.DataFrame
        ``area_code, year, deprivation, period_label``; years are the SIMD reference years
        (2004, 2007, 2010, 2014, 2017), ``period_label`` ScotPHO's ``def_period``.

    Raises
    ------
    InputError
        On a changed layout, a missing or inconsistent value, a year that is not a reference
        year, or a council missing from any reference year.
    """
    header = pd.read_csv(path, nrows=0)
    require_columns(header, SCOTPHO_COLUMNS, path)
    table = pd.read_csv(path, usecols=SCOTPHO_COLUMNS, dtype={"code": str})
    rows = table[
        (table["indicator"] == INCOME_INDICATOR)
        & (table["quintile"] == "Total")
        & (table["areatype"] == "Council area")
    ]
    if rows.empty:
        raise InputError(path, f"no council 'Total' rows for indicator '{INCOME_INDICATOR}'")
    years = pd.to_numeric(rows["year"], errors="coerce")
    odd = sorted(set(years.dropna().astype(int)) - set(INCOME_REFERENCE_YEARS))
    if years.isna().any() or odd:
        raise InputError(path, f"income deprivation for non-reference year(s) {odd}")
    numerator = pd.to_numeric(rows["numerator"], errors="coerce")
    denominator = pd.to_numeric(rows["denominator"], errors="coerce")
    share = 100 * numerator / denominator
    if share.isna().any() or (denominator <= 0).any():
        raise InputError(path, "income deprivation numerator or denominator missing")
    measure = pd.to_numeric(rows["measure"], errors="coerce")
    if ((share - measure).abs() > 0.051).any():
        raise InputError(path, "numerator / denominator disagrees with ScotPHO's measure")
    out = pd.DataFrame(
        {
            "area_code": matcher.by_code(rows["code"].str.strip(), path),
            "year": years.astype(int),
            "deprivation": share,
            "period_label": rows["def_period"].astype(str),
        }
    )
    if out.duplicated(["area_code", "year"]).any():
        raise InputError(path, "a council appears twice in one year")
    for _, group in out.groupby("year"):
        matcher.check_complete(group["area_code"], path)
    return out.sort_values(["area_code", "year"]).reset_index(drop=True)
