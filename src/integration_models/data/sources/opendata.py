"""statistics.gov.scot SPARQL CSV exports: codes and periods in URIs, values in E-notation.

A query on statistics.gov.scot returns one row per observation: ``refArea`` (the URI of a
statistical geography, ending in its code), ``refPeriod`` (the URI of a reference period),
``measureType`` (the URI of the measure: ``ratio``, ``count``, ...), any further dimension
columns (e.g. ``vaccinationUptake``), and ``value`` written in scientific notation (``9.72E1``).
The adapter keeps council areas (S12 codes, former codes recoded) and drops other geography
levels (Scotland ``S92``, health boards ``S08``, ...), which such queries often include.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from integration_models.data.reading import LINE, read_table
from integration_models.data.sources.common import (
    AreaMatcher,
    observations,
    parse_numbers,
    refuse_rows,
)
from integration_models.errors import InputError

SPARQL_COLUMNS = ["refArea", "refPeriod", "measureType", "value"]
_AREA_URI = re.compile(r"https?://statistics\.gov\.scot/id/statistical-geography/(S\d{8})")
_YEAR_URI = re.compile(r"https?://reference\.data\.gov\.uk/id/year/(\d{4})")
_GOVERNMENT_YEAR_URI = re.compile(
    r"https?://reference\.data\.gov\.uk/id/government-year/(\d{4})-(\d{4})"
)
_LAST_SEGMENT = re.compile(r"https?://\S+/([A-Za-z0-9][A-Za-z0-9_.-]*)")

IMMUNISATION_SERIES = "immunisation_6in1_24m"
IMMUNISATION_PERCENT = "ratio:vaccinated-by-24-months"
IMMUNISATION_NUMBER = "count:vaccinated-by-24-months"
IMMUNISATION_COHORT = "count:number-in-24-month-cohort"
PERCENT_TOLERANCE = 0.1


def _area_code(uri: str, path: Path, line: int) -> str:
    match = _AREA_URI.fullmatch(uri)
    if match is None:
        raise InputError(
            path,
            f"refArea '{uri}' is not a statistics.gov.scot statistical-geography URI",
            line,
        )
    return match.group(1)


def _period(uri: str, path: Path, line: int) -> tuple[int, str]:
    """Return the end year and the label of a reference-period URI."""
    match = _YEAR_URI.fullmatch(uri)
    if match:
        return int(match.group(1)), match.group(1)
    match = _GOVERNMENT_YEAR_URI.fullmatch(uri)
    if match and int(match.group(2)) == int(match.group(1)) + 1:
        return int(match.group(2)), f"{match.group(1)}-{match.group(2)}"
    raise InputError(
        path,
        f"refPeriod '{uri}' is not a reference.data.gov.uk year or government-year URI "
        "(other period types need their own end-year rule)",
        line,
    )


def _segment(uri: str, column: str, path: Path, line: int) -> str:
    match = _LAST_SEGMENT.fullmatch(uri)
    if match is None:
        raise InputError(path, f"{column} '{uri}' is not a URI ending in a name", line)
    return match.group(1)


def read_sparql_csv(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read a statistics.gov.scot SPARQL CSV export into observations.

    Parameters
    ----------
    path
        The CSV export, with columns ``refArea, refPeriod, measureType, value`` and any
        number of further dimension columns (their values URIs too).
    matcher
        Maps council codes, current or former, to current codes.

    Returns
    -------
    pandas.DataFrame
        Observations (see :mod:`integration_models.data.sources.common`). ``series`` is the last
        path segment of ``measureType`` followed by that of every further dimension column in
        file order, joined by ``:``: ``ratio:vaccinated-by-24-months`` (% vaccinated),
        ``count:vaccinated-by-24-months`` (number vaccinated) and
        ``count:number-in-24-month-cohort`` (cohort) for the 6-in-1 immunisation export;
        ``ratio`` for average household size. ``year`` is the year of a
        ``reference.data.gov.uk/id/year/YYYY`` period (a calendar year, its own end year) or
        the second year of a ``government-year/YYYY-YYYY`` period; ``period_label`` is
        ``YYYY`` or ``YYYY-YYYY``. Only council areas (S12) are kept; former codes are
        recoded to current ones.

    Raises
    ------
    InputError
        Naming the file when a column is missing (unknown layout), and its line when an area
        or period is not a recognised URI or a value is not a number; also on a repeated
        observation, an unknown S12 code, or if a council is missing.
    """
    path = Path(path)
    table = read_table(path, SPARQL_COLUMNS, allow_extra=True)
    dimensions = ["measureType"] + [c for c in table.columns if c not in (*SPARQL_COLUMNS, LINE)]
    lines = table[LINE].tolist()
    codes = [_area_code(u, path, n) for u, n in zip(table["refArea"], lines, strict=True)]
    periods = [_period(u, path, n) for u, n in zip(table["refPeriod"], lines, strict=True)]
    parts = [
        [_segment(u, column, path, n) for u, n in zip(table[column], lines, strict=True)]
        for column in dimensions
    ]
    values, markers = parse_numbers(table["value"], lines, "value", path)
    frame = pd.DataFrame(
        {
            "series": [":".join(p) for p in zip(*parts, strict=True)],
            "code": codes,
            "year": [year for year, _ in periods],
            "value": values,
            "numerator": np.nan,
            "denominator": np.nan,
            "marker": markers,
            "period_label": [label for _, label in periods],
            LINE: lines,
        }
    )
    frame = frame[frame["code"].str.startswith("S12")].copy()
    if frame.empty:
        raise InputError(path, "no council-area (S12) rows")
    frame["area_code"] = matcher.by_code(frame["code"], path)
    _check_unique(frame, ["series", "area_code", "year"], path)
    matcher.check_complete(frame["area_code"], path)
    return observations(frame)


