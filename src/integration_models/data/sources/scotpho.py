"""ScotPHO online-profiles downloads: one row per indicator, area and period.

ScotPHO's ``year`` column is not the year a period ends: it is the first calendar year of a
financial or school year (2021/22 is 2021) and roughly the middle year of a multi-year
aggregate (2019-2021 is 2020). The full label is in the text column ``period`` (``def_period``
in other ScotPHO extracts), so the end year is computed from that text by
:func:`scotpho_period_end_year`, and ScotPHO's own ``year`` is only checked to lie within the
period.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from integration_models.data.reading import LINE, read_table
from integration_models.data.sources.common import (
    AreaMatcher,
    observations,
    parse_numbers,
    period_end_year,
    refuse_rows,
)
from integration_models.errors import InputError

SCOTPHO_COLUMNS = [
    "area_code",
    "area_type",
    "area_name",
    "year",
    "period",
    "indicator",
    "numerator",
    "measure",
]
COUNCIL_AREA_TYPE = "Council area"
# Geography levels of the ScotPHO profiles; rows of the others are dropped, and an area type
# outside this list (a new level, or a repeated header line) stops the run.
AREA_TYPES = frozenset(
    {
        COUNCIL_AREA_TYPE,
        "Scotland",
        "Health board",
        "HSC partnership",
        "HSC locality",
        "Alcohol & drug partnership",
        "Intermediate zone",
    }
)
R_MISSING = ("NA",)

# A year, a financial or school year (2015/16, 2015-16, 2015/2016) or a range (2014-2017).
_YEAR_TOKEN = re.compile(r"(?<!\d)(\d{4})(?:\s*([/-])\s*(\d{4}|\d{2})(?!\d))?(?!\d)")
_SPAN = re.compile(r"(?<![\d-])(\d{1,2})[- ]year\b")
_WORDS = frozenset(
    {
        "calendar",
        "financial",
        "school",
        "survey",
        "academic",
        "year",
        "years",
        "aggregate",
        "aggregates",
        "average",
        "rolling",
        "combined",
        "snapshot",
        "mid-year",
        "estimate",
        "to",
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
    }
)
_ORDINAL = re.compile(r"\d{1,2}(?:st|nd|rd|th)")


def _units(token: re.Match, text: str) -> list[tuple[int, int]]:
    """Return the (first, last) calendar years of the one or two periods a year token names."""
    start, separator, end = token.group(1), token.group(2), token.group(3)
    if end is None:
        return [(int(start), int(start))]
    if separator == "-" and len(end) == 4:
        return [(int(start), int(start)), (int(end), int(end))]
    last = period_end_year(f"{start}/{end}")
    if last != int(start) + 1:
        raise ValueError(f"period text '{text}': '{token.group(0)}' is not a one-year period")
    return [(int(start), last)]


def scotpho_period(text: str) -> tuple[int, int]:
    """Return the first and the last calendar year of a ScotPHO period text.

    Parameters
    ----------
    text
        ScotPHO's ``period`` (or ``def_period``) text, e.g. ``2015/16 financial year``,
        ``2019 to 2021 calendar years; 3-year aggregates``, ``4-year aggregate (2014 - 2017)``,
        ``2020/21 to 2022/23 financial years; 3-year aggregates``, ``31st March 2014
        snapshot``, ``Survey year (2017-2019)``.

    Returns
    -------
    tuple of int
        The calendar years in which the period starts and ends (2015/16 starts in 2015 and
        ends in 2016).

    Raises
    ------
    ValueError
        If the text has no year or more than two, a word outside the known vocabulary of
        ScotPHO period texts (so that a new kind of period, e.g. quarters, is not guessed), a
        range that ends before it starts, or an "N-year" aggregate spanning fewer than N years.
    """
    years = [unit for token in _YEAR_TOKEN.finditer(text) for unit in _units(token, text)]
    if not 1 <= len(years) <= 2:
        raise ValueError(f"period text '{text}' has {len(years)} periods (expected 1 or 2)")
    first, last = years[0][0], years[-1][1]
    rest = _YEAR_TOKEN.sub(" ", text).lower()
    spans = [int(n) for n in _SPAN.findall(rest)]
    words = re.sub(r"[();,]", " ", _SPAN.sub(" ", rest)).split()
    unknown = [w for w in words if w not in _WORDS and not _ORDINAL.fullmatch(w) and w != "-"]
    if unknown:
        raise ValueError(f"period text '{text}' has unrecognised word(s) {unknown}")
    if last < first or years[-1][0] < years[0][0]:
        raise ValueError(f"period text '{text}' ends before it starts")
    # Start years of the first and last sub-period: 2019/20 to 2021/22 spans three years.
    width = years[-1][0] - years[0][0] + 1
    if any(n > width for n in spans):
        raise ValueError(f"period text '{text}' names a longer aggregate than its years span")
    return first, last


def scotpho_period_end_year(text: str) -> int:
    """Return the calendar year in which a ScotPHO period ends.

    ``2015/16 financial year`` ends in 2016, ``2019-2021 calendar years; 3-year aggregates``
    in 2021, ``2020/21 to 2022/23 financial years`` in 2023, ``2021 July snapshot`` in 2021.
    See :func:`scotpho_period` for the accepted forms.

    Raises
    ------
    ValueError
        If the text is not a recognised ScotPHO period.
    """
    return scotpho_period(text)[1]


def read_scotpho_profile(path: str | Path, matcher: AreaMatcher) -> pd.DataFrame:
    """Read a ScotPHO profiles download (council areas) into observations.

    The file made for ``scotpho_ca_latest_period_2024.csv`` holds **one period per indicator**
    (the latest in the profiles in October 2024), so the result is a cross-section per series,
    not a time series; different indicators end in different years.

    Parameters
    ----------
    path
        CSV with at least ``area_code, area_type, area_name, year, period, indicator,
        numerator, measure`` (further columns such as confidence intervals are ignored).
    matcher
        Maps council codes, current or former, and names to current codes.

    Returns
    -------
    pandas.DataFrame
        Observations. ``series`` is the indicator name with surrounding and repeated blanks
        removed (the download has no indicator number, and 26 of its 230 names are not in the
        2023 technical document, so the name is the only key that every row carries; ScotPHO
        keeps names stable between updates). ``value`` is ``measure`` (a percentage, rate,
        mean or count, as ``type_definition`` says), ``numerator`` the published numerator
        (empty for survey-based or suppressed items), no denominator. ``year`` is the end year
        of ``period`` (:func:`scotpho_period_end_year`) and ``period_label`` is the ``period``
        text. Empty or ``NA`` cells (R's missing) are NaN with an empty marker. Rows whose
        ``area_type`` is not ``Council area`` (Scotland, boards, partnerships) are dropped.

    Raises
    ------
    InputError
        Naming the file on a missing column, and the line on a council row whose code is not
        an S12 code or does not match its name, on an unrecognised period text or a
        ``year`` outside its period, on a cell that is not a number, or on a repeated
        indicator, area and period; also if a council is missing.
    """
    path = Path(path)
    table = read_table(path, SCOTPHO_COLUMNS, allow_extra=True)
    refuse_rows(
        table[~table["area_type"].isin(AREA_TYPES)],
        path,
        lambda row: (
            f"area_type '{row['area_type']}' is not a ScotPHO geography level "
            f"({', '.join(sorted(AREA_TYPES))})"
        ),
    )
    table = table[table["area_type"] == COUNCIL_AREA_TYPE].copy()
    if table.empty:
        raise InputError(path, f"no rows with area_type '{COUNCIL_AREA_TYPE}'")
    lines = table[LINE].tolist()
    refuse_rows(
        table[~table["area_code"].str.fullmatch(r"S12\d{6}")],
        path,
        lambda row: f"council row with area_code '{row['area_code']}' (expected an S12 code)",
    )
    table["area_code"] = matcher.by_code(table["area_code"], path)
    by_name = matcher.by_name(table["area_name"], path)
    refuse_rows(
        table[by_name != table["area_code"]],
        path,
        lambda row: f"area_code {row['area_code']} does not belong to '{row['area_name']}'",
    )
    ends = {}
    for text, labelled, line in zip(table["period"], table["year"], lines, strict=True):
        if text not in ends:
            try:
                ends[text] = scotpho_period(text)
            except ValueError as err:
                raise InputError(path, f"period: {err}", int(line)) from None
        first, last = ends[text]
        if not re.fullmatch(r"\d{4}", labelled) or not first <= int(labelled) <= last:
            raise InputError(
                path, f"year '{labelled}' is not within the period '{text}' ({first}-{last})", line
            )
    series = table["indicator"].str.split().str.join(" ")
    if (series == "").any():
        raise InputError(path, "indicator is empty", lines[int((series == "").to_numpy().argmax())])
    values, markers = parse_numbers(table["measure"], lines, "measure", path, R_MISSING)
    numerators, _ = parse_numbers(table["numerator"], lines, "numerator", path, R_MISSING)
    frame = pd.DataFrame(
        {
            "series": series.to_numpy(),
            "area_code": table["area_code"].to_numpy(),
            "year": [ends[text][1] for text in table["period"]],
            "value": values,
            "numerator": numerators,
            "denominator": float("nan"),
            "marker": markers,
            "period_label": table["period"].to_numpy(),
            LINE: lines,
        }
    )
    refuse_rows(
        frame[frame.duplicated(["series", "area_code", "year"], keep=False)],
        path,
        lambda row: (
            f"indicator '{row['series']}' appears twice for {row['area_code']} and "
            f"period '{row['period_label']}'"
        ),
        last=True,
    )
    matcher.check_complete(frame["area_code"], path)
    return observations(frame)
