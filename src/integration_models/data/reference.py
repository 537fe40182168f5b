"""The project's reference data: council areas, their partnerships and the integration coding.

Areas carry former codes and name variants so that sources using either can be joined. The
integration classification is a set of dated periods per Health and Social Care Partnership
(``hscp_code, category, from_year, to_year, evidence``); it is time-varying because the
original study had to be withdrawn and re-run when a few areas turned out to have changed
level during the study window.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pandas as pd

from integration_models.data.identifiers import (
    AREA_CODE,
    BOARD_CODE,
    DATA_ZONE_CODE,
    HSCP_CODE,
    shown,
)
from integration_models.data.reading import LINE, read_table
from integration_models.errors import InputError

AREA_COLUMNS = [
    "area_code",
    "area_name",
    "former_codes",
    "name_variants",
    "hscp_code",
    "hscp_name",
    "hscp_start_year",
    "health_board_code",
    "health_board_name",
]
CLASSIFICATION_COLUMNS = ["hscp_code", "category", "evidence"]
# dated periods (the contract's form) or, from earlier versions, years; confidence optional
CLASSIFICATION_OPTIONAL = ["from_date", "to_date", "from_year", "to_year", "confidence"]
CONFIDENCE = ("confirmed", "inferred", "assumed")
ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CATEGORIES = ("none", "partial", "full")
# The unit of analysis is the areas table's: council areas (the contract's dataset) or 2011
# data zones (about 7,000 small areas, for data-zone-scale panels). One table holds one level.
AREA_LEVELS = {"council area": AREA_CODE, "data zone": DATA_ZONE_CODE}


def normalise_name(name: str) -> str:
    """Return a council name in the form used for joins: lower case, single spaces, ``&``=and."""
    name = name.replace("&", " and ").lower()
    return re.sub(r"\s+", " ", name).strip()


def _split(cell: str) -> list[str]:
    return [part.strip() for part in cell.split(";") if part.strip()]


def load_areas(path: str | Path) -> pd.DataFrame:
    """Read and check the areas reference table.

    Parameters
    ----------
    path
        ``areas.csv`` with the columns in ``AREA_COLUMNS``. Its areas are council areas
        (``S12`` and six digits) or data zones (``S01`` and six digits): the first row's code
        sets the level for the whole table (see ``AREA_LEVELS``), so a table cannot mix them.

    Returns
    -------
    pandas.DataFrame
        One row per area; ``hscp_start_year`` as integer, former codes and name variants as
        lists.

    Raises
    ------
    InputError
        On a malformed code, a code of another level than the first row's, a repeated code or
        name, a start year that is not a year, a partnership whose areas disagree on its name,
        start year or health board, or a table without rows.
    """
    path = Path(path)
    table = read_table(path, AREA_COLUMNS)
    if table.empty:
        raise InputError(path, "file has a header but no areas")
    code_pattern = _area_level(path, table)
    seen: dict[str, int] = {}
    for row in table.itertuples(index=False):
        line = getattr(row, LINE)
        checks = [
            (code_pattern, row.area_code, "area_code"),
            (HSCP_CODE, row.hscp_code, "hscp_code"),
            (BOARD_CODE, row.health_board_code, "health_board_code"),
        ]
        for pattern, value, column in checks:
            if not pattern.fullmatch(value):
                raise InputError(path, f"{column} {shown(value)} is not a valid code", line)
        for former in _split(row.former_codes):
            if not code_pattern.fullmatch(former):
                raise InputError(path, f"former code {shown(former)} is not a valid code", line)
        if not re.fullmatch(r"(19|20)[0-9][0-9]", row.hscp_start_year):
            raise InputError(
                path, f"hscp_start_year {shown(row.hscp_start_year)} is not a year", line
            )
        keys = [row.area_code, *_split(row.former_codes)]
        keys += ["name:" + normalise_name(n) for n in [row.area_name, *_split(row.name_variants)]]
        for key in dict.fromkeys(keys):
            if key in seen:
                raise InputError(path, f"'{key}' also used on line {seen[key]}", line)
            seen[key] = line
    _check_partnerships(path, table)
    areas = table.drop(columns=LINE).copy()
    areas["hscp_start_year"] = areas["hscp_start_year"].astype(int)
    areas["former_codes"] = areas["former_codes"].map(_split)
    areas["name_variants"] = areas["name_variants"].map(_split)
    return areas.sort_values("area_code").reset_index(drop=True)


def level_of(areas: pd.DataFrame) -> str:
    """Return the level of a table from :func:`load_areas` (a key of ``AREA_LEVELS``)."""
    code = areas["area_code"].iloc[0]
    return next(level for level, pattern in AREA_LEVELS.items() if pattern.fullmatch(code))


def _area_level(path: Path, table: pd.DataFrame) -> re.Pattern[str]:
    """Return the code pattern of the table's level, set by its first row (``AREA_LEVELS``)."""
    first = table.iloc[0]
    for level, pattern in AREA_LEVELS.items():
        if pattern.fullmatch(first["area_code"]):
            other = table.loc[table["area_code"].map(pattern.fullmatch).isna()]
            if not other.empty:
                code, line = other.iloc[0]["area_code"], int(other.iloc[0][LINE])
                message = f"area_code {shown(code)} is not a {level} code like the first row's"
                raise InputError(path, f"{message} (one table holds one level)", line)
            return pattern
    code, line = first["area_code"], int(first[LINE])
    raise InputError(path, f"area_code {shown(code)} is not a valid code", line)