def _check_unique(frame: pd.DataFrame, keys: list[str], path: Path) -> None:
    """Raise on the first repeated key (e.g. a former and a current code in the same year)."""
    repeated = frame[frame.duplicated(keys, keep=False)]
    if not repeated.empty:
        first = repeated.iloc[0]
        others = repeated[(repeated[keys] == first[keys]).all(axis=1)][LINE].tolist()
        raise InputError(
            path,
            f"{', '.join(f'{k} {first[k]}' for k in keys)} occurs more than once "
            f"(lines {', '.join(map(str, others))})",
            int(others[-1]),
        )


def percentage_mismatches(
    table: pd.DataFrame, tolerance: float = PERCENT_TOLERANCE
) -> pd.DataFrame:
    """Return the rows whose published percentage differs from numerator/denominator*100.

    Parameters
    ----------
    table
        Observations with ``value`` (a percentage), ``numerator`` and ``denominator``.
    tolerance
        Largest accepted absolute difference, in percentage points. A percentage published to
        one decimal is off by at most 0.05 from rounding, so 0.1 leaves room for that and
        catches a swapped or mislabelled column.

    Returns
    -------
    pandas.DataFrame
        The offending rows with the recomputed percentage in ``recomputed``; empty when the
        three columns agree. Rows missing any of the three are not compared.
    """
    recomputed = table["numerator"] / table["denominator"] * 100
    bad = (recomputed - table["value"]).abs() > tolerance
    return table.loc[bad].assign(recomputed=recomputed[bad])


def immunisation_observations(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read the 6-in-1 immunisation export as one series with numerator and denominator.

    Parameters
    ----------
    path
        The statistics.gov.scot export of the dataset "6-in-1 immunisation" (rows of
        percentage vaccinated by 24 months, number vaccinated and the 24-month cohort).
    matcher
        Maps council codes, current or former, to current codes.

    Returns
    -------
    pandas.DataFrame
        Observations of the series ``immunisation_6in1_24m``: ``value`` the published % of
        the cohort vaccinated by 24 months, ``numerator`` the number vaccinated,
        ``denominator`` the cohort. ``year`` is the calendar year in which the cohort reached
        24 months.

    Raises
    ------
    InputError
        Naming the file when one of the three measures is absent (not this dataset or a new
        layout), when a council-year lacks one of them, when the number vaccinated exceeds the
        cohort, or when the published percentage differs from number/cohort*100 by more than
        0.1 points (listing the first mismatches).
    """
    path = Path(path)
    long = read_sparql_csv(path, matcher)
    needed = [IMMUNISATION_PERCENT, IMMUNISATION_NUMBER, IMMUNISATION_COHORT]
    absent = [s for s in needed if s not in set(long["series"])]
    if absent:
        raise InputError(
            path,
            f"not the 6-in-1 immunisation layout: series {absent} missing; found "
            f"{sorted(set(long['series']))}",
        )
    long = long[long["series"].isin(needed)]
    wide = long.pivot_table(
        index=["area_code", "year"],
        columns="series",
        values="value",
        aggfunc="first",
        dropna=False,
    )
    labels = long.groupby(["area_code", "year"])["period_label"].first()
    markers = long[long["series"] == IMMUNISATION_PERCENT].set_index(["area_code", "year"])
    counts = long.groupby(["area_code", "year"])["series"].nunique()
    incomplete = counts[counts < len(needed)]
    if not incomplete.empty:
        area, year = incomplete.index[0]
        raise InputError(
            path,
            f"{len(incomplete)} council-year(s) lack one of {needed}, e.g. {area} {year}",
        )
    frame = pd.DataFrame(
        {
            "series": IMMUNISATION_SERIES,
            "value": wide[IMMUNISATION_PERCENT],
            "numerator": wide[IMMUNISATION_NUMBER],
            "denominator": wide[IMMUNISATION_COHORT],
            "marker": markers["marker"],
            "period_label": labels,
        }
    ).reset_index()
    over = frame[frame["numerator"] > frame["denominator"]]
    refuse_rows(
        over,
        path,
        lambda row: (
            f"number vaccinated exceeds the cohort for {len(over)} council-year(s), "
            f"e.g. {row['area_code']} {row['year']}"
        ),
    )
    mismatches = percentage_mismatches(frame)
    if not mismatches.empty:
        shown = "; ".join(
            f"{r.area_code} {r.year}: published {r.value:g}, recomputed {r.recomputed:.2f}"
            for r in mismatches.head(5).itertuples()
        )
        raise InputError(
            path,
            f"{len(mismatches)} council-year(s) where % vaccinated differs from number "
            f"vaccinated / cohort * 100 by more than {PERCENT_TOLERANCE}: {shown}",
        )
    return observations(frame)