def _check_partnerships(path: Path, table: pd.DataFrame) -> None:
    """Refuse a partnership (or board) described differently on two rows of the areas table.

    Two councils may share a partnership (Clackmannanshire and Stirling do), but then both
    rows must give it the same name, start year and health board, or the integration coding
    and the clustering would depend on which row was read last.
    """
    for key, columns in (
        ("hscp_code", ("hscp_name", "hscp_start_year", "health_board_code")),
        ("health_board_code", ("health_board_name",)),
    ):
        first: dict[str, tuple] = {}
        for row in table.itertuples(index=False):
            code, described = getattr(row, key), tuple(getattr(row, c) for c in columns)
            previous = first.setdefault(code, (described, getattr(row, LINE)))
            if previous[0] != described:
                raise InputError(
                    path,
                    f"{key} {code}: {', '.join(columns)} differ from line {previous[1]}",
                    getattr(row, LINE),
                )


def code_lookup(areas: pd.DataFrame) -> dict[str, str]:
    """Map every current and former council code to the current code."""
    lookup = {code: code for code in areas["area_code"]}
    for current, formers in zip(areas["area_code"], areas["former_codes"], strict=True):
        lookup.update({former: current for former in formers})
    return lookup


def name_lookup(areas: pd.DataFrame) -> dict[str, str]:
    """Map every normalised council name and name variant to the current council code."""
    lookup: dict[str, str] = {}
    for row in areas.itertuples(index=False):
        for name in [row.area_name, *row.name_variants]:
            lookup[normalise_name(name)] = row.area_code
    return lookup


def load_classification(path: str | Path, areas: pd.DataFrame) -> pd.DataFrame:
    """Read and check an integration classification (the baseline or a scenario).

    Each row is a dated period of one partnership: ``from_date`` (the go-live date, ISO) to
    ``to_date`` (its last day, ISO; empty = open-ended), with ``evidence`` and ``confidence``
    (``confirmed``, ``inferred`` or ``assumed``). Every partnership in ``areas`` must have
    periods that do not overlap and leave no gaps (the next period starts the day after the
    last one ends). Files of earlier versions, with ``from_year``/``to_year`` instead of
    dates, are still read.

    ``from_year``/``to_year`` are derived as the years whose calendar label the period
    covers from its start: ``from_year`` is the year of ``from_date``, ``to_year`` the year
    before the one in which the following day falls (a period ending 2019-03-31 has
    ``to_year`` 2018), the calendar years a reader of the table sees; exposure itself is
    timed from the dates (:mod:`integration_models.data.exposure`).
    Where a file gives both dates and years they must agree.

    Parameters
    ----------
    path
        CSV with columns ``hscp_code, category, from_date, to_date, evidence, confidence``.
    areas
        The council-area reference table from :func:`load_areas`.

    Returns
    -------
    pandas.DataFrame
        The periods sorted by partnership and start: ``from_date``/``to_date`` as ISO text
        (``to_date`` empty when open; whole calendar years where the file gives years only),
        ``from_year`` and ``to_year`` (nullable integer), ``confidence``, plus ``lineno``.

    Raises
    ------
    InputError
        Naming the line of an unknown partnership, a bad category, date, year or confidence,
        an overlap or a gap, or naming the partnerships that have no period at all.
    """
    path = Path(path)
    table = read_table(path, CLASSIFICATION_COLUMNS, CLASSIFICATION_OPTIONAL)
    known = set(areas["hscp_code"])
    for row in table.itertuples(index=False):
        line = getattr(row, LINE)
        if row.hscp_code not in known:
            raise InputError(path, f"unknown partnership code {shown(row.hscp_code)}", line)
        if row.category not in CATEGORIES:
            raise InputError(
                path, f"category {shown(row.category)} is not one of {', '.join(CATEGORIES)}", line
            )
        if row.confidence and row.confidence not in CONFIDENCE:
            raise InputError(
                path,
                f"confidence {shown(row.confidence)} is not one of {', '.join(CONFIDENCE)}",
                line,
            )
        if not row.evidence:
            raise InputError(path, "evidence is empty: cite a source or state the assumption", line)
    table = _period_years(table, path)
    table = table.sort_values(["hscp_code", "from_year", "from_date"]).reset_index(drop=True)
    for code, periods in table.groupby("hscp_code", sort=True):
        previous = None
        for row in periods.itertuples(index=False):
            if previous is not None:
                if pd.isna(previous.to_year):
                    raise InputError(
                        path,
                        f"partnership {code}: period overlaps the open-ended period on line "
                        f"{getattr(previous, LINE)}",
                        getattr(row, LINE),
                    )
                if row.from_year <= previous.to_year:
                    raise InputError(
                        path,
                        f"partnership {code}: period overlaps the period on line "
                        f"{getattr(previous, LINE)}",
                        getattr(row, LINE),
                    )
                if row.from_year > previous.to_year + 1:
                    raise InputError(
                        path,
                        f"partnership {code}: gap between {previous.to_year} and "
                        f"{row.from_year} (periods must be contiguous)",
                        getattr(row, LINE),
                    )
                if row.from_date and previous.to_date:
                    _check_next_day(path, code, previous, row)
            previous = row
    absent = sorted(known - set(table["hscp_code"]))
    if absent:
        raise InputError(path, f"no period for partnership(s): {', '.join(absent)}")
    return table


def _parse_date(path: Path, column: str, text: str, line: int) -> date:
    """Return the ISO date ``text`` of ``column``, or stop naming the line."""
    try:
        if not ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise InputError(
            path, f"{column} {shown(text)} is not an ISO date (YYYY-MM-DD)", line
        ) from None


def _period_years(table: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Check each period's dates or years and add ``from_year``/``to_year`` (module rule)."""
    starts, ends = [], []
    for row in table.itertuples(index=False):
        line = getattr(row, LINE)
        if row.from_date:
            start = _parse_date(path, "from_date", row.from_date, line)
            end = _parse_date(path, "to_date", row.to_date, line) if row.to_date else None
            if end is not None and end < start:
                raise InputError(path, f"to_date {row.to_date} is before from_date", line)
            from_year = start.year
            to_year = None if end is None else (end + timedelta(days=1)).year - 1
            for column, given, derived in (
                ("from_year", row.from_year, from_year),
                ("to_year", row.to_year, to_year),
            ):
                if given and given != str(derived):
                    raise InputError(
                        path, f"{column} {shown(given)} does not agree with the dates", line
                    )
        elif row.to_date:
            raise InputError(path, "to_date without from_date", line)
        else:
            if not re.fullmatch(r"[0-9]{4}", row.from_year):
                raise InputError(
                    path, f"from_year {shown(row.from_year)} is not a year (give from_date)", line
                )
            if row.to_year and not re.fullmatch(r"[0-9]{4}", row.to_year):
                raise InputError(path, f"to_year {shown(row.to_year)} is not a year or empty", line)
            from_year = int(row.from_year)
            to_year = int(row.to_year) if row.to_year else None
            if to_year is not None and to_year < from_year:
                raise InputError(path, f"to_year {row.to_year} is before from_year", line)
        starts.append(from_year)
        ends.append(pd.NA if to_year is None else to_year)
    # years-only files of earlier versions: whole calendar years
    from_dates = [d or f"{y}-01-01" for d, y in zip(table["from_date"], starts, strict=True)]
    to_dates = [
        d or ("" if e is pd.NA else f"{e}-12-31")
        for d, e in zip(table["to_date"], ends, strict=True)
    ]
    return table.assign(
        from_date=from_dates,
        to_date=to_dates,
        from_year=starts,
        to_year=pd.array(ends, dtype="Int64"),
    )


def _check_next_day(path: Path, code: str, previous, row) -> None:
    """Stop unless the dated period ``row`` starts the day after ``previous`` ends."""
    end = date.fromisoformat(previous.to_date)
    start = date.fromisoformat(row.from_date)
    if start != end + timedelta(days=1):
        problem = "overlaps" if start <= end else "leaves a gap after"
        raise InputError(
            path,
            f"partnership {code}: period starting {row.from_date} {problem} the period ending "
            f"{previous.to_date} on line {getattr(previous, LINE)} (periods must be contiguous)",
            getattr(row, LINE),
        )
